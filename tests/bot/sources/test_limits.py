"""A read takes at most MICROOPT_MAX_ROWS rows and MICROOPT_MAX_CELLS cells of a sheet, shared fairly between its
tabs, from every source: a CSV and an .xlsx stop reading at the limit, a Google Sheet is asked for that range
alone (the Sheets API stand-in serves no more), and a cut tab says so in one sentence naming it and the limit."""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from analysis.reading.workbook import parse_workbook
from bot.settings import Settings
from bot.sources import read_tabs
from bot.sources.limits import Budget, ReadLimit, Share, plan, take
from bot.sources.local import read_local
from tests.bot.sources.conftest import EMAIL, KEY

HEADER = ["Campaign", "Test", "Variant", "Visitors", "Cart views (micro)"]
CHANNELS = [["Campaign", "Channel"], *([f"Campaign {n}", f"#c{n}"] for n in range(40))]


def results(tests: int) -> list[list[object]]:
    """`tests` two-variant tests, one row per arm: 2 × tests rows under the header."""
    return [HEADER] + [
        [f"Campaign {t // 4}", f"Test {t % 4}", variant, 1000, 50 + (t % 7) + 5 * (variant == "B")]
        for t in range(tests)
        for variant in ("A", "B")
    ]


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def settings(**limits: int) -> Settings:
    return Settings(_env_file=None, **limits)  # type: ignore[call-arg]


def spoken(text: str) -> str:
    return " ".join(text.split())


# -- the shares ---------------------------------------------------------------------------------------------
def test_small_tabs_are_read_whole_and_the_big_one_gets_the_rest_of_the_rows():
    sizes = [(10_000, 5), (41, 2), (5, 3)]  # Results, Channels, Setup, as their grids say
    assert plan(sizes, ReadLimit(rows=1_000, cells=10**9)) == [954, 41, 5]


def test_the_cells_limit_cuts_a_wide_tab_to_the_rows_that_fit():
    sizes = [(10_000, 20), (41, 2)]
    [results_rows, channels_rows] = plan(sizes, ReadLimit(rows=10**9, cells=10_000))
    assert channels_rows == 41
    assert results_rows == (10_000 - 41 * 2) // 20


@given(
    st.lists(st.tuples(st.integers(0, 5_000), st.integers(1, 40)), min_size=1, max_size=8),
    st.integers(1, 20_000),
    st.integers(1, 200_000),
)
def test_a_plan_never_asks_for_more_than_the_limits_or_a_tab_has(sizes, rows, cells):
    asked = plan(sizes, ReadLimit(rows=rows, cells=cells))
    assert sum(asked) <= rows
    assert sum(n * columns for n, (_, columns) in zip(asked, sizes, strict=True)) <= cells
    assert all(0 <= n <= grid for n, (grid, _) in zip(asked, sizes, strict=True))
    # A tab within an equal share of both limits is read whole.
    for n, (grid, columns) in zip(asked, sizes, strict=True):
        if grid <= rows // len(sizes) and grid * columns <= cells // len(sizes):
            assert n == grid


def test_take_keeps_what_fits_and_only_says_more_when_something_is_past_it():
    rows = [["a", 1], ["b", 2], ["c", 3], ["", None], [" ", ""]]
    assert take(rows, Share(rows=3, cells=100)).more is False  # only blank rows past the share
    cut = take(rows, Share(rows=2, cells=100))
    assert cut.rows == [["a", 1], ["b", 2]] and cut.cells == 4 and cut.more
    assert take(rows, Share(rows=10, cells=5)).rows == [["a", 1], ["b", 2]]


def test_a_budget_gives_each_tab_an_equal_share_of_what_is_left():
    budget = Budget(ReadLimit(rows=900, cells=9_000), tabs=3)
    assert budget.share() == Share(300, 3_000)
    budget.spend(rows=10, cells=40)  # a small tab took what it had
    assert budget.share() == Share(445, 4_480)


# -- local files --------------------------------------------------------------------------------------------
def test_a_csv_past_the_limit_is_read_to_it_and_says_so_in_one_sentence(tmp_path: Path):
    path = write_csv(tmp_path / "export.csv", results(3_000))  # 6,001 rows

    [tab] = read_tabs(str(path), settings(MICROOPT_MAX_ROWS=1_000))

    assert len(tab.rows) == 1_000 and tab.rows[-1] == [*results(3_000)[999][:3], "1000", str(results(3_000)[999][4])]
    assert tab.note is not None
    data = parse_workbook([tab])
    assert str(data.problems[0]) == (
        "export: only its first 1,000 rows were read, as microopt reads at most 1,000 rows and 1,000,000 cells "
        "of a sheet at a time (MICROOPT_MAX_ROWS, MICROOPT_MAX_CELLS), so rows 1,001 and below are in no "
        "verdict: move finished tests' rows out of the sheet, or raise the limits where the machine has the memory"
    )
    assert len(data.tests) == 499  # the 500th test's B arm is past the cut: it has nothing to compare yet


def test_a_csv_within_the_limit_or_with_only_blank_lines_past_it_is_read_whole_without_a_note(tmp_path: Path):
    rows = results(499)  # 999 rows
    path = write_csv(tmp_path / "export.csv", [*rows, [], ["", ""], []])

    [tab] = read_tabs(str(path), settings(MICROOPT_MAX_ROWS=999))

    assert len(tab.rows) == 999 and tab.note is None


def test_without_a_limit_a_local_read_takes_every_row(tmp_path: Path):
    path = write_csv(tmp_path / "export.csv", results(60_000))

    [tab] = read_local(str(path))

    assert len(tab.rows) == 120_001 and tab.note is None


def test_an_xlsx_reads_its_small_tabs_whole_and_cuts_the_big_one_whichever_comes_first(tmp_path: Path):
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Results"
    for row in results(2_000):
        sheet.append(row)
    channels = book.create_sheet("Channels")
    for row in CHANNELS:
        channels.append(row)
    path = tmp_path / "book.xlsx"
    book.save(path)

    tabs = read_tabs(str(path), settings(MICROOPT_MAX_ROWS=1_000))

    assert [t.name for t in tabs] == ["Results", "Channels"]  # the sheet's order, whatever order they were read in
    assert len(tabs[1].rows) == len(CHANNELS) and tabs[1].note is None
    assert len(tabs[0].rows) == 1_000 - len(CHANNELS)
    assert tabs[0].note is not None and f"only its first {1_000 - len(CHANNELS):,} rows were read" in tabs[0].note
    data = parse_workbook(tabs)
    assert len(data.channels) == 40  # the access list is whole


# -- a Google Sheet -----------------------------------------------------------------------------------------
def test_a_google_sheet_is_asked_for_the_rows_the_limit_allows_and_no_more(sheets_api, make_settings):
    sheets_api.add_spreadsheet(
        KEY, {"Results": results(25_000), "Channels": CHANNELS}, shared_with={EMAIL: "reader"}
    )  # 50,001 rows: a grid of 50,001 x 26

    tabs = read_tabs(KEY, make_settings(max_rows=10_000))

    [batch_get] = sheets_api.calls_to("batchGet")
    assert batch_get.params["ranges"] == [f"'Results'!1:{10_000 - 1_000 + 1}", "'Channels'"]
    assert sheets_api.rows_served == 10_000 - 1_000 + 1 + len(CHANNELS)  # nothing past the share left Google
    results_tab, channels_tab = tabs
    assert len(results_tab.rows) == 9_000 and channels_tab.note is None and len(channels_tab.rows) == len(CHANNELS)
    assert "Results: " + str(results_tab.note) == str(parse_workbook(tabs).problems[0])
    assert "only its first 9,000 rows were read" in spoken(str(results_tab.note))


def test_a_google_sheet_within_the_limit_is_asked_for_whole_tabs(sheets_api, make_settings):
    sheets_api.add_spreadsheet(KEY, {"Results": results(10), "Channels": CHANNELS}, shared_with={EMAIL: "reader"})

    tabs = read_tabs(KEY, make_settings())

    assert sheets_api.calls_to("batchGet")[0].params["ranges"] == ["'Results'", "'Channels'"]
    assert all(tab.note is None for tab in tabs)


def test_a_range_the_cells_limit_cuts_to_the_grid_width(sheets_api, make_settings):
    sheets_api.add_spreadsheet(KEY, {"Results": results(1_000)}, shared_with={EMAIL: "reader"})

    [tab] = read_tabs(KEY, make_settings(max_cells=26 * 500))  # a grid 26 columns wide: 500 rows of it

    assert sheets_api.calls_to("batchGet")[0].params["ranges"] == ["'Results'!1:501"]
    assert len(tab.rows) == 500 and tab.note is not None
