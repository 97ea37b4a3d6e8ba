"""Why nothing was tested: each tab's own sentence (the headers it has, the role it lacks, the columns that
could play it), else the generic one; and the Setup rows that would read a tab, as a `--setup` file."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from analysis.models import Report, SetupRow, TabReading
from bot.sentences import NO_TESTS

SETUP_FILE_HEADER = ("Column", "Role", "Tab")


def unread(tabs: Sequence[TabReading]) -> list[TabReading]:
    """The tabs nothing was tested from that say why."""
    return [reading for reading in tabs if not reading.read and reading.summary]


def untested_sentences(report: Report) -> list[str]:
    """One sentence per tab that was not tested, or the generic sentence when no tab says why."""
    return [reading.summary for reading in unread(report.tabs)] or [NO_TESTS]


def setup_csv(rows: Sequence[SetupRow]) -> str:
    """`rows` as the lines of a `--setup` file (`Column,Role,Tab`), quoted where a name needs it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with_tab = any(row.tab for row in rows)
    writer.writerow(SETUP_FILE_HEADER if with_tab else SETUP_FILE_HEADER[:2])
    for row in rows:
        writer.writerow((row.column, row.role, row.tab or "") if with_tab else (row.column, row.role))
    return out.getvalue()


def is_single_file(source: str) -> bool:
    """A CSV cannot hold a Setup tab: its mapping comes from `--setup` (or MICROOPT_SETUP)."""
    return source.lower().endswith((".csv", ".tsv", ".txt"))
