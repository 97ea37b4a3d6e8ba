"""A Setup tab kept in its own CSV: read with the local CSV reader, added to the sheet's tabs, merged with the
sheet's own Setup tab (the file's row wins for the same column), and one sentence when it cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.models import Tab
from analysis.reading.workbook import parse_workbook
from bot.errors import SheetUnavailable
from bot.sources.setup_file import read_setup_file, with_setup

RESULTS = Tab(
    "results",
    [
        ["Campaign", "Cohort", "Visits", "Signups", "Trials"],
        ["Spring", "A", 2000, 100, 30],
        ["Spring", "B", 2000, 161, 20],
    ],
)


def setup_file(tmp_path: Path, text: str, name: str = "setup.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_file_becomes_the_setup_tab_in_column_role_tab_order_whatever_its_own(tmp_path: Path) -> None:
    spec = setup_file(tmp_path, "Notes,Role,Column\nwhy,variant,Cohort\n,traffic,Visits\n,macro,Signups\n")
    setup = read_setup_file(spec)
    assert setup == Tab(
        "Setup",
        [
            ["Column", "Role", "Tab"],
            ["Cohort", "variant", None],
            ["Visits", "traffic", None],
            ["Signups", "macro", None],
        ],
    )
    data = parse_workbook(with_setup([RESULTS], setup))
    assert [(t.campaign, t.variants, t.metric_names) for t in data.tests] == [("Spring", ("A", "B"), ("Signups",))]
    assert parse_workbook([RESULTS]).tests == ()  # without it, nothing in the tab says which column is which


def test_the_files_row_wins_over_the_sheets_setup_tab_for_the_same_column(tmp_path: Path) -> None:
    sheet_setup = Tab(
        "Setup",
        [
            ["Role", "Column"],
            ["variant", "Cohort"],
            ["traffic", "Visits"],
            ["macro", "Trials"],
            ["micro", "Signups"],
        ],
    )
    setup = read_setup_file(setup_file(tmp_path, "Column,Role\nSignups,macro\nTrials,ignore\n"))
    merged = with_setup([RESULTS, sheet_setup], setup)
    assert [tab.name for tab in merged] == ["results", "Setup"]
    assert merged[1].rows == [
        ["Column", "Role", "Tab"],
        ["Cohort", "variant", None],
        ["Visits", "traffic", None],
        ["Signups", "macro", None],
        ["Trials", "ignore", None],
    ]
    [test] = parse_workbook(merged).tests
    assert [(m.name, m.kind) for m in test.metrics] == [("Signups", "macro")]


def test_a_row_for_one_tab_replaces_only_that_tabs_row(tmp_path: Path) -> None:
    sheet_setup = Tab("Setup", [["Column", "Role", "Tab"], ["Visits", "traffic", "results"], ["Visits", "ignore", ""]])
    setup = read_setup_file(setup_file(tmp_path, "Column,Role,Tab\nvisits,traffic,Other\n"))
    merged = with_setup([RESULTS, sheet_setup], setup)
    assert merged[1].rows[1:] == [
        ["Visits", "traffic", "results"],
        ["Visits", "ignore", ""],
        ["visits", "traffic", "Other"],
    ]


def test_a_sheet_setup_tab_without_column_and_role_is_kept_for_its_own_problem(tmp_path: Path) -> None:
    broken = Tab("Setup", [["Field", "Meaning"], ["Cohort", "variant"]])
    setup = read_setup_file(setup_file(tmp_path, "Column,Role\nCohort,variant\nVisits,traffic\nSignups,macro\n"))
    merged = with_setup([RESULTS, broken], setup)
    assert merged == [RESULTS, broken, setup]
    data = parse_workbook(merged)
    assert len(data.tests) == 1
    assert [str(p) for p in data.problems] == ["Setup!A1: the Setup tab needs a Column and a Role column"]


@pytest.mark.parametrize(
    ("name", "text", "sentence"),
    [
        (None, None, "No Setup file at {path}: give --setup (or MICROOPT_SETUP) a .csv whose first row is Column,Role"),
        (
            "setup.xlsx",
            "x",
            "The Setup file setup.xlsx is not a .csv: save it as a .csv whose first row is Column,Role",
        ),
        (
            "setup.csv",
            "Field,Meaning\nCohort,variant\n",
            "The Setup file setup.csv starts with Field, Meaning: it needs",
        ),
        ("setup.csv", "", "The Setup file setup.csv starts with nothing: it needs to be a .csv whose first row is"),
    ],
)
def test_a_setup_file_that_cannot_be_used_is_one_sentence_naming_it(tmp_path: Path, name, text, sentence) -> None:
    path = tmp_path / (name or "missing.csv")
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SheetUnavailable) as raised:
        read_setup_file(str(path))
    assert str(raised.value).startswith(sentence.format(path=path))
    assert "\n" not in str(raised.value)


def test_a_binary_setup_file_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "setup.csv"
    path.write_bytes(b"Column,Role\x00\x00\x01")
    with pytest.raises(SheetUnavailable, match=r"^Could not read the Setup file setup\.csv: save it again as a \.csv"):
        read_setup_file(str(path))
