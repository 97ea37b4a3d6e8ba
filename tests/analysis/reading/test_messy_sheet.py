"""Sheets as people keep them: banners, merged two-row headers, repeated and blank headers, locales."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analysis.models import Tab
from analysis.reading.cells import decimal_mark, locale_day_first, parse_dates, parse_numbers
from analysis.reading.workbook import parse_workbook


def totals(sheet, column="visitors"):
    return sheet.traffic.groupby("variant")[column].sum().to_dict()


@pytest.mark.parametrize(
    ("typed", "decimal", "value"),
    [
        ("1,234", None, 1234.0),
        ("1,234", ".", 1234.0),
        ("1,234", ",", 1.234),
        ("1.234", ".", 1.234),
        ("1.234", ",", 1234.0),
        ("1,5", None, 1.5),  # gspread's numericise would say 15
        ("1,5", ".", 1.5),
        ("1,5", ",", 1.5),
        ("1.234,5", ".", 1234.5),
        ("1,234.5", ",", 1234.5),
        ("1 234,5", ",", 1234.5),
        ("1\u202f234,5", ",", 1234.5),  # French narrow no-break space
        ("1.234.567", ".", 1234567.0),
        ("1,234,567", ",", 1234567.0),
        ("12,5 %", ",", 0.125),
        ("0.125", None, 0.125),  # a leading zero never starts a thousands group
        ("0,125", None, 0.125),
    ],
)
def test_text_numbers_follow_the_sheets_decimal_mark(typed, decimal, value):
    numbers, messages = parse_numbers(pd.Series([typed], dtype="object"), decimal)
    assert messages[0] == ""
    assert numbers[0] == pytest.approx(value)


@pytest.mark.parametrize(
    ("locale", "mark", "day_first"),
    [
        ("en_US", ".", False),
        ("en_GB", ".", True),
        ("de_DE", ",", True),
        ("de_CH", ".", True),
        ("fr_FR", ",", True),
        ("pt_BR", ",", True),
        ("es_MX", ".", True),
        ("es_ES", ",", True),
        ("ja_JP", ".", True),
        (None, None, False),
        ("", None, False),
    ],
)
def test_locales(locale, mark, day_first):
    assert decimal_mark(locale) == mark
    assert locale_day_first(locale) is day_first


def test_day_first_text_dates():
    dates, _ = parse_dates(pd.Series(["09/03/2026", 46090, "2026-03-09"], dtype="object"), day_first=True)
    assert list(dates.dt.date) == [dt.date(2026, 3, 9)] * 3


def test_a_banner_and_a_merged_two_row_header():
    tab = Tab(
        "Results",
        [
            ["Spring campaigns — updated daily"],  # a banner merged across the top
            [],
            ["Campaign", "Variant", "Clicks", "Conversions", None],  # "Conversions" merged over D3:E3
            [None, None, None, "Cart views (micro)", "Purchases (macro)"],
            ["Spring", "A", 1000, 50, 4],
            ["Spring", "B", 1000, 70, 6],
        ],
    )
    sheet = parse_workbook([tab])
    assert sheet.problems == ()
    (spec,) = sheet.tests
    assert [m.name for m in spec.metrics] == ["Cart views", "Purchases"]
    assert totals(sheet) == {"A": 1000, "B": 1000}


def test_a_two_row_header_with_vertically_merged_cells_filled_in():
    """What the Google source gives for Campaign merged over A1:A2 (the value repeated on both rows)."""
    tab = Tab(
        "Results",
        [
            ["Campaign", "Variant", "Traffic", "Conversions"],
            ["Campaign", "Variant", "Clicks", "Buys (macro)"],
            ["Spring", "A", 100, 5],
            ["Spring", "B", 100, 9],
        ],
    )
    sheet = parse_workbook([tab])
    assert sheet.problems == ()
    assert sheet.tests[0].traffic_label == "clicks"


def test_blank_and_repeated_headers():
    tab = Tab(
        "Results",
        [
            ["Campaign", "", "Variant", "Clicks", "Notes", "Notes", "Clicks", "Buys (macro)", None],
            ["Spring", "x", "A", 100, "n", "n", 999, 5, "stray"],
            ["Spring", "y", "B", 100, "", "", 999, 9],
        ],
    )
    sheet = parse_workbook([tab])
    # A repeated column microopt reads is reported once; repeated unused columns are nobody's problem.
    (problem,) = sheet.problems
    assert problem.cell == "Results!G1" and "repeats the column at Results!D1" in problem.message
    assert totals(sheet) == {"A": 100, "B": 100}


def test_decimal_comma_sheet_end_to_end():
    tab = Tab(
        "Ergebnisse",
        [
            ["Campaign", "Variant", "Clicks", "Spend", "Warenkorb (micro)", "Käufe (macro)"],
            ["Frühling", "A", "1.200", "504,50 €", 60, 5],
            ["Frühling", "B", 1200, "1.234,5", "72", 6],
            ["Frühling", "B", "1,5", 1, 0, 0],  # 1,5 clicks: a decimal, so not a whole number
        ],
        locale="de_DE",
    )
    sheet = parse_workbook([tab])
    assert totals(sheet) == {"A": 1200, "B": 1200}
    assert totals(sheet, "spend") == {"A": 504.5, "B": 1234.5}
    (problem,) = sheet.problems
    assert problem.cell == "Ergebnisse!C4" and "whole number" in problem.message


def test_the_verdicts_tab_written_by_the_bot_is_not_a_results_tab():
    verdicts = Tab(
        "Verdicts",
        [
            ["Campaign", "Test", "Verdict", "Summary", "Updated at"],
            ["Spring", "Audience", "Move budget to B.", "B converts 40% better…", "2026-03-09 09:00 UTC"],
        ],
    )
    sheet = parse_workbook([verdicts])
    assert sheet.tests == () and sheet.problems == () and sheet.tabs_read == ()
