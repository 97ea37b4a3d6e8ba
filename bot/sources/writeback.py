"""The sheet's `Verdicts` tab: the bot's verdicts where people edit, rewritten in one request per run.

The tab belongs to the bot: it is created when missing and its contents are replaced on every write (edits
made there by hand do not survive). It has no Variant column, so parsing never mistakes it for a Results tab.
Cells are written as plain strings, never as formulas, whatever a campaign name starts with.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analysis.models import Problem, Report, TestResult
from analysis.verdict_words import when
from bot.errors import UserFacingError
from bot.sources import google_key

if TYPE_CHECKING:
    from bot.sources.google import GoogleSheets, Workbook

logger = logging.getLogger("microopt.sheets")

VERDICTS_TAB = "Verdicts"
HEADER = ("Campaign", "Test", "Verdict", "Summary", "Called on", "p (always valid)", "Updated at")


def _decision_p(test: TestResult) -> str:
    """The always-valid p-value of the comparison the verdict rests on (adjusted for several variants)."""
    ref = test.rests_on
    c = next((c for c in test.comparisons if ref and c.variant == ref.variant and c.metric == ref.metric), None)
    if c is None or c.adjusted_p_value is None:
        return ""
    return "<0.001" if c.adjusted_p_value < 0.001 else f"{c.adjusted_p_value:.3f}"


def verdict_rows(report: Report, now: dt.datetime) -> list[list[str]]:
    """The header, then one row per test: campaign, test, the verdict's headline, its summary, the day the
    call it rests on was made, that comparison's always-valid p-value, when written."""
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [list(HEADER)] + [
        [
            t.campaign,
            t.test,
            t.headline,
            t.summary,
            when(t.called_on) if t.called_on is not None else "",
            _decision_p(t),
            stamp,
        ]
        for t in report.tests
    ]


def new_sheet_id(workbook: Workbook, tab: str) -> int:
    """A sheet ID free in `workbook` for microopt's tab `tab`: the same one every time where it is free."""
    taken = {sheet.sheet_id for sheet in workbook.sheets}
    sheet_id = zlib.crc32(f"microopt {tab}".encode()) & 0x7FFFFFFF
    while sheet_id in taken:
        sheet_id = (sheet_id + 1) & 0x7FFFFFFF
    return sheet_id


def rewrite_requests(workbook: Workbook, rows: list[list[str]], title: str = VERDICTS_TAB) -> list[dict[str, Any]]:
    """`batchUpdate` requests that create the tab if needed, grow it if needed, and replace its contents.

    `updateCells` over the whole tab with `fields=userEnteredValue` writes `rows` and clears every other cell.
    """
    width = len(HEADER)
    existing = workbook.sheet(title)
    requests: list[dict[str, Any]] = []
    if existing is None:
        sheet_id = new_sheet_id(workbook, VERDICTS_TAB)
        grid = {"rowCount": max(len(rows), 100), "columnCount": width, "frozenRowCount": 1}
        requests.append({"addSheet": {"properties": {"sheetId": sheet_id, "title": title, "gridProperties": grid}}})
    else:
        sheet_id = existing.sheet_id
        for dimension, have, need in (("ROWS", existing.rows, len(rows)), ("COLUMNS", existing.columns, width)):
            if have < need:
                requests.append(
                    {"appendDimension": {"sheetId": sheet_id, "dimension": dimension, "length": need - have}}
                )
    requests.append(
        {
            "updateCells": {
                "range": {"sheetId": sheet_id},
                "rows": [{"values": [{"userEnteredValue": {"stringValue": value}} for value in row]} for row in rows],
                "fields": "userEnteredValue",
            }
        }
    )
    return requests


@dataclass
class _Written:
    rows: list[list[str]]
    at: dt.datetime


class VerdictWriter:
    """Writes a report's verdicts to its Google Sheet; never fails the run that asked.

    The same verdicts are not written again within `min_interval_seconds` (the sheet cache period): repeated
    commands on cached data would only rewrite the timestamps, and writes count against the same quota.
    """

    def __init__(
        self,
        sheets: Callable[[], GoogleSheets],
        clock: Callable[[], dt.datetime],
        min_interval_seconds: float = 0.0,
    ) -> None:
        self._sheets = sheets
        self._clock = clock
        self._min_interval = min_interval_seconds
        self._lock = threading.Lock()
        self._written: dict[str, _Written] = {}

    def write(self, spec: str, report: Report) -> Problem | None:
        """Rewrite the Verdicts tab of `spec`; a note for the report when that failed, else None."""
        key = google_key(spec)
        if key is None:
            logger.debug("Verdicts are written back to Google Sheets only; %s is a local file", spec)
            return None
        now = self._clock()
        rows = verdict_rows(report, now)
        content = [row[:-1] for row in rows]
        with self._lock:
            last = self._written.get(key)
            if last is not None and last.rows == content and (now - last.at).total_seconds() < self._min_interval:
                return None
        try:
            self._sheets().batch_update(key, lambda workbook: rewrite_requests(workbook, rows))
        except UserFacingError as error:
            logger.warning("Verdicts tab of %s not updated: %s", key, error)
            return Problem(cell=VERDICTS_TAB, message=f"not updated. {error}")
        except Exception as error:
            # Writing back is a courtesy: whatever breaks here, the verdicts above still stand.
            logger.exception("Verdicts tab of %s not updated", key)
            return Problem(
                cell=VERDICTS_TAB,
                message=f"not updated ({type(error).__name__}); the verdicts above are unaffected, see the log.",
            )
        with self._lock:
            self._written[key] = _Written(content, now)
        return None
