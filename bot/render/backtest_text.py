"""The terminal report of `microopt backtest`: each comparison's first call, then what micro metrics saved."""

from __future__ import annotations

import statistics

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from analysis.models import ActedRecord, Backtest, BacktestComparison, title_of
from analysis.wording import money, plural
from bot.render.text import DECISION_WORDS
from bot.sentences import counted


def _call(c: BacktestComparison) -> str:
    if c.call is None or c.first_call_date is None:
        return f"not called in {counted(c.days_run, 'day')} ({DECISION_WORDS[c.final_decision]})"
    spent = f", {money(c.spend_to_call, c.currency)} spent" if c.spend_to_call is not None else ""
    return f"{c.call} on {c.first_call_date.isoformat()} (day {c.days_to_call}{spent})"


def _backtest_summary(backtest: Backtest) -> list[Text]:
    early = [t for t in backtest.tests if t.micro_call_date is not None and t.days_sooner is not None]
    if not backtest.tests:
        return []
    lines = [
        Text(
            f"Micro metrics called {len(early)} of {counted(len(backtest.tests), 'dated test')}"
            + (
                f", a median {counted(round(statistics.median(t.days_sooner or 0 for t in early)), 'day')}"
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
        were = "was" if confirmed == 1 else "were"
        lines.append(
            Text(
                f"{confirmed} of {counted(len(checked), 'early micro call')} {were} later confirmed "
                "by the macro metric."
            )
        )
    return lines


def acted_lines(record: ActedRecord | None) -> list[Text]:
    """The calls acted on from Slack (the Decisions tab), against what the macro metric later said."""
    if record is None or not record.outcomes:
        return []
    counts = {o: record.count(o) for o in ("confirmed", "contradicted", "open", "not_replayed")}
    replayed = len(record.outcomes) - counts["not_replayed"]
    lines = [
        Text(
            f"Acted on from Slack (the Decisions tab): {counted(len(record.outcomes), 'call')}"
            + (
                f"; of the {replayed} replayed, the macro metric later confirmed {counts['confirmed']}, "
                f"contradicted {counts['contradicted']}, and has not called {counts['open']} yet"
                if replayed
                else ""
            )
            + (f" ({counts['not_replayed']} on tests without dates, not replayed)." if counts["not_replayed"] else "."),
            style="bold",
        )
    ]
    saved = [o for o in record.outcomes if o.outcome == "confirmed" and o.spend_saved is not None]
    if saved and len({o.currency for o in saved}) == 1:
        total = sum(o.spend_saved or 0.0 for o in saved)
        lines.append(
            Text(
                f"Acting on the confirmed ones early saved {money(total, saved[0].currency)}: the spend between "
                "each test's first micro call and its macro call."
            )
        )
    for o in record.outcomes:
        if o.outcome == "contradicted":
            day = f" on {o.call.decided_on.isoformat()}" if o.call.decided_on else ""
            metric = o.macro_metric or "the macro metric"
            title = title_of(o.call.campaign, o.call.test)
            lines.append(Text(f"{title}: {metric} later disagreed with the call acted on{day}."))
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
        parts.extend(acted_lines(backtest.acted))
        return Group(*parts)
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="dim")
    for column in ("test", "variant", "metric", "first call"):
        table.add_column(column)
    for c in backtest.comparisons:
        table.add_row(
            escape(title_of(c.campaign, c.test)), escape(c.variant), escape(f"{c.metric} ({c.kind})"), escape(_call(c))
        )
    parts.extend([table, Text("")])
    for test in backtest.tests:
        if test.micro_call_date is None or test.days_sooner is None:
            continue
        spend = f" and {money(test.spend_sooner, test.currency)}" if test.spend_sooner is not None else ""
        qualifier = "" if test.macro_called else "at least "
        parts.append(
            Text(
                f"{title_of(test.campaign, test.test)}: micro called it "
                f"{qualifier}{plural(test.days_sooner, 'day')}{spend} sooner."
            )
        )
    parts.extend(_backtest_summary(backtest))
    parts.extend(acted_lines(backtest.acted))
    return Group(*parts)
