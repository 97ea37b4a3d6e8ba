"""From tabs of raw cells to validated experiments and cell-referenced problems.

Shared by every source (CSV, xlsx, Google Sheets): a source only has to return `Tab`s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from analysis.cells import (
    a1,
    is_blank,
    parse_counts,
    parse_dates,
    parse_flags,
    parse_money,
    parse_text,
    shown,
)
from analysis.models import ChannelRoute, Kind, MetricSpec, Problem, SheetData, Tab, TestSpec

TRAFFIC_HEADERS = ("visitors", "sessions", "users", "clicks")
_METRIC_HEADER = re.compile(r"^(?P<name>.+?)\s*\((?P<kind>micro|macro)\)$", re.IGNORECASE)
_CUMULATIVE_DATE = re.compile(r"^date\s*\(cumulative\)$")
_OPTIONAL = {
    "test": "test",
    "date": "date",
    "spend": "spend",
    "cost": "spend",
    "control": "control",
    "planned visitors": "planned",
}
TRAFFIC_COLUMNS = ["campaign", "test", "variant", "date", "visitors", "spend"]
CONVERSION_COLUMNS = ["campaign", "test", "variant", "date", "metric", "kind", "visitors", "conversions"]


def normalise_header(value: object) -> str:
    return " ".join(str(value).split()).lower() if value is not None else ""


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


def _header_row(rows: Sequence[Sequence[object]]) -> int | None:
    for index, row in enumerate(rows):
        if any(normalise_header(cell) for cell in row):
            return index
    return None


def _layout(tab: Tab, problems: list[Problem]) -> _Layout | None:
    header_index = _header_row(tab.rows)
    if header_index is None:
        return None
    columns: dict[str, int] = {}
    metrics: list[_Metric] = []
    traffic_label = ""
    cumulative = False
    seen: dict[str, int] = {}
    for index, cell in enumerate(tab.rows[header_index]):
        header = normalise_header(cell)
        if not header:
            continue
        if header in seen:
            problems.append(
                Problem(
                    cell=a1(tab.name, header_index, index),
                    message=f'"{cell}" repeats the column at {a1(tab.name, header_index, seen[header])}; '
                    "this one is ignored",
                )
            )
            continue
        seen[header] = index
        if _CUMULATIVE_DATE.match(header):
            columns["date"] = index
            cumulative = True
        elif header in ("campaign", "variant"):
            columns[header] = index
        elif header in TRAFFIC_HEADERS and "traffic" not in columns:
            columns["traffic"] = index
            traffic_label = header
        elif header in _OPTIONAL:
            columns.setdefault(_OPTIONAL[header], index)
        elif match := _METRIC_HEADER.match(" ".join(str(cell).split())):
            kind: Kind = "micro" if match["kind"].lower() == "micro" else "macro"
            metrics.append(_Metric(name=match["name"].strip(), kind=kind, column=index))
    if "campaign" not in columns or "variant" not in columns:
        return None
    missing = []
    if "traffic" not in columns:
        missing.append("a traffic column (Visitors, Sessions, Users or Clicks)")
    if not metrics:
        missing.append("a metric column marked (micro) or (macro), e.g. “Cart views (micro)”")
    if missing:
        problems.append(
            Problem(
                cell=a1(tab.name, header_index, columns["campaign"]),
                message=f"tab “{tab.name}” has Campaign and Variant but no "
                + " and no ".join(missing)
                + "; it was not analysed",
            )
        )
        return None
    return _Layout(header_index, columns, traffic_label, metrics, cumulative)


def _cells(tab: Tab, header_row: int) -> pd.DataFrame:
    width = max((len(row) for row in tab.rows), default=0)
    body = [list(row) + [None] * (width - len(row)) for row in tab.rows[header_row + 1 :]]
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

    def require(self, present: pd.Series, column: int, what: str) -> None:
        missing = ~present & ~self.bad
        self.add(pd.Series(np.where(missing, f"{what} is empty", ""), index=present.index), column)


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


def _parse_results(tab: Tab, layout: _Layout, problems: list[Problem]) -> tuple[pd.DataFrame, list[_Metric]]:
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

    visitors, messages = parse_counts(cells[columns["traffic"]], layout.traffic_label)
    rows.add(messages, columns["traffic"])
    rows.require(visitors.notna(), columns["traffic"], layout.traffic_label.capitalize())
    parsed["visitors"] = visitors

    if "date" in columns:
        dates, messages = parse_dates(cells[columns["date"]])
        rows.add(messages, columns["date"])
        rows.require(dates.notna(), columns["date"], "Date")
        parsed["date"] = dates
    else:
        parsed["date"] = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    if "spend" in columns:
        spend, messages = parse_money(cells[columns["spend"]])
        rows.add(messages, columns["spend"])
        parsed["spend"] = spend
    else:
        parsed["spend"] = np.nan
    parsed["control"] = parse_flags(cells[columns["control"]]) if "control" in columns else False
    if "planned" in columns:
        planned, messages = parse_counts(cells[columns["planned"]], "planned visitors")
        rows.add(messages, columns["planned"])
        parsed["planned"] = planned
    else:
        parsed["planned"] = np.nan

    for metric in layout.metrics:
        conversions, messages = parse_counts(cells[metric.column], metric.name.lower())
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
    return parsed[~rows.bad.reindex(parsed.index, fill_value=False)], layout.metrics


def _parse_channels(tab: Tab, problems: list[Problem]) -> list[ChannelRoute]:
    header_index = _header_row(tab.rows)
    if header_index is None:
        return []
    headers = {normalise_header(cell): i for i, cell in reversed(list(enumerate(tab.rows[header_index])))}
    if "channel" not in headers:
        problems.append(Problem(cell=a1(tab.name, header_index, 0), message="the Channels tab has no Channel column"))
        return []
    cells = _cells(tab, header_index)
    routes: list[ChannelRoute] = []
    for row_index, row in cells.iterrows():

        def value(name: str, row: pd.Series = row) -> str:
            return str(parse_text(pd.Series([row[headers[name]]], dtype="object"))[0]) if name in headers else ""

        campaign, channel = value("campaign"), value("channel")
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
                schedule=value("schedule") or None,
                timezone=value("timezone") or None,
            )
        )
    return routes


def _test_specs(
    frame: pd.DataFrame, metrics: dict[tuple[str, str], dict[str, Kind]], labels: dict[tuple[str, str], str]
) -> tuple[list[TestSpec], list[Problem]]:
    specs: list[TestSpec] = []
    problems: list[Problem] = []
    if frame.empty:
        return specs, problems
    for (campaign, test), group in frame.groupby(["campaign", "test"], sort=False):
        variants = tuple(dict.fromkeys(group["variant"]))
        marked = tuple(dict.fromkeys(group.loc[group["control"], "variant"]))
        control = marked[0] if marked else variants[0]
        title = f"{campaign} · {test}" if test else str(campaign)
        if len(marked) > 1:
            problems.append(
                Problem(
                    cell=title,
                    message=f"{len(marked)} variants are marked as control ({', '.join(marked)}); using {control}",
                )
            )
        if len(variants) < 2:
            problems.append(
                Problem(cell=title, message=f"only one variant ({variants[0]}); there is nothing to compare yet")
            )
            continue
        planned = group["planned"].max()
        key = (str(campaign), str(test))
        specs.append(
            TestSpec(
                campaign=str(campaign),
                test=str(test),
                control=str(control),
                variants=(control, *[v for v in variants if v != control]),
                metrics=tuple(MetricSpec(name=n, kind=k) for n, k in metrics[key].items()),
                traffic_label=labels[key],
                has_dates=bool(group["date"].notna().any()),
                has_spend=bool(group["spend"].notna().any()),
                planned_visitors=None if np.isnan(planned) else int(planned),
            )
        )
    return specs, problems


def parse_workbook(tabs: Iterable[Tab]) -> SheetData:
    """Every Results tab and the Channels tab; other tabs are ignored quietly."""
    problems: list[Problem] = []
    channels: list[ChannelRoute] = []
    traffic_parts: list[pd.DataFrame] = []
    conversion_parts: list[pd.DataFrame] = []
    metrics: dict[tuple[str, str], dict[str, Kind]] = {}
    labels: dict[tuple[str, str], str] = {}
    tabs_read: list[str] = []
    for tab in tabs:
        if tab.name.strip().lower() == "channels":
            channels.extend(_parse_channels(tab, problems))
            tabs_read.append(tab.name)
            continue
        layout = _layout(tab, problems)
        if layout is None:
            continue
        tabs_read.append(tab.name)
        frame, tab_metrics = _parse_results(tab, layout, problems)
        traffic_parts.append(frame)
        for key in dict.fromkeys(zip(frame["campaign"], frame["test"], strict=True)):
            labels.setdefault(key, layout.traffic_label)
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
        else pd.DataFrame(columns=[*TRAFFIC_COLUMNS, "control", "planned"])
    )
    specs, test_problems = _test_specs(all_rows, metrics, labels)
    problems.extend(test_problems)
    conversions = (
        pd.concat(conversion_parts, ignore_index=True) if conversion_parts else pd.DataFrame(columns=CONVERSION_COLUMNS)
    )
    return SheetData(
        tests=tuple(specs),
        traffic=all_rows[TRAFFIC_COLUMNS].reset_index(drop=True),
        conversions=conversions[CONVERSION_COLUMNS].reset_index(drop=True),
        channels=tuple(channels),
        problems=tuple(problems),
        tabs_read=tuple(tabs_read),
    )
