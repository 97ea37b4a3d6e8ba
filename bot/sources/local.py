"""Local sheets: a .csv is one tab named after the file; an .xlsx has every tab."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

from analysis.models import Cell, Tab
from bot.errors import SheetUnavailable


def _read_csv(path: Path) -> list[Tab]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows: list[list[Cell]] = [list(row) for row in csv.reader(handle)]
    return [Tab(name=path.stem, rows=rows)]


def _read_xlsx(path: Path) -> list[Tab]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return [Tab(name=sheet.title, rows=[list(row) for row in sheet.iter_rows(values_only=True)]) for sheet in book]
    finally:
        book.close()


def read_local(spec: str) -> list[Tab]:
    path = Path(spec).expanduser()
    if not path.exists():
        raise SheetUnavailable(
            f"No sheet at {path}: give MICROOPT_SHEET (or --sheet) a .csv or .xlsx path, or a Google Sheet URL."
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(path)
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(path)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise SheetUnavailable(
            f"Could not read {path.name} ({type(error).__name__}): save it again as .csv (UTF-8) or .xlsx."
        ) from error
    raise SheetUnavailable(f"{path.name} is not a .csv or .xlsx file: export the sheet in one of those formats.")
