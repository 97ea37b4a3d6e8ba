"""Ad-platform exports read as pasted (fixtures in tests/fixtures/exports, as the platforms write them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.models import Tab
from analysis.report import analyse
from analysis.sheet import parse_workbook
from bot.sources.local import read_local

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"


def read(name: str):
    sheet = parse_workbook(read_local(str(EXPORTS / name)))
    report = analyse(sheet, source=name).model_copy(update={"tabs": sheet.tabs})
    return sheet, report


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
        ("meta_ad_set.csv", "Meta export", "Autumn Promo", ("Lookalike 1%", "Interest stack"), "keep_running", "$"),
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
