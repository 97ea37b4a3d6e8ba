"""Thousands of messy workbooks through parsing, analysis and every renderer: nothing crashes, and the
JSON holds no NaN or infinity."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.models import Report, Tab
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from bot.render.blocks import render_status_messages
from bot.render.text import render_report

HOSTILE = [
    "",
    " ",
    "--",
    "(not set)",
    "Total",
    "Grand total",
    "#N/A",
    "#DIV/0!",
    "abc",
    "1O2",
    "∞",
    "NaN",
    "inf",
    "-inf",
    "1e30",
    "1e308",
    "1e400",
    "99999999999999999999",
    "-5",
    "12%",
    "1,302.00",
    '"1,302.00"',
    "1.234,5",
    "€ 12,50",
    "$1,234.50",
    "12.5",
    "0",
    "<script>",
    "*bold* _x_",
    "\u202e",
    "'",
    "=SUM(A1:A3)",
    "\x00",
    "🙂",
    "None",
    "TRUE",
]
NUMBERS = st.one_of(
    st.integers(min_value=-10, max_value=10**22),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 2, 5, 100, 1000, 10**6, 1e30, 10**20, 2**63, 1e12, 1e12 + 1, 11.5]),
)
CELLS = st.one_of(
    NUMBERS,
    st.sampled_from(HOSTILE),
    st.text(max_size=12),
    st.none(),
    st.booleans(),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 1, 1)).map(str),
)
HAND_HEADERS = [
    "Campaign",
    "Test",
    "Variant",
    "Date",
    "Visitors",
    "Clicks",
    "Spend",
    "Control",
    "Status",
    "Planned visitors",
    "Cart views (micro)",
    "Purchases (macro)",
    "Date (cumulative)",
]
EXPORT_HEADERS = [
    "Campaign",
    "Campaign name",
    "Ad group",
    "Ad set name",
    "Ad name",
    "Keyword",
    "Clicks",
    "Link clicks",
    "Impressions",
    "Cost",
    "Amount spent (USD)",
    "Currency code",
    "Conversions",
    "All conv.",
    "Purchases",
    "Adds to cart",
    "Add to cart",
    "Leads",
    "Sessions",
    "Session manual ad content",
    "Ecommerce purchases",
    "Conversion action",
    "Event name",
    "Event count",
    "Goal",
    "Search term",
    "add_to_cart",
    "Purchase (macro)",
    "Day",
    "Reporting starts",
]
PREAMBLE = [
    "# ----------------------------------------",
    "# Free form 1",
    "Campaign report",
    "October 1, 2026 - October 31, 2026",
    "",
    "# Start date: 20261001",
]


@st.composite
def tabs(draw: st.DrawFn) -> Tab:
    headers = draw(st.lists(st.sampled_from(HAND_HEADERS + EXPORT_HEADERS + HOSTILE[:12]), min_size=1, max_size=9))
    if draw(st.booleans()):
        headers = [
            "Campaign",
            "Variant",
            draw(st.sampled_from(["Visitors", "Clicks"])),
            "Cart views (micro)",
            "Purchases (macro)",
            *headers,
        ]
    width = len(headers)
    arms = st.sampled_from(["A", "B", "C", "(not set)", "--", "Total", ""])
    body = draw(st.lists(st.lists(st.one_of(CELLS, arms), min_size=0, max_size=width + 1), min_size=0, max_size=12))
    preamble = [[line] for line in draw(st.lists(st.sampled_from(PREAMBLE), max_size=14))]
    locale = draw(st.sampled_from([None, "en_US", "de_DE", "fr_FR", "ja_JP"]))
    name = draw(st.sampled_from(["Results", "Sheet1", "Setup", "Channels", "Meta 'ads'", "Ü"]))
    return Tab(name=name, rows=[*preamble, list(headers), *body], locale=locale)


def _no_bad_floats(value: object) -> None:
    text = json.dumps(value, allow_nan=False)  # raises on NaN or infinity
    assert text


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(tabs(), min_size=1, max_size=3))
def test_no_messy_workbook_crashes_a_read_or_a_renderer(workbook: list[Tab]) -> None:
    sheet = parse_workbook(workbook)
    report = analyse(sheet, source="generated")
    _no_bad_floats(report.model_dump(mode="json"))
    # Models built without validation (analysis.models.built) are what validation would make of them.
    assert Report.model_validate(report.model_dump()) == report
    report.model_dump_json(warnings="error")
    for width in (40, 80, 120):
        assert render_report(report, width)
    for payload in render_status_messages(report):
        _no_bad_floats(payload)


def test_absurd_counts_are_bad_cells_with_their_reference() -> None:
    rows = [
        ["Campaign", "Variant", "Visitors", "Purchases (macro)"],
        ["S", "A", 10**20, 3],
        ["S", "A", "99999999999999999999", 3],
        ["S", "A", 1e30, 3],
        ["S", "B", 1000, 1e30],
        ["S", "A", 1000, 4],
        ["S", "B", 1000, 9],
    ]
    sheet = parse_workbook([Tab(name="Results", rows=rows)])
    cells = {p.cell: p.message for p in sheet.problems}
    assert set(cells) == {"Results!C2", "Results!C3", "Results!C4", "Results!D5"}
    assert all("too large" in m for m in cells.values())
    report = analyse(sheet, source="t")
    assert len(report.tests) == 1
    assert sheet.traffic["visitors"].sum() == 2000


def test_a_huge_table_that_reaches_fishers_test_does_not_overflow() -> None:
    from analysis.stats.proportions import compare_proportions

    result = compare_proportions([1e30, 10**20], [0, 0], [1e30, 10**20], [3, 3])
    assert ((result.p_value >= 0) & (result.p_value <= 1)).all()
    assert pd.notna(result.p_value).all()
