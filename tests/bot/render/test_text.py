"""The terminal report: nothing cut at any width, a table when it fits, a summary first on large sheets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    return status_report(create_deps(Settings(DATABASE_URL="sqlite:///:memory:")), record=False)


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
    report = analyse(parse_workbook(read_local(str(path))), source="many")
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
    from analysis.models import Report
    from bot.render.blocks import render_status_messages
    from bot.sentences import NO_TESTS

    empty = Report(source="empty.csv", tests=(), problems=())
    terminal = " ".join(render_report(empty, 80, False).split())
    assert NO_TESTS in terminal
    assert any(NO_TESTS in str(message) for message in render_status_messages(empty))
