"""A Setup tab kept in its own CSV (`--setup FILE`, `MICROOPT_SETUP`): for a sheet that cannot hold one (a CSV
export) or should not be edited. It is added to the sheet's tabs as its Setup tab; where the sheet has one
too, the file's row wins for the same column (in the same tab)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analysis.models import Cell, Tab
from analysis.reading.cells import normalise_header
from bot.errors import SheetUnavailable
from bot.sources.local import read_local

SETUP_TAB = "Setup"
COLUMNS = ("column", "role", "tab")
HOW = "a .csv whose first row is Column,Role (and optionally Tab), one row per column of the sheet"


def read_setup_file(spec: str) -> Tab:
    """The Setup tab in the CSV at `spec`; a missing or unreadable file, or one without Column and Role
    columns, is one sentence that names it."""
    path = Path(spec).expanduser()
    if not path.is_file():
        raise SheetUnavailable(f"No Setup file at {path}: give --setup (or MICROOPT_SETUP) {HOW}.")
    if path.suffix.lower() not in (".csv", ".tsv"):
        raise SheetUnavailable(f"The Setup file {path.name} is not a .csv: save it as {HOW}.")
    try:
        [tab] = read_local(str(path))
    except SheetUnavailable as error:
        raise SheetUnavailable(f"Could not read the Setup file {path.name}: save it again as {HOW}.") from error
    rows = [row for row in tab.rows if any(normalise_header(cell) for cell in row)]
    header = [normalise_header(cell) for cell in rows[0]] if rows else []
    if "column" not in header or "role" not in header:
        seen = ", ".join(str(cell) for cell in rows[0] if normalise_header(cell)) if rows else "nothing"
        raise SheetUnavailable(f"The Setup file {path.name} starts with {seen}: it needs to be {HOW}.")
    return Tab(name=SETUP_TAB, rows=_setup_rows(rows))


def _setup_rows(rows: Sequence[Sequence[Cell]]) -> list[list[Cell]]:
    """`rows` (header first) as Column, Role, Tab rows, whatever order and extra columns the header had."""
    header = [normalise_header(cell) for cell in rows[0]]
    at = [header.index(name) if name in header else None for name in COLUMNS]
    out: list[list[Cell]] = [["Column", "Role", "Tab"]]
    for row in rows[1:]:
        out.append([row[i] if i is not None and i < len(row) else None for i in at])
    return out


def _overridden(row: Sequence[Cell], file_rows: Sequence[Sequence[Cell]]) -> bool:
    """Whether a file row names the same column as the sheet's `row`, in all tabs or in the same one."""
    column, tab = normalise_header(row[0]), normalise_header(row[2])
    return any(normalise_header(other[0]) == column and normalise_header(other[2]) in ("", tab) for other in file_rows)


def with_setup(tabs: list[Tab], setup: Tab) -> list[Tab]:
    """`tabs` with `setup` as their Setup tab: merged into the sheet's own Setup tab when there is one (its
    rows for the columns the file names are dropped), else added at the end."""
    index = next((i for i, tab in enumerate(tabs) if tab.name.strip().lower() == "setup"), None)
    if index is None:
        return [*tabs, setup]
    own = [row for row in tabs[index].rows if any(normalise_header(cell) for cell in row)]
    header = [normalise_header(cell) for cell in own[0]] if own else []
    if "column" not in header or "role" not in header:
        return [*tabs, setup]  # the sheet's own Setup tab is reported as it is; the file still counts
    kept = [row for row in _setup_rows(own)[1:] if not _overridden(row, setup.rows[1:])]
    merged = Tab(name=tabs[index].name, rows=[setup.rows[0], *kept, *setup.rows[1:]])
    return [*tabs[:index], merged, *tabs[index + 1 :]]
