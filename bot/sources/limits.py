"""How much of a sheet one read takes: at most `MICROOPT_MAX_ROWS` rows and `MICROOPT_MAX_CELLS` cells, whatever
the source, so one huge sheet cannot take a process's memory (a 1,000,000-row sheet took 4 GB and 56 s).

The limits are for the whole sheet, shared between its tabs fairly: each tab gets what it has when that fits
its equal share, and what the small tabs leave goes to the big ones (`Budget`). So a Channels or Setup tab is
read whole beside a huge Results tab, and only the huge tab is cut. Sources stop reading where a tab's share ends
(a Google Sheet is asked for that range alone) and a cut tab carries one sentence naming it and the limit
(`Tab.note`), which every report shows before its verdicts.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

from analysis.models import Cell, Problem
from bot.settings import DEFAULT_MAX_CELLS, DEFAULT_MAX_ROWS, Settings


@dataclass(frozen=True)
class ReadLimit:
    """The rows and cells one read of a sheet may take, over all its tabs."""

    rows: int = DEFAULT_MAX_ROWS
    cells: int = DEFAULT_MAX_CELLS

    @classmethod
    def of(cls, settings: Settings) -> ReadLimit:
        return cls(rows=settings.max_rows, cells=settings.max_cells)


DEFAULT_LIMIT = ReadLimit()
UNLIMITED = ReadLimit(rows=sys.maxsize, cells=sys.maxsize)


@dataclass(frozen=True)
class Share:
    """What one tab may take of a read: at most `rows` rows holding at most `cells` cells."""

    rows: int
    cells: int

    def rows_of_width(self, columns: int) -> int:
        """The rows of a tab `columns` wide that fit this share (a Google Sheet's range is asked in rows)."""
        return min(self.rows, self.cells // max(columns, 1))


class Budget:
    """What is left of a read's limit, handed to its tabs one at a time: each gets an equal share of what is
    left among the tabs still to read. Tabs read smallest first (`smallest_first`) so take what they have, and
    the biggest get everything the small ones did not take (max-min fairness, on the rows actually read)."""

    def __init__(self, limit: ReadLimit, tabs: int) -> None:
        self.rows, self.cells, self.tabs = limit.rows, limit.cells, tabs

    def share(self) -> Share:
        tabs = max(self.tabs, 1)
        return Share(self.rows // tabs, self.cells // tabs)

    def spend(self, rows: int, cells: int) -> None:
        self.rows, self.cells, self.tabs = self.rows - rows, self.cells - cells, self.tabs - 1


def smallest_first(sizes: Sequence[tuple[int | None, int | None]]) -> list[int]:
    """The order to read tabs in, from their size as the source knows it before reading (rows, columns; None
    where unknown: read last, as if big). A size that is wrong only changes the order, not what is read."""
    return sorted(range(len(sizes)), key=lambda i: _cells(sizes[i]))


def _cells(size: tuple[int | None, int | None]) -> float:
    rows, columns = size
    return float("inf") if rows is None or columns is None else rows * columns


def plan(sizes: Sequence[tuple[int, int]], limit: ReadLimit) -> list[int]:
    """The rows to ask for of each tab when all are asked for at once (a Google Sheet's one request), from
    their grid sizes: the shares a read in `smallest_first` order would give, each tab taken as full."""
    budget = Budget(limit, len(sizes))
    rows = [0] * len(sizes)
    for index in smallest_first(sizes):
        grid_rows, columns = sizes[index]
        rows[index] = min(grid_rows, budget.share().rows_of_width(columns))
        budget.spend(rows[index], rows[index] * columns)
    return rows


@dataclass(frozen=True)
class Taken:
    """The rows read of a tab, how many cells they hold, and whether the tab has more rows with something in them."""

    rows: list[list[Cell]]
    cells: int
    more: bool


def _blank(row: Sequence[Cell]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row)


def take(rows: Iterable[Sequence[Cell]], share: Share) -> Taken:
    """The first rows of `rows` that fit `share` (each as a new list); the rest is only looked at for whether
    anything is in it, never kept."""
    taken: list[list[Cell]] = []
    cells = 0
    source: Iterator[Sequence[Cell]] = iter(rows)
    for row in source:
        if len(taken) == share.rows or cells + len(row) > share.cells:
            return Taken(taken, cells, not all(_blank(rest) for rest in chain([row], source)))
        cells += len(row)
        taken.append(list(row))
    return Taken(taken, cells, False)


# What every sentence about a limit says, and only they: how a report finds them among its problems.
AT_A_TIME = "of a sheet at a time (MICROOPT_MAX_"


def cut_note(read: int, limit: ReadLimit) -> str:
    """The sentence of a tab whose first `read` rows alone were read (a `Tab.note`, shown as the tab's problem)."""
    return (
        f"only its first {read:,} rows were read, as microopt reads at most {limit.rows:,} rows and "
        f"{limit.cells:,} cells {AT_A_TIME}ROWS, MICROOPT_MAX_CELLS), so rows {read + 1:,} and below are in no "
        "verdict: move finished tests' rows out of the sheet, or raise the limits where the machine has the memory"
    )


def tests_cut_note(analysed: int, tests: int, first_left_out: str, limit: int) -> Problem:
    """The problem of a read whose first `analysed` of `tests` tests alone were analysed."""
    return Problem(
        cell=first_left_out,
        message=(
            f"only the first {analysed:,} of {tests:,} tests were analysed, as microopt analyses at most "
            f"{limit:,} comparisons (a variant against its control on one metric) {AT_A_TIME}COMPARISONS), so "
            "this test and the ones after it have no verdict: move finished tests out of the sheet, or raise "
            "the limit where the machine has the memory"
        ),
    )


def is_cut(problem: Problem) -> bool:
    """Whether a report's problem says that part of the sheet was left out at a limit (`cut_note`,
    `tests_cut_note`): the verdicts rest on less than the sheet has."""
    return AT_A_TIME in problem.message
