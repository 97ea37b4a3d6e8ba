"""The terminal report: a verdict first, then the numbers behind it."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from analysis.models import Report, TestResult
from analysis.wording import percent, signed_percent

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


def _numbers(test: TestResult) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="dim")
    for column in ("variant", "metric", test.control, "variant rate", "lift", "95% range", "p", "called"):
        table.add_column(escape(column), justify="left" if column in ("variant", "metric") else "right")
    for c in test.comparisons:
        table.add_row(
            escape(c.variant),
            escape(f"{c.metric} ({c.kind})"),
            f"{percent(c.control_rate)} ({c.control_conversions:,}/{c.control_visitors:,})",
            f"{percent(c.variant_rate)} ({c.variant_conversions:,}/{c.variant_visitors:,})",
            signed_percent(c.lift) if c.lift is not None else "—",
            _range(*c.lift_ci),
            _p_value(c.p_value) + ("ᶠ" if c.test_used == "fisher" else ""),
            "yes" if c.significant else "",
        )
    return table


def render_test(test: TestResult) -> RenderableType:
    title = Text(test.title, style="bold")
    verdict = Text(test.headline, style=VERDICT_STYLES[test.verdict])
    return Group(title, verdict, Text(test.summary), _numbers(test), Text(""))


def render_report(report: Report) -> RenderableType:
    parts: list[RenderableType] = [Text(f"microopt · {report.source}", style="dim")]
    if report.as_of:
        parts.append(Text(f"As of {report.as_of.isoformat()}", style="dim"))
    parts.append(Text(""))
    if not report.tests:
        parts.append(
            Text(
                "No tests found. Each Results tab needs Campaign, Variant, a traffic column and a metric "
                "column marked (micro) or (macro)."
            )
        )
    parts.extend(render_test(test) for test in report.tests)
    if report.problems:
        parts.append(Text(f"{len(report.problems)} cell(s) need a look (their rows were left out):", style="bold red"))
        parts.extend(Text(f"  {problem}") for problem in report.problems)
    parts.append(Text("ᶠ Fisher's exact test (small counts); other p-values are pooled z-tests.", style="dim"))
    return Group(*parts)
