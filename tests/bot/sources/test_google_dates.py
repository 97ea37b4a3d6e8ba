"""Dates typed as text into a Google sheet, read with real gspread from the Sheets API stand-in: the sheet's
locale decides a Date column that fits both orders, and a date that fits one order only decides over it."""

from __future__ import annotations

import pytest

from analysis.reading.workbook import parse_workbook
from tests.bot.sources.conftest import EMAIL, KEY

HEADER = ["Date", "Campaign", "Variant", "Clicks", "Cart views (micro)"]


def typed(*days: str) -> list[list[object]]:
    return [HEADER, *([day, "Winter", arm, 1000, 50] for day in days for arm in ("A", "B"))]


@pytest.mark.parametrize(
    ("locale", "order", "first"), [("en_GB", "day-first", "2026-12-01"), ("en_US", "month-first", "2026-01-12")]
)
def test_the_sheets_locale_reads_dates_that_fit_both_orders(sheets_api, google, locale, order, first):
    sheets_api.add_spreadsheet(
        KEY, {"Daily": typed("01/12/2026", "02/12/2026")}, locale=locale, shared_with={EMAIL: "reader"}
    )
    sheet = parse_workbook(google().read(KEY), date_order="day-first" if order == "month-first" else "month-first")
    assert sheet.problems == ()
    assert str(sheet.traffic["date"].min().date()) == first
    assert sheet.tabs[0].date_order == order
    assert sheet.tabs[0].summary.endswith(f"dates {order} (the sheet's locale, {locale})")


def test_a_day_above_twelve_reads_a_us_locale_sheet_day_first(sheets_api, google):
    sheets_api.add_spreadsheet(
        KEY, {"Daily": typed("30/11/2026", "01/12/2026")}, locale="en_US", shared_with={EMAIL: "reader"}
    )
    sheet = parse_workbook(google().read(KEY))
    assert sheet.problems == ()
    assert sorted({str(d.date()) for d in sheet.traffic["date"]}) == ["2026-11-30", "2026-12-01"]
    assert sheet.tabs[0].summary.endswith('dates day-first ("30/11/2026" at Daily!A2)')
