"""Problems summarised: one kind per message without its quoted value, the first cells of each, and whether
they change what a verdict rests on."""

from __future__ import annotations

from analysis.models import Problem, TabReading
from bot.render.problems import (
    ProblemKind,
    changes_verdicts,
    heading,
    kind_line,
    problem_kinds,
    rows_left_out,
    short_cells,
    tab_of,
)
from tests.bot.slack.factories import report, result


def not_a_number(cell: str, value: str) -> Problem:
    return Problem(cell=cell, message=f'"{value}" is not a number; row left out')


def test_messages_that_differ_only_in_the_quoted_value_are_one_kind_most_frequent_first() -> None:
    problems = [
        Problem(cell="Results!C9", message="Clicks is empty; row left out"),
        *(not_a_number(f"Results!F{n}", f"1O{n}") for n in range(14, 282)),
        Problem(cell="Channels!C3", message="“0 9 * * 8” does not work: day of week 8 does not exist"),
    ]
    kinds = problem_kinds(problems)
    assert kinds == [
        ProblemKind("not a number", 268, ("Results!F14", "Results!F15", "Results!F16"), True),
        ProblemKind("Clicks is empty", 1, ("Results!C9",), True),
        ProblemKind("does not work: day of week 8 does not exist", 1, ("Channels!C3",), False),
    ]
    assert kind_line(kinds[0]) == "268 × not a number, row left out: Results!F14, F15, F16 …"
    assert kind_line(kinds[2], quote="`") == "1 × does not work: day of week 8 does not exist: `Channels!C3`"


def test_cells_name_their_tab_once_and_quoted_tabs_are_understood() -> None:
    assert short_cells(["Results!F14", "Results!F15", "'Black Friday'!B2", "'Black Friday'!B3", "State database"]) == (
        "Results!F14, F15, 'Black Friday'!B2, B3, State database"
    )
    assert tab_of("'Black Friday'!B2") == "Black Friday"
    assert tab_of("'It''s'!A1") == "It's"
    assert tab_of("Spring Sale · Audience test") is None


def test_the_heading_counts_cells_and_the_rows_they_left_out_in_agreement() -> None:
    assert heading([not_a_number("Results!F2", "x")]) == "1 cell needs a look (1 row left out)"
    two_in_one_row = [not_a_number("Results!E2", "x"), not_a_number("Results!F2", "y")]
    assert rows_left_out(two_in_one_row) == 1
    assert heading(two_in_one_row) == "2 cells need a look (1 row left out)"
    assert heading([Problem(cell="Results!A1", message="only one variant (A); there is nothing to compare yet")]) == (
        "1 cell needs a look"
    )


def test_rows_left_out_of_a_tested_tab_change_the_verdicts_and_other_problems_do_not() -> None:
    tested = TabReading(tab="Results", layout="hand-made layout", summary="Results: hand-made layout")
    left_out = report(result(), problems=(not_a_number("Results!F2", "x"),)).model_copy(update={"tabs": (tested,)})
    assert changes_verdicts(left_out)
    elsewhere = left_out.model_copy(update={"problems": (not_a_number("Notes!F2", "x"),)})
    assert not changes_verdicts(elsewhere)
    kept = left_out.model_copy(update={"problems": (Problem(cell="Results!F2", message="read as 0"),)})
    assert not changes_verdicts(kept)
    untested = left_out.model_copy(update={"tests": ()})
    assert not changes_verdicts(untested)
