"""The track record of the calls the team acted on: the Decisions tab read back, checked against the replay."""

from __future__ import annotations

import datetime as dt

from analysis.backtest import backtest
from analysis.models import Tab
from analysis.reading.decisions_tab import acted_calls
from analysis.reading.workbook import parse_workbook
from tests.analysis.test_backtest import HEADER, dated_rows

DECISIONS_HEADER = ["Decided at", "Campaign", "Test", "Decision", "By", "Verdict", "Acted on", "Metric", "Decision ID"]


def decisions(*rows: list[object]) -> Tab:
    return Tab("Decisions", [DECISIONS_HEADER, *[list(r) for r in rows]])


def row(decision: str, campaign="Summer", variant="B", id="1", day="2026-03-10 10:42 UTC") -> list[object]:
    return [day, campaign, "Ad copy", decision, "@dana", "Move budget to B.", variant, "Demo requests (micro)", id]


def test_the_tab_gives_each_acted_call_less_those_undone_and_rows_that_are_not_calls() -> None:
    tab = decisions(
        row("Budget moved", id="1"),
        row("Snoozed until 2026-03-11 10:42 UTC", id="2"),
        row("Stopped", campaign="Winter", id="3"),
        row("Undone: Stopped", campaign="Winter", id="3"),
        row("Keep running", id="4"),
        ["", "", "", "a note typed by hand"],
    )
    [moved] = acted_calls([tab])
    assert (moved.campaign, moved.test, moved.decision, moved.variant, moved.metric) == (
        "Summer",
        "Ad copy",
        "moved",
        "B",
        "Demo requests",
    )
    assert moved.decided_on == dt.date(2026, 3, 10) and moved.cell == "Decisions!D2"
    assert acted_calls([Tab("Results", [["Campaign"]])]) == ()
    assert acted_calls([Tab("Decisions", [])]) == ()


def test_a_confirmed_call_counts_the_spend_acting_early_saved() -> None:
    sheet = parse_workbook([Tab("Daily", [HEADER, *dated_rows(28, (0.0, 0.4), seed=9, traffic=3000)])])
    result = backtest(sheet, source="t", acted=acted_calls([decisions(row("Budget moved"))]))
    assert result.acted is not None
    [outcome] = result.acted.outcomes
    [test] = result.tests
    assert outcome.outcome == "confirmed" and outcome.macro_metric == "Sign-ups"
    assert outcome.macro_call_date == next(c.first_call_date for c in result.comparisons if c.kind == "macro")
    assert outcome.spend_saved == test.spend_sooner and test.spend_sooner and test.spend_sooner > 0


def test_calls_the_macro_metric_disagreed_with_or_has_not_made_and_tests_not_replayed() -> None:
    sheet = parse_workbook([Tab("Daily", [HEADER, *dated_rows(28, (0.0, 0.4), seed=9, traffic=3000)])])
    acted = acted_calls(
        [
            decisions(
                row("Stopped", id="1"),  # sign-ups called B better: stopping was wrong
                row("Budget moved", variant="A", id="2"),  # back to the control: contradicted too
                row("Budget moved", campaign="Undated", id="3"),
            )
        ]
    )
    record = backtest(sheet, source="t", acted=acted).acted
    assert record is not None
    assert [o.outcome for o in record.outcomes] == ["contradicted", "contradicted", "not_replayed"]
    assert record.outcomes[0].spend_saved is None

    early = parse_workbook([Tab("Daily", [HEADER, *dated_rows(6, (0.0, 0.4), seed=9, traffic=3000)])])
    [still] = backtest(early, source="t", acted=acted_calls([decisions(row("Budget moved"))])).acted.outcomes  # type: ignore[union-attr]
    assert still.outcome == "open" and still.macro_call_date is None


def test_without_a_decisions_tab_the_backtest_is_as_before() -> None:
    sheet = parse_workbook([Tab("Daily", [HEADER, *dated_rows(10, (0.0, 0.4), seed=9)])])
    assert backtest(sheet, source="t").acted is None
    assert backtest(sheet, source="t", acted=()) == backtest(sheet, source="t")


def test_the_backtest_command_reports_the_acted_calls(tmp_path) -> None:
    import json

    from openpyxl import Workbook
    from typer.testing import CliRunner

    from bot.cli import app

    book = Workbook()
    daily = book.active
    assert daily is not None
    daily.title = "Daily"
    for values in [HEADER, *dated_rows(28, (0.0, 0.4), seed=9, traffic=3000)]:
        daily.append(values)
    tab = book.create_sheet("Decisions")
    for values in [DECISIONS_HEADER, row("Budget moved")]:
        tab.append(values)
    path = tmp_path / "daily.xlsx"
    book.save(path)

    text = CliRunner().invoke(app, ["backtest", "--sheet", str(path)])
    assert text.exit_code == 0, text.output
    said = " ".join(text.output.split())
    assert (
        "Acted on from Slack (the Decisions tab): 1 call; of the 1 replayed, the macro metric later confirmed 1" in said
    )
    assert "Acting on the confirmed ones early saved $" in said
    data = json.loads(CliRunner().invoke(app, ["backtest", "--sheet", str(path), "--format", "json"]).output)
    [outcome] = data["acted"]["outcomes"]
    assert outcome["outcome"] == "confirmed" and outcome["call"]["variant"] == "B"
