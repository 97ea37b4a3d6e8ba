"""Row-level files: one row per visitor or user, as analytics and warehouse exports come, counted into arms.

A tab is row-level when its header names a group column (`group`, `variant`, `version`, `test group`,
`experiment`, `arm`, `bucket`, `treatment`, `landing_page`…) holding a few values, each on many rows, and
at least one outcome column: every non-blank cell of it is 0/1, TRUE/FALSE, yes/no (or y/n, t/f), or a
timestamp, the blank cells then meaning "did not" (`converted_at`). An id column (`user_id`, `userid`,
`visitor_id`, `client_id`, `auction_id`, `id`…) and a date or timestamp column are optional. A tab with a
traffic or spend column (`Clicks`, `Sessions`, `Cost`…) is an aggregated report, never row-level.

The tab is rewritten into the hand-made layout holding the aggregated counts: one row per arm, or per arm
and day when the rows are dated, so that the rest of the reading takes it unchanged and `--as-of` and the
backtest replay it day by day. Traffic is the number of rows, or of distinct ids when there is an id
column; an outcome counts the rows, or the ids, where it is true. An id seen on several rows counts once,
on the day it was first seen in its arm, and converted if any of its rows is: conversions never exceed
traffic. A bad cell is a problem at its own A1 reference and its row is left out; everything else is
counted.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.models import Cell, Kind, Problem, Tab, TabReading
from analysis.reading.cells import a1, locale_day_first, normalise_header, parse_dates, parse_text, shown
from analysis.reading.exports import Override, Reading, classify_action
from analysis.reading.vocabulary import is_comment
from analysis.wording import counted

# Header names, compared by `_key` (lower case, `_`, `-` and `.` read as spaces).
_ID_NAMES = frozenset(
    {
        "id",
        "user id",
        "userid",
        "user",
        "uid",
        "visitor id",
        "visitorid",
        "client id",
        "clientid",
        "customer id",
        "customerid",
        "auction id",
        "user pseudo id",
        "anonymous id",
        "device id",
        "cookie id",
        "session id",
        "member id",
        "account id",
    }
)
# Best first: when a file has both `group` and `landing_page` (Udacity's ab_data), the group is the arm.
_VARIANT_NAMES = (
    "group",
    "test group",
    "ab group",
    "a/b group",
    "a b group",
    "experiment group",
    "variant",
    "variation",
    "version",
    "experiment",
    "arm",
    "bucket",
    "treatment",
    "treatment group",
    "condition",
    "cohort",
    "landing page",
)
_DATE_NAMES = (
    "timestamp",
    "date",
    "datetime",
    "date time",
    "time",
    "day",
    "event time",
    "event timestamp",
    "event date",
    "created at",
    "visit date",
    "session date",
    "ts",
)
# A report of counts per row, not of users: such a tab belongs to the export recogniser.
_AGGREGATE_NAMES = frozenset(
    {
        "clicks",
        "link clicks",
        "sessions",
        "users",
        "total users",
        "visitors",
        "impressions",
        "cost",
        "spend",
        "amount spent",
    }
)
_OWN_ROLES = frozenset({"variant", "date", "micro", "macro", "ignore", "id"})
_TRUE = frozenset({"1", "1.0", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "0.0", "false", "no", "n", "f"})
# Arm names that mean "the control", best first: `0`, `false` and `no` only as the whole name.
_CONTROL_WORDS = ("control", "ctrl", "baseline", "original", "old", "psa", "a")
_CONTROL_NAMES = ("0", "false", "no")
_MAX_ARMS = 20
_HEADER_SEARCH_ROWS = 20
_SAMPLE_ROWS = 4000
# Split in one pass up to this many cells (8 bytes each: 10 million, the Sheets limit, are 80 MB).
_GRID_CELLS = 10_000_000
# Share of an outcome column's non-blank cells that must read as yes/no: any column, or one whose name
# says it is an outcome (`converted` with a few typos in it).
_OUTCOME_SHARE = 0.95
_NAMED_OUTCOME_SHARE = 0.5
# A column with this share (and number) of whole numbers above 1 counts something per user: not a yes/no.
_COUNT_SHARE, _MIN_COUNTS = 0.01, 5
# How far another group-like column must agree with the arm column to be a second label of the arm.
_ALIGNED_SHARE = 0.9
_RETENTION = re.compile(r"^(?:retention|retained|ret)\s*(?:day\s*)?(\d+)\s*(?:d|days?)?$")
_TIME_SUFFIX = re.compile(r"\s+(?:at|on|time|date|timestamp)$")
_MACRO_WORDS = ("convert", "purchase", "bought", "paid", "order", "sign up", "signup", "signed up", "subscri")
_MICRO_WORDS = ("click", "cart", "visit", "view", "engag", "open", "scroll", "play", "watch", "start", "step")
_SLASHED = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}$")
_NUMBER = re.compile(r"^[\d.,\s]+$")
# The days a campaign can have, as `cells.parse_dates` reads them.
_FIRST_DAY, _LAST_DAY = pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31 23:59:59")
_SERIAL_TO_UNIX = -25569  # sheet serial 25569 is 1970-01-01
_FIRST_UNIX_DAY, _LAST_UNIX_DAY = -25567, 84005  # 1900-01-01 and 2199-12-31
# Serial numbers taken for dates in a column named as a date or time: 1 Jan 1955 to 31 Dec 2199.
_FIRST_SERIAL, _LAST_SERIAL = 20090, 109574

Flags = npt.NDArray[np.int8]  # 1 true, 0 false, -1 blank (no event), -2 not a yes/no
Values = npt.NDArray[np.object_]


@dataclass(frozen=True)
class _Outcome:
    column: int
    name: str
    kind: Kind
    timed: bool  # a timestamp-or-blank column: true where a time is given


class _Body:
    """The rows under the header, read a column at a time, each column once. Rows of one width are split
    into columns in a single pass (well under a second for a million rows), when not too many cells."""

    def __init__(self, rows: Sequence[Sequence[Cell]], width: int) -> None:
        self.rows = rows
        lengths = list(map(len, rows))
        self.even = bool(rows) and min(lengths) == max(lengths) >= width
        self.ragged = not rows or min(lengths) < width
        self.width = width
        self.read: dict[int, Values] = {}

    def column(self, index: int) -> Values:
        if index not in self.read:
            if not self.read and self.even and len(self.rows) * len(self.rows[0]) <= _GRID_CELLS:
                grid = np.array(self.rows, dtype=object)
                self.read = {i: np.ascontiguousarray(grid[:, i]) for i in range(grid.shape[1])}
            else:
                self.read[index] = self._column(index)
        return self.read[index]

    def _column(self, index: int) -> Values:
        if self.ragged:
            values: list[Cell] = [row[index] if len(row) > index else None for row in self.rows]
        else:
            values = list(map(operator.itemgetter(index), self.rows))
        column = np.empty(len(values), dtype=object)
        column[:] = values
        return column

    def sample(self) -> _Body:
        """Rows spread evenly through the tab, enough to tell what a column holds."""
        return _Body(self.rows[:: max(1, len(self.rows) // _SAMPLE_ROWS)], self.width)


@dataclass(frozen=True)
class _Columns:
    """Which column plays which part."""

    names: dict[int, str]  # every named column's header
    variant: int
    arms: _Labels
    id: int | None
    date: int | None
    outcomes: list[_Outcome]
    not_read: list[str]  # columns that are neither a label nor yes/no
    other: list[str]  # columns left out for another reason, with it
    no_data: list[str]  # outcome columns with no value in any row


def _key(value: object) -> str:
    return " ".join(re.sub(r"[_\-.]+", " ", normalise_header(value)).split())


def _label(cell: Cell) -> str:
    return " ".join(str(cell).split()) if cell is not None else ""


@dataclass(frozen=True)
class _Labels:
    """A label column: each cell as a code into its distinct labels (-1 where blank), each read once."""

    codes: npt.NDArray[np.int64]
    labels: list[str]


def _labels(values: Values, most: int) -> _Labels | None:
    """The cells as labels (trimmed, inner spaces folded, `2.0` as `2`); None past `most` distinct cells."""
    codes, uniques = pd.factorize(values)
    if len(uniques) > most:
        return None
    cleaned = parse_text(pd.Series(uniques, dtype=object)).tolist()
    labels = list(dict.fromkeys(label for label in cleaned if label))
    at = {label: index for index, label in enumerate(labels)}
    lookup = np.array([*(at.get(label, -1) for label in cleaned), -1], dtype=np.int64)
    return _Labels(lookup[codes], labels)


def _header_row(rows: Sequence[Sequence[Cell]]) -> int | None:
    """The first row naming at least two columns, below `#` preamble lines and blank rows."""
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        names = [normalise_header(cell) for cell in row if normalise_header(cell)]
        if names and is_comment(names[0]):
            continue
        if len(names) >= 2:
            return index
    return None


def _flag(value: object) -> int:
    if value is None:
        return -1
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | float | np.number):
        number = float(value)
        return -1 if number != number else 1 if number == 1 else 0 if number == 0 else -2
    text = str(value).strip().lower()
    return -1 if not text else 1 if text in _TRUE else 0 if text in _FALSE else -2


def _flags(values: Values) -> Flags:
    """Each cell as yes/no, each distinct value read once (True and 1 are one value, and both mean yes)."""
    codes, uniques = pd.factorize(values)
    lookup = np.array([*(_flag(u) for u in uniques), -1], dtype=np.int8)
    return lookup[codes]


def _blank(values: Values) -> npt.NDArray[np.bool_]:
    """Empty cells, as the sources give them (None, NaN or "")."""
    blank: npt.NDArray[np.bool_] = np.asarray(pd.isna(values), dtype=bool) | np.asarray(values == "", dtype=bool)
    return blank


def _is_number(value: object) -> bool:
    if isinstance(value, str):
        return bool(_NUMBER.match(value.strip()))
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def _counts(values: Values) -> bool:
    """Whether a column counts something per user (purchases: 0, 1, 2…) rather than saying yes or no: at
    least 1% of its cells, and five or more, are whole numbers above 1 (a typed `2` or two is a typo)."""
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
    found = int(((numbers > 1) & (numbers == np.floor(numbers))).sum())
    return found >= max(_MIN_COUNTS, _COUNT_SHARE * len(values))


def _is_serial(value: object) -> bool:
    try:
        return _FIRST_SERIAL <= float(str(value).replace(",", "")) <= _LAST_SERIAL
    except ValueError:
        return False


def _day_tokens(values: Values) -> pd.Series:
    """Each cell's day as typed: the first word of a text (`7/10/2020` of `7/10/2020 13:45`), other cells
    (dates, sheet serials) as they are."""
    return pd.Series(values, dtype=object).map(lambda v: v.split()[0] if isinstance(v, str) and v.strip() else v)


def _day_first(tokens: pd.Series, locale: str | None) -> tuple[bool, str | None]:
    """Whether `03/07/2020` is 3 July, decided from every distinct day in the column: a first field above
    12 anywhere means day-first, a second one month-first; a column that fits both follows the locale
    (month-first when unknown). The order is said only where a slashed date made it matter."""
    firsts, seconds = [], []
    for token in pd.unique(tokens.dropna()):
        if isinstance(token, str) and (match := _SLASHED.match(token)):
            firsts.append(int(match[1]))
            seconds.append(int(match[2]))
    if not firsts:
        return locale_day_first(locale), None
    day_first = max(firsts) > 12 or (max(seconds) <= 12 and locale_day_first(locale))
    return day_first, "day-first" if day_first else "month-first"


@dataclass(frozen=True)
class _Days:
    days: npt.NDArray[np.int64]  # days since 1970; meaningless where blank or bad
    messages: pd.Series  # per bad cell
    blank: npt.NDArray[np.bool_]
    order: str | None


def _days(values: Values, locale: str | None) -> _Days:
    """Each cell's day (a date, or a timestamp's day). ISO text (`2017-01-21 22:11:48.556739`) is read in
    one vectorised pass; anything else a distinct day at a time, as `parse_dates` reads a Date column."""
    blank = _blank(values)
    days = np.zeros(len(values), dtype=np.int64)
    messages = pd.Series("", index=range(len(values)), dtype=object)
    rest = ~blank
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "datetime", "datetime64", "date"):
        try:
            as_typed = "ISO8601" if kind == "string" else None
            stamps = pd.to_datetime(pd.Series(values, dtype=object), format=as_typed, errors="coerce")
        except (ValueError, TypeError, OverflowError):  # mixed time zones, out of range
            stamps = None
        if stamps is not None:
            stamps = stamps.dt.tz_localize(None) if stamps.dt.tz is not None else stamps
            read = (stamps >= _FIRST_DAY) & (stamps <= _LAST_DAY)
            days = np.where(read, stamps.to_numpy(dtype="datetime64[D]").astype(np.int64), 0)
            rest &= ~read.to_numpy()
    elif kind in ("integer", "floating", "mixed-integer-float"):
        # Sheet serials, as Google Sheets gives dates and times (`42756.93` is 2017-01-21 22:19).
        serials = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
        whole = np.floor(np.nan_to_num(serials, nan=-1.0, posinf=-1.0, neginf=-1.0)) + _SERIAL_TO_UNIX
        read = (serials >= 1) & (whole >= _FIRST_UNIX_DAY) & (whole <= _LAST_UNIX_DAY)
        days = np.where(read, whole, 0).astype(np.int64)
        rest &= ~read
    order = None
    if rest.any():
        tokens = _day_tokens(values[rest])
        day_first, order = _day_first(tokens, locale)
        dates, said = parse_dates(tokens, day_first)
        days[rest] = dates.to_numpy(dtype="datetime64[D]").astype(np.int64)
        messages[rest] = said.to_numpy()
        blank[rest] = dates.isna().to_numpy() & (said == "").to_numpy()
    return _Days(days, messages, blank, order)


def _looks_dated(sample: Values, locale: str | None, serials: bool = False) -> bool:
    """Whether a column's cells are dates or times. Numbers are not, unless `serials` (the column is named
    as a date or a time) and they are the sheet serials of 1955 to 2199, as Google Sheets gives dates."""
    present = [v for v in sample if v is not None and str(v).strip()]
    numbers = [v for v in present if _is_number(v)]
    if not present or (numbers and not (serials and all(_is_serial(v) for v in numbers))):
        return False
    column = np.empty(len(present), dtype=object)
    column[:] = present
    return bool((_days(column, locale).messages == "").mean() >= _OUTCOME_SHARE)


def _kinds(names: dict[int, str]) -> dict[int, Kind]:
    """Micro or macro by name, for the outcome columns `names` (by column):

    - `retention_N` (`retention_1`, `retention_7`, `retained day 30`): the largest N is macro, smaller micro;
    - converted, conversion, purchase, order, sign-up, subscribed: macro;
    - a conversion action as platforms name them (`add_to_cart`, `begin_checkout`, `lead`; see
      `exports.classify_action`), then clicks, cart, visits, views, engagement, steps: micro;
    - any other name is macro when no other outcome is, else micro (a single unknown outcome is macro).
    A time column is named by what it times: `converted_at` is read as `converted`."""
    keys = {column: _TIME_SUFFIX.sub("", _key(name)) for column, name in names.items()}
    retention = {c: int(m[1]) for c, key in keys.items() if (m := _RETENTION.match(key))}
    kinds: dict[int, Kind | None] = {}
    for column, key in keys.items():
        if column in retention:
            kinds[column] = "macro" if retention[column] == max(retention.values()) else "micro"
        elif any(word in key for word in _MACRO_WORDS):
            kinds[column] = "macro"
        else:
            kinds[column] = classify_action(key) or ("micro" if any(word in key for word in _MICRO_WORDS) else None)
    unknown: Kind = "micro" if "macro" in kinds.values() else "macro"
    return {column: kind or unknown for column, kind in kinds.items()}


def _known_outcome(name: str) -> bool:
    key = _TIME_SUFFIX.sub("", _key(name))
    return bool(
        _RETENTION.match(key)
        or any(word in key for word in _MACRO_WORDS + _MICRO_WORDS)
        or classify_action(key) is not None
    )


def _control(arms: Sequence[str]) -> tuple[str, str]:
    """The control arm and why: named so (control, ctrl, baseline, original, old, psa, A, in that order, or
    0/false/no for a yes/no group column), else the first arm seen."""
    words = [set(re.split(r"[^a-z0-9]+", arm.lower())) for arm in arms]
    for word in _CONTROL_WORDS:
        for arm, said in zip(arms, words, strict=True):
            if word in said:
                return arm, "by its name"
    for name in _CONTROL_NAMES:
        for arm in arms:
            if arm.lower() == name:
                return arm, "by its name"
    return arms[0], "the first seen"


class _Cells:
    """The problems of one tab's cells, and the rows they leave out."""

    def __init__(self, tab: str, first_row: int, rows: int) -> None:
        self.tab = tab
        self.first_row = first_row
        self.bad = np.zeros(rows, dtype=bool)
        self.found: list[tuple[int, int, str]] = []

    def add(self, where: npt.NDArray[np.bool_], column: int, messages: Sequence[str] | str) -> None:
        positions = np.flatnonzero(where)
        self.bad[positions] = True
        said = [messages] * len(positions) if isinstance(messages, str) else messages
        self.found.extend(
            (int(p) + self.first_row, column, f"{m}; row left out") for p, m in zip(positions, said, strict=True)
        )

    def problems(self) -> list[Problem]:
        return [Problem(cell=a1(self.tab, row, column), message=m) for row, column, m in sorted(self.found)]


def recognise_row_level(tab: Tab, overrides: Sequence[Override] = ()) -> Reading | None:
    """The tab's arms counted into the hand-made layout, or None when it is not one row per visitor or user.

    The Setup tab's roles `variant`, `id`, `date`, `micro`, `macro` and `ignore` name the columns; a tab the
    Setup tab maps as another layout (a `traffic` column, say) is left to the export recogniser."""
    header_index = _header_row(tab.rows)
    if header_index is None or header_index + 1 >= len(tab.rows):
        return None
    header = tab.rows[header_index]
    names = {i: _label(cell) for i, cell in enumerate(header) if normalise_header(cell)}
    mine = {o.column: o.role for o in overrides if o.tab in (None, normalise_header(tab.name))}
    set_up = {i: mine[normalise_header(name)] for i, name in names.items() if normalise_header(name) in mine}
    if any(role not in _OWN_ROLES for role in set_up.values()) or any(
        normalise_header(name) in _AGGREGATE_NAMES for i, name in names.items() if i not in set_up
    ):
        return None
    rows = tab.rows[header_index + 1 :]
    body = _Body(rows, width=max(names) + 1)
    columns = _columns(body, names, set_up, tab.locale)
    if columns is None:
        return None
    return _counted_tab(tab, header_index, body, columns)


def _arm_column(body: _Body, names: dict[int, str], set_up: dict[int, str]) -> tuple[int, _Labels] | None:
    """The group column: the Setup tab's `variant`, else the best-named column with 2 to 20 values, each
    on two rows or more on average."""
    named = [i for i, role in set_up.items() if role == "variant"]
    for i in named:
        labels = _labels(body.column(i), len(body.rows))
        return (i, labels) if labels is not None else None
    for name in _VARIANT_NAMES:
        for i in names:
            if _key(names[i]) != name or i in set_up:
                continue
            labels = _labels(body.column(i), 4 * _MAX_ARMS)
            if labels is None:
                continue
            arms = len(labels.labels)
            if 2 <= arms <= _MAX_ARMS and int((labels.codes >= 0).sum()) >= 2 * arms:
                return i, labels
    return None


def _columns(body: _Body, names: dict[int, str], set_up: dict[int, str], locale: str | None) -> _Columns | None:
    arm = _arm_column(body, names, set_up)
    if arm is None:
        return None
    variant, arm_labels = arm
    taken = {variant} | {i for i, role in set_up.items() if role == "ignore"}
    id_column = next((i for i, role in set_up.items() if role == "id"), None)
    if id_column is None:
        id_column = next((i for i in names if _key(names[i]) in _ID_NAMES and i not in taken | set(set_up)), None)
    taken |= {id_column} if id_column is not None else set()
    sample = body.sample()
    date = next((i for i, role in set_up.items() if role == "date"), None)
    if date is None:
        candidates = [i for name in _DATE_NAMES for i in names if _key(names[i]) == name]
        free = [i for i in candidates if i not in taken and i not in set_up]
        date = next((i for i in free if _looks_dated(sample.column(i), locale, serials=True)), None)
    taken |= {date} if date is not None else set()
    chosen: dict[int, bool] = {}  # outcome column: timed
    not_read: list[str] = []
    other: list[str] = []
    no_data: list[str] = []
    for i, name in names.items():
        if i in taken:
            continue
        values = sample.column(i)
        flags = _flags(values)
        present = flags != -1
        share = float((flags[present] >= 0).mean()) if present.any() else 0.0
        if set_up.get(i) in ("micro", "macro"):
            chosen[i] = bool(present.any()) and share < _OUTCOME_SHARE and _looks_dated(values, locale, serials=True)
        elif not present.any():
            if _known_outcome(name) and _blank(body.column(i)).all():
                no_data.append(name)
        elif _counts(values[present]):
            not_read.append(name)  # purchases per user (0, 1, 2…): a count, not a yes/no
        elif share >= _OUTCOME_SHARE or (share >= _NAMED_OUTCOME_SHARE and _known_outcome(name)):
            chosen[i] = False
        elif _looks_dated(values, locale, bool(_TIME_SUFFIX.search(_key(name)))) and _blank(body.column(i)).any():
            chosen[i] = True  # a time where it happened, blank where it did not (`converted_at`)
        elif _key(name) not in _VARIANT_NAMES:
            not_read.append(name)
    # A `no` column beside `yes` (a survey's two answers, as in AdSmart's) is the other answer, not an outcome.
    answers = {_key(names[i]): i for i in chosen if _key(names[i]) in ("yes", "no")}
    if len(answers) == 2 and answers["no"] not in set_up:
        del chosen[answers["no"]]
        other.append(f"{names[answers['no']]} (the other answer to {names[answers['yes']]})")
    if not chosen:
        return None
    kinds = _kinds({i: names[i] for i in chosen})
    for i, role in set_up.items():
        if i in chosen and role in ("micro", "macro"):
            kinds[i] = "micro" if role == "micro" else "macro"
    outcomes = [_Outcome(i, names[i], kinds[i], timed) for i, timed in chosen.items()]
    return _Columns(names, variant, arm_labels, id_column, date, outcomes, not_read, other, no_data)


def _outcome_flags(values: Values, outcome: _Outcome, locale: str | None) -> Flags:
    if not outcome.timed:
        return _flags(values)
    days = _days(values, locale)
    return np.where(days.blank, -1, np.where((days.messages == "").to_numpy(), 1, -2)).astype(np.int8)


def _traffic_word(id_name: str) -> str:
    key = _key(id_name)
    return "visitors" if "visitor" in key else "sessions" if "session" in key else "users"


def _counted_tab(tab: Tab, header_index: int, body: _Body, columns: _Columns) -> Reading:
    names = columns.names
    cells = _Cells(tab.name, header_index + 1, len(body.rows))
    arm_blank = columns.arms.codes < 0
    flags = [_outcome_flags(body.column(o.column), o, tab.locale) for o in columns.outcomes]
    ids = body.column(columns.id) if columns.id is not None else None
    id_blank = _blank(ids) if ids is not None else None
    days = _days(body.column(columns.date), tab.locale) if columns.date is not None else None
    # A row with nothing in any column read is a blank line, not a visitor.
    empty = arm_blank & np.logical_and.reduce([f == -1 for f in flags])
    empty &= id_blank if id_blank is not None else True
    empty &= days.blank if days is not None else True
    cells.add(arm_blank & ~empty, columns.variant, f"{names[columns.variant]} is empty")
    if id_blank is not None and columns.id is not None:
        cells.add(id_blank & ~empty, columns.id, f"{names[columns.id]} is empty")
    if days is not None and columns.date is not None:
        bad_day = (days.messages != "").to_numpy()
        cells.add(bad_day, columns.date, days.messages[bad_day].tolist())
        cells.add(days.blank & ~empty, columns.date, f"{names[columns.date]} is empty")
    for outcome, flag in zip(columns.outcomes, flags, strict=True):
        wrong = flag == -2
        what = "a date or time (blank: none)" if outcome.timed else "a yes/no outcome (0/1, TRUE/FALSE, yes/no)"
        cells.add(wrong, outcome.column, [f"{shown(v)} is not {what}" for v in body.column(outcome.column)[wrong]])
    keep = ~cells.bad & ~empty
    seen = [columns.arms.labels[c] for c in pd.unique(columns.arms.codes[keep])]
    control, why = _control(seen or columns.arms.labels)
    arms = [control, *[a for a in seen if a != control]]
    # Codes in the order the arms are listed: the control first, then as first seen.
    order = np.full(len(columns.arms.labels) + 1, -1, dtype=np.int64)
    order[[columns.arms.labels.index(a) for a in arms]] = np.arange(len(arms))
    arm_codes = order[columns.arms.codes]
    events = np.column_stack([f == 1 for f in flags])
    units = _units(
        arm_codes[keep],
        days.days[keep] if days is not None else np.zeros(int(keep.sum()), dtype=np.int64),
        events[keep],
        ids[keep] if ids is not None else None,
        len(arms),
    )
    traffic_word = _traffic_word(names[columns.id] if columns.id is not None else "")
    problems = cells.problems()
    if units.shared:
        problems.append(_shared_problem(tab.name, names, columns, units.shared, traffic_word))
    problems.extend(_disagreements(tab, header_index, body, columns, arm_codes, keep, arms))
    dated = columns.date is not None
    table = _table(units.units, len(arms), dated)
    reading = _reading(tab.name, columns, control, why, units, int(keep.sum()), days, traffic_word)
    rewritten = _rewritten(tab.name, table, arms, columns.outcomes, traffic_word, dated)
    return Reading(
        tab=replace(tab, rows=rewritten), reading=reading, currency=None, fractional=False, problems=problems
    )


def _reading(
    tab: str,
    columns: _Columns,
    control: str,
    why: str,
    units: _Units,
    rows: int,
    days: _Days | None,
    traffic_word: str,
) -> TabReading:
    """The tab's line: `ab_data: row-level · one row per user (user_id: 290,584 distinct) · variant = group
    (control: control, by its name), traffic = users, macro = converted · dated by timestamp (day)`."""
    names = columns.names
    micro = tuple(o.name for o in columns.outcomes if o.kind == "micro")
    macro = tuple(o.name for o in columns.outcomes if o.kind == "macro")
    unit = traffic_word[:-1]
    if columns.id is not None:
        per = f"one row per {unit} ({names[columns.id]}: {units.distinct:,} distinct"
        per += f" in {rows:,} rows)" if units.distinct != rows else ")"
    else:
        per = f"one row per {unit} ({counted(f'{rows:,}', 'rows')})"
    parts = [f"variant = {names[columns.variant]} (control: {control}, {why})", f"traffic = {traffic_word}"]
    parts += [f"micro = {', '.join(micro)}"] if micro else []
    parts += [f"macro = {', '.join(macro)}"] if macro else []
    summary = f"{tab}: row-level · {per} · " + ", ".join(parts)
    if days is not None and columns.date is not None:
        summary += f" · dated by {names[columns.date]} (day{', ' + days.order if days.order else ''})"
    if columns.no_data:
        summary += f" · no data: {', '.join(columns.no_data)}"
    listed = ", ".join(columns.not_read[:6]) + ("…" if len(columns.not_read) > 6 else "")
    said = ([f"{listed} (not yes/no)"] if listed else []) + columns.other
    if said:
        summary += f" · not read: {', '.join(said)}"
    return TabReading(
        tab=tab,
        layout="row-level",
        variant=names[columns.variant],
        traffic=traffic_word,
        micro=micro,
        macro=macro,
        summary=summary,
        row_level=True,
        id_column=names[columns.id] if columns.id is not None else None,
        date_order=days.order if days is not None else None,
        no_data=tuple(columns.no_data),
    )


@dataclass(frozen=True)
class _Units:
    units: pd.DataFrame  # arm, day, `units` and one count per outcome, `o0`, `o1`…
    distinct: int  # distinct ids (or rows, without an id column)
    shared: int  # ids counted in more than one arm


def _units(
    arms: npt.NDArray[np.int64],
    days: npt.NDArray[np.int64],
    events: npt.NDArray[np.bool_],
    ids: Values | None,
    arm_count: int,
) -> _Units:
    """The counted units: the rows themselves, or each id once per arm, on the first day it was seen in
    it, with an outcome true if any of its rows has it."""
    outcomes = [f"o{j}" for j in range(events.shape[1])]
    frame = pd.DataFrame(events.astype(np.int8), columns=outcomes)
    frame["arm"], frame["day"] = arms, days
    if ids is None:
        frame["units"] = 1
        return _Units(frame, len(frame), 0)
    codes, uniques = pd.factorize(ids)
    grouped = frame.groupby(codes.astype(np.int64) * arm_count + arms, sort=False)
    once = grouped[["arm", *outcomes]].max()
    once["day"] = grouped["day"].min()
    once["units"] = 1
    arms_of_id = np.bincount(once.index.to_numpy() // arm_count, minlength=len(uniques))
    return _Units(once.reset_index(drop=True), len(uniques), int((arms_of_id > 1).sum()))


def _table(units: pd.DataFrame, arms: int, dated: bool) -> pd.DataFrame:
    """Traffic and conversions per arm (and day: every day of the file for every arm, zero where none)."""
    outcomes = [c for c in units.columns if re.fullmatch(r"o\d+", str(c))]
    sums = units.groupby(["arm", "day"], sort=True)[["units", *outcomes]].sum()
    days = np.unique(units["day"].to_numpy()) if dated and len(units) else np.zeros(1, dtype=np.int64)
    grid = pd.MultiIndex.from_product([range(arms), days], names=["arm", "day"])
    return sums.reindex(grid, fill_value=0).reset_index()


def _rewritten(
    tab: str, table: pd.DataFrame, arms: list[str], outcomes: list[_Outcome], traffic: str, dated: bool
) -> list[list[Cell]]:
    header: list[Cell] = ["Campaign", "Variant", traffic.capitalize()]
    header += ["Date"] if dated else []
    header += [f"{o.name} ({o.kind})" for o in outcomes]
    dates = pd.to_datetime(table["day"].to_numpy(), unit="D").strftime("%Y-%m-%d").tolist()
    numbers = table[["units", *[f"o{j}" for j in range(len(outcomes))]]].to_numpy(dtype=np.int64).tolist()
    rows: list[list[Cell]] = [header]
    for arm, day, counts in zip(table["arm"].tolist(), dates, numbers, strict=True):
        rows.append([tab, arms[arm], counts[0], *([day] if dated else []), *counts[1:]])
    return rows


def _shared_problem(tab: str, names: dict[int, str], columns: _Columns, shared: int, traffic: str) -> Problem:
    assert columns.id is not None
    group = names[columns.variant]
    return Problem(
        cell=tab,
        message=f"{shared:,} {names[columns.id]} {'value appears' if shared == 1 else 'values appear'} in more "
        f"than one {group}; {'it is' if shared == 1 else 'each is'} counted in "
        f"every {group} it appears in: if {traffic} should see one variant only, their tracking is mixed, and "
        "removing them from the file gives a cleaner comparison",
    )


def _disagreements(
    tab: Tab,
    header_index: int,
    body: _Body,
    columns: _Columns,
    arm_codes: npt.NDArray[np.int64],
    keep: npt.NDArray[np.bool_],
    arms: list[str],
) -> list[Problem]:
    """Another group-like column that labels the arms too (ab_data's landing_page beside its group): the
    rows where it disagrees with their arm are counted by the arm, and said so."""
    problems = []
    group = columns.names[columns.variant]
    for i, name in columns.names.items():
        if i == columns.variant or _key(name) not in _VARIANT_NAMES:
            continue
        other = _labels(body.column(i)[keep], 4 * _MAX_ARMS)
        if other is None or not 2 <= len(other.labels) <= _MAX_ARMS:
            continue
        width = len(other.labels) + 1  # the last: blank
        table = np.bincount(arm_codes[keep] * width + other.codes % width, minlength=len(arms) * width)
        table = table.reshape(len(arms), width)[:, :-1]
        expected = table.argmax(axis=1)
        agreeing = int(table[np.arange(len(arms)), expected].sum())
        total = int(table.sum())
        if len(set(expected.tolist())) != len(arms) or agreeing == total or agreeing < _ALIGNED_SHARE * total:
            continue
        detail = ", ".join(
            f"{arm} with {other.labels[v]}: {int(table[a, v]):,}"
            for a, arm in enumerate(arms)
            for v in range(len(other.labels))
            if v != expected[a] and table[a, v]
        )
        problems.append(
            Problem(
                cell=a1(tab.name, header_index, i),
                message=f"{counted(f'{total - agreeing:,}', 'rows')} "
                f"{'has' if total - agreeing == 1 else 'have'} a {name} "
                f"that does not match {'its' if total - agreeing == 1 else 'their'} {group} "
                f"({detail}); they are counted by {group}: to count by {name} instead, name it the variant in "
                "the Setup tab, or remove those rows",
            )
        )
    return problems
