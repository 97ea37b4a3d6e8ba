"""Cells as people type them, parsed a whole column at a time.

Each parser returns the parsed values and a per-row message (empty where the cell is fine or blank),
so the caller can turn messages into A1-referenced problems and drop only the bad rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd

from analysis.models import NumberFormat

SHEET_EPOCH = pd.Timestamp("1899-12-30")
_CURRENCY_AND_SPACE = r"[\s\u00a0\u202f$€£¥₹]|(?i:usd|eur|gbp|jpy|inr)"
# A group separator never follows a leading zero: `0.125` and `0,125` are decimals in every locale.
_THOUSANDS_COMMA = r"^[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$"
_THOUSANDS_DOT = r"^[-+]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$"
_DECIMAL_COMMA = r"^[-+]?\d*,\d+$"
# With a known decimal-point locale, `1.234` is a decimal; only unambiguous dot grouping is thousands.
_THOUSANDS_DOT_STRICT = r"^[-+]?[1-9]\d{0,2}(?:(?:\.\d{3}){2,}(?:,\d+)?|\.\d{3},\d+)$"
# With a known decimal-comma locale, `1,234` is a decimal; only unambiguous comma grouping is thousands.
_THOUSANDS_COMMA_STRICT = r"^[-+]?[1-9]\d{0,2}(?:(?:,\d{3}){2,}(?:\.\d+)?|,\d{3}\.\d+)$"
_DECIMAL_COMMA_ANY = r"^[-+]?\d+,\d+$"
_SPREADSHEET_ERROR = r"^#(?:DIV/0!|N/A|VALUE!|REF!|NAME\?|NUM!|NULL!|ERROR!)$"
_TEXT_DATE_FORMATS = ("%m/%d/%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%Y/%m/%d")
_DAY_FIRST_DATE_FORMATS = ("%d/%m/%Y", *_TEXT_DATE_FORMATS[1:])

Decimal = Literal[",", "."] | None
_SEPARATOR_PATTERNS: dict[Decimal, tuple[str, str, str]] = {
    None: (_THOUSANDS_COMMA, _THOUSANDS_DOT, _DECIMAL_COMMA),
    ".": (_THOUSANDS_COMMA, _THOUSANDS_DOT_STRICT, _DECIMAL_COMMA),
    ",": (_THOUSANDS_COMMA_STRICT, _THOUSANDS_DOT, _DECIMAL_COMMA_ANY),
}
# Languages whose locales write 1.234,5 (CLDR), and the regional locales of those languages that do not.
_DECIMAL_COMMA_LANGUAGES = frozenset(
    {
        "af",
        "az",
        "be",
        "bg",
        "bs",
        "ca",
        "cs",
        "da",
        "de",
        "el",
        "es",
        "et",
        "eu",
        "fi",
        "fo",
        "fr",
        "gl",
        "hr",
        "hu",
        "hy",
        "id",
        "is",
        "it",
        "ka",
        "kk",
        "ky",
        "lt",
        "lv",
        "mk",
        "nb",
        "nl",
        "nn",
        "no",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sq",
        "sr",
        "sv",
        "tr",
        "uk",
        "uz",
        "vi",
    }
)
_DECIMAL_POINT_REGIONS = frozenset(
    {
        "de_CH",
        "de_LI",
        "it_CH",
        "es_419",
        "es_MX",
        "es_US",
        "es_PR",
        "es_DO",
        "es_GT",
        "es_HN",
        "es_NI",
        "es_PA",
        "es_PE",
        "es_SV",
    }
)
_MONTH_FIRST_LOCALES = frozenset({"en_US", "es_US", "en_PH", "fil_PH", "en_CA"})


def normalise_header(value: object) -> str:
    """A header or label as compared: inner spacing collapsed, lower case; '' for an empty cell."""
    return " ".join(str(value).split()).lower() if value is not None else ""


def _locale_parts(locale: str | None) -> tuple[str, str] | None:
    if not locale or not locale.strip():
        return None
    normalised = locale.strip().replace("-", "_")
    language = normalised.split("_", 1)[0].lower()
    return language, normalised


def decimal_mark(locale: str | None) -> Decimal:
    """The decimal mark of a spreadsheet locale such as `de_DE` or `en_US`; None when unknown."""
    parts = _locale_parts(locale)
    if parts is None:
        return None
    language, normalised = parts
    if language in _DECIMAL_COMMA_LANGUAGES and normalised not in _DECIMAL_POINT_REGIONS:
        return ","
    return "."


def locale_day_first(locale: str | None) -> bool:
    """Whether `09/03/2026` means 9 March in this locale; unknown locales keep the US reading."""
    parts = _locale_parts(locale)
    return parts is not None and parts[1] not in _MONTH_FIRST_LOCALES


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


_WITHOUT_BOOLEANS = frozenset({"string", "integer", "floating", "mixed-integer-float", "empty", "date", "datetime"})


def by_distinct(parse: Callable[[pd.Series], tuple[pd.Series, ...]], values: pd.Series) -> tuple[pd.Series, ...]:
    """Apply a column parser to each distinct cell once: sheets repeat the same few values thousands of times.

    Booleans compare equal to 1 and 0, so a column holding any is parsed cell by cell instead."""
    kinds = pd.api.types.infer_dtype(values, skipna=True)
    if kinds not in _WITHOUT_BOOLEANS and any(isinstance(v, bool | np.bool_) for v in values):
        return parse(values)
    codes, distinct = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    parsed = parse(pd.Series(distinct, dtype="object"))
    return tuple(pd.Series(p.to_numpy()[codes], index=values.index, dtype=p.dtype) for p in parsed)


def _is_blank(values: pd.Series) -> tuple[pd.Series]:
    as_text = values.astype("string").str.strip()
    return ((values.isna() | as_text.isna() | (as_text == "")).astype(bool),)


def is_blank(values: pd.Series) -> pd.Series:
    return by_distinct(_is_blank, values)[0]


def shown(value: object) -> str:
    """How a cell is quoted back to the user."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f'"{value}"' if isinstance(value, str) else str(value)


def parse_numbers(values: pd.Series, decimal: Decimal = None) -> tuple[pd.Series, pd.Series]:
    """Numbers from cells like `1,234`, `$1,234.50`, `12%`, ` 48 `, `1.234,5`, `(12)`.

    `decimal` is the sheet locale's decimal mark when known (see `decimal_mark`): with `","`, `1,234`
    is 1.234 and `1.234` is 1234; with `"."`, `1.234` is 1.234. Unknown (None): `1,234` and `1.234`
    are both read as 1234 and `1,5` as 1.5. Returns (numbers as float with NaN where blank or bad,
    message per bad cell).
    """
    numbers, messages = by_distinct(lambda distinct: _parse_numbers(distinct, decimal), values)
    return numbers, messages


def _parse_numbers(values: pd.Series, decimal: Decimal) -> tuple[pd.Series, pd.Series]:
    blank = _is_blank(values)[0]
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
        comma_pattern, dot_pattern, decimal_pattern = _SEPARATOR_PATTERNS[decimal]
        thousands_comma = text.str.fullmatch(comma_pattern).fillna(False)
        thousands_dot = text.str.fullmatch(dot_pattern).fillna(False) & ~thousands_comma
        decimal_comma = text.str.fullmatch(decimal_pattern).fillna(False) & ~thousands_comma
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


# No campaign reaches a trillion visitors; a count above this is a pasted ID, a phone number or a typo, and
# beyond it the exact tests (Fisher's, binomial terms) no longer fit in floating point.
MAX_COUNT = 1e12


def parse_counts(
    values: pd.Series, noun: str, decimal: Decimal = None, fractional_ok: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Non-negative numbers (visitors, conversions), at most `MAX_COUNT`; whole unless `fractional_ok`
    (conversions credited by an attribution model, `11.50`)."""
    numbers, messages = parse_numbers(values, decimal)
    ok = messages == ""
    negative = ok & (numbers < 0)
    absurd = ok & ~negative & (numbers > MAX_COUNT)
    fractional = ok & ~negative & ~absurd & numbers.notna() & (numbers != np.floor(numbers))
    if fractional_ok:
        fractional = fractional & False
    messages[negative] = [f"{shown(v)} is negative; {noun} cannot be" for v in values[negative]]
    messages[absurd] = [f"{shown(v)} is too large to be a number of {noun}" for v in values[absurd]]
    messages[fractional] = [f"{shown(v)} is not a whole number of {noun}" for v in values[fractional]]
    numbers[negative | absurd | fractional] = np.nan
    return numbers, messages


_CURRENCY_SYMBOLS = "$€£¥₹"
_CURRENCY_CODES = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def currency_symbol(values: pd.Series) -> str | None:
    """The currency most Spend cells are typed in (`$840`, `€ 1.234`, `840 EUR`); None when none shows."""
    seen: dict[str, int] = {}
    for value in pd.unique(values.to_numpy(dtype=object)):
        if not isinstance(value, str):
            continue
        text = value.strip().upper()
        symbol = next((s for s in _CURRENCY_SYMBOLS if s in text), None) or next(
            (symbol for code, symbol in _CURRENCY_CODES.items() if code in text), None
        )
        if symbol:
            seen[symbol] = seen.get(symbol, 0) + 1
    return max(seen, key=lambda s: seen[s]) if seen else None


_FORMAT_BRACKET = re.compile(r"\[\$([^\]\-]*)")
_FORMAT_QUOTED = re.compile(r'"([^"]*)"')
_FORMAT_CODES = {**_CURRENCY_CODES, "CAD": "CA$", "AUD": "A$", "CHF": "CHF ", "SEK": "kr ", "NOK": "kr ", "DKK": "kr "}
_EURO_REGIONS = frozenset(
    [
        "AT",
        "BE",
        "CY",
        "DE",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PT",
        "SI",
        "SK",
    ]  # the euro area (2026)
)
_REGION_SYMBOLS = {"US": "$", "GB": "£", "JP": "¥", "IN": "₹", "CA": "CA$", "AU": "A$", "CH": "CHF "}


def _currency_token(token: str) -> str | None:
    token = token.strip()
    if not token:
        return None
    if token.upper() in _FORMAT_CODES:
        return _FORMAT_CODES[token.upper()]
    if token in ("US$", "USD$"):
        return "$"
    if len(token) == 1 and token in _CURRENCY_SYMBOLS:
        return token
    return next((s for s in _CURRENCY_SYMBOLS if s in token), None) if len(token) <= 3 else None


def shows_currency(number_format: NumberFormat) -> bool:
    """Whether a number format shows money: the `CURRENCY` type, or a pattern with a currency in it."""
    return number_format.type == "CURRENCY" or currency_of_format(number_format) is not None


def currency_of_format(number_format: NumberFormat | None, locale: str | None = None) -> str | None:
    """The currency a Google Sheets number format shows: `[$€-407]#,##0.00` €, `"£"#,##0.00` £,
    `$#,##0.00` $, `#,##0.00 [$EUR]` €; a `CURRENCY` format without a pattern shows the locale's."""
    if number_format is None:
        return None
    pattern = number_format.pattern
    for token in [*_FORMAT_BRACKET.findall(pattern), *_FORMAT_QUOTED.findall(pattern)]:
        if (symbol := _currency_token(token)) is not None:
            return symbol
    bare = _FORMAT_QUOTED.sub("", _FORMAT_BRACKET.sub("", pattern))
    symbol = next((s for s in _CURRENCY_SYMBOLS if s in bare), None)
    if symbol is not None or number_format.type != "CURRENCY" or pattern:
        return symbol
    parts = _locale_parts(locale)
    region = parts[1].split("_")[-1].upper() if parts and "_" in parts[1] else ""
    return "€" if region in _EURO_REGIONS else _REGION_SYMBOLS.get(region)


def parse_money(values: pd.Series, decimal: Decimal = None) -> tuple[pd.Series, pd.Series]:
    numbers, messages = parse_numbers(values, decimal)
    negative = (messages == "") & (numbers < 0)
    messages[negative] = [f"{shown(v)} is negative; spend cannot be" for v in values[negative]]
    numbers[negative] = np.nan
    return numbers, messages


# Dates a campaign can have; beyond them a cell is a typo (and past 2262 pandas cannot hold it at all).
_FIRST_DAY, _LAST_DAY = pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31")


def _date_from_cell(value: object, day_first: bool = False) -> pd.Timestamp | None:
    try:
        day = _any_date_from_cell(value, day_first)
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        return None
    return day if day is not None and _FIRST_DAY <= day <= _LAST_DAY else None


def _any_date_from_cell(value: object, day_first: bool = False) -> pd.Timestamp | None:
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value).normalize()
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        serial = float(value)
        if 1 <= serial < (_LAST_DAY - SHEET_EPOCH).days + 1:
            return SHEET_EPOCH + pd.Timedelta(days=int(serial))
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d{4,5}(\.\d+)?", text):
        return _any_date_from_cell(float(text), day_first)
    try:
        return pd.Timestamp(dt.date.fromisoformat(text[:10]))
    except ValueError:
        pass
    for pattern in _DAY_FIRST_DATE_FORMATS if day_first else _TEXT_DATE_FORMATS:
        try:
            return pd.Timestamp(dt.datetime.strptime(text, pattern).date())
        except ValueError:
            continue
    return None


def parse_dates(values: pd.Series, day_first: bool = False) -> tuple[pd.Series, pd.Series]:
    """Dates typed as text (ISO, US m/d/Y, European d.m.Y, `2 Mar 2026`), datetimes or sheet serials.

    `day_first` reads `09/03/2026` as 9 March (most locales, see `locale_day_first`) instead of the
    US reading, 3 September.
    """
    dates, messages = by_distinct(lambda distinct: _parse_dates(distinct, day_first), values)
    return dates, messages


def _parse_dates(values: pd.Series, day_first: bool) -> tuple[pd.Series, pd.Series]:
    blank = _is_blank(values)[0]
    dates = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    messages = pd.Series("", index=values.index, dtype="object")
    present = values[~blank]
    if present.empty:
        return dates, messages
    iso = pd.to_datetime(present.astype("string").str.strip(), format="%Y-%m-%d", errors="coerce")
    dates[iso.index] = iso
    for index in iso.index[iso.isna()]:
        value = values[index]
        parsed = _date_from_cell(value, day_first)
        if parsed is None:
            messages[index] = f"{shown(value)} is not a date"
        else:
            dates[index] = parsed
    return dates, messages


_TRUE_WORDS = {"yes", "y", "true", "x", "✓", "✔", "control", "1", "c"}


def _is_ticked(value: object) -> bool:
    return value is True or (not isinstance(value, bool) and str(value).strip().lower() in _TRUE_WORDS)


def parse_flags(values: pd.Series) -> pd.Series:
    """A Control column: ticked when the cell says yes, true, x, control, 1…"""
    return by_distinct(lambda distinct: (distinct.map(_is_ticked).astype(bool),), values)[0]


def _label(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def parse_text(values: pd.Series) -> pd.Series:
    """Labels (campaign, test, variant): trimmed text, inner runs of spaces folded, 2.0 shown as 2."""
    return by_distinct(lambda distinct: (distinct.map(_label).astype("object"),), values)[0]
