"""The rows a new test needs in the sheet, laid out as the campaign's own tab lays out its columns.

The tab is the hand-made tab (analysis.reading.hand_made) that holds the campaign's latest rows; the new test gets
one row per arm, control first, with what is known: Campaign, Test, Variant, and where the tab has them, Control
(`yes` on the control's row), Planned visitors and Status (`running`). Numbers are left for the team to fill in.
Exports have no place for a new test, and a tab without a Test column cannot tell a new test from the old one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from analysis.models import Cell, Tab
from analysis.reading.cells import parse_text
from analysis.reading.hand_made import hand_made_bodies

Refusal = Literal["no_tab", "no_test_column", "exists"]


@dataclass(frozen=True)
class NewTestRows:
    tab: str
    first_row: int  # zero-based: the row after the tab's last row with anything in it
    rows: tuple[tuple[Cell, ...], ...]
    planned_written: bool


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()


def new_test_rows(
    tabs: Sequence[Tab], campaign: str, test: str, arms: Sequence[str], planned: int | None
) -> NewTestRows | Refusal:
    """The rows of `campaign` · `test` with `arms` (control first), or why they cannot be added."""
    found: tuple[Tab, dict[str, int]] | None = None
    for tab, layout, cells in hand_made_bodies(tabs, lambda layout: not layout.export):
        columns = layout.columns
        campaigns = parse_text(cells[columns["campaign"]])
        mine = campaigns.map(lambda name: _same(name, campaign))
        if not mine.any():
            continue
        if "test" in columns:
            tests = parse_text(cells[columns["test"]])
            if (mine & tests.map(lambda name: _same(name, test))).any():
                return "exists"
        found = (tab, columns)
    if found is None:
        return "no_tab"
    tab, columns = found
    if "test" not in columns:
        return "no_test_column"
    width = max(columns.values()) + 1
    rows = []
    for index, arm in enumerate(arms):
        row: list[Cell] = [None] * width
        row[columns["campaign"]], row[columns["test"]], row[columns["variant"]] = campaign, test, arm
        if "control" in columns:
            row[columns["control"]] = "yes" if index == 0 else None
        if "planned" in columns and planned is not None:
            row[columns["planned"]] = planned
        if "status" in columns:
            row[columns["status"]] = "running"
        rows.append(tuple(row))
    last = max((i for i, r in enumerate(tab.rows) if any(c not in (None, "") for c in r)), default=-1)
    return NewTestRows(tab.name, last + 1, tuple(rows), "planned" in columns and planned is not None)
