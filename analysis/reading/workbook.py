"""From tabs of raw cells to validated experiments and cell-referenced problems.

Shared by every source (CSV, xlsx, Google Sheets): a source only has to return `Tab`s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from analysis.models import (
    ChannelRoute,
    Kind,
    MetricSpec,
    Problem,
    SheetData,
    Tab,
    TabReading,
    TestSpec,
    TestStatus,
    built,
)
from analysis.reading.cells import (
    a1,
    by_distinct,
    currency_of_format,
    currency_symbol,
    decimal_mark,
    is_blank,
    locale_day_first,
    normalise_header,
    parse_counts,
    parse_dates,
    parse_flags,
    parse_money,
    parse_text,
    shown,
)
from analysis.reading.exports import (
    Override,
    consumed_reading,
    parse_setup,
    pivot_conversion_actions,
    recognise,
    with_pivot,
)
from analysis.reading.hints import is_reserved, looks_like_data, not_read, with_amounts
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
}
# Status cells as marketers type them, compared without case or spaces (`On hold` is `onhold`).
_STATUS_WORDS: dict[str, TestStatus] = {
    **dict.fromkeys(("running", "live", "active", "on"), "running"),
    **dict.fromkeys(("paused", "pause", "stopped", "onhold"), "paused"),
    **dict.fromkeys(("done", "finished", "complete", "completed", "ended", "off", "closed"), "done"),
}
_HEADER_SEARCH_ROWS = 10
_MAX_HEADER_ROWS = 3
TRAFFIC_COLUMNS = ["campaign", "test", "variant", "date", "visitors", "spend"]
CONVERSION_COLUMNS = ["campaign", "test", "variant", "date", "metric", "kind", "visitors", "conversions"]


@dataclass(frozen=True)
class _Metric:
    name: str
    kind: Kind
    column: int


@dataclass
class _Layout:
    """Where each known column sits in one tab."""

    header_row: int
    columns: dict[str, int]
    traffic_label: str
    metrics: list[_Metric]
    cumulative: bool
    # Conversions credited by an attribution model (`11.50`): exports may hold fractions.
    fractional: bool = False
    # The traffic column as written, when it is marked `(traffic)`: problems name it so.
    traffic_name: str = ""


def _header_row(rows: Sequence[Sequence[object]]) -> int | None:
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
    first_row = _header_row(rows)
    if first_row is None:
        return None
    return _Header(
        first_row, {c: (first_row, cell) for c, cell in enumerate(rows[first_row]) if normalise_header(cell)}
    )


def _layout(tab: Tab, problems: list[Problem], overrides: Sequence[Override] = ()) -> _Layout | None:
    found = _find_header(tab.rows)
    if found is None:
        return None
    header_index = found.last_row
    columns: dict[str, int] = {}
    metrics: list[_Metric] = []
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
            metrics.append(_Metric(name=match["name"].strip(), kind=kind, column=index))
    if "campaign" not in columns or "variant" not in columns:
        return None
    if "traffic" not in columns or not metrics:
        problems.append(Problem(cell=a1(tab.name, *seen["campaign"]), message=not_read(tab, overrides).summary))
        return None
    return _Layout(header_index, columns, traffic_label, metrics, cumulative, traffic_name=traffic_name)


def _cells(tab: Tab, header_row: int) -> pd.DataFrame:
    width = max((len(row) for row in tab.rows), default=0)
    body = [row if len(row) == width else [*row, *[None] * (width - len(row))] for row in tab.rows[header_row + 1 :]]
    frame = pd.DataFrame(body, columns=range(width), dtype="object")
    frame.index = frame.index + header_row + 1
    return frame


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


def _parse_results(
    tab: Tab, layout: _Layout, problems: list[Problem]
) -> tuple[pd.DataFrame, list[_Metric], str | None]:
    """The tab's good rows, its metrics, and the currency its Spend cells are typed in."""
    cells = _cells(tab, layout.header_row)
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

    decimal, day_first = decimal_mark(tab.locale), locale_day_first(tab.locale)
    visitors, messages = parse_counts(cells[columns["traffic"]], layout.traffic_label, decimal)
    rows.add(messages, columns["traffic"])
    rows.require(visitors.notna(), columns["traffic"], layout.traffic_name or layout.traffic_label.capitalize())
    parsed["visitors"] = visitors

    if "date" in columns:
        dates, messages = parse_dates(cells[columns["date"]], day_first)
        rows.add(messages, columns["date"])
        rows.require(dates.notna(), columns["date"], "Date")
        parsed["date"] = dates
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

    for metric in layout.metrics:
        conversions, messages = parse_counts(
            cells[metric.column], metric.name.lower(), decimal, fractional_ok=layout.fractional
        )
        over = (messages == "") & (conversions > parsed["visitors"])
        messages[over] = [
            f"{shown(c)} {metric.name.lower()} is more than the {shown(v)} {layout.traffic_label} in that row"
            for c, v in zip(conversions[over], parsed.loc[over, "visitors"], strict=True)
        ]
        conversions[over] = np.nan
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
    return parsed[~rows.bad.reindex(parsed.index, fill_value=False)], layout.metrics, currency


_CHANNEL_COLUMNS = ("campaign", "channel", "schedule", "timezone")


def _parse_channels(tab: Tab, problems: list[Problem]) -> list[ChannelRoute]:
    header_index = _header_row(tab.rows)
    if header_index is None:
        return []
    headers = {normalise_header(cell): i for i, cell in reversed(list(enumerate(tab.rows[header_index])))}
    if "channel" not in headers:
        problems.append(Problem(cell=a1(tab.name, header_index, 0), message="the Channels tab has no Channel column"))
        return []
    cells = _cells(tab, header_index)
    blank = pd.Series("", index=cells.index, dtype="object")
    columns = {name: parse_text(cells[headers[name]]) if name in headers else blank for name in _CHANNEL_COLUMNS}
    routes: list[ChannelRoute] = []
    for row_index, campaign, channel, schedule, timezone in zip(
        cells.index, *(columns[name] for name in _CHANNEL_COLUMNS), strict=True
    ):
        if not campaign and not channel:
            continue
        if not channel:
            problems.append(
                Problem(
                    cell=a1(tab.name, cast(int, row_index), headers["channel"]),
                    message=f"no channel given for campaign “{campaign}”; row left out",
                )
            )
            continue
        routes.append(
            ChannelRoute(
                campaign=campaign or "*",
                channel=channel,
                schedule=schedule or None,
                timezone=timezone or None,
                cell=a1(tab.name, cast(int, row_index), headers["channel"]),
            )
        )
    return routes


def _statuses(frame: pd.DataFrame, keys: list[str]) -> dict[tuple[str, str], TestStatus]:
    """Each test's status: the last status given (in sheet order, tabs in order) on its latest date,
    or among all its rows when it has no dates. A test none of whose rows gives a status is absent (running)."""
    latest = frame.groupby(keys, sort=False)["date"].transform("max")
    said = (frame["status"] != "") & ((frame["date"] == latest) | latest.isna())
    last = frame[said].groupby(keys, sort=False)["status"].last()
    keyed = cast(dict[tuple[str, str], TestStatus], last.to_dict())
    return {(str(campaign), str(test)): status for (campaign, test), status in keyed.items()}


def _grouped_variants(frame: pd.DataFrame, keys: list[str]) -> dict[tuple[str, str], list[str]]:
    """Each test's distinct variants in sheet order, tests in the order they first appear."""
    arms = frame.drop_duplicates([*keys, "variant"])
    grouped: dict[tuple[str, str], list[str]] = {}
    columns = (arms[keys[0]].tolist(), arms[keys[1]].tolist(), arms["variant"].tolist())
    for campaign, test, variant in zip(*columns, strict=True):
        grouped.setdefault((campaign, test), []).append(variant)
    return grouped


def _test_specs(
    frame: pd.DataFrame,
    metrics: dict[tuple[str, str], dict[str, Kind]],
    labels: dict[tuple[str, str], str],
    currencies: dict[tuple[str, str], str],
) -> tuple[list[TestSpec], list[Problem]]:
    specs: list[TestSpec] = []
    problems: list[Problem] = []
    if frame.empty:
        return specs, problems
    keys = ["campaign", "test"]
    variants_of = _grouped_variants(frame, keys)
    marked_of = _grouped_variants(frame[frame["control"]], keys)
    summary = frame.groupby(keys, sort=False).agg(
        planned=("planned", "max"), has_dates=("date", "count"), has_spend=("spend", "count")
    )
    figures = dict(
        zip(
            summary.index,
            zip(
                summary["planned"].to_numpy(dtype=np.float64).tolist(),
                (summary["has_dates"] > 0).tolist(),
                (summary["has_spend"] > 0).tolist(),
                strict=True,
            ),
            strict=True,
        )
    )
    statuses = _statuses(frame, keys)
    # Tests of one tab share their metrics: one tuple of MetricSpec per distinct set.
    metric_specs: dict[tuple[tuple[str, Kind], ...], tuple[MetricSpec, ...]] = {}
    for (campaign, test), variants in variants_of.items():
        key = (str(campaign), str(test))
        marked = marked_of.get((campaign, test), ())
        control = marked[0] if marked else variants[0]
        if len(marked) > 1:
            problems.append(
                Problem(
                    cell=f"{campaign} · {test}" if test else str(campaign),
                    message=f"{len(marked)} variants are marked as control ({', '.join(marked)}); using {control}",
                )
            )
        if len(variants) < 2:
            title = f"{campaign} · {test}" if test else str(campaign)
            problems.append(
                Problem(cell=title, message=f"only one variant ({variants[0]}); there is nothing to compare yet")
            )
            continue
        planned, has_dates, has_spend = figures[(campaign, test)]
        named = tuple(metrics[key].items())
        if named not in metric_specs:
            metric_specs[named] = tuple(MetricSpec(name=n, kind=k) for n, k in named)
        specs.append(
            built(
                TestSpec,
                {
                    "campaign": key[0],
                    "test": key[1],
                    "control": str(control),
                    "variants": (control, *[v for v in variants if v != control]),
                    "metrics": metric_specs[named],
                    "traffic_label": labels[key],
                    "has_dates": has_dates,
                    "has_spend": has_spend,
                    "planned_visitors": None if math.isnan(planned) else int(planned),
                    "currency": currencies[key],
                    "status": statuses.get(key, "running"),
                },
            )
        )
    return specs, problems


def _overridden(tab: Tab, overrides: list[Override]) -> bool:
    """Whether the Setup tab names this tab: then its mapping, not the hand-made headers, decides."""
    return any(o.tab == normalise_header(tab.name) for o in overrides)


def _hand_made_reading(tab: str, layout: _Layout) -> TabReading:
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


def _without_silent_arms(
    traffic: pd.DataFrame, conversions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Arms with no traffic at all (paused, removed) leave the comparisons and the traffic-split check."""
    if traffic.empty:
        return traffic, conversions, []
    keys = ["campaign", "test", "variant"]
    totals = traffic.groupby(keys, sort=False)["visitors"].sum()
    silent = totals[totals <= 0]
    if silent.empty:
        return traffic, conversions, []
    problems = [
        Problem(
            cell=f"{campaign} · {test}" if test else str(campaign),
            message=f"{variant} has no traffic (paused or removed?); it is listed here but left out of the "
            "comparisons and the traffic-split check",
        )
        for campaign, test, variant in silent.index
    ]
    keep = ~pd.MultiIndex.from_frame(traffic[keys]).isin(silent.index)
    keep_conversions = ~pd.MultiIndex.from_frame(conversions[keys]).isin(silent.index)
    return traffic[keep], conversions[keep_conversions], problems


def parse_workbook(tabs: Iterable[Tab], currency: str = "$") -> SheetData:
    """Every Results tab and the Channels tab; other tabs are ignored quietly.

    `currency` is the symbol for money when a tab's Spend cells show none (`840` rather than `$840`)."""
    problems: list[Problem] = []
    channels: list[ChannelRoute] = []
    traffic_parts: list[pd.DataFrame] = []
    conversion_parts: list[pd.DataFrame] = []
    metrics: dict[tuple[str, str], dict[str, Kind]] = {}
    labels: dict[tuple[str, str], str] = {}
    currencies: dict[tuple[str, str], str] = {}
    tabs_read: list[str] = []
    readings: list[TabReading] = []
    tabs = list(tabs)
    overrides: list[Override] = []
    for tab in tabs:
        if tab.name.strip().lower() == "setup":
            overrides.extend(parse_setup(tab, problems))
    pivoted = pivot_conversion_actions(tabs, overrides)
    problems.extend(pivoted.problems)
    for tab in pivoted.tabs:
        if tab.name in pivoted.consumed:
            readings.append(consumed_reading(pivoted.consumed[tab.name]))
            tabs_read.append(tab.name)
            continue
        if tab.name.strip().lower() == "channels":
            channels.extend(_parse_channels(tab, problems))
            tabs_read.append(tab.name)
            continue
        if tab.name.strip().lower() == "setup":
            tabs_read.append(tab.name)
            continue
        export_currency: str | None = None
        source = tab
        tried: list[Problem] = []
        layout = _layout(tab, tried, overrides) if not _overridden(tab, overrides) else None
        if layout is not None:
            # Conversion actions pivoted onto this tab's rows come from an export, fractions and all.
            layout.fractional = tab.name in pivoted.pivots
            problems.extend(tried)
            reading = with_pivot(_hand_made_reading(tab.name, layout), pivoted.pivots.get(tab.name))
            readings.append(with_amounts(reading, tab.rows[layout.header_row]))
        else:
            export = recognise(tab, overrides)
            if export is None:
                problems.extend(tried)
                if not is_reserved(tab):
                    readings.append(unread := not_read(tab, overrides))
                    if not tried and looks_like_data(unread):
                        problems.append(Problem(cell=tab.name, message=unread.summary))
                continue
            tab = export.tab
            layout = _layout(tab, problems)
            if layout is None:
                continue
            layout.fractional = export.fractional
            problems.extend(export.problems)
            readings.append(with_pivot(export.reading, pivoted.pivots.get(tab.name)))
            export_currency = export.currency
        tabs_read.append(tab.name)
        frame, tab_metrics, tab_currency = _parse_results(tab, layout, problems)
        if frame.empty and not any(any(normalise_header(c) for c in row) for row in tab.rows[layout.header_row + 1 :]):
            readings[-1] = not_read(source, overrides)  # a header and nothing under it
        traffic_parts.append(frame)
        tab_currency = export_currency or tab_currency or currency
        for key in dict.fromkeys(zip(frame["campaign"], frame["test"], strict=True)):
            labels.setdefault(key, layout.traffic_label)
            currencies.setdefault(key, tab_currency)
            known = metrics.setdefault(key, {})
            for metric in tab_metrics:
                known.setdefault(metric.name, metric.kind)
        for metric in tab_metrics:
            part = frame[["campaign", "test", "variant", "date", "visitors"]].copy()
            part["metric"] = metric.name
            part["kind"] = metric.kind
            part["conversions"] = frame[f"m{metric.column}"]
            conversion_parts.append(part[part["conversions"].notna()])

    all_rows = (
        pd.concat(traffic_parts, ignore_index=True)
        if traffic_parts
        else pd.DataFrame(columns=[*TRAFFIC_COLUMNS, "control", "planned", "status"])
    )
    conversions = (
        pd.concat(conversion_parts, ignore_index=True) if conversion_parts else pd.DataFrame(columns=CONVERSION_COLUMNS)
    )
    all_rows, conversions, silent_problems = _without_silent_arms(all_rows, conversions)
    specs, test_problems = _test_specs(all_rows, metrics, labels, currencies)
    # A tab not read is said when it looks like data, and every one of them when nothing was tested.
    readings = [r for r in readings if r.read or looks_like_data(r) or not specs]
    problems.extend(silent_problems)
    problems.extend(test_problems)
    return SheetData(
        tests=tuple(specs),
        traffic=all_rows[TRAFFIC_COLUMNS].reset_index(drop=True),
        conversions=conversions[CONVERSION_COLUMNS].reset_index(drop=True),
        channels=tuple(channels),
        problems=tuple(problems),
        tabs_read=tuple(tabs_read),
        tabs=tuple(readings),
    )
