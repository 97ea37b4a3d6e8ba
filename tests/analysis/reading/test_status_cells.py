"""The Status cells of a test: set to `done`, the reader calls that test done and no other."""

from __future__ import annotations

import copy

from analysis.models import Tab
from analysis.reading.status_cells import status_cells, status_cells_of
from analysis.reading.workbook import parse_workbook

HEADER = ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)", "Purchases (macro)", "Status"]
UNDATED = Tab(
    "Results",
    [
        HEADER,
        ["Spring Sale", "Audience", "A", 2000, 100, 8, "running"],
        ["Spring Sale", "Audience", "B", 2000, 161, 11, ""],
        [" Spring  Sale", "Ad copy", "Free shipping", 3100, 118, 9, "live"],
        ["Spring Sale", "Ad copy", "20% off", 3050, 127, 10, None],
    ],
)


def statuses(tabs: list[Tab]) -> dict[tuple[str, str], str]:
    return {(spec.campaign, spec.test): spec.status for spec in parse_workbook(tabs).tests}


def set_done(tabs: list[Tab], campaign: str, test: str) -> list[Tab]:
    changed = {tab.name: copy.deepcopy(tab.rows) for tab in tabs}
    for cell in status_cells(tabs, campaign, test):
        row = changed[cell.tab][cell.row]
        row.extend([None] * (cell.column + 1 - len(row)))
        row[cell.column] = "done"
    return [Tab(tab.name, changed[tab.name], tab.locale) for tab in tabs]


def test_every_row_of_an_undated_test_and_no_other() -> None:
    cells = status_cells([UNDATED], "Spring Sale", "Audience")
    assert [(c.tab, c.row, c.column, c.value) for c in cells] == [("Results", 1, 6, "running"), ("Results", 2, 6, "")]
    assert statuses(set_done([UNDATED], "Spring Sale", "Audience")) == {
        ("Spring Sale", "Audience"): "done",
        ("Spring Sale", "Ad copy"): "running",
    }


def test_names_as_the_reader_reads_them() -> None:
    assert [c.row for c in status_cells([UNDATED], "Spring Sale ", "Ad  copy")] == [3, 4]
    assert status_cells([UNDATED], "spring sale", "Ad copy") == []  # another campaign to the reader too


def test_the_latest_date_across_tabs_of_a_dated_test() -> None:
    header = ["Date", *HEADER]
    march = Tab(
        "March",
        [
            header,
            ["2026-03-01", "Spring Sale", "Audience", "A", 1000, 50, 4, "running"],
            ["2026-03-01", "Spring Sale", "Audience", "B", 1000, 80, 5, "running"],
        ],
    )
    april = Tab(
        "April",
        [
            ["Notes about April"],
            header,
            ["2026-04-01", "Spring Sale", "Audience", "A", 1000, 50, 4, "paused"],
            ["2026-04-01", "Spring Sale", "Audience", "B", 1000, 81, 6, "paused"],
        ],
    )
    cells = status_cells([march, april], "Spring Sale", "Audience")
    assert [(c.tab, c.row, c.value) for c in cells] == [("April", 2, "paused"), ("April", 3, "paused")]
    assert statuses(set_done([march, april], "Spring Sale", "Audience")) == {("Spring Sale", "Audience"): "done"}


def test_a_test_without_a_test_column_and_tabs_without_a_status_column() -> None:
    one_test = Tab(
        "Results",
        [["Campaign", "Variant", "Visitors", "Signups (macro)", "Status"], ["Q4", "A", 10, 1], ["Q4", "B", 10, 2]],
    )
    assert [(c.row, c.column, c.value) for c in status_cells([one_test], "Q4", "")] == [(1, 4, None), (2, 4, None)]
    assert statuses(set_done([one_test], "Q4", "")) == {("Q4", ""): "done"}
    no_status = Tab("Results", [HEADER[:-1], ["Spring Sale", "Audience", "A", 2000, 100, 8]])
    assert status_cells([no_status], "Spring Sale", "Audience") == []
    decisions = Tab("Decisions", [HEADER, ["Spring Sale", "Audience", "A", 1, 1, 1, "done"]])
    assert status_cells([decisions], "Spring Sale", "Audience") == []


def test_several_tests_at_once_are_each_found_as_alone() -> None:
    tests = [("Spring Sale", "Audience"), ("Spring Sale", "Ad copy"), ("Nowhere", "")]
    together = status_cells_of([UNDATED], tests)
    assert together == {key: status_cells([UNDATED], *key) for key in tests}
    assert [len(together[key]) for key in tests] == [2, 2, 0]
