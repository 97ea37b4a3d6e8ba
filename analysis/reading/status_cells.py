"""Where a test's Status cells are: the cells that, set to `done`, make the reader call the test done.

A test's status is the last one given on its latest date (on any of its rows when it has no dates), in the
hand-made tabs that have a Status column (analysis.reading.specs). So the cells to set are the Status cells of
the test's rows on its latest date, across tabs, or of all its rows when undated. Exports and tabs without a
Status column have none: the decision is then kept by microopt alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.models import Cell, Tab
from analysis.reading.cells import DateOrder, parse_text, read_dates
from analysis.reading.hand_made import hand_made_bodies


@dataclass(frozen=True)
class StatusCell:
    """One Status cell: its tab, zero-based row and column, and what it holds now."""

    tab: str
    row: int
    column: int
    value: Cell


def status_cells(
    tabs: Sequence[Tab], campaign: str, test: str, date_order: DateOrder = "month-first"
) -> list[StatusCell]:
    """The Status cells of `campaign` · `test`'s latest rows (names compared as the reader reads them: trimmed,
    inner runs of spaces folded); empty when no tab with a Status column holds the test."""
    return status_cells_of(tabs, [(campaign, test)], date_order)[(campaign, test)]


def status_cells_of(
    tabs: Sequence[Tab], tests: Sequence[tuple[str, str]], date_order: DateOrder = "month-first"
) -> dict[tuple[str, str], list[StatusCell]]:
    """`status_cells` of several tests at once, each tab's layout found and its columns read once."""
    wanted = {(" ".join(c.split()), " ".join(t.split())): (c, t) for c, t in tests}
    found: dict[tuple[str, str], list[tuple[StatusCell, pd.Timestamp | None]]] = {key: [] for key in tests}
    for tab, layout, cells in hand_made_bodies(tabs, lambda layout: "status" in layout.columns):
        columns = layout.columns
        campaigns = parse_text(cells[columns["campaign"]])
        names = parse_text(cells[columns["test"]]) if "test" in columns else pd.Series("", index=cells.index)
        keys = pd.Series(list(zip(campaigns, names, strict=True)), index=cells.index, dtype="object")
        mine = keys.isin(list(wanted)) & (parse_text(cells[columns["variant"]]) != "")
        if not mine.any():
            continue
        dates = (
            read_dates(cells[columns["date"]], tab.locale, date_order).dates
            if "date" in columns
            else pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
        )
        column = columns["status"]
        for row in cells.index[mine.to_numpy()]:
            raw = tab.rows[int(row)]
            cell = StatusCell(tab.name, int(row), column, raw[column] if column < len(raw) else None)
            day = dates.loc[row]
            found[wanted[keys.loc[row]]].append((cell, None if pd.isna(day) else day))
    out: dict[tuple[str, str], list[StatusCell]] = {}
    for key, cells_found in found.items():
        days = [day for _, day in cells_found if day is not None]
        latest = max(days) if days else None
        out[key] = [cell for cell, day in cells_found if latest is None or day == latest]
    return out
