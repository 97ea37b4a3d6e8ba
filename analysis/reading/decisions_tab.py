"""The sheet's Decisions tab read back: the calls the team acted on from Slack (budget moved, test stopped), less
those undone since. Columns are found by their header names, so columns people add or move change nothing;
rows people type by hand count when they say `Budget moved` or `Stopped` with a campaign."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import pandas as pd

from analysis.models import ActedCall, Tab
from analysis.reading.cells import DateOrder, a1, normalise_header, parse_text, read_dates
from analysis.reading.hand_made import body_cells, first_header_row

DECISIONS = "decisions"
_WORDS: dict[str, Literal["moved", "stopped"]] = {"budget moved": "moved", "stopped": "stopped"}
_UNDONE = "undone:"
_METRIC = re.compile(r"^(?P<name>.+?)\s*\((?:micro|macro)\)$", re.IGNORECASE)


def _column(cells: pd.DataFrame, headers: dict[str, int], name: str) -> pd.Series:
    if name not in headers:
        return pd.Series("", index=cells.index, dtype="object")
    return parse_text(cells[headers[name]])


def acted_calls(tabs: Sequence[Tab], date_order: DateOrder = "month-first") -> tuple[ActedCall, ...]:
    """Every `Budget moved` and `Stopped` row of the Decisions tab whose Decision ID no `Undone: …` row names."""
    tab = next((t for t in tabs if t.name.strip().lower() == DECISIONS), None)
    if tab is None:
        return ()
    header_row = first_header_row(tab.rows)
    if header_row is None:
        return ()
    headers: dict[str, int] = {}
    for index, cell in enumerate(tab.rows[header_row]):
        headers.setdefault(normalise_header(cell), index)
    if "decision" not in headers or "campaign" not in headers:
        return ()
    cells = body_cells(tab, header_row)
    if cells.empty:
        return ()
    decisions = _column(cells, headers, "decision").str.lower()
    ids = _column(cells, headers, "decision id")
    undone = set(ids[decisions.str.startswith(_UNDONE) & (ids != "")])
    if "decided at" in headers:
        stamps = cells[headers["decided at"]].map(lambda v: v.removesuffix(" UTC") if isinstance(v, str) else v)
        days = read_dates(stamps, tab.locale, date_order).dates
    else:
        days = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    campaigns, tests = _column(cells, headers, "campaign"), _column(cells, headers, "test")
    variants, metrics = _column(cells, headers, "acted on"), _column(cells, headers, "metric")
    calls = []
    for row in cells.index:
        decision = _WORDS.get(decisions.loc[row])
        if decision is None or not campaigns.loc[row] or (ids.loc[row] and ids.loc[row] in undone):
            continue
        metric = _METRIC.match(metrics.loc[row])
        day = days.loc[row]
        calls.append(
            ActedCall(
                campaign=campaigns.loc[row],
                test=tests.loc[row],
                decision=decision,
                variant=variants.loc[row] or None,
                metric=(metric["name"] if metric else metrics.loc[row]) or None,
                decided_on=None if pd.isna(day) else pd.Timestamp(day).date(),
                cell=a1(tab.name, int(row), headers["decision"]),
            )
        )
    return tuple(calls)
