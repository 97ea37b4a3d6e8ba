"""The terminal report: a verdict first, then the numbers behind it, at any width from about 40 columns.

Plain strings, wrapped here: no number, metric name or variant name is ever cut. A comparison is one row of
a table when the table fits the width, and stacked on a few lines (fields broken between, never inside)
when it does not. A sheet of many tests starts with the verdict counts and the tests that need action.
Colour is ANSI codes, only when asked for (a terminal, and NO_COLOR unset).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from analysis.models import Comparison, Problem, Report, TestResult
from analysis.verdict_words import uninformative
from analysis.wording import percent, signed_percent
from bot.render.problems import beside_tabs, changes_verdicts, kind_line, problem_kinds
from bot.render.problems import heading as problem_heading
from bot.render.untested import is_single_file, setup_csv, unread
from bot.sentences import NO_TESTS, counted

DEFAULT_WIDTH = 80
# From this many tests the report opens with a summary, and lists at most ACTION_LINES tests needing action.
SUMMARY_FROM = 50
ACTION_LINES = 30
GAP = "  "
VERDICT_ORDER = ("move_budget", "conflict", "check_tracking", "no_difference", "keep_running")
VERDICT_WORDS = {
    "move_budget": "move budget",
    "conflict": "conflict",
    "check_tracking": "check tracking",
    "no_difference": "no difference (stop)",
    "keep_running": "keep running",
}
NEEDS_ACTION = frozenset({"move_budget", "conflict", "check_tracking", "no_difference"})
STYLES = {
    "bold": "1",
    "dim": "2",
    "alert": "1;31",
    "move_budget": "1;32",
    "keep_running": "1;33",
    "no_difference": "1;34",
    "conflict": "1;35",
    "check_tracking": "1;31",
}
DECISION_WORDS = {
    "better": "better",
    "worse": "worse",
    "no_difference": "no diff.",
    "keep_running": "running",
    "too_early": "too early",
}
FOOTNOTE = (
    "Likely range and p: the decision's own, valid however often the sheet is looked at (p adjusted for "
    "several variants); a call is final, with its day, and the figures after it are later data. While a "
    "comparison is open, 'toward call' is how far its evidence is toward a call at this look (100% calls); "
    "the % after 'running' is how much of the planned sample is in."
)


def wrap(text: str, width: int, indent: str = "", first: str | None = None) -> list[str]:
    """Greedy word wrap that never breaks a word (a word longer than the line stands alone on it): each line
    is cut at the last space that fits, found by `rfind` rather than word by word (a report of 60,000 tests
    wraps 240,000 paragraphs)."""
    rest = " ".join(text.split())
    prefix = indent if first is None else first
    lines: list[str] = []
    while len(prefix) + len(rest) > width:
        cut = rest.rfind(" ", 0, max(width - len(prefix) + 1, 0))
        if cut < 0:  # the first word is longer than the line: it stands alone
            cut = rest.find(" ")
            if cut < 0:
                break
        lines.append(prefix + rest[:cut])
        rest, prefix = rest[cut + 1 :], indent
    lines.append(prefix + rest)
    return lines


# Joins a title's separator to the word after it, so that no line ends in "Black Friday ·".
_GLUE = "\ue000"


def wrap_title(text: str, width: int, indent: str = "", first: str | None = None) -> list[str]:
    """`wrap`, with each ` · ` of a title kept at the start of a line, never left dangling at the end of one."""
    glued = " ".join(text.split()).replace(" · ", f" ·{_GLUE}")
    return [line.replace(_GLUE, " ") for line in wrap(glued, width, indent, first)]


def _fields(fields: Iterable[str], width: int, indent: str) -> list[str]:
    """Fields joined by two spaces, broken between fields; a field too long for a line wraps by words."""
    lines: list[str] = []
    line = ""
    for item in fields:
        if line and len(line) + len(GAP) + len(item) <= width:
            line += GAP + item
            continue
        if line:
            lines.append(line)
        if len(indent) + len(item) <= width:
            line = indent + item
        else:
            *full, line = wrap(item, width, indent)
            lines.extend(full)
    if line:
        lines.append(line)
    return lines


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        return f"\x1b[{STYLES[style]}m{text}\x1b[0m" if self.color and text else text


def _range(low: float | None, high: float | None) -> str:
    return f"{signed_percent(low)} to {signed_percent(high)}" if low is not None and high is not None else "—"


def _p_value(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _toward_call(c: Comparison) -> str:
    """The decision's p once called; while open, how far the evidence is toward a call ('62%')."""
    if c.call is not None:
        return f"p {_p_value(c.adjusted_p_value if c.adjusted_p_value is not None else 1.0)}"
    return f"{min(c.evidence, 0.99) * 100:.0f}%" if c.evidence is not None else "—"


def _range_cell(c: Comparison) -> str:
    low, high = c.decision_ci
    if c.decision == "too_early":  # nothing shows yet how much the rates swing: no range to stand on
        return "—"
    return "too few to say" if uninformative(low, high) else _range(low, high)


def _decision(c: Comparison) -> str:
    words = DECISION_WORDS[c.decision]
    if c.called_on is not None:
        words += f" {c.called_on:%-d %b}"
    if c.information_fraction is not None and c.call is None:
        words += f" {min(c.information_fraction, 9.99) * 100:.0f}%"
    return words


def _cells(c: Comparison) -> tuple[str, ...]:
    return (
        c.variant,
        f"{c.metric} ({c.kind})" + (" *" if c.fractional else ""),
        f"{percent(c.control_rate)} ({c.control_conversions:,}/{c.control_visitors:,})",
        f"{percent(c.variant_rate)} ({c.variant_conversions:,}/{c.variant_visitors:,})",
        signed_percent(c.lift) if c.lift is not None else "—",
        _range_cell(c),
        _toward_call(c),
        _decision(c),
    )


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], width: int, paint: _Painter) -> list[str] | None:
    """Aligned columns (the first two left, the rest right), or None when they do not fit `width`."""
    sizes = [max(map(len, column)) for column in zip(header, *rows, strict=True)]
    if sum(sizes) + len(GAP) * (len(sizes) - 1) > width:
        return None

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.ljust(size) if i < 2 else cell.rjust(size)
            for i, (cell, size) in enumerate(zip(row, sizes, strict=True))
        ]
        return GAP.join(cells).rstrip()

    return [paint(line(header), "dim"), *(line(row) for row in rows)]


def _stacked(test: TestResult, rows: list[tuple[str, ...]], width: int) -> list[str]:
    """One comparison per block: what it is and its decision, then its figures, each labelled."""
    lines: list[str] = []
    for variant, metric, control, rate, lift, likely, toward, decision in rows:
        lines.extend(wrap(f"{variant} · {metric}: {decision}", width, "    ", first="  "))
        figures = (
            f"{test.control} {control}",
            f"{variant} {rate}",
            f"lift {lift}",
            f"likely {likely}",
            toward if toward.startswith("p ") else f"toward call {toward}",
        )
        lines.extend(_fields(figures, width, "    "))
    return lines


def _numbers(test: TestResult, width: int, paint: _Painter) -> list[str]:
    header = ("variant", "metric", test.control, "variant rate", "lift", "likely range", "toward call", "decision")
    rows = [_cells(c) for c in test.comparisons]
    if not rows:
        return []
    return _table(header, rows, width, paint) or _stacked(test, rows, width)


FRACTIONAL_NOTE = "* fractional conversions (an attribution model's credit): see docs/methodology.md"


def render_test(test: TestResult, width: int = DEFAULT_WIDTH, color: bool = False) -> list[str]:
    paint = _Painter(color)
    note = wrap(FRACTIONAL_NOTE, width) if any(c.fractional for c in test.comparisons) else []
    return [
        *(paint(line, "bold") for line in wrap_title(test.title, width)),
        *(paint(line, test.verdict) for line in wrap(test.headline, width)),
        *wrap(test.summary, width),
        *_numbers(test, width, paint),
        *(paint(line, "dim") for line in note),
        "",
    ]


def _overview(tests: tuple[TestResult, ...], width: int, paint: _Painter) -> list[str]:
    """Verdict counts, then the running tests that need action (at most ACTION_LINES of them)."""
    counts: Counter[str] = Counter(t.verdict for t in tests)
    parts = [f"{counts[code]:,} {VERDICT_WORDS[code]}" for code in VERDICT_ORDER if counts[code]]
    lines = [paint(line, "bold") for line in wrap(f"{counted(len(tests), 'test')}: " + ", ".join(parts) + ".", width)]
    action = [t for t in tests if t.verdict in NEEDS_ACTION and t.status == "running"]
    action.sort(key=lambda t: VERDICT_ORDER.index(t.verdict))
    if action:
        lines.append(f"Need action ({len(action):,}):")
        for t in action[:ACTION_LINES]:
            lines.extend(wrap_title(f"{t.title}: {t.headline}", width, "    ", first="  "))
        if len(action) > ACTION_LINES:
            lines.append(f"  … and {len(action) - ACTION_LINES:,} more; every test follows in detail.")
    lines.append("")
    return lines


def render_report(report: Report, width: int = DEFAULT_WIDTH, color: bool = False, note: str | None = None) -> str:
    """The whole report as text lines at most `width` long (save a single word longer than that)."""
    return "".join(report_text(report, width, color, note))


def report_text(
    report: Report, width: int = DEFAULT_WIDTH, color: bool = False, note: str | None = None
) -> Iterator[str]:
    """`render_report` a piece at a time (a test, a section), so that a terminal gets it as it is made and the
    text of 60,000 tests never exists whole. `note` says why no test is shown when the sheet has some (a
    `--campaign` that matches none)."""
    paint = _Painter(color)
    lines = [paint(line, "dim") for line in wrap(f"microopt · {report.source}", width)]
    if report.as_of:
        lines.append(paint(f"As of {report.as_of.isoformat()}", "dim"))
    for reading in report.tabs:
        if reading.read:
            lines.extend(paint(line, "dim") for line in wrap(f"Read {reading.summary}", width, "  "))
    if report.tests:  # beside the tabs that were read, those that were not, each with its sentence
        for reading in unread(report.tabs):
            lines.extend(wrap(f"Not tested: {reading.summary}", width, "    ", first="  "))
    lines.append("")
    if not report.tests:
        lines.extend(_untested(report, note, width, paint))
    problems = beside_tabs(report)
    problems_first = bool(problems) and (not report.tests or changes_verdicts(report))
    if problems_first:
        lines.extend(_problems(problems, width, paint))
    if len(report.tests) >= SUMMARY_FROM:
        lines.extend(_overview(report.tests, width, paint))
    yield _joined(lines)
    for test in report.tests:
        if test.status == "running":
            yield _joined(render_test(test, width, color))
    lines = []
    resting = [test for test in report.tests if test.status != "running"]
    if resting:
        lines.append(paint("Paused or done (not in digests):", "bold"))
        for t in resting:
            lines.extend(wrap_title(f"{t.title} ({t.status}): {t.headline}", width, "    ", first="  "))
        lines.append("")
    if problems and not problems_first:
        lines.extend(_problems(problems, width, paint))
    if len(problems) > LISTED_WITH_SUMMARY:
        lines.extend(paint(line, "bold") for line in wrap(EVERY_PROBLEM, width))
        lines.extend(_problem_list(problems, width))
        lines.append("")
    if report.proxies:
        lines.extend(paint(line, "bold") for line in wrap(PROXIES_HEADING, width))
        for proxy in report.proxies:
            correlation = (
                f"; lifts correlate {proxy.correlation:.2f} across {counted(proxy.correlation_tests, 'test')} "
                "(noise removed)"
                if proxy.correlation is not None
                else f"; too few or too noisy tests for a correlation ({proxy.correlation_tests})"
            )
            text = (
                f"{proxy.micro} → {proxy.macro}: same direction in {proxy.agreeing_tests} of "
                f"{proxy.finished_tests} finished tests{correlation}"
            )
            lines.extend(wrap(text, width, "    ", first="  "))
        lines.append("")
    if report.tests:
        lines.extend(paint(line, "dim") for line in wrap(FOOTNOTE, width))
    yield _joined(lines)


def _untested(report: Report, note: str | None, width: int, paint: _Painter) -> list[str]:
    """Why no test is shown: `note`, else each unread tab's sentence (with the `--setup` lines that would read
    a CSV), else the generic sentence."""
    if note:
        return [*(paint(line, "alert") for line in wrap(note, width)), ""]
    readings = unread(report.tabs)
    if not readings:
        return [*(paint(line, "alert") for line in wrap(NO_TESTS, width)), ""]
    lines = [paint(line, "alert") for line in wrap(NOTHING_TESTED, width)]
    for reading in readings:
        lines.extend(wrap(reading.summary, width, "    ", first="  "))
        if reading.setup and is_single_file(report.source):
            lines.extend(wrap(SETUP_FILE_HINT, width, "    ", first="    "))
            lines.extend(f"      {line}" for line in setup_csv(reading.setup).splitlines())
    lines.append("")
    return lines


def _problems(problems: tuple[Problem, ...], width: int, paint: _Painter) -> list[str]:
    """A count per kind with its first cells; a few problems are listed whole instead."""
    lines = [paint(line, "alert") for line in wrap(problem_heading(problems) + ":", width)]
    if len(problems) <= LISTED_WITH_SUMMARY:
        lines.extend(_problem_list(problems, width))
    else:
        for kind in problem_kinds(problems):
            lines.extend(wrap(kind_line(kind), width, "    ", first="  "))
    lines.append("")
    return lines


def _problem_list(problems: tuple[Problem, ...], width: int) -> list[str]:
    return [line for problem in problems for line in wrap(str(problem), width, "    ", first="  ")]


def _joined(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


# Up to this many problems are listed whole where they are summarised; past it, a count per kind, and the full
# list at the end of the report.
LISTED_WITH_SUMMARY = 3
EVERY_PROBLEM = "Every cell that needs a look:"
NOTHING_TESTED = "Nothing was tested:"
SETUP_FILE_HINT = "To read it as it is, save these lines as setup.csv and run again with --setup setup.csv:"
PROXIES_HEADING = "How well micro metrics have tracked macro metrics in this sheet:"
