"""Cells as people type them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis.reading.cells import a1, column_letter, parse_counts, parse_dates, parse_flags, parse_money, parse_numbers


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
