"""Cells as people type them, parsed a whole column at a time.

Each parser returns the parsed values and a per-row message (empty where the cell is fine or blank),
so the caller can turn messages into A1-referenced problems and drop only the bad rows.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

SHEET_EPOCH = pd.Timestamp("1899-12-30")
_CURRENCY_AND_SPACE = r"[\s\u00a0\u202f$€£¥₹]"
_THOUSANDS_COMMA = r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"
_THOUSANDS_DOT = r"^[-+]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$"
_DECIMAL_COMMA = r"^[-+]?\d*,\d+$"
_SPREADSHEET_ERROR = r"^#(?:DIV/0!|N/A|VALUE!|REF!|NAME\?|NUM!|NULL!|ERROR!)$"
_TEXT_DATE_FORMATS = ("%m/%d/%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%Y/%m/%d")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def a1(tab: str, row_index: int, column_index: int) -> str:
    """A1 reference of a zero-based cell, quoting tab names the way Sheets does."""
    quoted = tab if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tab) else "'" + tab.replace("'", "''") + "'"
    return f"{quoted}!{column_letter(column_index)}{row_index + 1}"


def is_blank(values: pd.Series) -> pd.Series:
    as_text = values.astype("string").str.strip()
    return values.isna() | as_text.isna() | (as_text == "")


def shown(value: object) -> str:
    """How a cell is quoted back to the user."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f'"{value}"' if isinstance(value, str) else str(value)


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from cells like `1,234`, `$1,234.50`, `12%`, ` 48 `, `1.234,5`, `(12)`.

    Returns (numbers as float with NaN where blank or bad, message per bad cell).
    """
    blank = is_blank(values)
    numeric = values.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool))
    numbers = pd.Series(np.nan, index=values.index, dtype="float64")
    numbers[numeric & ~blank] = values[numeric & ~blank].astype("float64")

    text_mask = ~numeric & ~blank
    messages = pd.Series("", index=values.index, dtype="object")
    if text_mask.any():
        raw = values[text_mask].astype("string")
        text = raw.str.replace(_CURRENCY_AND_SPACE, "", regex=True)
        negative_brackets = text.str.fullmatch(r"\(.*\)").fillna(False)
        text = text.where(~negative_brackets, "-" + text.str.slice(1, -1))
        percent = text.str.endswith("%").fillna(False)
        text = text.str.rstrip("%")
        thousands_comma = text.str.fullmatch(_THOUSANDS_COMMA).fillna(False)
        thousands_dot = text.str.fullmatch(_THOUSANDS_DOT).fillna(False)
        decimal_comma = text.str.fullmatch(_DECIMAL_COMMA).fillna(False)
        text = text.where(~thousands_comma, text.str.replace(",", "", regex=False))
        text = text.where(~thousands_dot, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
        text = text.where(~decimal_comma, text.str.replace(",", ".", regex=False))
        parsed = pd.to_numeric(text.astype("object"), errors="coerce").astype("float64")
        parsed = parsed.where(~percent, parsed / 100)
        numbers[text_mask] = parsed
        bad = parsed.isna() | ~np.isfinite(parsed)
        error = raw.str.strip().str.fullmatch(_SPREADSHEET_ERROR).fillna(False)
        messages[bad[bad].index] = pd.Series(
            [
                f"{shown(v)} is a spreadsheet error, not a number" if e else f"{shown(v)} is not a number"
                for v, e in zip(values[bad[bad].index], error[bad], strict=True)
            ],
            index=bad[bad].index,
        )
        numbers[bad[bad].index] = np.nan
    return numbers, messages


def parse_counts(values: pd.Series, noun: str) -> tuple[pd.Series, pd.Series]:
    """Whole, non-negative numbers (visitors, conversions)."""
    numbers, messages = parse_numbers(values)
    ok = messages == ""
    negative = ok & (numbers < 0)
    fractional = ok & ~negative & numbers.notna() & (numbers != np.floor(numbers))
    messages[negative] = [f"{shown(v)} is negative; {noun} cannot be" for v in values[negative]]
    messages[fractional] = [f"{shown(v)} is not a whole number of {noun}" for v in values[fractional]]
    numbers[negative | fractional] = np.nan
    return numbers, messages


def parse_money(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    numbers, messages = parse_numbers(values)
    negative = (messages == "") & (numbers < 0)
    messages[negative] = [f"{shown(v)} is negative; spend cannot be" for v in values[negative]]
    numbers[negative] = np.nan
    return numbers, messages


def _date_from_cell(value: object) -> pd.Timestamp | None:
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value).normalize()
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        serial = float(value)
        if 1 <= serial < 2_958_466:
            return SHEET_EPOCH + pd.Timedelta(days=int(serial))
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d{4,5}(\.\d+)?", text):
        return _date_from_cell(float(text))
    try:
        return pd.Timestamp(dt.date.fromisoformat(text[:10]))
    except ValueError:
        pass
    for pattern in _TEXT_DATE_FORMATS:
        try:
            return pd.Timestamp(dt.datetime.strptime(text, pattern).date())
        except ValueError:
            continue
    return None


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates typed as text (ISO, US m/d/Y, European d.m.Y, `2 Mar 2026`), datetimes or sheet serials."""
    blank = is_blank(values)
    dates = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    messages = pd.Series("", index=values.index, dtype="object")
    present = values[~blank]
    if present.empty:
        return dates, messages
    iso = pd.to_datetime(present.astype("string").str.strip(), format="%Y-%m-%d", errors="coerce")
    dates[iso.index] = iso
    for index in iso.index[iso.isna()]:
        value = values[index]
        parsed = _date_from_cell(value)
        if parsed is None:
            messages[index] = f"{shown(value)} is not a date"
        else:
            dates[index] = parsed
    return dates, messages


_TRUE_WORDS = {"yes", "y", "true", "x", "✓", "✔", "control", "1", "c"}


def parse_flags(values: pd.Series) -> pd.Series:
    """A Control column: ticked when the cell says yes, true, x, control, 1…"""
    return values.map(
        lambda v: v is True or (not isinstance(v, bool) and str(v).strip().lower() in _TRUE_WORDS)
    ).astype(bool)


def _label(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def parse_text(values: pd.Series) -> pd.Series:
    """Labels (campaign, test, variant): trimmed text, inner runs of spaces folded, 2.0 shown as 2."""
    return values.map(_label).astype("object")
