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
    consumed_reading,
    parse_setup,
    pivot_conversion_actions,
    recognise,
    with_pivot,
)
from analysis.reading.hints import is_reserved, looks_like_data, not_read, with_amounts
from analysis.reading.row_level import recognise_row_level
from analysis.reading.vocabulary import spelled
from analysis.wording import counted

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
    # A platform's export: a blank count on a row with other figures means zero, and conversions above the
    # row's clicks (view-through, events counted more than once per click) keep the row.
    export: bool = False
    # Metric columns with no value in any row: listed as "no data", never tested.
    no_data: tuple[str, ...] = ()
    # The order its dates were read in and the words that say so, when any date depended on it.
    dates_read: tuple[DateOrder, str] | None = None


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


def _parse_results(
    tab: Tab, layout: _Layout, problems: list[Problem], date_order: DateOrder = "month-first"
) -> tuple[pd.DataFrame, list[_Metric], str | None, dict[str, int]]:
    """The tab's good rows, its metrics, the currency its Spend cells are typed in, and per metric of an
    export the rows counting more conversions than traffic (kept). How its dates were read goes on `layout`."""
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
            # kept (an arm whose total goes over its traffic is not tested on that metric: `_over_traffic`).
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


def _planned_splits(
    frame: pd.DataFrame, keys: list[str]
) -> tuple[dict[tuple[str, str], dict[str, float]], list[Problem]]:
    """Each test's planned share per variant (the last one its rows give), for the tests whose every
    variant gives one; a test where some variants give a share and others do not is a problem naming the
    first cell left blank, and its split is not checked."""
    given = frame[frame["split"].notna()]
    if given.empty:
        return {}, []
    shares = given.groupby([*keys, "variant"], sort=False)["split"].last()
    declared = pd.MultiIndex.from_frame(frame[keys]).isin(pd.MultiIndex.from_frame(given[keys]))
    arms = frame[declared].drop_duplicates([*keys, "variant"])
    missing = arms[~pd.MultiIndex.from_frame(arms[[*keys, "variant"]]).isin(shares.index)]
    problems = [
        Problem(
            cell=str(split_cell or cell),
            message=f"no planned share for {variant}, while other variants of "
            f"{f'{campaign} · {test}' if test else campaign} have one; its traffic split is not checked",
        )
        for campaign, test, variant, split_cell, cell in zip(
            missing["campaign"],
            missing["test"],
            missing["variant"],
            missing["split_cell"],
            missing["cell"],
            strict=True,
        )
    ]
    unchecked = set(zip(missing["campaign"], missing["test"], strict=True))
    splits: dict[tuple[str, str], dict[str, float]] = {}
    levels = [shares.index.get_level_values(name).astype(str).tolist() for name in (*keys, "variant")]
    for campaign, test, variant, share in zip(*levels, shares.tolist(), strict=True):
        if (campaign, test) not in unchecked:
            splits.setdefault((campaign, test), {})[variant] = float(share)
    return splits, problems


def _in_order(shares: dict[str, float] | None, variants: tuple[str, ...]) -> tuple[float, ...] | None:
    """The planned shares in the variants' order, normalised to sum to 1 (None without a planned split)."""
    if shares is None:
        return None
    total = sum(shares[v] for v in variants)
    return tuple(shares[v] / total for v in variants)


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
    splits, split_problems = _planned_splits(frame, keys)
    problems.extend(split_problems)
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
                    "split": _in_order(splits.get(key), (control, *[v for v in variants if v != control])),
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


@dataclass
class _Part:
    """One Results tab as parsed: its good rows and what they are tested on."""

    tab: str
    frame: pd.DataFrame
    metrics: list[_Metric]
    traffic_label: str
    currency: str
    header: tuple[str, ...]  # as read, normalised: tabs with the same header are one table
    written: tuple[str, ...]  # the tab's own header row as written, its empty cells left out
    named_by_tab: bool  # the campaign is the tab's name (an export with each campaign as an arm)


def _one_table_across_tabs(parts: list[_Part]) -> dict[str, str]:
    """Tabs with the same header whose campaign is their own name (one export per arm, per week or month)
    become one campaign, named after all of them: by tab, the campaign it is read as."""
    groups: dict[tuple[str, ...], list[_Part]] = {}
    for part in parts:
        if part.named_by_tab:
            groups.setdefault(part.header, []).append(part)
    renamed: dict[str, str] = {}
    for group in groups.values():
        if len(group) > 1:
            shared = " + ".join(part.tab for part in group)
            for part in group:
                part.frame["campaign"] = shared
                renamed[part.tab] = shared
    return renamed


def _same_day_in_two_tabs(frame: pd.DataFrame) -> tuple[pd.Series, list[Problem]]:
    """A dated row of an arm that another tab already gave for the same day: counted once, the later one
    named beside the first (two exports of overlapping periods, a week pasted twice)."""
    keys = ["campaign", "test", "variant", "date"]
    dated = frame[frame["date"].notna()]
    first_cell = dated.groupby(keys, sort=False)["cell"].transform("first")
    first_tab = dated.groupby(keys, sort=False)["origin"].transform("first")
    again = dated.index[(dated["origin"] != first_tab).to_numpy()]
    problems = [
        Problem(cell=str(cell), message=f"{variant} on {day:%d %b %Y} is already at {first}; this row is left out")
        for cell, variant, day, first in zip(
            frame.loc[again, "cell"],
            frame.loc[again, "variant"],
            frame.loc[again, "date"],
            first_cell[again],
            strict=True,
        )
    ]
    return pd.Series(frame.index.isin(again), index=frame.index), problems


def _over_traffic(
    conversions: pd.DataFrame, labels: dict[tuple[str, str], str]
) -> tuple[pd.Series, list[tuple[str, str, str]], list[Problem]]:
    """Metrics on which an arm counts more conversions than traffic, in total or by some day (view-through
    conversions, events counted more than once per click): not a share of the traffic, so not tested as one.
    Returns the conversion rows to keep, the (campaign, test, metric) left out, and one problem each."""
    keys = ["campaign", "test", "variant", "metric"]
    daily = conversions.groupby([*keys, "date"], sort=False, dropna=False)[["visitors", "conversions"]].sum()
    daily = daily.sort_index(level="date", sort_remaining=False, kind="stable")
    running = daily.groupby(level=keys, sort=False).cumsum()
    above = running[running["conversions"] > running["visitors"]]
    if above.empty:
        return pd.Series(True, index=conversions.index), [], []
    worst = above.reset_index().drop_duplicates(keys, keep="last")
    dropped: dict[tuple[str, str, str], Problem] = {}
    for campaign, test, variant, metric, conv, visitors in zip(
        worst["campaign"],
        worst["test"],
        worst["variant"],
        worst["metric"],
        worst["conversions"],
        worst["visitors"],
        strict=True,
    ):
        key = (str(campaign), str(test), str(metric))
        if key in dropped:
            continue
        label = labels.get((key[0], key[1]), "visitors")
        dropped[key] = Problem(
            cell=f"{campaign} · {test}" if test else str(campaign),
            message=f"{metric} not tested: {variant} has {shown(conv)} {metric.lower()} on {shown(visitors)} "
            f"{label}, more than one per {label.rstrip('s')} (view-through conversions, or events counted more "
            f"than once per {label.rstrip('s')}), so they are not a share of its {label}",
        )
    index = pd.MultiIndex.from_frame(conversions[["campaign", "test", "metric"]])
    keep = ~index.isin(list(dropped))
    return pd.Series(keep, index=conversions.index), list(dropped), list(dropped.values())


def _cells_read(reading: TabReading, layout: _Layout, over_rows: dict[str, int]) -> TabReading:
    """The tab's line with what its cells said: metric columns with no data, rows above their traffic, the
    order of its dates."""
    notes = []
    if layout.no_data:
        notes.append(f"no data in {', '.join(layout.no_data)} (not tested)")
    for name, count in over_rows.items():
        rows = "row" if count == 1 else "rows"
        notes.append(f"{name} above {reading.traffic or 'traffic'} in {count:,} {rows} (view-through; kept)")
    if layout.dates_read is not None:
        notes.append(layout.dates_read[1])
    if not notes:
        return reading
    return reading.model_copy(
        update={
            "summary": reading.summary + "".join(f" · {note}" for note in notes),
            "date_order": layout.dates_read[0] if layout.dates_read is not None else reading.date_order,
            "micro": tuple(m for m in reading.micro if m not in layout.no_data),
            "macro": tuple(m for m in reading.macro if m not in layout.no_data),
            "no_data": layout.no_data,
        }
    )


def _nothing_to_compare(
    readings: list[TabReading], parts: list[_Part], tested: set[tuple[str, str]]
) -> list[TabReading]:
    """A tab that was read but gave no test to compare (every arm without traffic, or one arm only) is not
    read after all, with the sentence that says what its rows lack."""
    untested = {
        part.tab: part.frame
        for part in parts
        if not tested & set(zip(part.frame["campaign"], part.frame["test"], strict=True))
    }
    headers = {part.tab: part.written for part in parts}
    out = []
    for reading in readings:
        frame = untested.get(reading.tab)
        if frame is None or not reading.read:
            out.append(reading)
            continue
        arms = frame.groupby("variant", sort=False)["visitors"].sum()
        active = [str(name) for name in arms.index[arms.to_numpy() > 0]]
        arm_word = (reading.variant or "variant").lower()
        traffic = (reading.traffic or "traffic").lower()
        if not active:
            figure = f"{len(arms):,}"
            summary = (
                f"Tab {reading.tab} has no {arm_word} with any {traffic} ({counted(figure, arm_word + 's')}, all 0), "
                "so there is nothing to compare: export a date range in which they ran."
            )
            missing = ("traffic",)
        else:
            named = ", ".join(active[:4]) + ("…" if len(active) > 4 else "")
            summary = (
                f"Tab {reading.tab} has only one arm per test ({named}), so there is nothing to compare yet: add the "
                "other arm's rows, or its export as a second tab with the same columns."
            )
            missing = ("variant",)
        update = {"read": False, "summary": summary, "missing": missing, "headers": headers[reading.tab]}
        out.append(reading.model_copy(update=update))
    return out


def parse_workbook(tabs: Iterable[Tab], currency: str = "$", date_order: DateOrder = "month-first") -> SheetData:
    """Every Results tab and the Channels tab; other tabs are ignored quietly.

    `currency` is the symbol for money when a tab's Spend cells show none (`840` rather than `$840`);
    `date_order` reads a Date column whose every date fits both orders (`01/12/2026`) on a sheet without a
    locale (a file)."""
    problems: list[Problem] = []
    channels: list[ChannelRoute] = []
    tabs_read: list[str] = []
    readings: list[TabReading] = []
    parts: list[_Part] = []
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
        tried: list[Problem] = []
        layout = _layout(tab, tried, overrides) if not _overridden(tab, overrides) else None
        export_reading: TabReading | None = None
        if layout is not None:
            # Conversion actions pivoted onto this tab's rows come from an export, fractions and all.
            layout.fractional = tab.name in pivoted.pivots
            problems.extend(tried)
            parsed_tab = tab
        else:
            export = recognise_row_level(tab, overrides) or recognise(tab, overrides)
            if export is None:
                problems.extend(tried)
                if not is_reserved(tab):
                    readings.append(unread := not_read(tab, overrides))
                    if not tried and looks_like_data(unread):
                        problems.append(Problem(cell=tab.name, message=unread.summary))
                continue
            parsed_tab = export.tab
            layout = _layout(parsed_tab, problems)
            if layout is None:
                continue
            layout.fractional = export.fractional
            layout.export = True
            problems.extend(export.problems)
            export_currency = export.currency
            export_reading = export.reading
        tabs_read.append(tab.name)
        frame, tab_metrics, tab_currency, over_rows = _parse_results(parsed_tab, layout, problems, date_order)
        reading = export_reading or with_amounts(
            _hand_made_reading(tab.name, layout), parsed_tab.rows[layout.header_row]
        )
        readings.append(with_pivot(_cells_read(reading, layout, over_rows), pivoted.pivots.get(tab.name)))
        body = parsed_tab.rows[layout.header_row + 1 :]
        if frame.empty and not any(any(normalise_header(c) for c in row) for row in body):
            readings[-1] = not_read(tab, overrides)  # a header and nothing under it
        named_by_tab = export_reading is not None and bool(len(frame)) and bool((frame["campaign"] == tab.name).all())
        frame["origin"] = tab.name
        column_a1 = a1(tab.name, 0, layout.columns["variant"])[:-1]
        frame["cell"] = column_a1 + (frame.index.to_series() + 1).astype(str).to_numpy()
        header = tuple(normalise_header(cell) for cell in parsed_tab.rows[layout.header_row])
        parts.append(
            _Part(
                tab.name,
                frame,
                tab_metrics,
                layout.traffic_label,
                export_currency or tab_currency or currency,
                header,
                tuple(" ".join(str(cell).split()) for cell in tab.rows[layout.header_row] if normalise_header(cell)),
                named_by_tab,
            )
        )

    renamed = _one_table_across_tabs(parts)
    metrics: dict[tuple[str, str], dict[str, Kind]] = {}
    labels: dict[tuple[str, str], str] = {}
    currencies: dict[tuple[str, str], str] = {}
    conversion_parts: list[pd.DataFrame] = []
    for part in parts:
        frame = part.frame
        for key in dict.fromkeys(zip(frame["campaign"], frame["test"], strict=True)):
            labels.setdefault(key, part.traffic_label)
            currencies.setdefault(key, part.currency)
            known = metrics.setdefault(key, {})
            for metric in part.metrics:
                known.setdefault(metric.name, metric.kind)
    readings = [
        r.model_copy(update={"summary": f"{r.summary} · one table with tabs {renamed[r.tab]}"})
        if r.tab in renamed
        else r
        for r in readings
    ]

    all_rows = (
        pd.concat([part.frame for part in parts], ignore_index=True)
        if parts
        else pd.DataFrame(columns=[*TRAFFIC_COLUMNS, "control", "planned", "status", "origin", "cell"])
    )
    if len(parts) > 1:
        again, duplicate_problems = _same_day_in_two_tabs(all_rows)
        problems.extend(duplicate_problems)
        all_rows = all_rows[~again.to_numpy()]
    for part in parts:
        mine = all_rows[all_rows["origin"] == part.tab]
        for metric in part.metrics:
            counted = mine[mine[f"m{metric.column}"].notna()]
            piece = counted[["campaign", "test", "variant", "date", "visitors"]].copy()
            piece["metric"] = metric.name
            piece["kind"] = metric.kind
            piece["conversions"] = counted[f"m{metric.column}"]
            conversion_parts.append(piece)
    conversions = (
        pd.concat(conversion_parts, ignore_index=True) if conversion_parts else pd.DataFrame(columns=CONVERSION_COLUMNS)
    )
    if not conversions.empty:
        keep, untested, over_problems = _over_traffic(conversions, labels)
        conversions = conversions[keep.to_numpy()]
        problems.extend(over_problems)
        for campaign, test, name in untested:
            metrics[(campaign, test)].pop(name, None)
    all_rows, conversions, silent_problems = _without_silent_arms(all_rows, conversions)
    specs, test_problems = _test_specs(all_rows, metrics, labels, currencies)
    readings = _nothing_to_compare(readings, parts, {(s.campaign, s.test) for s in specs})
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
