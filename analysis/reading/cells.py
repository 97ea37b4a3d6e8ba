"""Cells as people type them, parsed a whole column at a time.

Each parser returns the parsed values and a per-row message (empty where the cell is fine or blank),
so the caller can turn messages into A1-referenced problems and drop only the bad rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from analysis.models import NumberFormat, Problem

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


def distinct_cells(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """A column's distinct cells, in the order they first appear, and each cell's code into them.

    Booleans compare equal to 1 and 0, so a column holding any keeps every cell as its own."""
    kinds = pd.api.types.infer_dtype(values, skipna=True)
    if kinds not in _WITHOUT_BOOLEANS and any(isinstance(v, bool | np.bool_) for v in values):
        return np.arange(len(values)), pd.Series(values.to_numpy(dtype=object), dtype="object")
    codes, distinct = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    return codes, pd.Series(distinct, dtype="object")


def by_distinct(parse: Callable[[pd.Series], tuple[pd.Series, ...]], values: pd.Series) -> tuple[pd.Series, ...]:
    """Apply a column parser to each distinct cell once: sheets repeat the same few values thousands of times."""
    codes, distinct = distinct_cells(values)
    parsed = parse(distinct)
    # Indexing by the codes makes fresh arrays: the Series may own them without a copy.
    return tuple(pd.Series(p.to_numpy()[codes], index=values.index, dtype=p.dtype, copy=False) for p in parsed)


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
_LAST_SERIAL = (_LAST_DAY - SHEET_EPOCH).days + 1
DateOrder = Literal["day-first", "month-first"]
# Why a column's dates were read in their order: a date that fits only that order ("cells"), dates written
# with dots (day-first wherever they are written so), the Google sheet's locale, or the setting.
DateReason = Literal["cells", "dots", "locale", "setting"]
_TIME = r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?(?:\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)?"
_YEAR_FIRST = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:$|[T\s])")
_DAY_OR_MONTH_FIRST = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}|\d{{2}}){_TIME}")
_SERIAL_TEXT = re.compile(r"\d{4,5}(?:\.\d+)?")
_NAMED_MONTH_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y")
# Up to this many cells, and this share of a column's dates, may fit only the other order and be just bad
# cells; more, and the column is mixed: one problem of its own says so.
_FEW_MISREAD, _MISREAD_SHARE = 3, 0.25
_NOT_A_DAY = np.datetime64("NaT", "ns")


@dataclass(frozen=True)
class DateColumn:
    """A Date column read whole. `order` is how its numeric dates (`09/03/2026`) were read, and `reason`
    why; both None when no cell depended on an order (ISO text, sheet dates, serials, month names).
    `evidence` is the first cell that shows the order (reason "cells" or "dots"): its row and its value;
    `misread` are the rows of the cells that are dates only in the other order (left out, each with its
    message), `example` the first of them as typed; `dated` counts the cells that are dates in some reading.
    `locale` is the sheet's, as given."""

    dates: pd.Series
    messages: pd.Series
    order: DateOrder | None
    reason: DateReason | None
    evidence: tuple[int, object] | None = None
    misread: pd.Index = field(default_factory=lambda: pd.Index([], dtype="int64"))
    example: object = None
    dated: int = 0
    locale: str | None = None

    @property
    def other(self) -> DateOrder:
        return "month-first" if self.order == "day-first" else "day-first"


def _calendar_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Each (year, month, day) as a datetime64[ns] day; NaT where there is no such day or it is out of range."""
    with np.errstate(invalid="ignore"):
        valid = (month >= 1) & (month <= 12) & (day >= 1) & (year >= _FIRST_DAY.year) & (year <= _LAST_DAY.year)
    years = np.where(valid, year, 2000).astype(np.int64)
    months = np.where(valid, month, 1).astype(np.int64)
    starts = ((years - 1970) * 12 + months - 1).astype("datetime64[M]").astype("datetime64[D]")
    lengths = ((years - 1970) * 12 + months).astype("datetime64[M]").astype("datetime64[D]") - starts
    days = np.where(valid, day, 1).astype(np.int64)
    valid &= days <= lengths.astype(np.int64)
    return np.where(valid, (starts + (days - 1)).astype("datetime64[ns]"), _NOT_A_DAY)


def _serial_days(serials: np.ndarray) -> np.ndarray:
    """Sheet serial numbers (days since 30 Dec 1899) as days; NaT outside the range dates can have."""
    valid = (serials >= 1) & (serials < _LAST_SERIAL)
    whole = np.floor(np.where(valid, serials, 0)).astype(np.int64)
    days = SHEET_EPOCH.to_datetime64().astype("datetime64[D]") + whole
    return np.where(valid, days.astype("datetime64[ns]"), _NOT_A_DAY)


def _moments(cells: np.ndarray) -> np.ndarray:
    """Dates and datetimes (xlsx cells, Google's dates) as their day, the wall-clock day where zoned."""
    try:
        moments = pd.to_datetime(pd.Series(cells, dtype="object"), errors="coerce")
        if isinstance(moments.dtype, pd.DatetimeTZDtype):
            moments = moments.dt.tz_localize(None)
    except (TypeError, ValueError):  # naive and zoned datetimes in one column
        moments = pd.Series([pd.Timestamp(c).tz_localize(None) if c.tzinfo else pd.Timestamp(c) for c in cells])
    days = moments.dt.normalize()
    days = days.where((days >= _FIRST_DAY) & (days <= _LAST_DAY))
    return days.to_numpy(dtype="datetime64[ns]")


def _day_from_text(text: str) -> np.datetime64:
    """The rarer ways a day is typed: `2 Mar 2026`, `March 2, 2026`, `20260302`, ISO with trailing text."""
    try:
        day = pd.Timestamp(dt.date.fromisoformat(text[:10]))
    except ValueError:
        day = None
    for pattern in () if day is not None else _NAMED_MONTH_FORMATS:
        try:
            day = pd.Timestamp(dt.datetime.strptime(text, pattern).date())
            break
        except ValueError:
            continue
    if day is None or not _FIRST_DAY <= day <= _LAST_DAY:
        return _NOT_A_DAY
    return day.to_datetime64()


def _date_readings(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each distinct cell's day where it needs no order, its day-first and month-first readings where it
    does (`09/03/2026`; NaT where that reading is no day), whether it was written with dots (read
    day-first, as dots are), and a message where it is no date in any reading."""
    cells = values.to_numpy(dtype=object)
    size = len(cells)
    blank = _is_blank(values)[0].to_numpy(dtype=bool)
    is_moment = np.fromiter((isinstance(c, dt.date) for c in cells), dtype=bool, count=size) & ~blank
    is_number = ~blank & np.fromiter(
        (isinstance(c, int | float | np.number) and not isinstance(c, bool | np.bool_) for c in cells),
        dtype=bool,
        count=size,
    )
    is_text = ~blank & ~is_moment & ~is_number
    fixed = np.full(size, _NOT_A_DAY)
    day_first, month_first = fixed.copy(), fixed.copy()
    dotted = np.zeros(size, dtype=bool)
    if is_moment.any():
        fixed[is_moment] = _moments(cells[is_moment])
    if is_number.any():
        fixed[is_number] = _serial_days(cells[is_number].astype(np.float64))
    if is_text.any():
        _text_readings(cells[is_text], np.flatnonzero(is_text), fixed, day_first, month_first, dotted)
    bad = ~blank & np.isnat(fixed) & np.isnat(day_first) & np.isnat(month_first)
    messages = np.full(size, "", dtype=object)
    messages[bad] = [f"{shown(c)} is not a date" for c in cells[bad]]
    return fixed, day_first, month_first, dotted & ~np.isnat(fixed), messages


def _text_readings(
    cells: np.ndarray,
    where: np.ndarray,
    fixed: np.ndarray,
    day_first: np.ndarray,
    month_first: np.ndarray,
    dotted: np.ndarray,
) -> None:
    """Fill in the readings of distinct text cells (at positions `where`): each is matched once, in Python
    (as pandas' string methods would), and its fields turned into days a whole array at a time."""
    size = len(cells)
    serials = np.full(size, np.nan)
    year_first = np.full((size, 3), np.nan)
    ordered = np.full((size, 3), np.nan)  # first field, second field, year
    dots = np.zeros(size, dtype=bool)
    rest: list[int] = []
    for at, cell in enumerate(cells):
        text = str(cell).strip()
        if _SERIAL_TEXT.fullmatch(text):
            serials[at] = float(text)
        elif found := _YEAR_FIRST.match(text):
            year_first[at] = found.group(1, 3, 4)
        elif found := _DAY_OR_MONTH_FIRST.fullmatch(text):
            ordered[at] = found.group(1, 3, 4)
            dots[at] = found[2] == "."
        else:
            rest.append(at)
    fixed[where] = _serial_days(serials)
    ymd = ~np.isnan(year_first[:, 0])
    fixed[where[ymd]] = _calendar_days(*year_first[ymd].T)
    first, second, year = ordered.T
    year = np.where(year < 100, np.where(year < 69, 2000 + year, 1900 + year), year)
    either = ~np.isnan(first) & ~dots
    day_first[where[either]] = _calendar_days(year[either], second[either], first[either])
    month_first[where[either]] = _calendar_days(year[either], first[either], second[either])
    fixed[where[dots]] = _calendar_days(year[dots], second[dots], first[dots])
    dotted[where[dots]] = True
    fixed[where[rest]] = [_day_from_text(str(cells[at]).strip()) for at in rest]


def read_dates(values: pd.Series, locale: str | None = None, default: DateOrder = "month-first") -> DateColumn:
    """A Date column as people type it: ISO (`2026-03-02`, with a time or not), `27/11/2026`, `11/27/26`,
    `1.08.2019`, `2 Mar 2026`, dates and datetimes, sheet serials.

    Whether `09/03/2026` is 9 March or 3 September is decided for the whole column: a date that fits only
    one order (`27/11/2026`, `11/27/2026`) settles it, the order most such dates fit where both kinds
    appear; else the sheet's locale (Google Sheets); else `default`. Dates written with dots are day-first,
    as they are wherever people write them so. Cells that are dates only in the other order are left out,
    each with its message."""
    codes, distinct = distinct_cells(values)
    fixed, day_first, month_first, dotted, messages = _date_readings(distinct)
    fits_day, fits_month = ~np.isnat(day_first), ~np.isnat(month_first)
    day_only, month_only = fits_day & ~fits_month, fits_month & ~fits_day
    either = fits_day | fits_month
    counts = np.bincount(codes, minlength=len(distinct)) if either.any() else np.ones(len(distinct), np.int64)
    days_only, months_only = int(counts[day_only].sum()), int(counts[month_only].sum())
    order: DateOrder | None
    reason: DateReason | None
    shows: np.ndarray | None = None
    if not either.any():
        order, reason, shows = ("day-first", "dots", dotted) if dotted.any() else (None, None, None)
    elif days_only != months_only:
        order, reason = ("day-first" if days_only > months_only else "month-first"), "cells"
        shows = day_only if order == "day-first" else month_only
    elif locale is not None and locale.strip():
        order, reason = ("day-first" if locale_day_first(locale) else "month-first"), "locale"
    else:
        order, reason = default, "setting"
    evidence = None
    if shows is not None:
        # Codes number distinct cells in the order they first appear: the first code shown is the first row.
        at = int(np.argmax(codes == int(np.argmax(shows))))
        evidence = (int(values.index[at]), values.iloc[at])
    misread = (month_only if order == "day-first" else day_only) & either
    days = np.where(np.isnat(fixed), day_first if order == "day-first" else month_first, fixed)
    index = values.index
    if not misread.any():
        dates = pd.Series(days[codes], index=index, dtype="datetime64[ns]", copy=False)
        said = pd.Series(messages[codes], index=index, dtype="object", copy=False)
        return DateColumn(dates, said, order, reason, evidence, locale=locale)
    messages[misread] = [
        f"{shown(v)} is a date only read {'month-first' if order == 'day-first' else 'day-first'}, "
        f"and the Date column is read {order}"
        for v in distinct[misread]
    ]
    days[misread] = _NOT_A_DAY
    return DateColumn(
        dates=pd.Series(days[codes], index=index, dtype="datetime64[ns]", copy=False),
        messages=pd.Series(messages[codes], index=index, dtype="object", copy=False),
        order=order,
        reason=reason,
        evidence=evidence,
        misread=index[misread[codes]],
        example=distinct[int(np.argmax(misread))],
        dated=int(counts[~np.isnat(fixed) | either].sum()),
        locale=locale,
    )


def parse_dates(values: pd.Series, day_first: bool = False) -> tuple[pd.Series, pd.Series]:
    """The days of a column and a message per bad cell (see `read_dates`); `day_first` reads a column
    whose every date fits both orders day-first."""
    column = read_dates(values, default="day-first" if day_first else "month-first")
    return column.dates, column.messages


def _retyped(value: object, order: DateOrder) -> tuple[str, str]:
    """A cell that is a date only in the other order, typed in `order` and as ISO: ('11/27/2026', '2026-11-27')."""
    other: DateOrder = "month-first" if order == "day-first" else "day-first"
    day = read_dates(pd.Series([value], dtype="object"), default=other).dates.iloc[0]
    if pd.isna(day):
        return shown(value), shown(value)
    first, second = (day.day, day.month) if order == "day-first" else (day.month, day.day)
    return f"{first:02d}/{second:02d}/{day.year}", f"{day:%Y-%m-%d}"


def _why(column: DateColumn) -> str:
    if column.reason == "cells":
        return "as most of its dates that fit one order only do"
    tie = "as many of its dates fit only one order as only the other"
    if column.reason == "locale":
        return f"the order of the sheet's locale ({column.locale}), {tie}"
    return f"the order MICROOPT_DATE_ORDER gives, {tie}"


def order_said(column: DateColumn, tab: str, column_index: int) -> tuple[DateOrder, str] | None:
    """The order of a tab's dates and how its read line says it: 'dates day-first ("27/11/2026" at
    Results!A5)'; None when no date depended on it."""
    if column.order is None:
        return None
    shown_at = f"{shown(column.evidence[1])} at {a1(tab, column.evidence[0], column_index)}" if column.evidence else ""
    if column.reason == "cells":
        why = shown_at
    elif column.reason == "dots":
        why = f"written with dots, {shown_at}"
    elif column.reason == "locale":
        why = f"the sheet's locale, {column.locale}"
    elif column.order == "month-first":
        why = "no date settles the order; MICROOPT_DATE_ORDER=day-first reads them day-first"
    else:
        why = "no date settles the order; MICROOPT_DATE_ORDER is day-first"
    return column.order, f"dates {column.order} ({why})"


def order_problems(column: DateColumn, tab: str, header_row: int, column_index: int) -> tuple[Problem, ...]:
    """One problem about a Date column whose order fails broadly (more than a few cells, or more than a
    quarter of its dates, fit only the other order), at its header cell; none otherwise."""
    rows = column.misread
    if column.order is None or len(rows) == 0:
        return ()
    if len(rows) <= _FEW_MISREAD and len(rows) <= _MISREAD_SHARE * column.dated:
        return ()
    references = ", ".join(a1(tab, int(row), column_index) for row in rows[:3])
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    typed, iso = _retyped(column.example, column.order)
    return (
        Problem(
            cell=a1(tab, header_row, column_index),
            message=(
                f"the Date column is read {column.order}, {_why(column)}, but {len(rows)} of its "
                f"{column.dated} dates ({references}{more}) are dates only read {column.other}; their rows "
                f"are left out. Retype them {column.order} ({typed}) or as year-month-day ({iso})"
            ),
        ),
    )


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
