"""`backtest` replays the status rule day by day; checked against status --as-of itself, and by Monte Carlo."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
from typer.testing import CliRunner

from analysis.backtest import backtest, daily_comparisons, replay
from analysis.models import Tab
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from analysis.stats.proportions import z_test_p_values

HEADER = ["Date", "Campaign", "Test", "Variant", "Sessions", "Spend", "Demo requests (micro)", "Sign-ups (macro)"]
START = dt.date(2026, 3, 2)


def dated_rows(days: int, lifts: tuple[float, float], seed: int, traffic: int = 1500, campaign: str = "Summer"):
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(days):
        date = (START + dt.timedelta(days=day)).isoformat()
        for variant, lift in zip(("A", "B"), lifts, strict=True):
            demos = int(rng.binomial(traffic, 0.06 * (1 + lift)))
            rows.append(
                [date, campaign, "Ad copy", variant, traffic, traffic * 0.5, demos, int(rng.binomial(demos, 0.3))]
            )
    return rows


def test_the_first_call_is_the_first_day_status_as_of_that_day_calls_it():
    sheet = parse_workbook([Tab("Daily", [HEADER, *dated_rows(20, (0.0, 0.3), seed=4)])])
    (micro, macro) = backtest(sheet, source="t").comparisons
    assert micro.kind == "micro" and micro.call == "better" and micro.first_call_date is not None

    def decision_on(day: dt.date, kind: str) -> str:
        report = analyse(sheet, source="t", as_of=day)
        return next(c.decision for c in report.tests[0].comparisons if c.kind == kind)

    call_day = micro.first_call_date
    assert decision_on(call_day, "micro") == "better"
    assert decision_on(call_day - dt.timedelta(days=1), "micro") != "better"
    assert micro.days_to_call == (call_day - START).days + 1
    assert micro.spend_to_call == micro.days_to_call * 2 * 1500 * 0.5
    if macro.first_call_date is not None:
        assert decision_on(macro.first_call_date, "macro") in ("better", "worse")
        assert macro.first_call_date >= call_day


def test_undated_tests_are_not_replayed():
    rows = [["S", "Audience", "A", 2000, 100, 8], ["S", "Audience", "B", 2000, 161, 11]]
    header = ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)", "Purchases (macro)"]
    result = backtest(parse_workbook([Tab("Results", [header, *rows])]), source="t")
    assert result.comparisons == () and result.tests == ()


def test_micro_calls_are_checked_against_the_macro_metric_later():
    rows = [*dated_rows(28, (0.0, 0.4), seed=9, traffic=3000)]
    result = backtest(parse_workbook([Tab("Daily", [HEADER, *rows])]), source="t")
    micro = next(c for c in result.comparisons if c.kind == "micro")
    macro = next(c for c in result.comparisons if c.kind == "macro")
    assert micro.call == "better" and macro.call == "better"
    assert micro.confirmed_by_macro is True
    (test,) = result.tests
    assert test.macro_called and test.days_sooner == macro.days_to_call - micro.days_to_call


def test_daily_looks_at_aa_tests_keep_false_calls_near_alpha_where_the_naive_test_does_not():
    """Seeded Monte Carlo, 300 A/A tests x 30 daily looks (5% base, 1,000/day/arm). Our rule stays within
    alpha + 3 standard errors (8.8%); the naive daily z-test is far above (about 28% expected)."""
    rng = np.random.default_rng(17)
    sims, days = 300, 30
    conversions = rng.binomial(1000, 0.05, size=(sims, days, 2))
    header = ["Date", "Campaign", "Test", "Variant", "Visitors", "Cart views (micro)"]
    rows: list[list[object]] = [header]
    for s in range(sims):
        for d in range(days):
            date = (START + dt.timedelta(days=d)).isoformat()
            rows.extend([[date, f"S{s}", "T", v, 1000, int(conversions[s, d, i])] for i, v in enumerate("AB")])
    sheet = parse_workbook([Tab("Sim", rows)])
    ours = replay(sheet)["call"].isin(["better", "worse"]).mean()
    table = daily_comparisons(sheet)
    p = z_test_p_values(
        *(table[c].to_numpy(float) for c in ("visitors_control", "conversions_control", "visitors", "conversions"))
    )
    naive = (table.assign(hit=p < 0.05).groupby("test_index")["hit"].any()).mean()
    assert ours <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / sims)
    assert naive > 0.15


def test_the_backtest_command_prints_the_documented_json(tmp_path, monkeypatch):
    import csv

    from bot.cli import app

    path = tmp_path / "daily.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *dated_rows(14, (0.0, 0.3), seed=4)])
    monkeypatch.setenv("MICROOPT_SHEET", str(path))
    outcome = CliRunner().invoke(app, ["backtest", "--sheet", str(path), "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.output)
    for row in data["comparisons"]:
        assert {
            "campaign",
            "test",
            "variant",
            "metric",
            "kind",
            "first_call_date",
            "call",
            "days_to_call",
            "spend_to_call",
        } <= set(row)
        assert row["call"] in ("better", "worse", None)
        if row["first_call_date"] is not None:
            dt.date.fromisoformat(row["first_call_date"])
    text = CliRunner().invoke(app, ["backtest", "--sheet", str(path)])
    assert text.exit_code == 0 and "first call" in text.output
