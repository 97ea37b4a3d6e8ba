"""The terminal report: a verdict first, then the numbers behind it."""

from __future__ import annotations

import statistics

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from analysis.models import Backtest, BacktestComparison, Comparison, Report, TestResult
from analysis.wording import chance, money, percent, plural, signed_percent

VERDICT_STYLES = {
    "move_budget": "bold green",
    "keep_running": "bold yellow",
    "no_difference": "bold blue",
    "conflict": "bold magenta",
    "check_tracking": "bold red",
}


def _range(low: float | None, high: float | None) -> str:
    return f"{signed_percent(low)} to {signed_percent(high)}" if low is not None and high is not None else "—"


def _p_value(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


DECISION_WORDS = {
    "better": "better",
    "worse": "worse",
    "no_difference": "no diff.",
    "keep_running": "running",
    "too_early": "too early",
}


def _when_called(c: Comparison) -> str:
    if c.called_on is None:
        return ""
    return f" {c.called_on:%-d %b}"


def _progress(c: Comparison) -> str:
    if c.information_fraction is None or c.call is not None:
        return ""
    return f" {min(c.information_fraction, 9.99) * 100:.0f}%"


def _numbers(test: TestResult) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="dim")
    columns = ("variant", "metric", test.control, "variant rate", "lift", "likely range", "p", "chance", "decision")
    for column in columns:
        table.add_column(escape(column), justify="left" if column in ("variant", "metric") else "right")
    for c in test.comparisons:
        table.add_row(
            escape(c.variant),
            escape(f"{c.metric} ({c.kind})" + (" *" if c.fractional else "")),
            f"{percent(c.control_rate)} ({c.control_conversions:,}/{c.control_visitors:,})",
            f"{percent(c.variant_rate)} ({c.variant_conversions:,}/{c.variant_visitors:,})",
            signed_percent(c.lift) if c.lift is not None else "—",
            _range(*c.decision_ci),
            _p_value(c.adjusted_p_value if c.adjusted_p_value is not None else 1.0),
            chance(c.chance_to_beat) if c.chance_to_beat is not None else "—",
            DECISION_WORDS[c.decision] + _when_called(c) + _progress(c),
        )
    return table


FRACTIONAL_NOTE = "* fractional conversions (an attribution model's credit): see docs/methodology.md"


def render_test(test: TestResult) -> RenderableType:
    title = Text(test.title, style="bold")
    verdict = Text(test.headline, style=VERDICT_STYLES[test.verdict])
    parts: list[RenderableType] = [title, verdict, Text(test.summary), _numbers(test)]
    if any(c.fractional for c in test.comparisons):
        parts.append(Text(FRACTIONAL_NOTE, style="dim"))
    return Group(*parts, Text(""))


def render_report(report: Report) -> RenderableType:
    parts: list[RenderableType] = [Text(f"microopt · {report.source}", style="dim")]
    if report.as_of:
        parts.append(Text(f"As of {report.as_of.isoformat()}", style="dim"))
    parts.extend(Text(f"Read {reading.summary}", style="dim") for reading in report.tabs)
    parts.append(Text(""))
    if not report.tests:
        parts.append(
            Text(
                "No tests found. Each Results tab needs Campaign, Variant, a traffic column and a metric "
                "column marked (micro) or (macro)."
            )
        )
    parts.extend(render_test(test) for test in report.tests if test.status == "running")
    resting = [test for test in report.tests if test.status != "running"]
    if resting:
        parts.append(Text("Paused or done (not in digests):", style="bold"))
        parts.extend(Text(f"  {t.title} ({t.status}): {t.headline}") for t in resting)
        parts.append(Text(""))
    if report.problems:
        parts.append(Text(f"{len(report.problems)} cell(s) need a look (their rows were left out):", style="bold red"))
        parts.extend(Text(f"  {problem}") for problem in report.problems)
    if report.proxies:
        parts.append(Text("How well micro metrics have tracked macro metrics in this sheet:", style="bold"))
        for proxy in report.proxies:
            correlation = (
                f"; lifts correlate {proxy.correlation:.2f} across {proxy.correlation_tests} tests (noise removed)"
                if proxy.correlation is not None
                else f"; too few or too noisy tests for a correlation ({proxy.correlation_tests})"
            )
            parts.append(
                Text(
                    f"  {proxy.micro} → {proxy.macro}: same direction in {proxy.agreeing_tests} of "
                    f"{proxy.finished_tests} finished tests{correlation}",
                )
            )
        parts.append(Text(""))
    parts.append(
        Text(
            "Likely range and p: the decision's own, valid however often the sheet is looked at (p adjusted for "
            "several variants); a call is final, with its day, and the figures after it are later data. The % is "
            "how much of the planned sample is in; chance: that the variant beats the control, flat prior.",
            style="dim",
        )
    )
    return Group(*parts)


def _call(c: BacktestComparison) -> str:
    if c.call is None or c.first_call_date is None:
        return f"not called in {c.days_run} days ({DECISION_WORDS[c.final_decision]})"
    spent = f", {money(c.spend_to_call, c.currency)} spent" if c.spend_to_call is not None else ""
    return f"{c.call} on {c.first_call_date.isoformat()} (day {c.days_to_call}{spent})"


def _backtest_summary(backtest: Backtest) -> list[Text]:
    early = [t for t in backtest.tests if t.micro_call_date is not None and t.days_sooner is not None]
    if not backtest.tests:
        return []
    lines = [
        Text(
            f"Micro metrics called {len(early)} of {len(backtest.tests)} dated tests"
            + (
                f", a median {statistics.median(t.days_sooner or 0 for t in early):.0f} days"
                + (
                    f" and {money(statistics.median(t.spend_sooner or 0 for t in early), early[0].currency)}"
                    if all(t.spend_sooner is not None for t in early) and len({t.currency for t in early}) == 1
                    else ""
                )
                + " sooner than macro metrics (where the macro metric never got there, until the last day)."
                if early
                else "."
            ),
            style="bold",
        )
    ]
    checked = [c for c in backtest.comparisons if c.confirmed_by_macro is not None]
    if checked:
        confirmed = sum(1 for c in checked if c.confirmed_by_macro)
        lines.append(Text(f"{confirmed} of {len(checked)} early micro calls were later confirmed by the macro metric."))
    return lines


def render_backtest(backtest: Backtest) -> RenderableType:
    parts: list[RenderableType] = [Text(f"microopt backtest · {backtest.source}", style="dim")]
    if backtest.method is not None:
        parts.append(
            Text(
                "Every day of each dated test replayed through the status rule "
                f"(alpha {backtest.method.alpha:g}, minimum effect {backtest.method.minimum_effect * 100:.0f}%).",
                style="dim",
            )
        )
    parts.append(Text(""))
    if not backtest.comparisons:
        parts.append(Text("No dated tests to replay: add a Date column with one row per variant per day."))
        return Group(*parts)
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="dim")
    for column in ("test", "variant", "metric", "first call"):
        table.add_column(column)
    for c in backtest.comparisons:
        table.add_row(
            escape(f"{c.campaign} · {c.test}"), escape(c.variant), escape(f"{c.metric} ({c.kind})"), escape(_call(c))
        )
    parts.extend([table, Text("")])
    for test in backtest.tests:
        if test.micro_call_date is None or test.days_sooner is None:
            continue
        spend = f" and {money(test.spend_sooner, test.currency)}" if test.spend_sooner is not None else ""
        qualifier = "" if test.macro_called else "at least "
        parts.append(
            Text(
                f"{test.campaign} · {test.test}: micro called it "
                f"{qualifier}{plural(test.days_sooner, 'day')}{spend} sooner."
            )
        )
    parts.extend(_backtest_summary(backtest))
    return Group(*parts)
