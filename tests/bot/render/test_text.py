"""The terminal report: nothing cut at any width, a table when it fits, a summary first on large sheets."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.decision import DecisionSettings
from analysis.models import Problem, Report, SetupRow, Tab, TabReading
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from benchmarks.sheets import write_undated_sheet
from bot.deps import create_deps
from bot.render.text import SUMMARY_FROM, render_report, wrap
from bot.service import status_report
from bot.settings import Settings
from bot.sources.local import read_local


@pytest.fixture(scope="module")
def example():
    """The example with single totals called (MICROOPT_MIN_DAYS=1): every kind of verdict to lay out."""
    return status_report(create_deps(Settings(DATABASE_URL="sqlite:///:memory:", min_days=1)), record=False)


def test_figures_beside_a_verdict_speak_with_its_voice():
    """By default: no 'p 1.000' beside an open comparison (how far toward a call instead), no chance to beat,
    no range for a too-early comparison, and a range that says nothing is worded."""
    default = status_report(create_deps(Settings(DATABASE_URL="sqlite:///:memory:")), record=False)
    text = " ".join(render_report(default, 80).split())
    assert "p 1.000" not in text and not re.search(r"(?<!Last )chance (over|under|\d)", text)
    assert "B · Cart views (micro): too early 9% A 5.0% (100/2,000) B 8.1% (161/2,000) lift +61% likely —" in text
    assert "toward call 57%" in text  # the Daily tab's open sign-ups
    called = " ".join(
        render_report(
            status_report(create_deps(Settings(DATABASE_URL="sqlite:///:memory:", min_days=1)), record=False), 80
        ).split()
    )
    assert "likely too few to say" in called and "+1239%" not in called


@pytest.mark.parametrize("width", [40, 60, 80, 100, 160])
def test_no_line_is_wider_than_the_terminal_and_no_figure_or_name_is_cut(example, width):
    lines = render_report(example, width).splitlines()
    assert all(len(line) <= width or " " not in line.strip() for line in lines)
    for test in example.tests:
        for c in test.comparisons:
            for figure in (
                f"({c.control_conversions:,}/{c.control_visitors:,})",
                f"({c.variant_conversions:,}/{c.variant_visitors:,})",
                f"{c.metric} ({c.kind})",
            ):
                assert any(figure in line for line in lines), (width, figure)


def test_a_wide_terminal_shows_each_comparison_on_one_row(example):
    lines = render_report(example, 160).splitlines()
    row = next(line for line in lines if "(161/2,000)" in line)
    assert "(100/2,000)" in row and "Cart views (micro)" in row and "+61%" in row


def test_at_80_columns_a_comparison_is_stacked_with_every_figure_labelled(example):
    text = render_report(example, 80)
    assert "  B · Cart views (micro): better" in text
    assert "A 5.0% (100/2,000)  B 8.1% (161/2,000)  lift +61%" in text


def test_colour_only_when_asked(example):
    assert "\x1b[" not in render_report(example, 80)
    assert "\x1b[1;32mMove budget to B.\x1b[0m" in render_report(example, 80, color=True)


def test_a_large_sheet_opens_with_the_verdict_counts_and_the_tests_that_need_action(tmp_path):
    path = tmp_path / "many.csv"
    write_undated_sheet(path, tests=SUMMARY_FROM + 10, seed=2)
    report = analyse(parse_workbook(read_local(str(path))), source="many", settings=DecisionSettings(min_days=1))
    lines = render_report(report, 80).splitlines()
    start = lines.index("") + 1  # after the source and how each tab was read
    assert lines[start].startswith(f"{SUMMARY_FROM + 10} tests: ")
    assert lines[start + 1].startswith("Need action (")
    assert sum(line.startswith("Campaign ") for line in lines) >= len(report.tests)  # then every test in detail


def word_by_word(text: str, width: int, indent: str, first: str | None) -> list[str]:
    """The plain greedy wrap: add each word to the line while it fits, else start a line with it."""
    lines, line = [], indent if first is None else first
    bare = True
    for word in text.split():
        if not bare and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = indent + word
        else:
            line = line + word if bare else f"{line} {word}"
        bare = False
    return [*lines, line]


@settings(max_examples=500, deadline=None)
@given(
    text=st.text(st.sampled_from("ab ,\n\t·(1)"), max_size=120),
    width=st.integers(1, 40),
    indent=st.sampled_from(["", "  ", "    "]),
    first=st.sampled_from([None, "", "  ", "lead: "]),
)
def test_wrap_is_the_plain_greedy_wrap(text: str, width: int, indent: str, first: str | None) -> None:
    assert wrap(text, width, indent, first) == word_by_word(text, width, indent, first)


def test_wrap_never_breaks_a_word():
    assert wrap("a (100/2,000) b", 5) == ["a", "(100/2,000)", "b"]
    assert wrap("one two three", 80, "    ", first="  ") == ["  one two three"]
    assert wrap("one two three", 9, "    ", first="  ") == ["  one two", "    three"]


def test_an_empty_sheet_says_what_a_results_tab_needs_in_the_terminal_and_in_slack():
    from bot.render.blocks import render_status_messages
    from bot.sentences import NO_TESTS

    empty = Report(source="empty.csv", tests=(), problems=())
    terminal = " ".join(render_report(empty, 80, False).split())
    assert NO_TESTS in terminal
    assert any(NO_TESTS in str(message) for message in render_status_messages(empty))


# -- nothing tested: each tab's own sentence --------------------------------------------------------
EMPTY_FILE = "results.csv is empty: export the report again, with its header row and at least one row of numbers."
HEADER_ONLY = "Tab results has a header (Campaign, Variant, Clicks) but no rows: paste the rows under it."
NO_USABLE_TAB = (
    "Tab Ads has Ad set, Impressions, Reach: no traffic column (Clicks, Sessions…); did you mean Clciks? "
    "Add one, or name it in a Setup tab: Column = Clciks, Role = traffic."
)


def unread_tab(tab: str, summary: str, **fields) -> TabReading:
    return TabReading(tab=tab, layout="not read", read=False, summary=summary, **fields)


@pytest.mark.parametrize("sentence", [EMPTY_FILE, HEADER_ONLY, NO_USABLE_TAB])
def test_a_sheet_with_nothing_tested_shows_its_tabs_own_sentence_not_the_generic_one(sentence):
    from bot.sentences import NO_TESTS

    report = Report(source="results.csv", tests=(), problems=(), tabs=(unread_tab("results", sentence),))
    text = " ".join(render_report(report, 80).split())
    assert f"Nothing was tested: {sentence}" in text
    assert NO_TESTS not in text and "Read " not in text
    assert "Likely range and p" not in text  # the footnote explains figures, and there are none


def test_each_unread_tab_gets_its_line_and_read_tabs_keep_theirs():
    read = TabReading(tab="Meta", layout="Meta export", summary="Meta: Meta export · variant = Ad set name")
    report = Report(
        source="book.xlsx",
        tests=(),
        problems=(),
        tabs=(read, unread_tab("Ads", NO_USABLE_TAB), unread_tab("Notes", HEADER_ONLY)),
    )
    lines = render_report(report, 200).splitlines()
    assert "  Read Meta: Meta export · variant = Ad set name" in lines
    assert lines.index("Nothing was tested:") < lines.index(f"  {NO_USABLE_TAB}") < lines.index(f"  {HEADER_ONLY}")
    assert not any("Read Ads" in line for line in lines)


def test_a_csv_that_was_not_read_is_given_the_setup_file_that_would_read_it():
    rows = (SetupRow(column="Clciks", role="traffic"), SetupRow(column="Ad set, EU", role="variant"))
    reading = unread_tab("results", NO_USABLE_TAB, setup=rows)
    lines = render_report(Report(source="/data/results.csv", tests=(), problems=(), tabs=(reading,)), 120).splitlines()
    hint = next(i for i, line in enumerate(lines) if "--setup setup.csv" in line)
    assert lines[hint + 1 : hint + 4] == ["      Column,Role", "      Clciks,traffic", '      "Ad set, EU",variant']
    workbook = Report(source="book.xlsx", tests=(), problems=(), tabs=(reading,))
    assert "--setup" not in render_report(workbook, 120)  # a workbook has its own Setup tab


def test_a_campaign_that_matches_nothing_is_said_instead():
    from bot.sentences import no_match

    note = no_match("nosuch", ["Spring Sale", "Brand Search"])
    text = " ".join(render_report(Report(source="x.xlsx", tests=(), problems=()), 80, note=note).split())
    assert "No campaign or test matches “nosuch”. The campaigns in the sheet are “Spring Sale”, “Brand Search”." in text
    assert "No tests found" not in text


# -- problems: a count per kind, before the verdicts they change ----------------------------------------
def left_out(cell: str, value: str = "1O2") -> Problem:
    return Problem(cell=cell, message=f'"{value}" is not a number; row left out')


def test_problems_that_left_rows_out_of_a_tested_tab_come_first_as_counts_and_in_full_at_the_end(example):
    cells = [f"Results!F{n}" for n in range(14, 282)]
    report = example.model_copy(update={"problems": tuple(left_out(cell) for cell in cells)})
    lines = render_report(report, 100).splitlines()
    summary = lines.index("268 cells need a look (268 rows left out):")
    assert lines[summary + 1] == "  268 × not a number, row left out: Results!F14, F15, F16 …"
    first_verdict = next(i for i, line in enumerate(lines) if line.startswith("Spring Sale · Audience test"))
    every = lines.index("Every cell that needs a look:")
    assert summary < first_verdict < every
    assert lines[every + 1 : every + 269] == [f'  {cell}: "1O2" is not a number; row left out' for cell in cells]


def test_problems_that_do_not_touch_a_tested_arm_come_after_the_verdicts(example):
    notes = tuple(Problem(cell=f"Channels!C{n}", message=f'"{n} 9 * * *" does not work') for n in range(2, 7))
    lines = render_report(example.model_copy(update={"problems": notes}), 100).splitlines()
    first_verdict = next(i for i, line in enumerate(lines) if line.startswith("Spring Sale · Audience test"))
    summary = lines.index("5 cells need a look:")
    assert first_verdict < summary
    assert lines[summary + 1] == "  5 × does not work: Channels!C2, C3, C4 …"


def test_a_few_problems_are_listed_whole_once():
    report = Report(source="x.csv", tests=(), problems=(left_out("x!D4"),))
    text = render_report(report, 80)
    assert text.count('x!D4: "1O2" is not a number; row left out') == 1
    assert "1 cell needs a look (1 row left out):" in text and "Every cell" not in text


def test_a_title_never_ends_a_line_on_its_separator():
    from bot.render.text import wrap_title

    assert wrap_title("Black Friday · Audience test: Move budget to B.", 14) == [
        "Black Friday",
        "· Audience",
        "test: Move",
        "budget to B.",
    ]
    for width in range(10, 60):
        assert not any(line.rstrip().endswith("·") for line in wrap_title("Black Friday · Audience test", width))


def test_a_tab_not_tested_beside_tested_ones_still_says_why(example):
    tabs = (*example.tabs, unread_tab("Notes", HEADER_ONLY))
    lines = render_report(example.model_copy(update={"tabs": tabs}), 200).splitlines()
    assert f"  Not tested: {HEADER_ONLY}" in lines
    assert lines.index(f"  Not tested: {HEADER_ONLY}") < lines.index("")  # with how the other tabs were read


def test_a_tab_that_was_not_read_says_its_sentence_once_not_again_among_the_problems():
    tab = Tab("typos", [["Campaign", "Varient", "Clciks", "Cart views (mirco)"], ["Spring", "A", 100, 5]])
    report = analyse(parse_workbook([tab]), source="typos.csv")
    (reading,) = report.tabs
    assert not reading.read and any(p.message == reading.summary for p in report.problems)  # JSON keeps both
    text = " ".join(render_report(report, 400).split())
    assert text.count("(did you mean Variant for Varient") == 1
    assert "cell needs a look" not in text
