"""Hand-typed Date columns through the whole read: the order decided from the column, said on the tab's read
line, and a column whose order fails broadly reported once, at its header, before its cells."""

from __future__ import annotations

import datetime as dt

import pytest

from analysis.models import Tab
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse

HEADER = ["Date", "Campaign", "Test", "Variant", "Clicks", "Cart views (micro)"]
# Ten days from 27 November 2026, two arms a day: four of the days have a day above 12 and six do not.
DAYS = [dt.date(2026, 11, 27) + dt.timedelta(days=d) for d in range(10)]


def hand_typed(days: list[str], locale: str | None = None) -> Tab:
    rows: list[list[object]] = [HEADER]
    for day, typed in enumerate(days):
        rows.append([typed, "Winter", "Audience", "A", 1000, 40 + day])
        rows.append([typed, "Winter", "Audience", "B", 1000, 50 + 2 * day])
    return Tab("Results", rows, locale=locale)


def test_twenty_day_first_rows_are_all_read_and_the_verdict_rests_on_all_of_them():
    sheet = parse_workbook([hand_typed([f"{d:%d/%m/%Y}" for d in DAYS])])
    assert sheet.problems == ()
    assert len(sheet.traffic) == 20
    assert sorted(set(sheet.traffic["date"].dt.date)) == DAYS
    (reading,) = sheet.tabs
    assert reading.date_order == "day-first"
    assert reading.summary.endswith(' · dates day-first ("27/11/2026" at Results!A2)')

    (test,) = analyse(sheet, source="hand-typed").tests
    (cart,) = test.comparisons
    assert (cart.control_visitors, cart.variant_visitors) == (10_000, 10_000)
    assert (cart.control_conversions, cart.variant_conversions) == (sum(40 + d for d in range(10)), 590)
    assert cart.lift == pytest.approx((590 / 10_000) / (445 / 10_000) - 1)
    assert test.days == 10


def test_a_column_that_fits_both_orders_is_month_first_unless_the_setting_says_day_first():
    typed = [f"{d:%d/%m/%Y}" for d in DAYS[4:]]  # 01/12/2026 … 06/12/2026
    by_default = parse_workbook([hand_typed(typed)])
    assert sorted(set(by_default.traffic["date"].dt.date)) == [dt.date(2026, m, 12) for m in range(1, 7)]
    assert by_default.tabs[0].date_order == "month-first"
    assert by_default.tabs[0].summary.endswith(
        " · dates month-first (no date settles the order; MICROOPT_DATE_ORDER=day-first reads them day-first)"
    )
    day_first = parse_workbook([hand_typed(typed)], date_order="day-first")
    assert sorted(set(day_first.traffic["date"].dt.date)) == DAYS[4:]
    assert day_first.tabs[0].summary.endswith(
        " · dates day-first (no date settles the order; MICROOPT_DATE_ORDER is day-first)"
    )


@pytest.mark.parametrize(
    ("locale", "order", "first"), [("en_GB", "day-first", (12, 1)), ("en_US", "month-first", (1, 12))]
)
def test_a_google_sheets_locale_decides_a_column_that_fits_both(locale, order, first):
    typed = [f"{d:%d/%m/%Y}" for d in DAYS[4:]]
    sheet = parse_workbook([hand_typed(typed, locale=locale)], date_order="day-first")
    assert min(sheet.traffic["date"]).date() == dt.date(2026, *first)
    assert sheet.tabs[0].date_order == order
    assert sheet.tabs[0].summary.endswith(f" · dates {order} (the sheet's locale, {locale})")


def test_dates_that_need_no_order_leave_the_read_line_as_it_was():
    sheet = parse_workbook([hand_typed([f"{d:%Y-%m-%d}" for d in DAYS[:5]] + [46357 + d for d in range(5)])])
    assert sheet.problems == () and len(sheet.traffic) == 20
    assert sheet.tabs[0].date_order is None
    assert sheet.tabs[0].summary == (
        "Results: hand-made layout · variant = Variant, traffic = Clicks, micro = Cart views"
    )


def test_a_mixed_column_is_one_problem_at_its_header_then_each_row_left_out():
    typed = [f"{d:%m/%d/%Y}" for d in DAYS[:7]] + ["13/12/2026", "14/12/2026", "15/12/2026"]
    sheet = parse_workbook([hand_typed(typed)])
    assert sheet.tabs[0].date_order == "month-first"
    column, *cells = sheet.problems
    assert column.cell == "Results!A1"
    assert column.message == (
        "the Date column is read month-first, as most of its dates that fit one order only do, but 6 of its 20 "
        "dates (Results!A16, Results!A17, Results!A18 and 3 more) are dates only read day-first; their rows are "
        "left out. Retype them month-first (12/13/2026) or as year-month-day (2026-12-13)"
    )
    assert [p.cell for p in cells] == [f"Results!A{row}" for row in range(16, 22)]
    assert cells[0].message == (
        '"13/12/2026" is a date only read day-first, and the Date column is read month-first; row left out'
    )
    assert len(sheet.traffic) == 14
