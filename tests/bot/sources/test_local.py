"""Local .csv and .xlsx sources return raw cells the parser understands."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from analysis.reading.workbook import parse_workbook
from bot.errors import SheetUnavailable
from bot.sources import google_key
from bot.sources.local import read_local


def test_xlsx_keeps_every_tab_and_typed_cells(tmp_path):
    book = Workbook()
    results = book.active
    results.title = "Results"
    results.append(["Date", "Campaign", "Variant", "Visitors", "Spend", "Leads (micro)"])
    results.append([dt.datetime(2026, 3, 1), "Spring", "A", 100, 12.5, 4])
    results.append([dt.datetime(2026, 3, 1), "Spring", "B", 110, 13.0, 9])
    book.create_sheet("Notes").append(["free text"])
    path = tmp_path / "book.xlsx"
    book.save(path)

    tabs = read_local(str(path))
    assert [t.name for t in tabs] == ["Results", "Notes"]
    sheet = parse_workbook(tabs)
    assert sheet.problems == ()
    assert sheet.traffic["spend"].sum() == pytest.approx(25.5)
    assert sheet.tests[0].has_dates


def test_csv_is_one_tab_named_after_the_file_and_tolerates_a_byte_order_mark(tmp_path):
    path = tmp_path / "spring.csv"
    path.write_text("\ufeffCampaign,Variant,Clicks,Buys (macro)\nS,A,10,1\nS,B,10,2\n", encoding="utf-8")
    (tab,) = read_local(str(path))
    assert tab.name == "spring"
    assert tab.rows[0][0] == "Campaign"
    assert len(parse_workbook([tab]).tests) == 1


@pytest.mark.parametrize("name", ["notes.txt", "data.json"])
def test_other_files_are_refused_with_a_sentence(tmp_path, name):
    path = tmp_path / name
    path.write_text("{}")
    with pytest.raises(SheetUnavailable, match=r"not a \.csv or \.xlsx"):
        read_local(str(path))


def test_google_urls_and_keys_are_told_apart_from_paths():
    key = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ab"
    assert google_key(f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0") == key
    assert google_key(key) == key
    assert google_key("examples/campaigns.xlsx") is None
    assert google_key("results.csv") is None


def test_xlsx_campaign_names_merged_over_their_variants_belong_to_each_row(tmp_path):
    book = Workbook()
    results = book.active
    results.title = "Results"
    results.append(["Campaign", "Variant", "Clicks", "Cart views (micro)"])
    results.append(["Spring Sale", "A", 2000, 100])
    results.append([None, "B", 2000, 161])
    results.append(["Brand", "x", 500, 20])
    results.append([None, "y", 500, 30])
    results.merge_cells("A2:A3")
    results.merge_cells("A4:A5")
    path = tmp_path / "merged.xlsx"
    book.save(path)

    sheet = parse_workbook(read_local(str(path)))
    assert sheet.problems == ()
    assert [(spec.campaign, spec.variants) for spec in sheet.tests] == [
        ("Spring Sale", ("A", "B")),
        ("Brand", ("x", "y")),
    ]


def test_a_csv_saved_by_excel_on_windows_is_read_as_windows_1252(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("Campaign,Variant,Clicks,Käufe (macro)\r\nFrühling,A,10,1\r\nFrühling,B,10,2\r\n".encode("cp1252"))
    sheet = parse_workbook(read_local(str(path)))
    assert [(s.campaign, s.metrics[0].name) for s in sheet.tests] == [("Frühling", "Käufe")]
