"""Merged cells as people see them: a campaign name merged over its variants belongs to each row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from analysis.models import Cell


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def fill_vertical_merges(rows: list[list[Cell]], merges: Sequence[Mapping[str, int]]) -> None:
    """Repeat a vertically merged cell's value down the rows it covers (in place).

    Only rows with other content are filled, so a merge drawn far past the data adds no rows. Merges one row
    high (a group label across columns) are left as the API gives them: the value in their first column.
    """
    for merge in merges:
        top, bottom = merge.get("startRowIndex", 0), merge.get("endRowIndex", len(rows))
        column = merge.get("startColumnIndex", 0)
        if bottom - top < 2 or top >= len(rows) or column >= len(rows[top]):
            continue
        value = rows[top][column]
        if _blank(value):
            continue
        for row in rows[top + 1 : min(bottom, len(rows))]:
            if not any(not _blank(cell) for cell in row):
                continue
            if len(row) <= column:
                row.extend([""] * (column + 1 - len(row)))
            if _blank(row[column]):
                row[column] = value
