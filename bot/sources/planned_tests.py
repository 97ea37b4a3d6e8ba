"""A planned test's rows added to the campaign's tab, in one `batchUpdate` (`appendCells`), by the read-write client
the Decisions tab is written with (`bot.deps`).

The campaign's tab is read fresh first: where the rows go, and whether that test is in it already (a second
submission of the same plan, from another modal or another process, then adds nothing). Cells are plain strings
and numbers, never formulas.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from analysis.models import Cell
from analysis.reading.cells import a1
from analysis.reading.new_test_rows import Refusal, new_test_rows
from bot.errors import SheetUnavailable
from bot.sources import google_key

if TYPE_CHECKING:
    from bot.sources.google import GoogleSheets, Workbook

logger = logging.getLogger("microopt.sheets")


@dataclass(frozen=True)
class NewTest:
    """What Add to sheet writes: a test of a campaign, its control and its variant, and the plan's visitors per arm."""

    campaign: str
    test: str
    control: str
    variant: str
    planned: int | None = None


@dataclass(frozen=True)
class Added:
    """What became of a new test: `added` (its rows at `cells`), or why not."""

    outcome: Literal["added"] | Refusal
    cells: str = ""
    planned_written: bool = False


def _value(value: Cell) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def _no_write(spec: str, new: NewTest) -> Added:
    raise SheetUnavailable("microopt was started without a Google Sheets client to add tests with.")


no_test_writer: Callable[[str, NewTest], Added] = _no_write


class PlannedTests:
    """Adds a planned test's rows: one read of the sheet, one `batchUpdate`."""

    def __init__(self, sheets: Callable[[], GoogleSheets]) -> None:
        self._sheets = sheets

    def add(self, spec: str, new: NewTest) -> Added:
        """Raises SheetUnavailable with one sentence when the sheet could not be read or did not take the rows."""
        key = google_key(spec)
        if key is None:
            raise SheetUnavailable("microopt adds tests to Google Sheets only; this sheet is a file.")
        sheets = self._sheets()
        tabs = sheets.read(key)
        found = new_test_rows(tabs, new.campaign, new.test, (new.control, new.variant), new.planned)
        if isinstance(found, str):
            return Added(found)
        rows = found.rows

        def build(workbook: Workbook) -> list[dict[str, Any]]:
            target = workbook.sheet(found.tab)
            if target is None:
                raise SheetUnavailable(f"The tab “{found.tab}” went from the sheet while microopt was adding a test.")
            return [
                {
                    "appendCells": {
                        "sheetId": target.sheet_id,
                        "rows": [{"values": [_value(v) for v in row]} for row in rows],
                        "fields": "userEnteredValue",
                    }
                }
            ]

        try:
            sheets.batch_update(key, build)
        except SheetUnavailable as error:
            raise _reworded(error, sheets, key) from error
        width = len(rows[0]) - 1
        cells = (
            f"{a1(found.tab, found.first_row, 0)}:{a1(found.tab, found.first_row + len(rows) - 1, width).split('!')[1]}"
        )
        return Added("added", cells, found.planned_written)


def _reworded(error: SheetUnavailable, sheets: GoogleSheets, key: str) -> SheetUnavailable:
    """A refusal to write says what to share (the shared sentence speaks of the Verdicts tab)."""
    from gspread.exceptions import APIError

    from bot.sources.google_http import status_of

    cause = error.__cause__
    if isinstance(cause, APIError) and status_of(cause) == 403:
        return SheetUnavailable(
            f"microopt can read the sheet but may not add rows to it: share it with {sheets.service_account_email} "
            "as an Editor."
        )
    return error
