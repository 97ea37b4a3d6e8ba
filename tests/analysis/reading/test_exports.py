"""Ad-platform exports read as pasted (fixtures in tests/fixtures/exports, as the platforms write them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.decision import DecisionSettings
from analysis.models import Tab
from analysis.reading.exports import NO_MICRO, classify_action
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from bot.sources.local import read_local

EXPORTS = Path(__file__).parents[2] / "fixtures" / "exports"


# An export is one total per arm: by default it waits for three reads (test below); its verdicts are checked
# as MICROOPT_MIN_DAYS=1 reads it, calling a single total and saying what that assumes.
ONE_TOTAL = DecisionSettings(min_days=1)


def read(name: str, settings: DecisionSettings = ONE_TOTAL):
    sheet = parse_workbook(read_local(str(EXPORTS / name)))
    report = analyse(sheet, source=name, settings=settings).model_copy(update={"tabs": sheet.tabs})
    return sheet, report


def test_by_default_an_exported_total_waits_for_reads_and_says_why():
    for name in ("google_ads_ad_group.csv", "meta_ad_set.csv", "microsoft_ads_keyword.csv"):
        _, report = read(name, DecisionSettings())
        (test,) = report.tests
        assert test.verdict == "keep_running" and test.reason == "too_early", name
        assert "one total cannot show how much rates swing from day to day" in test.summary
        assert all(c.call is None for c in test.comparisons)


@pytest.mark.parametrize(
    ("name", "layout", "campaign", "variants", "verdict", "currency"),
    [
        (
            "google_ads_ad_group.csv",
            "Google Ads export",
            "Spring Sale",
            ("Audience A", "Audience B"),
            "move_budget",
            "€",
        ),
        ("meta_ad_set.csv", "Meta export", "Autumn Promo", ("Lookalike 1%", "Interest stack"), "move_budget", "$"),
        (
            "meta_campaign.csv",
            "Meta export",
            "meta_campaign",
            ("Winter Sale - Video", "Winter Sale - Carousel"),
            "move_budget",
            "€",
        ),
        (
            "meta_ad.csv",
            "Meta export",
            "Gift Guide",
            ("Static - Red", "Static - Green", "UGC video"),
            "keep_running",
            "£",
        ),
        (
            "google_ads_keyword.csv",
            "Google Ads export",
            "Spring Sale",
            ("trail running shoes", "off road running shoes"),
            "keep_running",
            "$",
        ),
        (
            "google_ads_campaign.csv",
            "Google Ads export",
            "google_ads_campaign",
            ("Brand - Max conversions", "Brand - Target CPA"),
            "keep_running",
            "£",
        ),
        (
            "google_ads_search_terms.csv",
            "Google Ads export",
            "Spring Sale",
            ("running shoes women", "womens running shoes sale", "running shoes for women wide"),
            "keep_running",
            "$",
        ),
        (
            "google_ads_conversion_action.csv",
            "Google Ads export",
            "Spring Sale",
            ("Broad audience", "Lookalike 2%"),
            "move_budget",
            "€",
        ),
        (
            "microsoft_ads_keyword.csv",
            "Microsoft Ads export",
            "Winter Boots",
            ("winter boots", "snow boots"),
            "move_budget",
            "$",
        ),
        (
            "microsoft_ads_search_term.csv",
            "Microsoft Ads export",
            "Winter Boots",
            ("womens winter boots", "womens boots sale", "womens hiking boots"),
            "keep_running",
            "$",
        ),
        ("ga4_free_form_daily.csv", "GA4 export", "autumn_promo", ("banner_a", "banner_b"), "move_budget", "$"),
        ("ga4_free_form.csv", "GA4 export", "ga4_free_form", ("hero_video", "hero_carousel"), "move_budget", "$"),
        (
            "microsoft_ads_ad_group_utf16.csv",
            "Microsoft Ads export",
            "Winter Boots",
            ("Broad match", "Exact match"),
            "keep_running",
            "$",
        ),
        (
            "google_ads_de_cp1252_semicolon.csv",
            "Google Ads export",
            "Herbst",
            ("Zielgruppe Süd", "Zielgruppe Nord"),
            "keep_running",
            "€",
        ),
    ],
)
def test_exports_read_as_pasted(name, layout, campaign, variants, verdict, currency):
    sheet, report = read(name)
    assert [t.layout for t in sheet.tabs] == [layout]
    (test,) = sheet.tests
    assert (test.campaign, test.variants, test.currency) == (campaign, variants, currency)
    assert report.tests[0].verdict == verdict
    # totals, summaries, footers and (not set) are skipped, not problems about cells
    assert not [p for p in sheet.problems if "!" in p.cell]
    payload = report.model_dump(mode="json")
    assert payload["tabs"][0]["summary"].startswith(f"{sheet.tabs[0].tab}: {layout} · ")
    json.dumps(payload, allow_nan=False)


def test_the_tab_line_names_each_role():
    sheet, _ = read("meta_ad_set.csv")
    assert sheet.tabs[0].summary == (
        "meta_ad_set: Meta export · variant = Ad set name, traffic = Link clicks, "
        "micro = Landing page views, Adds to cart, macro = Purchases, spend = Amount spent (USD)"
    )


def test_fractional_conversions_from_attribution_are_kept():
    sheet, _ = read("google_ads_ad_group.csv")
    purchases = sheet.conversions[sheet.conversions["metric"] == "Conversions"]
    assert purchases.groupby("variant")["conversions"].sum().to_dict() == {"Audience A": 61.5, "Audience B": 87.5}
    assert sheet.tabs[0].fractional


def test_an_arm_with_no_traffic_is_listed_but_left_out():
    sheet, report = read("google_ads_ad_group.csv")
    assert "Audience C" not in set(sheet.traffic["variant"])
    assert any("Audience C has no traffic" in p.message for p in sheet.problems)
    assert report.tests[0].verdict != "check_tracking"


def test_not_set_arms_are_left_out_with_a_note():
    sheet, _ = read("ga4_free_form.csv")
    assert set(sheet.traffic["variant"]) == {"hero_video", "hero_carousel"}
    assert any("(not set)" in p.message for p in sheet.problems)


def test_a_long_preamble_does_not_hide_the_header():
    rows = [[f"# line {i}"] for i in range(40)] + [
        ["Ad set name", "Link clicks", "Adds to cart", "Purchases"],
        ["A", "1,000", "50", "10"],
        ["B", "1,000", "80", "12"],
    ]
    sheet = parse_workbook([Tab(name="Meta", rows=rows)])
    assert sheet.tests[0].variants == ("A", "B")


def test_the_setup_tab_overrides_the_mapping():
    results = Tab(
        name="Results",
        rows=[
            ["Campaign", "Creative", "Clicks", "Demo clicks", "Purchases"],
            ["Q4", "Blue", 1000, 50, 10],
            ["Q4", "Red", 1000, 80, 12],
        ],
    )
    setup = Tab(
        name="Setup",
        rows=[["Column", "Role", "Tab"], ["Creative", "variant", ""], ["Demo clicks", "micro", "Results"]],
    )
    sheet = parse_workbook([results, setup])
    (test,) = sheet.tests
    assert test.variants == ("Blue", "Red")
    assert {(m.name, m.kind) for m in test.metrics} == {("Demo clicks", "micro"), ("Purchases", "macro")}


def test_a_tab_with_numbers_but_no_layout_says_what_it_saw():
    tab = Tab(name="Sheet1", rows=[["Campaign name", "Ad set name", "Link clicks"], ["X", "A", 100], ["X", "B", 120]])
    sheet = parse_workbook([tab])
    (problem,) = sheet.problems
    assert problem.message.startswith(
        "Tab Sheet1 has Campaign name, Ad set name, Link clicks: it looks like a Meta export"
    )
    assert "Setup tab" in problem.message


def test_dashes_are_missing_not_bad_cells():
    rows = [
        ["Campaign", "Ad group", "Clicks", "Cost", "Conversions"],
        ["S", "A", 1000, "--", 10],
        ["S", "B", 1000, "12.00", 14],
    ]
    sheet = parse_workbook([Tab(name="Ads", rows=rows)])
    assert not sheet.problems
    assert len(sheet.traffic) == 2


def test_a_summary_over_a_period_is_undated_and_a_breakdown_by_day_is_dated():
    header = ["Reporting starts", "Reporting ends", "Ad set name", "Link clicks", "Adds to cart", "Purchases"]
    period = [header, ["2026-10-01", "2026-10-31", "A", 1000, 50, 10], ["2026-10-01", "2026-10-31", "B", 1000, 80, 12]]
    daily = [header] + [
        [f"2026-10-0{day}", f"2026-10-0{day}", arm, 300, 15 + day, 3] for day in (1, 2, 3) for arm in ("A", "B")
    ]
    assert parse_workbook([Tab(name="Meta", rows=period)]).traffic["date"].isna().all()
    assert parse_workbook([Tab(name="Meta", rows=daily)]).traffic["date"].nunique() == 3


def test_search_terms_are_the_variants_and_their_keyword_or_ad_group_the_test():
    sheet, _ = read("microsoft_ads_search_term.csv")
    (test,) = sheet.tests
    assert (test.campaign, test.test) == ("Winter Boots", "womens boots")
    assert sheet.tabs[0].summary.startswith(
        "microsoft_ads_search_term: Microsoft Ads export · test = Keyword, variant = Search term, traffic = Clicks"
    )
    # no micro-conversion column: read on the macro one, and the tab line says what to add
    assert sheet.tabs[0].summary.endswith(NO_MICRO)


def test_a_zero_click_keyword_is_listed_but_left_out():
    sheet, report = read("microsoft_ads_keyword.csv")
    assert any("warm boots has no traffic" in p.message for p in sheet.problems)
    assert report.tests[0].best_variant == "snow boots"


def test_a_campaign_level_report_compares_the_campaigns():
    sheet, report = read("meta_campaign.csv")
    assert "variant = Campaign name (campaign level: each campaign is an arm)" in sheet.tabs[0].summary
    assert report.tests[0].best_variant == "Winter Sale - Carousel"


def test_a_dated_ga4_exploration_reads_yyyymmdd_days():
    sheet, report = read("ga4_free_form_daily.csv")
    assert sheet.traffic["date"].nunique() == 14
    assert report.tests[0].path == "days" and report.tests[0].best_variant == "banner_b"


# -- one row per conversion action ----------------------------------------------------------------------
def test_a_report_segmented_by_conversion_action_is_pivoted_into_metrics():
    sheet, report = read("google_ads_conversion_action.csv")
    (reading,) = sheet.tabs
    assert reading.summary == (
        "google_ads_conversion_action: Google Ads export · variant = Ad group, traffic = Clicks, "
        "micro = Add to cart, macro = Purchase, spend = Cost (EUR) · one row per Conversion action (All conv.), "
        "traffic from its unsegmented rows · not read: Phone call (name it micro or macro in the Setup tab)"
    )
    assert (reading.actions, reading.action_counts, reading.traffic_tab, reading.not_read) == (
        "Conversion action",
        "All conv.",
        None,
        ("Phone call",),
    )
    totals = sheet.conversions.groupby(["metric", "variant"])["conversions"].sum().to_dict()
    assert totals == {
        ("Add to cart", "Broad audience"): 212,
        ("Add to cart", "Lookalike 2%"): 339,
        ("Purchase", "Broad audience"): 61.5,
        ("Purchase", "Lookalike 2%"): 87.5,
    }
    assert sheet.traffic.groupby("variant")["visitors"].sum().to_dict() == {
        "Broad audience": 4210,
        "Lookalike 2%": 4188,
    }
    (test,) = report.tests
    assert (test.verdict, test.best_variant) == ("move_budget", "Lookalike 2%")
    marks = {c.metric: c.fractional for c in test.comparisons}
    assert marks == {"Add to cart": False, "Purchase": True}
    assert not sheet.problems


def test_events_read_with_the_traffic_of_another_tab_with_the_same_variants():
    tabs = read_local(str(EXPORTS / "ga4_events_by_ad_content.csv")) + read_local(
        str(EXPORTS / "ga4_sessions_by_ad_content.csv")
    )
    sheet = parse_workbook(tabs)
    events, sessions = sheet.tabs
    assert events.summary == (
        "ga4_events_by_ad_content: GA4 export · one row per Event name (Event count), micro = add_to_cart, "
        "begin_checkout, macro = purchase, traffic from tab ga4_sessions_by_ad_content · not read: page_view, "
        "session_start, user_engagement (name them micro or macro in the Setup tab)"
    )
    assert sessions.traffic_tab is None and events.traffic_tab == "ga4_sessions_by_ad_content"
    assert "micro and macro from tab ga4_events_by_ad_content" in sessions.summary
    (test,) = sheet.tests
    assert test.variants == ("hero_video", "hero_carousel")
    assert {(m.name, m.kind) for m in test.metrics} == {
        ("add_to_cart", "micro"),
        ("begin_checkout", "micro"),
        ("purchase", "macro"),
    }
    report = analyse(sheet, source="ga4", settings=ONE_TOTAL)
    assert (report.tests[0].verdict, report.tests[0].best_variant) == ("move_budget", "hero_carousel")


def test_events_with_no_traffic_anywhere_say_which_tab_to_add():
    sheet = parse_workbook(read_local(str(EXPORTS / "ga4_events_by_ad_content.csv")))
    assert not sheet.tests
    (problem,) = sheet.problems
    assert problem.message == (
        "Tab ga4_events_by_ad_content has one row per Event name (add_to_cart, begin_checkout, purchase) but no "
        "traffic: add a tab with Session manual ad content and Sessions for the same campaigns and variants "
        "(the same report without Event name)"
    )
    assert sheet.tabs[0].summary.endswith(
        "not analysed · not read: page_view, session_start, user_engagement (name them micro or macro in the Setup tab)"
    )


def _segmented(*extra_rows):
    return Tab(
        name="Ads",
        rows=[
            ["Campaign", "Ad group", "Conversion action", "Clicks", "Cost", "Conversions", "All conv."],
            ["S", "A", "", "2,000", "800.00", "20.00", "120.00"],
            ["S", "A", "Add to cart", "--", "--", "0.00", "100.00"],
            ["S", "A", "Newsletter signup", "--", "--", "0.00", "20.00"],
            ["S", "B", "", "2,000", "810.00", "31.00", "181.00"],
            ["S", "B", "Add to cart", "--", "--", "0.00", "150.00"],
            ["S", "B", "Newsletter signup", "--", "--", "0.00", "31.00"],
            *extra_rows,
        ],
    )


def test_the_setup_tab_names_what_a_conversion_action_is():
    setup = Tab(name="Setup", rows=[["Column", "Role"], ["Newsletter signup", "macro"]])
    sheet = parse_workbook([_segmented(), setup])
    (test,) = sheet.tests
    assert {(m.name, m.kind) for m in test.metrics} == {("Add to cart", "micro"), ("Newsletter signup", "macro")}
    plain = parse_workbook([_segmented()])
    assert {m.name for m in plain.tests[0].metrics} == {"Add to cart", "Newsletter signup"}
    assert {m.kind for m in plain.tests[0].metrics} == {"micro"}  # a newsletter is a step, not a sale


def test_an_action_absent_for_an_arm_counts_zero_and_a_bad_count_is_a_bad_cell():
    sheet = parse_workbook(
        [
            _segmented(
                ["S", "B", "Purchase", "--", "--", "12.00", "12.00"], ["S", "A", "Purchase", "--", "--", "x", "abc"]
            )
        ]
    )
    purchases = sheet.conversions[sheet.conversions["metric"] == "Purchase"]
    assert purchases.set_index("variant")["conversions"].to_dict() == {"A": 0, "B": 12}
    assert [(p.cell, p.message) for p in sheet.problems] == [("Ads!G9", '"abc" is not a number; row left out')]


def test_actions_are_classified_by_the_words_in_their_names():
    names = {
        "add_to_cart": "micro",
        "Website - Add to cart": "micro",
        "begin_checkout": "micro",
        "generate_lead": "micro",
        "Demo request": "micro",
        "purchase": "macro",
        "Website - Purchase": "macro",
        "sign_up": "macro",
        "close_convert_lead": "macro",
        "page_view": None,
        "Phone call": None,
    }
    assert {name: classify_action(name) for name in names} == names
    assert classify_action("Phone call", {"phone call": "macro"}) == "macro"


def test_conversion_actions_go_onto_a_hand_made_tab_with_the_same_campaigns_and_variants():
    results = Tab(
        name="Results",
        rows=[["Campaign", "Variant", "Clicks", "Cart views (micro)"], ["S", "A", 2000, 90], ["S", "B", 2000, 130]],
    )
    actions = Tab(
        name="Actions",
        rows=[
            ["Campaign", "Ad group", "Conversion action", "All conv."],
            ["S", "A", "Purchase", "20.5"],
            ["S", "B", "Purchase", "31.25"],
        ],
    )
    sheet = parse_workbook([results, actions])
    assert not sheet.problems
    (test,) = sheet.tests
    assert {(m.name, m.kind) for m in test.metrics} == {("Cart views", "micro"), ("Purchase", "macro")}
    purchases = sheet.conversions[sheet.conversions["metric"] == "Purchase"]
    assert purchases.set_index("variant")["conversions"].to_dict() == {"A": 20.5, "B": 31.25}
    assert [t.summary.split(" · ")[0] for t in sheet.tabs] == [
        "Results: hand-made layout",
        "Actions: Google Ads export",
    ]


def test_two_long_tabs_can_add_their_actions_to_the_same_traffic_tab():
    traffic = Tab(name="Clicks", rows=[["Campaign", "Ad group", "Clicks"], ["S", "A", 2000], ["S", "B", 2000]])
    carts = Tab(
        name="Carts",
        rows=[
            ["Campaign", "Ad group", "Conversion action", "All conv."],
            ["S", "A", "Add to cart", 90],
            ["S", "B", "Add to cart", 140],
        ],
    )
    buys = Tab(
        name="Buys",
        rows=[
            ["Campaign", "Ad group", "Conversion action", "All conv."],
            ["S", "A", "Purchase", 20],
            ["S", "B", "Purchase", 31],
        ],
    )
    sheet = parse_workbook([traffic, carts, buys])
    totals = sheet.conversions.groupby(["metric", "variant"])["conversions"].sum().to_dict()
    assert totals == {("Add to cart", "A"): 90, ("Add to cart", "B"): 140, ("Purchase", "A"): 20, ("Purchase", "B"): 31}


def test_a_long_tab_of_unknown_actions_says_to_name_them():
    tab = Tab(
        name="Calls",
        rows=[
            ["Campaign", "Ad group", "Conversion action", "Clicks", "All conv."],
            ["S", "A", "", 100, 5],
            ["S", "A", "Phone call", "--", 5],
        ],
    )
    (problem,) = parse_workbook([tab]).problems
    assert problem.message.startswith(
        "Tab Calls has one row per Conversion action, but none of its actions (Phone call)"
    )


def test_the_setup_tab_can_name_the_action_and_count_columns_of_a_long_table():
    tab = Tab(
        name="Funnel",
        rows=[
            ["Campaign", "Ad group", "Step", "Clicks", "Count"],
            ["S", "A", "", 2000, ""],
            ["S", "A", "add_to_cart", "", 90],
            ["S", "A", "purchase", "", 20],
            ["S", "B", "", 2000, ""],
            ["S", "B", "add_to_cart", "", 140],
            ["S", "B", "purchase", "", 31],
        ],
    )
    setup = Tab(
        name="Setup", rows=[["Column", "Role", "Tab"], ["Step", "action", "Funnel"], ["Count", "value", "Funnel"]]
    )
    sheet = parse_workbook([tab, setup])
    (test,) = sheet.tests
    assert {(m.name, m.kind) for m in test.metrics} == {("add_to_cart", "micro"), ("purchase", "macro")}
    assert sheet.tabs[0].actions == "Step" and sheet.tabs[0].action_counts == "Count"


# -- words: the traffic word is the column's own -------------------------------------------------------
def test_the_traffic_word_is_the_columns_own():
    sheet, _ = read("meta_ad_set.csv")
    assert {t.traffic_label for t in sheet.tests} == {"link clicks"}
    sheet, _ = read("google_ads_ad_group.csv")  # a column already called Clicks reads as before
    assert {t.traffic_label for t in sheet.tests} == {"clicks"}


def test_impressions_are_the_traffic_only_when_there_are_no_clicks():
    rows = [
        ["Campaign", "Ad group", "Clicks", "Impr.", "Conversions"],
        ["S", "A", 100, 9000, 5],
        ["S", "B", 90, 8000, 7],
    ]
    (test,) = parse_workbook([Tab(name="Ads", rows=rows)]).tests
    assert test.traffic_label == "clicks"
    alone = [[row[0], row[1], row[3], row[4]] for row in rows]
    sheet = parse_workbook([Tab(name="Ads", rows=alone)])
    (test,) = sheet.tests
    assert test.traffic_label == "impressions" and sheet.tabs[0].traffic == "Impr."
    assert sheet.traffic.groupby("variant")["visitors"].sum().to_dict() == {"A": 9000, "B": 8000}


def test_the_datasets_names_are_read():
    rows = [
        [
            *("Campaign Name", "Ad set", "Spend [USD]", "# of Impressions", "Reach", "# of Website Clicks"),
            *("# of Searches", "# of View Content", "# of Add to Cart", "# of Purchase"),
        ],
        ["Control Campaign", "A", 2280, 82702, 56930, 7016, 2290, 2159, 1819, 618],
        ["Control Campaign", "B", 1757, 121040, 102513, 8110, 2033, 1841, 1219, 511],
    ]
    sheet = parse_workbook([Tab(name="ab", rows=rows)])
    (test,) = sheet.tests
    assert test.traffic_label == "website clicks"
    assert {(m.name, m.kind) for m in test.metrics} == {
        ("# of Searches", "micro"),
        ("# of View Content", "micro"),
        ("# of Add to Cart", "micro"),
        ("# of Purchase", "macro"),
    }
    assert sheet.tabs[0].spend == "Spend [USD]"


def test_an_amount_column_is_named_in_the_read_line():
    sheet, _ = read("ga4_free_form.csv")
    (reading,) = sheet.tabs
    assert reading.amounts == ("Total revenue",)
    assert reading.summary.endswith("· Total revenue is an amount, not a count of conversions")


def test_the_setup_tab_takes_the_new_roles():
    from analysis.reading.exports import parse_setup

    setup = Tab(
        name="Setup",
        rows=[["Column", "Role"], ["user_id", "id"], ["Revenue", "amount"], ["Views", "impressions"], ["x", "nope"]],
    )
    problems: list = []
    assert [(o.column, o.role) for o in parse_setup(setup, problems)] == [
        ("user_id", "id"),
        ("revenue", "amount"),
        ("views", "impressions"),
    ]
    assert problems == []


def test_the_setup_tab_role_split_plans_the_split_of_an_export():
    meta = Tab(
        name="Meta",
        rows=[
            ["Campaign name", "Ad set name", "Link clicks", "Adds to cart", "Purchases", "Share"],
            ["Q4", "Lookalike", "6,000", 300, 30, "60%"],
            ["Q4", "Interests", "4,000", 200, 20, "40%"],
        ],
    )
    setup = Tab(name="Setup", rows=[["Column", "Role"], ["Share", "split"]])
    sheet = parse_workbook([meta, setup])
    assert sheet.tests[0].split == pytest.approx((0.6, 0.4))
    assert sheet.tabs[0].summary.endswith("split = Share")
    without = parse_workbook([meta])
    assert without.tests[0].split is None
