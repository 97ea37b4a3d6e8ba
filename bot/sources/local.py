"""Local sheets: a .csv is one tab named after the file; an .xlsx has every tab."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from analysis.models import Cell, Tab
from bot.errors import SheetUnavailable
from bot.sources.limits import UNLIMITED, Budget, ReadLimit, Taken, cut_note, smallest_first, take
from bot.sources.merges import fill_vertical_merges

if TYPE_CHECKING:
    from openpyxl.worksheet.cell_range import CellRange


# The first bytes of a CSV, decoded to tell its delimiter (and that it is text): far more than 200 lines.
HEAD_BYTES = 1 << 18


def _codec(handle: BinaryIO) -> str:
    """UTF-16 with a byte-order mark (Google Ads' and Microsoft Ads' "Excel" CSV), UTF-8 with or without one,
    else Windows-1252, as Excel on Windows saves CSV. The whole file is checked, a megabyte at a time: never held."""
    start = handle.read(2)
    handle.seek(0)
    if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in iter(partial(handle.read, 1 << 20), b""):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    finally:
        handle.seek(0)
    return "utf-8-sig"


def _delimiter(text: str) -> str:
    """Comma, tab or semicolon: the one that splits the most lines the same way."""
    lines = [line for line in text.splitlines()[:200] if line.strip() and not line.lstrip().startswith("#")]
    best, best_score = ",", 0
    for candidate in (",", "\t", ";"):
        widths = [len(row) for row in csv.reader(lines, delimiter=candidate)]
        score = max((widths.count(w) * w for w in set(widths) if w > 1), default=0)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _read_csv(path: Path, limit: ReadLimit) -> list[Tab]:
    """The file's rows, read a line at a time up to the limit: what lies past it is only looked at for whether
    anything is there, and no copy of the whole file is made (the bytes or the text of a million rows)."""
    with path.open("rb") as handle:
        codec = _codec(handle)
        head = codecs.getincrementaldecoder(codec)(errors="replace").decode(handle.read(HEAD_BYTES))
        if "\x00" in head:
            raise ValueError("binary content")
        handle.seek(0)
        lines = io.TextIOWrapper(handle, encoding=codec, errors="replace", newline="")
        rows = cast(Iterator[list[Cell]], csv.reader(lines, delimiter=_delimiter(head)))
        taken = take(rows, Budget(limit, 1).share())
    return [_tab(path.stem, taken, limit)]


def _tab(name: str, taken: Taken, limit: ReadLimit) -> Tab:
    return Tab(name=name, rows=taken.rows, note=cut_note(len(taken.rows), limit) if taken.more else None)


# openpyxl only reports merged cells when it loads the whole workbook, which is several times slower;
# workbooks people edit by hand are far below this size, exports of months of daily rows may not be.
MERGES_READ_BELOW_BYTES = 10 * 1024 * 1024


def _read_xlsx(path: Path, limit: ReadLimit) -> list[Tab]:
    from openpyxl import load_workbook

    with_merges = path.stat().st_size < MERGES_READ_BELOW_BYTES
    book = load_workbook(path, read_only=not with_merges, data_only=True)
    try:
        sheets = list(book)
        budget = Budget(limit, len(sheets))
        tabs: dict[int, Tab] = {}
        # In order of the size each tab's file records (as big as can be when the writer left it out).
        for index in smallest_first([(sheet.max_row, sheet.max_column) for sheet in sheets]):
            sheet = sheets[index]
            taken = take(sheet.iter_rows(values_only=True), budget.share())
            budget.spend(len(taken.rows), taken.cells)
            if with_merges:
                fill_vertical_merges(taken.rows, [_grid_range(merged) for merged in sheet.merged_cells.ranges])
            tabs[index] = _tab(sheet.title, taken, limit)
        return [tabs[index] for index in range(len(sheets))]
    finally:
        book.close()


def _grid_range(merged: CellRange) -> dict[str, int]:
    """openpyxl's 1-based inclusive range as the Sheets API's 0-based, end-exclusive GridRange."""
    return {"startRowIndex": merged.min_row - 1, "endRowIndex": merged.max_row, "startColumnIndex": merged.min_col - 1}


def read_local(spec: str, limit: ReadLimit | None = None) -> list[Tab]:
    """Every tab of the .csv/.xlsx file at `spec`, each up to its share of `limit` (None: every row, for tools
    and tests; the services always pass the settings' limit, `bot.sources.read_tabs`)."""
    path = Path(spec).expanduser()
    if not path.exists():
        raise SheetUnavailable(
            f"No sheet at {path}: give MICROOPT_SHEET (or --sheet) a .csv or .xlsx path, or a Google Sheet URL."
        )
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            return _read_csv(path, limit or UNLIMITED)
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(path, limit or UNLIMITED)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise SheetUnavailable(
            f"Could not read {path.name} ({type(error).__name__}): save it again as .csv (UTF-8) or .xlsx."
        ) from error
    raise SheetUnavailable(f"{path.name} is not a .csv or .xlsx file: export the sheet in one of those formats.")
