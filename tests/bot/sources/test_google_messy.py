"""A messy sheet as real gspread receives it from the Sheets API, through the same parsing as local files."""

from __future__ import annotations

import datetime as dt

from analysis.reading.workbook import parse_workbook
from tests.bot.sources.conftest import EMAIL, KEY

MESSY = [
    ["Spring tests — edit freely"],  # banner, merged A1:H1
    ["Campaign", "Test", "Variant", "Date", "Clicks", "Conversions", None, ""],  # "Conversions" merged F2:G2
    [None, None, None, None, None, "Cart views (micro)", "Purchases (macro)", None],  # A2:A3, B2:B3… merged
    ["Spring Sale", "Audience", "A", dt.date(2026, 3, 2), "1,000", 50, 4, "a note"],  # A4:A7 merged
    [None, "Audience", "B", "03/02/2026", 1000, "70", 6, "no header above"],
    [],  # an empty middle row
    [None, "Audience", "A", 46084, 1000.0, 55, "#DIV/0!"],  # G7 a spreadsheet error
    ["Brand", "Keyword", "x", "2026-03-02", 500, 20],  # ragged: no Purchases cell
    ["Brand", "Keyword", "y", "2026-03-02", 500, 30, 2],
    [],
    [],
]
MERGES = [
    {"startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": 8},
    {"startRowIndex": 1, "endRowIndex": 2, "startColumnIndex": 5, "endColumnIndex": 7},
    {"startRowIndex": 1, "endRowIndex": 3, "startColumnIndex": 0, "endColumnIndex": 1},
    {"startRowIndex": 1, "endRowIndex": 3, "startColumnIndex": 1, "endColumnIndex": 2},
    {"startRowIndex": 1, "endRowIndex": 3, "startColumnIndex": 4, "endColumnIndex": 5},
    {"startRowIndex": 3, "endRowIndex": 7, "startColumnIndex": 0, "endColumnIndex": 1},
    {"startRowIndex": 8, "endRowIndex": 30, "startColumnIndex": 0, "endColumnIndex": 1},  # drawn past the data
]


def test_a_messy_sheet_read_through_gspread(sheets_api, google):
    sheets_api.add_spreadsheet(
        KEY,
        {"Results": MESSY, "Notes": [["Ask Sam before changing the budget"], [], ["x", 1]]},
        merges={"Results": MERGES},
        shared_with={EMAIL: "reader"},
    )
    tabs = google().read(KEY)
    results = tabs[0]
    assert results.rows[4][0] == "Spring Sale"  # the vertical merge is filled in
    assert results.rows[5] == []  # the empty middle row stays empty
    assert len(results.rows) == 9  # trailing empty rows trimmed by the API, none added by merges

    sheet = parse_workbook(tabs)

    assert [(p.cell, p.message) for p in sheet.problems] == [
        ("Results!G7", '"#DIV/0!" is a spreadsheet error, not a number; row left out')
    ]
    assert sheet.tabs_read == ("Results",)  # Notes is ignored quietly
    spring = sheet.traffic[sheet.traffic["campaign"] == "Spring Sale"]
    assert spring.groupby("variant")["visitors"].sum().to_dict() == {"A": 1000, "B": 1000}
    assert sorted(spring["date"].dt.date) == [dt.date(2026, 3, 2)] * 2  # serial and text dates agree
    assert {(t.campaign, t.test) for t in sheet.tests} == {("Spring Sale", "Audience"), ("Brand", "Keyword")}
    brand_purchases = sheet.conversions[
        (sheet.conversions["campaign"] == "Brand") & (sheet.conversions["metric"] == "Purchases")
    ]
    assert brand_purchases["variant"].tolist() == ["y"]  # the ragged row has no purchases cell, not an error


def test_a_decimal_comma_locale_read_through_gspread(sheets_api, google):
    rows = [
        ["Campaign", "Variant", "Clicks", "Spend", "Warenkorb (micro)", "Käufe (macro)"],
        ["Frühling", "A", "1.200", "504,50 €", 60, 5],  # numbers typed into text cells
        ["Frühling", "B", 1200, 1234.5, 72, 6],  # real numbers, which the API sends unformatted
    ]
    sheets_api.add_spreadsheet(KEY, {"Ergebnisse": rows}, locale="de_DE", shared_with={EMAIL: "reader"})
    tabs = google().read(KEY)
    assert tabs[0].locale == "de_DE"
    assert tabs[0].rows[2][3] == 1234.5  # not "1234,5": values are read unformatted
    sheet = parse_workbook(tabs)
    assert sheet.problems == ()
    assert sheet.traffic.groupby("variant")["spend"].sum().to_dict() == {"A": 504.5, "B": 1234.5}
    assert sheet.traffic["visitors"].tolist() == [1200, 1200]
