"""The hand-made layout: where each known column sits in a Results tab, and its rows parsed column by
column into good rows and cell-referenced problems (exports are rewritten into this layout first)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from analysis.models import (
    Kind,
    Problem,
    Tab,
    TabReading,
    TestStatus,
)
from analysis.reading.cells import (
    DateOrder,
    Decimal,
    a1,
    by_distinct,
    currency_of_format,
    currency_symbol,
    decimal_mark,
    is_blank,
    normalise_header,
    order_problems,
    order_said,
    parse_counts,
    parse_flags,
    parse_money,
    parse_numbers,
    parse_text,
    read_dates,
    shown,
)
from analysis.reading.exports import (
    Override,
)
from analysis.reading.hints import is_reserved, not_read
from analysis.reading.vocabulary import spelled

TRAFFIC_HEADERS = ("visitors", "sessions", "users", "clicks")


_METRIC_HEADER = re.compile(r"^(?P<name>.+?)\s*\((?P<kind>micro|macro)\)$", re.IGNORECASE)


# Any column marked as the traffic (`Link clicks (traffic)`): its own name is the traffic word.
_TRAFFIC_HEADER = re.compile(r"^(?P<name>.+?)\s*\(traffic\)$", re.IGNORECASE)


_CUMULATIVE_DATE = re.compile(r"^date\s*\(cumulative\)$")


_OPTIONAL = {
    "test": "test",
    "date": "date",
    "spend": "spend",
    "cost": "spend",
    "control": "control",
    "planned visitors": "planned",
    "status": "status",
    "test status": "status",
    "split": "split",
    "planned split": "split",
    "traffic split": "split",
}


# Status cells as marketers type them, compared without case or spaces (`On hold` is `onhold`).
_STATUS_WORDS: dict[str, TestStatus] = {
    **dict.fromkeys(("running", "live", "active", "on"), "running"),
    **dict.fromkeys(("paused", "pause", "stopped", "onhold"), "paused"),
    **dict.fromkeys(("done", "finished", "complete", "completed", "ended", "off", "closed"), "done"),
}


_HEADER_SEARCH_ROWS = 10


_MAX_HEADER_ROWS = 3


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Kind
    column: int


@dataclass
class Layout:
    """Where each known column sits in one tab."""

    header_row: int
    columns: dict[str, int]
    traffic_label: str
    metrics: list[Metric]
    cumulative: bool
    # Conversions credited by an attribution model (`11.50`): exports may hold fractions.
    fractional: bool = False
    # The traffic column as written, when it is marked `(traffic)`: problems name it so.
    traffic_name: str = ""
    # A platform's export: a blank count on a row with other figures means zero, and conversions above the
    # row's clicks (view-through, events counted more than once per click) keep the row.
    export: bool = False
    # Metric columns with no value in any row: listed as "no data", never tested.
    no_data: tuple[str, ...] = ()
    # The order its dates were read in and the words that say so, when any date depended on it.
    dates_read: tuple[DateOrder, str] | None = None


def first_header_row(rows: Sequence[Sequence[object]]) -> int | None:
    for index, row in enumerate(rows):
        if any(normalise_header(cell) for cell in row):
            return index
    return None


def _is_metric_or_traffic(cell: object) -> bool:
    header = normalise_header(cell)
    return header in TRAFFIC_HEADERS or bool(_METRIC_HEADER.match(header) or _TRAFFIC_HEADER.match(header))


def _is_recognised(header: str) -> bool:
    return (
        header in ("campaign", "variant")
        or header in TRAFFIC_HEADERS
        or header in _OPTIONAL
        or bool(_CUMULATIVE_DATE.match(header) or _METRIC_HEADER.match(header) or _TRAFFIC_HEADER.match(header))
    )


def _continues_header(row: Sequence[object]) -> bool:
    """A row under a header row that names more columns (the lower half of a two-row, merged header)."""
    texts = [cell for cell in row if normalise_header(cell)]
    return bool(texts) and all(isinstance(cell, str) for cell in texts) and any(map(_is_metric_or_traffic, texts))


@dataclass(frozen=True)
class _Header:
    """The header of a Results tab: each column's name and the row it was written in."""

    last_row: int
    cells: dict[int, tuple[int, object]]


def _combine(rows: Sequence[Sequence[object]], first: int) -> _Header:
    """The header starting at `first`, with up to two continuation rows; a lower cell names its column."""
    last = first
    while last + 1 < len(rows) and last - first < _MAX_HEADER_ROWS - 1 and _continues_header(rows[last + 1]):
        last += 1
    cells: dict[int, tuple[int, object]] = {}
    for row_index in range(first, last + 1):
        for column, cell in enumerate(rows[row_index]):
            if normalise_header(cell):
                cells[column] = (row_index, cell)
    return _Header(last, cells)


def _find_header(rows: Sequence[Sequence[object]]) -> _Header | None:
    """The first header with Campaign and Variant among the top rows (banner and group-label rows above it
    are skipped); otherwise the first non-empty row, so other tabs are recognised as not Results."""
    for first in range(min(len(rows), _HEADER_SEARCH_ROWS)):
        header = _combine(rows, first)
        names = {normalise_header(cell) for _, cell in header.cells.values()}
        if {"campaign", "variant"} <= names:
            return header
    first_row = first_header_row(rows)
    if first_row is None:
        return None
    return _Header(
        first_row, {c: (first_row, cell) for c, cell in enumerate(rows[first_row]) if normalise_header(cell)}
    )


def find_layout(tab: Tab, problems: list[Problem], overrides: Sequence[Override] = ()) -> Layout | None:
    found = _find_header(tab.rows)
    if found is None:
        return None
    header_index = found.last_row
    columns: dict[str, int] = {}
    metrics: list[Metric] = []
    traffic_label = traffic_name = ""
    cumulative = False
    seen: dict[str, tuple[int, int]] = {}
    for index, (row, cell) in sorted(found.cells.items()):
        header = normalise_header(cell)
        if header in seen:
            # Unused columns may repeat freely (two "Notes" columns); a repeated column we read is reported.
            if _is_recognised(header):
                problems.append(
                    Problem(
                        cell=a1(tab.name, row, index),
                        message=f'"{cell}" repeats the column at {a1(tab.name, *seen[header])}; this one is ignored',
                    )
                )
            continue
        seen[header] = (row, index)
        if _CUMULATIVE_DATE.match(header):
            columns["date"] = index
            cumulative = True
        elif header in ("campaign", "variant"):
            columns[header] = index
        elif header in TRAFFIC_HEADERS and "traffic" not in columns:
            columns["traffic"] = index
            traffic_label = header
        elif (marked := _TRAFFIC_HEADER.match(" ".join(str(cell).split()))) and "traffic" not in columns:
            columns["traffic"] = index
            traffic_label, traffic_name = spelled(marked["name"]), marked["name"]
        elif header in _OPTIONAL:
            columns.setdefault(_OPTIONAL[header], index)
        elif match := _METRIC_HEADER.match(" ".join(str(cell).split())):
            kind: Kind = "micro" if match["kind"].lower() == "micro" else "macro"
            metrics.append(Metric(name=match["name"].strip(), kind=kind, column=index))
    if "campaign" not in columns or "variant" not in columns:
        return None
    if "traffic" not in columns or not metrics:
        problems.append(Problem(cell=a1(tab.name, *seen["campaign"]), message=not_read(tab, overrides).summary))
        return None
    return Layout(header_index, columns, traffic_label, metrics, cumulative, traffic_name=traffic_name)


def body_cells(tab: Tab, header_row: int) -> pd.DataFrame:
    width = max((len(row) for row in tab.rows), default=0)
    body = [row if len(row) == width else [*row, *[None] * (width - len(row))] for row in tab.rows[header_row + 1 :]]
    frame = pd.DataFrame(body, columns=range(width), dtype="object")
    frame.index = frame.index + header_row + 1
    return frame


def hand_made_bodies(
    tabs: Sequence[Tab], wanted: Callable[[Layout], bool]
) -> Iterator[tuple[Tab, Layout, pd.DataFrame]]:
    """Each tab that is not reserved, whose layout is found and `wanted`, with the cells of its non-empty body."""
    for tab in tabs:
        if is_reserved(tab):
            continue
        layout = find_layout(tab, [])
        if layout is None or not wanted(layout):
            continue
        cells = body_cells(tab, layout.header_row)
        if not cells.empty:
            yield tab, layout, cells


class _RowProblems:
    """Collects per-cell messages for one tab and remembers which rows to leave out."""

    def __init__(self, tab: str, index: pd.Index) -> None:
        self.tab = tab
        self.bad = pd.Series(False, index=index)
        self.problems: list[Problem] = []

    def add(self, messages: pd.Series, column: int) -> None:
        flagged = messages[messages != ""]
        self.bad[flagged.index] = True
        self.problems.extend(
            Problem(cell=a1(self.tab, cast(int, row), column), message=f"{message}; row left out")
            for row, message in flagged.items()
        )

    def note(self, messages: pd.Series, column: int) -> None:
        """Problems in cells that do not cost the row: it is kept, read as the message says."""
        flagged = messages[messages != ""]
        self.problems.extend(
            Problem(cell=a1(self.tab, cast(int, row), column), message=message) for row, message in flagged.items()
        )

    def require(self, present: pd.Series, column: int, what: str) -> None:
        missing = ~present & ~self.bad
        self.add(pd.Series(np.where(missing, f"{what} is empty", ""), index=present.index), column)


def _parse_statuses(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = is_blank(values)
    words = values.map(lambda value: "".join(str(value).split()).lower()).map(_STATUS_WORDS)
    unknown = ~blank & words.isna()
    statuses = words.fillna("running").astype("object")
    statuses[blank] = ""
    messages = pd.Series(
        [
            f"{shown(value)} is not a status (running, paused or done); read as running" if bad else ""
            for value, bad in zip(values, unknown, strict=True)
        ],
        index=values.index,
        dtype="object",
    )
    return statuses, messages


def parse_statuses(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A Status column: running, paused or done, with the synonyms people type (`live`, `on hold`,
    `finished`…), case and spaces ignored. Blank cells are "" (the row says nothing); anything else
    unrecognised is read as running, with a message."""
    statuses, messages = by_distinct(_parse_statuses, values)
    return statuses, messages


def _parse_split(
    tab: str, cells: pd.DataFrame, column: int | None, decimal: Decimal, rows: _RowProblems
) -> tuple[pd.Series, pd.Series]:
    """A Split column: each row's planned share of its test's traffic (`50%`, `0.6`, `60`; normalised per
    test later), and the cell it is in. A cell that is not a share above 0 costs no data: it is read as blank."""
    if column is None:
        return pd.Series(np.nan, index=cells.index), pd.Series("", index=cells.index, dtype="object")
    shares, messages = parse_numbers(cells[column], decimal)
    not_positive = (messages == "") & (shares <= 0)
    messages[not_positive] = [f"{shown(v)} is not a share of the traffic" for v in cells.loc[not_positive, column]]
    wrong = messages != ""
    messages[wrong] = messages[wrong] + "; a planned share is written like 50%, 0.6 or 60"
    rows.note(messages, column)
    references = a1(tab, 0, column)[:-1] + (cells.index.to_series() + 1).astype(str)
    return shares.where(~wrong), references


def _undo_cumulative(
    frame: pd.DataFrame, value_columns: list[tuple[str, int, str]], rows: _RowProblems
) -> pd.DataFrame:
    """Running totals per variant become daily counts; a total that goes down is a bad cell."""
    frame = frame.sort_values(["campaign", "test", "variant", "date"], kind="stable")
    keys = [frame["campaign"], frame["test"], frame["variant"]]
    for name, column, noun in value_columns:
        previous = frame.groupby(keys, sort=False)[name].shift(1)
        daily = frame[name] - previous.fillna(0)
        down = daily < 0
        messages = pd.Series("", index=frame.index, dtype="object")
        messages[down] = pd.Series(
            [
                f"{shown(now)} is lower than the day before ({shown(before)}); cumulative {noun} never go down"
                for now, before in zip(frame.loc[down, name], previous[down], strict=True)
            ],
            index=frame.index[down],
        )
        rows.add(messages, column)
        frame[name] = daily
    return frame


def parse_results(
    tab: Tab, layout: Layout, problems: list[Problem], date_order: DateOrder = "month-first"
) -> tuple[pd.DataFrame, list[Metric], str | None, dict[str, int]]:
    """The tab's good rows, its metrics, the currency its Spend cells are typed in, and per metric of an
    export the rows counting more conversions than traffic (kept). How its dates were read goes on `layout`."""
    cells = body_cells(tab, layout.header_row)
    columns = layout.columns
    blank_rows = pd.concat([is_blank(cells[c]) for c in cells.columns], axis=1).all(axis=1)
    cells = cells[~blank_rows]
    rows = _RowProblems(tab.name, cells.index)
    parsed = pd.DataFrame(index=cells.index)
    parsed["campaign"] = parse_text(cells[columns["campaign"]])
    parsed["variant"] = parse_text(cells[columns["variant"]])
    parsed["test"] = parse_text(cells[columns["test"]]) if "test" in columns else ""
    rows.require(parsed["campaign"] != "", columns["campaign"], "Campaign")
    rows.require(parsed["variant"] != "", columns["variant"], "Variant")

    decimal = decimal_mark(tab.locale)
    visitors, messages = parse_counts(cells[columns["traffic"]], layout.traffic_label, decimal)
    rows.add(messages, columns["traffic"])
    if layout.export:
        visitors = visitors.where(~((messages == "") & visitors.isna()), 0.0)
    rows.require(visitors.notna(), columns["traffic"], layout.traffic_name or layout.traffic_label.capitalize())
    parsed["visitors"] = visitors

    if "date" in columns:
        dated = read_dates(cells[columns["date"]], tab.locale, date_order)
        problems.extend(order_problems(dated, tab.name, layout.header_row, columns["date"]))
        rows.add(dated.messages, columns["date"])
        rows.require(dated.dates.notna(), columns["date"], "Date")
        parsed["date"] = dated.dates
        layout.dates_read = order_said(dated, tab.name, columns["date"])
    else:
        parsed["date"] = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    if "spend" in columns:
        spend, messages = parse_money(cells[columns["spend"]], decimal)
        # As typed (`€840`), else as the sheet shows plain numbers (a Google Sheets currency format).
        currency = currency_symbol(cells[columns["spend"]]) or currency_of_format(
            tab.number_formats.get(columns["spend"]), tab.locale
        )
        rows.add(messages, columns["spend"])
        parsed["spend"] = spend
    else:
        parsed["spend"] = np.nan
        currency = None
    parsed["control"] = parse_flags(cells[columns["control"]]) if "control" in columns else False
    if "planned" in columns:
        planned, messages = parse_counts(cells[columns["planned"]], "planned visitors", decimal)
        rows.add(messages, columns["planned"])
        parsed["planned"] = planned
    else:
        parsed["planned"] = np.nan
    if "status" in columns:
        # A bad status costs no data: the row is kept and read as running.
        statuses, messages = parse_statuses(cells[columns["status"]])
        rows.note(messages, columns["status"])
        parsed["status"] = statuses
    else:
        parsed["status"] = ""
    parsed["split"], parsed["split_cell"] = _parse_split(tab.name, cells, columns.get("split"), decimal, rows)

    over_rows: dict[str, int] = {}
    blank_columns = {m.column for m in layout.metrics if is_blank(cells[m.column]).all()}
    layout.no_data = tuple(m.name for m in layout.metrics if m.column in blank_columns)
    layout.metrics = [m for m in layout.metrics if m.column not in blank_columns]
    for metric in layout.metrics:
        conversions, messages = parse_counts(
            cells[metric.column], metric.name.lower(), decimal, fractional_ok=layout.fractional
        )
        if layout.export:
            # Ads platforms leave a zero blank (Meta's breakdowns by day, age and gender do).
            conversions = conversions.where(~((messages == "") & conversions.isna()), 0.0)
            above = int((conversions > parsed["visitors"]).sum())
            if above:
                over_rows[metric.name] = above
        else:
            # Typed by hand, more conversions than traffic may be a slip: a warning naming the cell, the row
            # kept (an arm whose total goes over its traffic is not tested on that metric: `over_traffic`).
            over = (messages == "") & (conversions > parsed["visitors"])
            warnings = pd.Series("", index=conversions.index, dtype="object")
            warnings[over] = pd.Series(
                [
                    f"{shown(c)} {metric.name.lower()} is more than the {shown(v)} {layout.traffic_label} in that row"
                    for c, v in zip(conversions[over], parsed.loc[over, "visitors"], strict=True)
                ],
                index=conversions.index[over],
                dtype="object",
            )
            rows.note(warnings, metric.column)
        rows.add(messages, metric.column)
        parsed[f"m{metric.column}"] = conversions

    if layout.cumulative:
        good = parsed[~rows.bad].copy()
        value_columns = [("visitors", columns["traffic"], layout.traffic_label)] + [
            (f"m{m.column}", m.column, m.name.lower()) for m in layout.metrics
        ]
        parsed = _undo_cumulative(good, value_columns, rows)
        parsed = parsed.sort_index()
    problems.extend(rows.problems)
    return parsed[~rows.bad.reindex(parsed.index, fill_value=False)], layout.metrics, currency, over_rows


def overridden(tab: Tab, overrides: list[Override]) -> bool:
    """Whether the Setup tab names this tab: then its mapping, not the hand-made headers, decides."""
    return any(o.tab == normalise_header(tab.name) for o in overrides)


def hand_made_reading(tab: str, layout: Layout) -> TabReading:
    micro = tuple(m.name for m in layout.metrics if m.kind == "micro")
    macro = tuple(m.name for m in layout.metrics if m.kind == "macro")
    parts = ["variant = Variant", f"traffic = {layout.traffic_label.capitalize()}"]
    parts += [f"micro = {', '.join(micro)}"] if micro else []
    parts += [f"macro = {', '.join(macro)}"] if macro else []
    return TabReading(
        tab=tab,
        layout="hand-made",
        variant="Variant",
        traffic=layout.traffic_label.capitalize(),
        micro=micro,
        macro=macro,
        spend="Spend" if "spend" in layout.columns else None,
        summary=f"{tab}: hand-made layout · " + ", ".join(parts),
    )
