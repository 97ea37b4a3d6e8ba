"""A tab nothing was tested from gets one sentence: what it holds, what is missing, and the Setup rows that
would read it; the same sentence is the tab's line and, where the tab looks like data, its problem."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.models import Tab, TabReading
from analysis.reading.hints import not_read
from analysis.reading.workbook import parse_workbook

TYPOS = [["Campaign", "Varient", "Clciks", "Cart views (mirco)", "Purchases"], ["S", "A", 1000, 50, 10]]
TYPOS += [["S", "B", 1000, 80, 12]]
# WA_Marketing-Campaign.csv (IBM Watson sample, as on Kaggle): sales per store and week, no traffic.
STORES = [
    ["MarketID", "MarketSize", "LocationID", "AgeOfStore", "Promotion", "week", "SalesInThousands"],
    [1, "Medium", 1, 4, 3, 1, 33.73],
    [1, "Medium", 1, 4, 3, 2, 35.67],
    [1, "Medium", 2, 5, 2, 1, 27.81],
    [2, "Small", 3, 1, 1, 1, 40.2],
]
# KAG_conversion_data.csv (Facebook ad campaigns, Kaggle), its first rows.
KAG = [
    [
        *("ad_id", "xyz_campaign_id", "fb_campaign_id", "age", "gender", "interest", "Impressions", "Clicks"),
        *("Spent", "Total_Conversion", "Approved_Conversion"),
    ],
    [708746, 916, 103916, "30-34", "M", 15, 7350, 1, 1.43, 2, 1],
    [708749, 916, 103917, "30-34", "M", 16, 17861, 2, 1.82, 2, 0],
    [708771, 936, 103920, "30-34", "M", 20, 693, 0, 0, 1, 0],
    [708815, 936, 103928, "35-39", "F", 28, 4259, 1, 1.25, 1, 0],
]


def unread(rows: list[list[object]], name: str = "Results") -> TabReading:
    sheet = parse_workbook([Tab(name=name, rows=rows)])
    assert sheet.tests == ()
    (reading,) = sheet.tabs
    assert not reading.read
    return reading


def one_sentence(text: str) -> None:
    """No garbled grammar: one sentence, no "it without", no "no a", no doubled words or spaces."""
    assert text.endswith(".") and text[0].isupper()
    assert not re.search(r"\.\s+[A-Z]", text[:-1].replace("e.g. ", "")), text
    assert "it without" not in text and not re.search(r"\bno an? \b", text), text
    assert "  " not in text and " ;" not in text and ";;" not in text and " ." not in text, text
    assert not re.search(r"\b(\w+) \1\b", text), text


def test_an_empty_tab_says_it_is_empty() -> None:
    reading = unread([])
    assert reading.summary == (
        "Tab Results is empty: paste a report into it (a header row, then one row per variant) or delete it."
    )
    one_sentence(reading.summary)


def test_a_header_only_tab_says_it_has_no_rows() -> None:
    reading = unread([["Campaign", "Variant", "Clicks", "Purchases"]])
    assert reading.summary == (
        "Tab Results has only a header (Campaign, Variant, Clicks, Purchases) and no rows under it: add one row per "
        "variant (and per day, with a Date column) under the header."
    )
    assert reading.headers == ("Campaign", "Variant", "Clicks", "Purchases")
    one_sentence(reading.summary)


def test_a_tab_of_text_says_it_has_no_numbers() -> None:
    reading = unread([["Anything", "else"], ["free", "text"]], name="Notes")
    assert reading.summary.startswith("Tab Notes has Anything, else but no numbers under them: microopt tests counts")
    one_sentence(reading.summary)


def test_the_empty_kinds_have_distinct_sentences() -> None:
    kinds = ([], [["Campaign", "Clicks"]], [["Campaign", "Clicks"], ["a", "b"]], [[1, 2], [3, 4]])
    sentences = [unread(rows).summary for rows in kinds]
    assert len(set(sentences)) == 4
    assert sentences[3] == (
        "Tab Results has no header row (its first row is 1, 2): add a row above the numbers that names each column "
        "(Campaign, Variant, Clicks, Purchases…)."
    )


def test_typos_get_a_did_you_mean_and_the_setup_rows() -> None:
    reading = unread(TYPOS)
    assert reading.summary == (
        "Tab Results has Campaign, Varient, Clciks, Cart views (mirco), Purchases: it has no variant column (Variant, "
        "Ad group, Ad set name, Ad name…) and no traffic column (Clicks, Link clicks, Sessions, Users, Impressions…) "
        "(did you mean Variant for Varient, Clicks for Clciks and Cart views (micro) for Cart views (mirco)?); rename "
        "them, or add to a Setup tab (for a CSV: a --setup file or MICROOPT_SETUP) the rows (Column=Varient, "
        "Role=variant, Tab=Results), (Column=Clciks, Role=traffic, Tab=Results) and (Column=Cart views (mirco), "
        "Role=micro, Tab=Results)."
    )
    assert reading.missing == ("variant", "traffic")
    assert [(r.column, r.role, r.tab) for r in reading.setup] == [
        ("Varient", "variant", "Results"),
        ("Clciks", "traffic", "Results"),
        ("Cart views (mirco)", "micro", "Results"),
    ]
    one_sentence(reading.summary)


def setup_tab(reading: TabReading) -> Tab:
    return Tab(name="Setup", rows=[["Column", "Role", "Tab"], *([r.column, r.role, r.tab] for r in reading.setup)])


@pytest.mark.parametrize("rows", [TYPOS, KAG], ids=["typos", "kag"])
def test_the_setup_rows_offered_read_the_tab(rows: list[list[object]]) -> None:
    reading = unread(rows)
    sheet = parse_workbook([Tab(name="Results", rows=rows), setup_tab(reading)])
    assert sheet.tests, sheet.problems
    assert all(r.read for r in sheet.tabs)


def test_typos_in_a_hand_made_tab_keep_their_problem_at_the_campaign_cell() -> None:
    rows = [["Campaign", "Variant", "Clicks", "Cart views (mirco)"], ["S", "A", 100, 5], ["S", "B", 120, 9]]
    sheet = parse_workbook([Tab(name="Results", rows=rows)])
    (problem,) = sheet.problems
    (reading,) = sheet.tabs
    assert problem.cell == "Results!A1" and problem.message == reading.summary
    assert "did you mean Cart views (micro) for Cart views (mirco)?" in reading.summary
    assert "rename it, or add to a Setup tab" in reading.summary
    one_sentence(reading.summary)


def test_an_amount_is_not_a_count_of_conversions() -> None:
    reading = unread(STORES, name="WA_Marketing-Campaign")
    assert reading.amounts == ("SalesInThousands",)
    assert reading.missing == ("traffic", "conversion")
    assert (
        "SalesInThousands is an amount, not a count of conversions, and microopt tests counts of traffic and "
        "conversions" in reading.summary
    )
    assert reading.summary.endswith(
        "add a traffic column and a column counting conversions per row (orders, purchases, sign-ups…), or name "
        "them in a Setup tab (for a CSV: a --setup file or MICROOPT_SETUP) with Column = the header and Role = "
        "traffic, micro or macro."
    )
    assert reading.setup == ()  # no column to guess at: sales are not conversions
    one_sentence(reading.summary)


def test_a_campaign_dataset_without_a_variant_gets_a_label_column_offered() -> None:
    reading = unread(KAG, name="KAG")
    assert reading.missing == ("variant",)
    assert [(r.column, r.role) for r in reading.setup] == [("xyz_campaign_id", "variant")]
    assert "its other numeric columns are ad_id, fb_campaign_id and interest" in reading.summary
    one_sentence(reading.summary)


def test_many_headers_are_named_up_to_twelve_with_a_count() -> None:
    rows = [[f"Col{i}" for i in range(20)], list(range(20))]
    reading = unread(rows)
    assert reading.summary.startswith(
        "Tab Results has 20 columns (first 12: Col0, Col1, Col2, Col3, Col4, Col5, Col6, Col7, Col8, Col9, Col10, "
        "Col11): it has no variant column"
    )
    assert len(reading.headers) == 20
    one_sentence(reading.summary)


def test_a_meta_export_without_conversions_says_so_and_keeps_its_problem() -> None:
    tab = Tab(name="Sheet1", rows=[["Campaign name", "Ad set name", "Link clicks"], ["X", "A", 100], ["X", "B", 120]])
    sheet = parse_workbook([tab])
    (problem,) = sheet.problems
    (reading,) = sheet.tabs
    assert problem.message == reading.summary
    assert reading.summary == (
        "Tab Sheet1 has Campaign name, Ad set name, Link clicks: it looks like a Meta export with no conversion "
        "column (a count such as Adds to cart or Purchases, or a column marked (micro) or (macro), e.g. “Cart views "
        "(micro)”); add a conversion column, or name one in a Setup tab (for a CSV: a --setup file or "
        "MICROOPT_SETUP) with Column = the header and Role = micro or macro."
    )
    one_sentence(reading.summary)


@pytest.mark.parametrize("name", ["Verdicts", "Decisions", "Channels", "Setup", "setup"])
def test_the_tabs_microopt_keeps_are_never_not_read(name: str) -> None:
    sheet = parse_workbook([Tab(name=name, rows=[["Campaign", "Clicks"], ["x", 1]])])
    assert not [r for r in sheet.tabs if not r.read]


def test_a_notes_tab_beside_tested_tabs_stays_quiet() -> None:
    results = Tab("Results", [["Campaign", "Variant", "Clicks", "Buys (macro)"], ["S", "A", 100, 5], ["S", "B", 90, 7]])
    notes = Tab("Notes", [["Ask Sam before changing the budget"]])
    sheet = parse_workbook([results, notes])
    assert [r.tab for r in sheet.tabs] == ["Results"] and sheet.problems == ()


def test_a_data_tab_beside_tested_tabs_is_said() -> None:
    results = Tab("Results", [["Campaign", "Variant", "Clicks", "Buys (macro)"], ["S", "A", 100, 5], ["S", "B", 90, 7]])
    draft = Tab("Draft", [["Campaign", "Varient", "Clicks", "Buys (macro)"], ["S", "A", 100, 5], ["S", "B", 90, 7]])
    sheet = parse_workbook([results, draft])
    assert [(r.tab, r.read) for r in sheet.tabs] == [("Results", True), ("Draft", False)]
    assert [p.cell for p in sheet.problems] == ["Draft"]


def test_not_read_is_the_same_sentence_outside_a_workbook() -> None:
    assert not_read(Tab(name="Results", rows=TYPOS)).summary == unread(TYPOS).summary


HEADERS = st.sampled_from(
    [
        *("Campaign", "Variant", "Varient", "Clicks", "Clciks", "Impressions", "Purchases", "Cart views (micro)"),
        *("Revenue", "week", "gender", "ad_id", "Notes", "Spend [USD]", "# of Purchase", "Link clicks", ""),
    ]
)
CELLS = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=1e6),
    st.sampled_from(["A", "B", "x", "", "--", "1,234", "12%"]),
    st.none(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(HEADERS, min_size=1, max_size=8, unique=True).flatmap(
        lambda header: st.tuples(
            st.just(header), st.lists(st.lists(CELLS, min_size=len(header), max_size=len(header)), max_size=6)
        )
    )
)
def test_a_tab_is_tested_or_says_in_one_sentence_what_it_lacks(table: tuple[list[str], list[list[object]]]) -> None:
    header, body = table
    sheet = parse_workbook([Tab(name="Data", rows=[list(header), *body])])
    if sheet.tests:
        return
    (reading,) = sheet.tabs
    if reading.read:  # read, but no test came of it (one variant, bad cells): its problems say why
        assert sheet.problems
        return
    one_sentence(reading.summary)
    assert reading.summary.startswith("Tab Data ")
    named = [h for h in header if h]
    # A first row of one name may be a banner over the header (the row of two or more names below it).
    assert reading.headers == tuple(named) or len(named) < 2
    has_numbers = any(isinstance(c, int | float) and not isinstance(c, bool) for row in body for c in row)
    if has_numbers and reading.missing:
        assert all(role in ("variant", "traffic", "conversion") for role in reading.missing)
