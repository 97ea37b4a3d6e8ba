"""The currency of a Spend column of plain numbers, from the number format Google Sheets shows it in: read
with real gspread from the Sheets API stand-in, still in two requests."""

from __future__ import annotations

from analysis.models import NumberFormat
from analysis.reading.cells import currency_of_format
from analysis.reading.workbook import parse_workbook
from bot.sources.google import money_formats
from tests.bot.sources.conftest import EMAIL, KEY


def _money_column(column: int, rows: int, number_format: dict[str, str]) -> dict[tuple[int, int], dict[str, str]]:
    return {(row, column): dict(number_format) for row in range(1, rows)}


def test_a_google_ads_export_of_plain_numbers_is_in_the_currency_its_cost_column_shows(sheets_api, google):
    rows = [
        ["Ad group report"],
        ["October 1, 2026 - October 31, 2026"],
        ["Ad group", "Campaign", "Clicks", "Cost", "Add to cart", "Conversions"],
        ["Audience A", "Spring Sale", 4210, 1768.2, 212, 61.5],
        ["Audience B", "Spring Sale", 4188, 1758.96, 339, 87.5],
    ]
    euro = {"type": "CURRENCY", "pattern": "[$€-407]#,##0.00"}
    formats = {"Ads": {**_money_column(3, 5, euro), (3, 2): {"type": "NUMBER", "pattern": "#,##0"}}}
    sheets_api.add_spreadsheet(KEY, {"Ads": rows}, shared_with={EMAIL: "reader"}, formats=formats)

    tabs = google().read(KEY)

    assert [c.route for c in sheets_api.sheets_calls] == ["metadata", "batchGet"]
    assert "userEnteredFormat(numberFormat)" in sheets_api.sheets_calls[0].params["fields"][0]
    assert tabs[0].number_formats == {3: NumberFormat("CURRENCY", "[$€-407]#,##0.00")}
    (test,) = parse_workbook(tabs).tests
    assert test.currency == "€"


def test_a_hand_made_spend_column_formatted_in_pounds_is_in_pounds(sheets_api, google):
    rows = [
        ["Campaign", "Variant", "Clicks", "Spend", "Cart views (micro)", "Purchases (macro)"],
        ["Q4", "A", 1000, 420.0, 50, 10],
        ["Q4", "B", 1000, 415.5, 80, 12],
    ]
    pounds = {"type": "CURRENCY", "pattern": '"£"#,##0.00'}
    sheets_api.add_spreadsheet(
        KEY, {"Results": rows}, shared_with={EMAIL: "reader"}, formats={"Results": _money_column(3, 3, pounds)}
    )
    (test,) = parse_workbook(google().read(KEY)).tests
    assert test.currency == "£"


def test_a_currency_format_without_a_pattern_shows_the_spreadsheet_locales_currency(sheets_api, google):
    rows = [
        ["Campaign", "Variant", "Clicks", "Spend", "Käufe (macro)"],
        ["H", "A", 1000, 420, 10],
        ["H", "B", 900, 400, 12],
    ]
    sheets_api.add_spreadsheet(
        KEY,
        {"Results": rows},
        shared_with={EMAIL: "reader"},
        locale="de_DE",
        formats={"Results": _money_column(3, 3, {"type": "CURRENCY"})},
    )
    (test,) = parse_workbook(google().read(KEY)).tests
    assert test.currency == "€"


def test_typed_symbols_and_currency_codes_win_over_the_format(sheets_api, google):
    rows = [
        ["Campaign", "Ad group", "Currency code", "Clicks", "Cost", "Conversions"],
        ["S", "A", "USD", 1000, 12.0, 10],
        ["S", "B", "USD", 1000, 14.0, 12],
    ]
    euro = {"type": "CURRENCY", "pattern": '"€"#,##0.00'}
    sheets_api.add_spreadsheet(
        KEY, {"Ads": rows}, shared_with={EMAIL: "reader"}, formats={"Ads": _money_column(4, 3, euro)}
    )
    (test,) = parse_workbook(google().read(KEY)).tests
    assert test.currency == "$"


def test_the_most_common_money_format_of_a_column_wins_and_other_formats_are_ignored():
    grid = [
        {
            "rowData": [
                {"values": [{}, {"userEnteredFormat": {"numberFormat": {"type": "TEXT"}}}]},
                {},
                {"values": [{}, {"userEnteredFormat": {"numberFormat": {"type": "CURRENCY", "pattern": "$#,##0"}}}]},
                {"values": [{}, {"userEnteredFormat": {"numberFormat": {"type": "CURRENCY", "pattern": "€#,##0"}}}]},
                {"values": [{}, {"userEnteredFormat": {"numberFormat": {"type": "CURRENCY", "pattern": "€#,##0"}}}]},
            ],
            "startColumn": 2,
        }
    ]
    assert money_formats(grid) == {3: NumberFormat("CURRENCY", "€#,##0")}


def test_currency_patterns_as_sheets_writes_them():
    cases = {
        ("CURRENCY", "[$€-407]#,##0.00"): "€",
        ("CURRENCY", '"€"#,##0.00'): "€",
        ("NUMBER", "$#,##0.00"): "$",
        ("CURRENCY", "#,##0.00 [$EUR]"): "€",
        ("CURRENCY", "[$£-809]#,##0.00;[RED]-[$£-809]#,##0.00"): "£",
        ("CURRENCY", "[$CHF] #,##0.00"): "CHF ",
        ("NUMBER", "#,##0.00"): None,
        ("PERCENT", "0.00%"): None,
    }
    assert {key: currency_of_format(NumberFormat(*key)) for key in cases} == cases
    assert currency_of_format(NumberFormat("CURRENCY"), "en_GB") == "£"
    assert currency_of_format(NumberFormat("CURRENCY"), "fr_FR") == "€"
