"""Problems summarised: a count per kind with its first few cells, before the full list.

A kind is a message with the quoted cell value taken out (`"1O2" is not a number; row left out` and
`"abc" is not a number; row left out` are one kind). The summary goes before the verdicts when rows were
left out of a tab that was tested (the verdicts rest on fewer rows than the sheet has), after them otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.models import Problem, Report
from bot.sentences import counted
from bot.sources.limits import is_cut

# The cells named per kind; the rest are in the full list.
CELLS_SHOWN = 3
ROW_LEFT_OUT = "; row left out"
PART_LEFT_OUT = "Part of the sheet was left out at microopt's limits"
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”')
_A1 = re.compile(r"^(?P<tab>'(?:[^']|'')*'|[^!']+)!(?P<ref>[A-Z]+(?P<row>[0-9]+))$")


@dataclass(frozen=True)
class ProblemKind:
    """Problems of one kind: what they say (without the cell value), how many, their first cells."""

    label: str
    count: int
    cells: tuple[str, ...]
    rows_left_out: bool


def _kind(message: str) -> tuple[str, bool]:
    text = " ".join(_QUOTED.sub("", message).split())
    left_out = text.endswith(ROW_LEFT_OUT)
    if left_out:
        text = text[: -len(ROW_LEFT_OUT)]
    if text.startswith("is "):  # `"1O2" is not a number` is said of the cell: "not a number"
        text = text[3:]
    return text, left_out


def problem_kinds(problems: Sequence[Problem], shown: int = CELLS_SHOWN) -> list[ProblemKind]:
    """The kinds of `problems`, most frequent first (ties in the sheet's order), each with its first cells."""
    counts: dict[tuple[str, bool], int] = {}
    cells: dict[tuple[str, bool], list[str]] = {}
    for problem in problems:
        key = _kind(problem.message)
        counts[key] = counts.get(key, 0) + 1
        first = cells.setdefault(key, [])
        if len(first) < shown:
            first.append(problem.cell)
    order = sorted(counts, key=lambda key: -counts[key])  # stable: ties keep the sheet's order
    return [ProblemKind(label, counts[(label, out)], tuple(cells[(label, out)]), out) for label, out in order]


def tab_of(cell: str) -> str | None:
    """The tab of an A1 reference (`'Black Friday'!F3` → `Black Friday`); None for other cells."""
    match = _A1.match(cell)
    if match is None:
        return None
    tab = match["tab"]
    return tab[1:-1].replace("''", "'") if tab.startswith("'") else tab


def short_cells(cells: Sequence[str]) -> str:
    """`Results!F14, F15, F16`: a tab is named once, at its first cell."""
    parts: list[str] = []
    last_tab: str | None = None
    for cell in cells:
        match = _A1.match(cell)
        if match is not None and match["tab"] == last_tab:
            parts.append(match["ref"])
            continue
        parts.append(cell)
        last_tab = match["tab"] if match is not None else None
    return ", ".join(parts)


def rows_left_out(problems: Sequence[Problem]) -> int:
    """How many rows the problems left out (two bad cells of one row leave out one row)."""
    rows = set()
    for problem in problems:
        if problem.message.endswith(ROW_LEFT_OUT):
            match = _A1.match(problem.cell)
            rows.add((match["tab"], match["row"]) if match is not None else (problem.cell, ""))
    return len(rows)


def heading(problems: Sequence[Problem]) -> str:
    """`290 cells need a look (250 rows left out)`, after `Part of the sheet was left out at microopt's limits`
    when it was."""
    cut = any(is_cut(problem) for problem in problems)
    problems = [problem for problem in problems if not is_cut(problem)]
    cells = f"{counted(len(problems), 'cell')} need{'s' if len(problems) == 1 else ''} a look"
    left_out = rows_left_out(problems)
    cells += f" ({counted(left_out, 'row')} left out)" if left_out else ""
    return "; ".join([*([PART_LEFT_OUT] if cut else []), *([cells] if problems else [])])


def kind_line(kind: ProblemKind, quote: str = "") -> str:
    """`268 × not a number, row left out: Results!F14, F15, F16 …` (`quote` around the cells: Slack's backtick)."""
    more = " …" if kind.count > len(kind.cells) else ""
    label = kind.label + (", row left out" if kind.rows_left_out else "")
    return f"{kind.count:,} × {label}: {quote}{short_cells(kind.cells)}{quote}{more}"


def changes_verdicts(report: Report) -> bool:
    """Whether rows were left out of a tab that was tested, or part of the sheet at a limit: the verdicts rest on
    fewer rows than the sheet has."""
    if not report.tests:
        return False
    tested = {reading.tab for reading in report.tabs if reading.read}
    return any(
        (problem.message.endswith(ROW_LEFT_OUT) and tab_of(problem.cell) in tested) or is_cut(problem)
        for problem in report.problems
    )


def beside_tabs(report: Report) -> tuple[Problem, ...]:
    """The problems a report lists beside its tabs' lines: a tab that was not read says its sentence once, in
    its own line, not again among the problems (JSON keeps both)."""
    said = {reading.summary for reading in report.tabs if not reading.read}
    return tuple(problem for problem in report.problems if problem.message not in said)
