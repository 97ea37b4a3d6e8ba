"""Cells as people type them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.reading.cells import (
    a1,
    column_letter,
    order_problems,
    order_said,
    parse_counts,
    parse_dates,
    parse_flags,
    parse_money,
    parse_numbers,
    read_dates,
)


def series(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype="object")


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1,234", 1234.0),
        ("$1,234.50", 1234.5),
        ("12%", 0.12),
        (" 48 ", 48.0),
        ("1.234,5", 1234.5),
        ("1,5", 1.5),
        ("(12)", -12.0),
        ("€ 3 000", 3000.0),
        (1234, 1234.0),
        (12.5, 12.5),
        ("1\u00a0234", 1234.0),
    ],
)
def test_numbers_as_people_type_them(typed, value):
    numbers, messages = parse_numbers(series(typed))
    assert numbers[0] == pytest.approx(value)
    assert messages[0] == ""


@pytest.mark.parametrize(
    ("typed", "phrase"),
    [
        ("1O2", "is not a number"),
        ("#DIV/0!", "spreadsheet error"),
        ("abc", "is not a number"),
        ("1,2,3.4.5", "is not a number"),
    ],
)
def test_bad_numbers_get_a_sentence(typed, phrase):
    numbers, messages = parse_numbers(series(typed))
    assert np.isnan(numbers[0])
    assert phrase in messages[0] and f'"{typed}"' in messages[0]


def test_blank_cells_are_not_problems():
    numbers, messages = parse_numbers(series(None, "", "  ", np.nan))
    assert numbers.isna().all()
    assert (messages == "").all()


def test_counts_must_be_whole_and_not_negative():
    numbers, messages = parse_counts(series("-5", "12.5", "7", 3.0), "visitors")
    assert "negative" in messages[0]
    assert "whole number" in messages[1]
    assert numbers[2] == 7 and numbers[3] == 3
    assert messages[2] == messages[3] == ""


def test_spend_cannot_be_negative():
    numbers, messages = parse_money(series("-$4", "$4.20"))
    assert "negative" in messages[0]
    assert numbers[1] == pytest.approx(4.2)


def test_dates_as_text_serials_and_objects():
    values = series(
        "2026-03-02",
        "3/2/2026",
        "02.03.2026",
        "2 Mar 2026",
        46083,
        dt.datetime(2026, 3, 2, 14, 5),
        dt.date(2026, 3, 2),
        "46083",
    )
    dates, messages = parse_dates(values)
    assert (messages == "").all()
    assert (dates == pd.Timestamp("2026-03-02")).all()


def test_bad_date_gets_a_sentence():
    dates, messages = parse_dates(series("next tuesday"))
    assert pd.isna(dates[0])
    assert messages[0] == '"next tuesday" is not a date'


def test_control_flags():
    assert parse_flags(series("yes", "x", True, "", None, "no", "Control", False)).tolist() == [
        True,
        True,
        True,
        False,
        False,
        False,
        True,
        False,
    ]


def test_a1_references():
    assert [column_letter(i) for i in (0, 25, 26, 51, 702)] == ["A", "Z", "AA", "AZ", "AAA"]
    assert a1("Results", 6, 4) == "Results!E7"
    assert a1("Spring Sale", 0, 0) == "'Spring Sale'!A1"
    assert a1("Bob's", 1, 1) == "'Bob''s'!B2"


def test_the_currency_of_a_spend_column():
    from analysis.reading.cells import currency_symbol

    assert currency_symbol(series("$840", "$1,200.50", 12)) == "$"
    assert currency_symbol(series("840 EUR", "€ 1.234,50", "€12")) == "€"
    assert currency_symbol(series(840, "12", None)) is None


# Dates: the order of `01/12/2026` is decided from the whole column.


def days(*texts: str) -> list[dt.date]:
    return [dt.date.fromisoformat(t) for t in texts]


def test_one_day_above_twelve_reads_the_whole_column_day_first():
    column = read_dates(series("23/11/2026", "01/12/2026", "27/11/2026", "02/12/2026"))
    assert list(column.dates.dt.date) == days("2026-11-23", "2026-12-01", "2026-11-27", "2026-12-02")
    assert (column.messages == "").all()
    assert (column.order, column.reason, column.evidence) == ("day-first", "cells", (0, "23/11/2026"))


def test_one_month_day_above_twelve_reads_the_whole_column_month_first():
    column = read_dates(series("01/12/2026", "11/27/2026"), locale="en_GB", default="day-first")
    assert list(column.dates.dt.date) == days("2026-01-12", "2026-11-27")
    assert (column.order, column.reason, column.evidence) == ("month-first", "cells", (1, "11/27/2026"))


def test_a_column_that_fits_both_orders_follows_the_setting():
    typed = series("01/12/2026", "02/12/2026", "01/12/2026")
    month_first = read_dates(typed)
    assert list(month_first.dates.dt.date) == days("2026-01-12", "2026-02-12", "2026-01-12")
    assert (month_first.order, month_first.reason) == ("month-first", "setting")
    day_first = read_dates(typed, default="day-first")
    assert list(day_first.dates.dt.date) == days("2026-12-01", "2026-12-02", "2026-12-01")
    assert (day_first.order, day_first.reason) == ("day-first", "setting")
    assert order_said(month_first, "Results", 0) == (
        "month-first",
        "dates month-first (no date settles the order; MICROOPT_DATE_ORDER=day-first reads them day-first)",
    )


@pytest.mark.parametrize(("locale", "first"), [("en_GB", dt.date(2026, 12, 1)), ("en_US", dt.date(2026, 1, 12))])
def test_a_google_sheets_locale_decides_a_column_that_fits_both(locale, first):
    column = read_dates(series("01/12/2026", "2026-12-03"), locale=locale, default="day-first")
    assert column.dates[0].date() == first and column.reason == "locale"
    assert order_said(column, "Results", 0) == (column.order, f"dates {column.order} (the sheet's locale, {locale})")


def test_the_cells_win_over_the_locale():
    column = read_dates(series("27/11/2026", "01/12/2026"), locale="en_US")
    assert list(column.dates.dt.date) == days("2026-11-27", "2026-12-01")
    assert order_said(column, "Results", 2) == ("day-first", 'dates day-first ("27/11/2026" at Results!C1)')


def test_iso_text_sheet_dates_and_serials_need_no_order():
    column = read_dates(series("2026-03-02", 46083, "46083", dt.datetime(2026, 3, 2, 14, 5), "2 Mar 2026"))
    assert (column.dates == pd.Timestamp("2026-03-02")).all()
    assert column.order is None and order_said(column, "Results", 0) is None


def test_mixed_iso_text_and_numeric_dates_share_one_order():
    typed = series("2026-11-20", "21/11/2026", 46348.0, "November 23, 2026", "24/11/26", "25-11-2026", "01/12/2026")
    column = read_dates(typed)
    assert list(column.dates.dt.date) == days(
        "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25", "2026-12-01"
    )
    assert column.order == "day-first" and (column.messages == "").all()


def test_sheet_serials_out_of_range_are_not_dates():
    dates, messages = parse_dates(series(0, -3, 200_000, 1, 46083.75))
    assert list(messages[:3]) == ["0 is not a date", "-3 is not a date", "200000 is not a date"]
    assert list(dates[3:].dt.date) == [dt.date(1899, 12, 31), dt.date(2026, 3, 2)]


def test_day_first_dots_as_in_the_kaggle_ab_test_dataset():
    column = read_dates(series("1.08.2019", "2.08.2019", "1.08.2019"))
    assert list(column.dates.dt.date) == days("2019-08-01", "2019-08-02", "2019-08-01")
    assert (column.order, column.reason) == ("day-first", "dots")
    assert order_said(column, "ab_test", 1)[1] == 'dates day-first (written with dots, "1.08.2019" at ab_test!B1)'


def test_timestamps_of_row_level_logs_are_read_as_their_day():
    column = read_dates(series("2017-01-21 22:11:48.556739", "2026-03-02T23:59:59Z", "11/27/2026 2:05 PM"))
    assert list(column.dates.dt.date) == days("2017-01-21", "2026-03-02", "2026-11-27")
    assert (column.messages == "").all()


def test_days_that_do_not_exist_are_not_dates():
    typed = ["31/02/2026", "30/30/2026", "29/02/2026", "2026-02-30", "2300-01-01", "next tuesday"]
    dates, messages = parse_dates(series(*typed))
    assert dates.isna().all()
    assert list(messages) == [f'"{t}" is not a date' for t in typed]


def test_a_few_dates_in_the_other_order_are_bad_cells_only():
    typed = [f"{d:02d}/11/2026" for d in range(13, 30)] + ["11/30/2026"]
    column = read_dates(pd.Series(typed, index=range(1, 19), dtype="object"))
    assert column.order == "day-first" and column.dates.notna().sum() == 17
    assert list(column.misread) == [18]
    assert column.messages[18] == '"11/30/2026" is a date only read month-first, and the Date column is read day-first'
    assert order_problems(column, "Results", 0, 0) == ()


def test_a_column_whose_order_fails_broadly_is_one_problem_at_its_header():
    typed = ["11/13/2026", "11/14/2026", "11/15/2026", "11/16/2026", "11/17/2026", "11/18/2026"]
    typed += ["19/11/2026", "20/11/2026", "21/11/2026", "22/11/2026", "01/12/2026"]
    column = read_dates(pd.Series(typed, index=range(1, 12), dtype="object"))
    assert column.order == "month-first" and column.reason == "cells"
    assert list(column.misread) == [7, 8, 9, 10]
    assert column.dates[11] == pd.Timestamp("2026-01-12")
    (problem,) = order_problems(column, "Results", 0, 0)
    assert problem.cell == "Results!A1"
    assert problem.message == (
        "the Date column is read month-first, as most of its dates that fit one order only do, but 4 of its 11 "
        "dates (Results!A8, Results!A9, Results!A10 and 1 more) are dates only read day-first; their rows are "
        "left out. Retype them month-first (11/19/2026) or as year-month-day (2026-11-19)"
    )


def test_a_tie_between_orders_falls_back_to_the_setting_and_is_one_problem():
    column = read_dates(pd.Series(["13/11/2026", "11/14/2026"], index=[4, 5], dtype="object"))
    assert (column.order, column.reason, list(column.misread)) == ("month-first", "setting", [4])
    (problem,) = order_problems(column, "Daily", 2, 1)
    assert (
        problem.cell == "Daily!B3"
        and "the order MICROOPT_DATE_ORDER gives, as many of its dates fit only one order as only the other"
        in problem.message
    )


@given(
    st.lists(st.dates(dt.date(1990, 1, 1), dt.date(2150, 12, 31)), min_size=1, max_size=30),
    st.sampled_from(["day-first", "month-first"]),
    st.sampled_from(["/", "-"]),
)
def test_any_column_with_one_date_that_fits_one_order_reads_back_exactly(typed_days, order, separator):
    shows = dt.date(2026, 11, 27)  # day 27: fits only day-first as 27/11, only month-first as 11/27
    dated = [*typed_days, shows]
    pattern = f"%d{separator}%m{separator}%Y" if order == "day-first" else f"%m{separator}%d{separator}%Y"
    column = read_dates(series(*[d.strftime(pattern) for d in dated]), default="month-first")
    assert list(column.dates.dt.date) == dated
    assert column.order == order and (column.messages == "").all()


@given(
    st.lists(
        st.sampled_from(
            ["01/12/2026", "27/11/2026", "11/27/2026", "1.08.2019", "2026-12-01", 46357, True, "abc", None]
        ),
        max_size=12,
    )
)
def test_a_column_reads_the_same_in_any_row_order_and_repeated(cells):
    column = read_dates(series(*cells))
    backwards = read_dates(series(*cells[::-1]))
    twice = read_dates(series(*cells, *cells))
    assert backwards.order == twice.order == column.order
    assert backwards.dates[::-1].tolist() == column.dates.tolist() == twice.dates[len(cells) :].tolist()
    assert backwards.messages[::-1].tolist() == column.messages.tolist() == twice.messages[: len(cells)].tolist()
