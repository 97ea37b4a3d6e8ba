"""A Google Sheet read with gspread: every tab in two requests, as the same `Tab`s a local file gives.

1. `GET /v4/spreadsheets/{key}` with a field mask: the locale, every tab's title, id, size and merges, and
   each cell's number format (a Spend column entered as `€1,234.00` is in euros).
2. `GET /v4/spreadsheets/{key}/values:batchGet` over all grid tabs at once, values unformatted (numbers as
   numbers, dates as serial numbers, text as typed, errors such as `#DIV/0!` as their text).

Text cells are parsed by `analysis.reading.cells` like any local file's, with the spreadsheet's locale deciding
`1,234` against `1,5`; gspread's `numericise` is never used (it reads `1,5` as 15). Vertically merged cells
repeat their value on each row they cover, as people see them (a campaign name merged over its variants).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from google.auth.exceptions import GoogleAuthError
from gspread.exceptions import APIError
from tenacity.wait import wait_base

from analysis.models import Cell, NumberFormat, Tab
from analysis.reading.cells import shows_currency
from bot.errors import SheetUnavailable
from bot.settings import Settings
from bot.sources.google_credentials import load_credentials
from bot.sources.google_errors import Action, Context, unavailable
from bot.sources.google_http import SheetsHTTPClient, status_of
from bot.sources.keys import google_key
from bot.sources.limits import DEFAULT_LIMIT, ReadLimit, cut_note, plan
from bot.sources.merges import fill_vertical_merges
from bot.sources.quota import ReadQuota

logger = logging.getLogger("microopt.sheets")
T = TypeVar("T")
LINKED = "the link given to /microopt connect"  # what names a sheet other than MICROOPT_SHEET

# With a field mask, `includeGridData` is ignored and the grid data the mask names is returned: here each
# cell's user-entered number format alone (cells without one come back as `{}`), so a Spend column of plain
# numbers shown as `€1,234.00` tells its currency in the same request.
METADATA_FIELDS = (
    "properties(title,locale,timeZone),"
    "sheets(properties(sheetId,title,index,sheetType,gridProperties(rowCount,columnCount)),merges,"
    "data(startRow,startColumn,rowData(values(userEnteredFormat(numberFormat)))))"
)
VALUE_PARAMS = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
}


@dataclass(frozen=True)
class SheetInfo:
    """One tab as the metadata describes it."""

    sheet_id: int
    title: str
    rows: int
    columns: int
    is_grid: bool
    merges: tuple[Mapping[str, int], ...] = ()
    money_formats: Mapping[int, NumberFormat] = field(default_factory=dict)


@dataclass(frozen=True)
class Workbook:
    key: str
    locale: str | None
    sheets: tuple[SheetInfo, ...]

    def sheet(self, title: str) -> SheetInfo | None:
        return next((s for s in self.sheets if s.title == title), None)


def a1_range(title: str, rows: int | None = None) -> str:
    """A tab as an A1 range, the title quoted the way Sheets expects: the whole tab, or its first `rows` rows."""
    quoted = "'" + title.replace("'", "''") + "'"
    return quoted if rows is None else f"{quoted}!1:{rows}"


def planned_range(sheet: SheetInfo, rows: int) -> str:
    """The range to ask for when the read may take `rows` rows of the tab: the whole tab when they are all
    its rows, else one row more, which tells whether anything lies past them (the API leaves out blank rows
    at the end of a range, and refuses a range past the grid)."""
    return a1_range(sheet.title) if rows >= sheet.rows else a1_range(sheet.title, rows + 1)


def money_formats(grid_data: Sequence[Mapping[str, Any]]) -> dict[int, NumberFormat]:
    """Per column, the money format most of its cells are entered in (`CURRENCY`, or a pattern showing a
    currency such as `[$€-407]#,##0.00`); columns of no money format are absent."""
    seen: dict[int, Counter[NumberFormat]] = {}
    for grid in grid_data:
        first_column = int(grid.get("startColumn", 0))
        for row in grid.get("rowData", []):
            for offset, cell in enumerate(row.get("values", [])):
                found = cell.get("userEnteredFormat", {}).get("numberFormat")
                if not found:
                    continue
                number_format = NumberFormat(type=str(found.get("type", "")), pattern=str(found.get("pattern", "")))
                if shows_currency(number_format):
                    seen.setdefault(first_column + offset, Counter())[number_format] += 1
    return {column: counts.most_common(1)[0][0] for column, counts in seen.items()}


def workbook_from(key: str, metadata: Mapping[str, Any]) -> Workbook:
    sheets = []
    for sheet in metadata.get("sheets", []):
        props = sheet.get("properties", {})
        grid = props.get("gridProperties", {})
        sheets.append(
            SheetInfo(
                sheet_id=int(props.get("sheetId", 0)),
                title=str(props.get("title", "")),
                rows=int(grid.get("rowCount", 0)),
                columns=int(grid.get("columnCount", 0)),
                is_grid=props.get("sheetType", "GRID") == "GRID",
                merges=tuple(sheet.get("merges", [])),
                money_formats=money_formats(sheet.get("data", [])),
            )
        )
    locale = metadata.get("properties", {}).get("locale")
    return Workbook(key=key, locale=str(locale) if locale else None, sheets=tuple(sheets))


def tabs_from(
    workbook: Workbook,
    value_ranges: Sequence[Mapping[str, Any]],
    planned: Sequence[int] | None = None,
    limit: ReadLimit = DEFAULT_LIMIT,
) -> list[Tab]:
    """The tabs of a `values:batchGet` answer; `planned` the rows each tab may keep (the range asked for one
    more, to tell whether the tab goes on: then the tab's note says where it was cut)."""
    grids = [sheet for sheet in workbook.sheets if sheet.is_grid]
    tabs = []
    for index, (sheet, value_range) in enumerate(zip(grids, value_ranges, strict=True)):
        values = value_range.get("values", [])
        keep = len(values) if planned is None else planned[index]
        rows: list[list[Cell]] = [list(row) for row in values[:keep]]
        fill_vertical_merges(rows, sheet.merges)
        note = cut_note(keep, limit) if len(values) > keep else None
        tabs.append(
            Tab(
                name=sheet.title,
                rows=rows,
                locale=workbook.locale,
                number_formats=sheet.money_formats,
                note=note,
            )
        )
    return tabs


class GoogleSheets:
    """One signed-in gspread client for the process: reads whole spreadsheets and rewrites bot-owned tabs.

    The client is built on first use (so a local-file setup never loads a key) and shared by every read;
    `backoff` and `sleep` are the retry pacing (tests make them instant).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        backoff: wait_base | None = None,
        sleep: Callable[[float], None] = time.sleep,
        quota: ReadQuota | None = None,
    ) -> None:
        self.settings = settings
        self._backoff = backoff
        self._sleep = sleep
        # Every read request waits for Google's per-minute quota; shared by every thread of the process.
        self.quota = quota or ReadQuota(settings.sheets_reads_per_minute)
        self._lock = threading.Lock()
        self._client: SheetsHTTPClient | None = None
        self._email = ""
        self._workbooks: dict[str, Workbook] = {}

    # -- plumbing --------------------------------------------------------------------------------
    def client(self) -> SheetsHTTPClient:
        with self._lock:
            if self._client is None:
                credentials = load_credentials(self.settings)
                self._email = credentials.service_account_email
                self._client = SheetsHTTPClient(
                    credentials,
                    endpoint=self.settings.sheets_endpoint,
                    timeout=self.settings.sheets_timeout_seconds,
                    attempts=self.settings.sheets_attempts,
                    backoff=self._backoff,
                    sleep=self._sleep,
                    quota=self.quota,
                )
            return self._client

    @property
    def service_account_email(self) -> str:
        self.client()
        return self._email

    def context(self, key: str, action: Action) -> Context:
        return Context(
            key=key,
            email=self._email,
            endpoint=self.settings.sheets_endpoint,
            attempts=self.settings.sheets_attempts,
            timeout=self.settings.sheets_timeout_seconds,
            action=action,
            editor=self.settings.write_verdicts,
            named_by="MICROOPT_SHEET" if google_key(self.settings.sheet) == key else LINKED,
        )

    def fail(self, error: BaseException, key: str, action: Action) -> SheetUnavailable:
        problem = unavailable(error, self.context(key, action))
        logger.info("Google Sheets %s of %s failed: %s", action, key, problem, exc_info=error)
        return problem

    def call(self, key: str, action: Action, request: Callable[[SheetsHTTPClient], T]) -> T:
        """Run one request (retried inside the client, each read try within the quota); after the last try, one
        sentence."""
        client = self.client()
        try:
            return request(client)
        except (APIError, requests.RequestException, GoogleAuthError) as error:
            raise self.fail(error, key, action) from error

    # -- reading ---------------------------------------------------------------------------------
    def workbook(self, key: str, *, fresh: bool = False) -> Workbook:
        """The spreadsheet's tabs and locale: one request, or none when a read already fetched them."""
        if not fresh and key in self._workbooks:
            return self._workbooks[key]
        params: dict[str, Any] = {"includeGridData": "false", "fields": METADATA_FIELDS}
        metadata = self.call(key, "read", lambda c: c.fetch_sheet_metadata(key, params=params))
        workbook = workbook_from(key, metadata)
        self._workbooks[key] = workbook
        return workbook

    def read(self, key: str) -> list[Tab]:
        """Every grid tab of the spreadsheet `key`, in exactly two requests however many tabs it has, each tab
        asked for no more rows than its share of the read's limit (`bot.sources.limits`)."""
        workbook = self.workbook(key, fresh=True)
        grids = [sheet for sheet in workbook.sheets if sheet.is_grid]
        if not grids:
            return []
        limit = ReadLimit.of(self.settings)
        rows = plan([(sheet.rows, sheet.columns) for sheet in grids], limit)
        ranges = [planned_range(sheet, n) for sheet, n in zip(grids, rows, strict=True)]
        response = self.call(key, "read", lambda c: c.values_batch_get(key, ranges, params=dict(VALUE_PARAMS)))
        return tabs_from(workbook, response.get("valueRanges", []), rows, limit)

    # -- writing ---------------------------------------------------------------------------------
    def batch_update(self, key: str, build: Callable[[Workbook], list[dict[str, Any]]]) -> None:
        """One `spreadsheets.batchUpdate` built from the tabs as last read; if they changed since (a tab
        deleted by hand), the tabs are fetched again and the update is sent once more."""
        workbook = self.workbook(key)
        client = self.client()
        try:
            client.batch_update(key, {"requests": build(workbook)})
            return
        except APIError as error:
            if status_of(error) != 400:
                raise self.fail(error, key, "write") from error
            logger.info("Update of %s refused (HTTP 400); reading its tabs again", key, exc_info=True)
        except (requests.RequestException, GoogleAuthError) as error:
            raise self.fail(error, key, "write") from error
        fresh = self.workbook(key, fresh=True)
        self.call(key, "write", lambda c: c.batch_update(key, {"requests": build(fresh)}))


def read_google_sheet(key: str, settings: Settings, sheets: GoogleSheets | None = None) -> list[Tab]:
    """Every tab of the Google Sheet `key` (a one-off client unless the process's shared one is given)."""
    return (sheets or GoogleSheets(settings)).read(key)
