"""The sheet's `Decisions` tab: one row per decision taken from Slack, appended in one request.

The tab is created (with its header) when missing; rows are only ever appended (`appendCells`, after the last
row with data), so rows people add, sort or annotate stay. In the same `batchUpdate` a budget moved or a test
stopped sets the test's Status cells to `done` where its tab has a Status column (`analysis.reading.
status_cells`), and an undo appends a row saying so and puts those cells back as they were. Cells are plain
strings, never formulas. The tab has no Variant or traffic column, so the reader never takes it for results.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analysis.models import Cell
from analysis.reading.cells import DateOrder
from analysis.reading.status_cells import status_cells_of
from analysis.wording import signed_percent
from bot.decided import Decision
from bot.errors import SheetUnavailable
from bot.sources import google_key
from bot.sources.writeback import new_sheet_id

if TYPE_CHECKING:
    from bot.sources.google import GoogleSheets, Workbook

logger = logging.getLogger("microopt.sheets")

DECISIONS_TAB = "Decisions"
HEADER = (
    "Decided at",
    "Campaign",
    "Test",
    "Decision",
    "By",
    "Verdict",
    "Acted on",  # the variant the verdict named (budget moved to it)
    "Metric",
    "Lift",
    "Likely range",
    "Counts",
    "p (always valid)",
    "Called on",
    "Channel",
    "Decision ID",
)
DONE = "done"
WORDS = {"moved": "Budget moved", "stopped": "Stopped", "kept": "Keep running"}

# A Status cell written: tab, zero-based row and column, and the value it held before.
WrittenCell = tuple[str, int, int, Cell]


@dataclass(frozen=True)
class SheetEntry:
    """One row the Decisions tab is owed: a decision, or (`undo`) the row saying it was undone, with the Status
    cells to put back (`restore`)."""

    decision: Decision
    undo: bool = False
    restore: tuple[WrittenCell, ...] = ()


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def decision_words(decision: Decision) -> str:
    if decision.action == "snoozed" and decision.until is not None:
        return f"Snoozed until {_stamp(decision.until)}"
    return WORDS.get(decision.action, decision.action)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _counts(decision: Decision) -> str:
    s = decision.shown
    if s.variant_visitors is None or s.control_visitors is None:
        return ""
    return (
        f"{s.variant} {_number(s.variant_conversions)} of {s.variant_visitors:,} vs "
        f"{s.control} {_number(s.control_conversions)} of {s.control_visitors:,}"
    )


def _range(decision: Decision) -> str:
    low, high = decision.shown.low, decision.shown.high
    if low is None and high is None:
        return ""
    if high is None:
        return f"{signed_percent(low or 0.0)} or more"
    if low is None:
        return f"up to {signed_percent(high)}"
    return f"{signed_percent(low)} to {signed_percent(high)}"


def _p(value: float | None) -> str:
    if value is None:
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def decision_row(entry: SheetEntry) -> list[str]:
    """The row of one decision (or of its undo): who, when, what, and the verdict with its numbers."""
    d, s = entry.decision, entry.decision.shown
    if entry.undo:
        moment = d.undone_at or d.decided_at
        what = f"Undone: {decision_words(d)}"
        by = f"@{d.undone_by_name}" if d.undone_by_name else (d.undone_by or "")
    else:
        moment, what, by = d.decided_at, decision_words(d), f"@{d.user_name}" if d.user_name else d.user_id
    return [
        _stamp(moment),
        s.campaign,
        s.test,
        what,
        by,
        s.headline,
        s.variant or "",
        f"{s.metric} ({s.kind})" if s.metric and s.kind else (s.metric or ""),
        signed_percent(s.lift) if s.lift is not None else "",
        _range(d),
        _counts(d),
        _p(s.p_value),
        s.called_on or "",
        d.channel_id,
        str(d.id),
    ]


def _value(value: Cell) -> dict[str, Any]:
    """A cell's `userEnteredValue` as it was read (blank: none, which clears the cell)."""
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def append_requests(
    workbook: Workbook, rows: Sequence[Sequence[str]], cells: Sequence[tuple[str, int, int, Cell]] = ()
) -> list[dict[str, Any]]:
    """`batchUpdate` requests that create the tab if needed (with its header), append `rows`, and set each of
    `cells` (tab, row, column, value)."""
    width = len(HEADER)
    existing = workbook.sheet(DECISIONS_TAB)
    requests: list[dict[str, Any]] = []
    appended = [list(row) for row in rows]
    if existing is None:
        sheet_id = new_sheet_id(workbook, DECISIONS_TAB)
        grid = {"rowCount": max(len(rows) + 1, 100), "columnCount": width, "frozenRowCount": 1}
        requests.append(
            {"addSheet": {"properties": {"sheetId": sheet_id, "title": DECISIONS_TAB, "gridProperties": grid}}}
        )
        appended.insert(0, list(HEADER))
    else:
        sheet_id = existing.sheet_id
        if existing.columns < width:
            requests.append(
                {"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS", "length": width - existing.columns}}
            )
    requests.append(
        {
            "appendCells": {
                "sheetId": sheet_id,
                "rows": [{"values": [{"userEnteredValue": {"stringValue": v}} for v in row]} for row in appended],
                "fields": "userEnteredValue",
            }
        }
    )
    for tab, row, column, value in cells:
        target = workbook.sheet(tab)
        if target is None:
            continue  # the tab went since it was read: nothing to set there
        requests.append(
            {
                "updateCells": {
                    "start": {"sheetId": target.sheet_id, "rowIndex": row, "columnIndex": column},
                    "rows": [{"values": [_value(value)]}],
                    "fields": "userEnteredValue",
                }
            }
        )
    return requests


class DecisionsSheet:
    """Writes what the Decisions tab is owed, in one `batchUpdate` (plus one read of the sheet when a test's
    Status cells are to be found)."""

    def __init__(self, sheets: Callable[[], GoogleSheets], date_order: DateOrder = "month-first") -> None:
        self._sheets = sheets
        self._date_order = date_order

    def write(self, spec: str, entries: Sequence[SheetEntry]) -> list[list[WrittenCell]]:
        """Append every entry's row and set or restore Status cells; per entry, the Status cells it set to
        done (with what they held). Raises SheetUnavailable with one sentence when the sheet did not take it."""
        key = google_key(spec)
        if key is None:
            raise SheetUnavailable("The Decisions tab is written to Google Sheets only; this sheet is a file.")
        sheets = self._sheets()
        # Where Status cells are is read fresh, just before they are written: rows may have moved since.
        tabs = sheets.read(key) if any(not e.undo and e.decision.done for e in entries) else []
        closing = [(e.decision.campaign, e.decision.test) for e in entries if not e.undo and e.decision.done]
        cells = status_cells_of(tabs, closing, self._date_order) if closing else {}
        done: list[list[WrittenCell]] = []
        updates: list[tuple[str, int, int, Cell]] = []
        for entry in entries:
            if entry.undo:
                done.append([])
                updates.extend(entry.restore)
                continue
            found = cells.get((entry.decision.campaign, entry.decision.test), []) if entry.decision.done else []
            done.append([(c.tab, c.row, c.column, c.value) for c in found])
            updates.extend((c.tab, c.row, c.column, DONE) for c in found)
        rows = [decision_row(entry) for entry in entries]
        created: list[bool] = []

        def build(workbook: Workbook) -> list[dict[str, Any]]:
            created.append(workbook.sheet(DECISIONS_TAB) is None)
            return append_requests(workbook, rows, updates)

        try:
            sheets.batch_update(key, build)
        except SheetUnavailable as error:
            raise _reworded(error, sheets, key) from error
        if created[-1]:
            try:  # the tabs as they are now, so the next write appends to the new tab instead of adding it again
                sheets.workbook(key, fresh=True)
            except SheetUnavailable:
                logger.info("could not read the tabs of %s again after adding its Decisions tab", key)
        return done


def _reworded(error: SheetUnavailable, sheets: GoogleSheets, key: str) -> SheetUnavailable:
    """A refusal to write names the Decisions tab (the shared sentence speaks of the Verdicts tab)."""
    from gspread.exceptions import APIError

    from bot.sources.google_http import status_of

    cause = error.__cause__
    if isinstance(cause, APIError) and status_of(cause) == 403 and "Verdicts tab" in str(error):
        return SheetUnavailable(
            f"microopt can read the sheet {key} but may not write its Decisions tab: share the sheet with "
            f"{sheets.service_account_email} as an Editor."
        )
    return error
