"""Peeking: how often each rule calls a winner when it looks every day, and whether its calls hold.

Monte Carlo on one set of simulated tests per scenario (5% base rate, 1,000 visitors per day per arm),
side by side on the same data:
- the naive daily z-test (call whenever p < 0.05 today),
- the previous rule (O'Brien-Fleming at alpha against the plan, the final boundary kept past it, dated
  sheets only, recomputed from today's totals every day; undated sheets one fixed-horizon look per read),
- an mSPRT-only rule (all of alpha on the normal mixture, calls final),
- microopt's rule, through the product's own path: dated sheets parsed by `parse_workbook` and replayed
  by `analysis.backtest.replay` (what `status --as-of` shows day by day); the undated sheet re-read every
  day by the service with a real SQLite state database recording the looks, as `/microopt status` does.

Columns: false calls (A/A: any better/worse call), share called better by day 30, median day of the
call, and the share of calls that a later look no longer shows (reverts).

Then the day-to-day swing scenarios (benchmarks.swing): today's rule (the code at --previous), the
dispersion-aware rule and the naive daily z-test on the same paths, with swinging daily rates and unequal
splits.

Run: python -m benchmarks.bench_peeking [--sims 4000] [--undated-sims 2000] [--swing-sims 1000] [--seed 11]
     [--previous a6e9282]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import special

from analysis.backtest import daily_comparisons, replay
from analysis.decision import DecisionSettings, decide_comparisons
from analysis.models import Cell, Tab
from analysis.reading.workbook import parse_workbook
from analysis.stats.proportions import z_statistics
from analysis.stats.sequential import information_fractions, mixture_p_values, null_log_lift_variances, planned_per_arm
from benchmarks import swing

DAILY = 1000
BASE = 0.05
ALPHA = 0.05
DATED = (("A/A dated, 30 days", 0.0, 30), ("A/A dated, 90 days", 0.0, 90), ("+10% lift", 0.10, 30))
DATED += (("+20% lift", 0.20, 30), ("+40% lift", 0.40, 30))
HEADER: list[Cell] = ["Date", "Campaign", "Test", "Variant", "Visitors", "Cart views (micro)"]
START = dt.date(2026, 1, 1)


@dataclass(frozen=True)
class Outcome:
    rule: str
    called: np.ndarray  # per simulated test: +1 better, -1 worse, 0 never called (within the horizon)
    day: np.ndarray  # day of the first call (NaN when none)
    reverted: np.ndarray  # the call was later no longer shown


def simulate(sims: int, lift: float, days: int, rng: np.random.Generator) -> np.ndarray:
    """Daily conversions, shape (sims, days, 2): control then variant."""
    return rng.binomial(DAILY, [BASE, BASE * (1 + lift)], size=(sims, days, 2))


def dated_sheet(conversions: np.ndarray) -> list[Tab]:
    sims, days, _ = conversions.shape
    dates = [(START + dt.timedelta(days=d)).isoformat() for d in range(days)]
    rows: list[list[Cell]] = [HEADER]
    for s in range(sims):
        for d in range(days):
            rows.append([dates[d], f"Sim {s}", "Audience", "A", DAILY, int(conversions[s, d, 0])])
            rows.append([dates[d], f"Sim {s}", "Audience", "B", DAILY, int(conversions[s, d, 1])])
    return [Tab("Results", rows)]


def undated_sheet(totals: np.ndarray, visitors: int) -> list[Tab]:
    rows: list[list[Cell]] = [["Campaign", "Test", "Variant", "Visitors", "Cart views (micro)"]]
    for s in range(totals.shape[0]):
        rows.append([f"Sim {s}", "Audience", "A", visitors, int(totals[s, 0])])
        rows.append([f"Sim {s}", "Audience", "B", visitors, int(totals[s, 1])])
    return [Tab("Results", rows)]


def _first(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From a (sims, days) array of -1/0/+1 shown each day: the first call, its day, and whether a later day
    showed something else."""
    shown = signal != 0
    any_call = shown.any(axis=1)
    first = np.where(any_call, shown.argmax(axis=1), -1)
    called = np.where(any_call, signal[np.arange(len(signal)), np.maximum(first, 0)], 0)
    later = np.arange(signal.shape[1])[None, :] > first[:, None]
    reverted = any_call & ((signal != called[:, None]) & later).any(axis=1)
    return called, np.where(any_call, first + 1.0, np.nan), reverted


def alternatives(conversions: np.ndarray, dated: bool) -> list[Outcome]:
    """The naive daily z-test, the previous rule and an mSPRT-only rule on the same cumulative counts."""
    sims, days, _ = conversions.shape
    cum = conversions.cumsum(axis=1).astype(np.float64)
    n = np.broadcast_to(DAILY * np.arange(1, days + 1, dtype=np.float64)[None, :], (sims, days)).ravel()
    xc, xv = cum[..., 0].ravel(), cum[..., 1].ravel()
    z = z_statistics(n, xc, n, xv).reshape(sims, days)
    sign = np.sign(z)
    day = np.arange(1, days + 1)[None, :]
    enough = (cum.min(axis=2) >= 5) & ((day >= 3) if dated else True)

    naive = np.where(np.abs(z) >= special.ndtri(1 - ALPHA / 2), sign, 0)
    pooled = (xc + xv) / (2 * n)
    plan = planned_per_arm(pooled, 0.10, ALPHA, 0.8)
    t = information_fractions(n, n, plan).reshape(sims, days)
    if dated:  # O'Brien-Fleming at alpha, recomputed daily, the final boundary kept past the plan
        previous_p = np.minimum(4 * special.ndtr(-np.abs(z) * np.sqrt(np.clip(t, 0, 1))), 1)
    else:  # undated without a plan: one fixed-horizon look, at every read
        previous_p = 2 * special.ndtr(-np.abs(z))
    previous = np.where(enough & (previous_p < ALPHA), sign, 0)
    mixture_p = mixture_p_values(z.ravel(), null_log_lift_variances(n, xc, n, xv), 0.3).reshape(sims, days)
    crossed = np.minimum.accumulate(np.where(enough, mixture_p, 1.0), axis=1) < ALPHA
    msprt = np.where(crossed, sign[np.arange(sims), np.where(crossed.any(1), crossed.argmax(1), 0)][:, None], 0)
    return [
        Outcome("naive daily z-test (p < 0.05)", *_first(naive)),
        Outcome("previous rule", *_first(previous)),
        Outcome("mSPRT only (calls final)", *_first(msprt)),
    ]


def microopt_dated(conversions: np.ndarray, settings: DecisionSettings) -> Outcome:
    """The product's replay: every day's decision exactly as `status --as-of` that day shows it."""
    sheet = parse_workbook(dated_sheet(conversions))
    decided = decide_comparisons(daily_comparisons(sheet), settings)
    signal = decided["decision"].map({"better": 1, "worse": -1}).fillna(0).to_numpy()
    sims, days, _ = conversions.shape
    order = decided["test_index"].to_numpy() * days + decided["days"].to_numpy() - 1
    grid = np.zeros(sims * days)
    grid[order] = signal
    called, day, reverted = _first(grid.reshape(sims, days))
    summary = replay(sheet, settings)  # the backtest's own first call agrees with the day-by-day view
    backtest_calls = summary["call"].map({"better": 1, "worse": -1}).fillna(0).to_numpy()
    assert np.array_equal(backtest_calls, called), "backtest and day-by-day status disagree"
    return Outcome("microopt", called, day, reverted)


def microopt_undated(conversions: np.ndarray, settings: DecisionSettings) -> Outcome:
    """The undated sheet re-read every day by the service, looks recorded in a real SQLite database."""
    from bot.deps import Deps, state_factory
    from bot.service import full_report
    from bot.settings import Settings

    sims, days, _ = conversions.shape
    cum = conversions.cumsum(axis=1)
    with tempfile.TemporaryDirectory() as folder:
        settings_env = Settings(database_url=f"sqlite:///{Path(folder) / 'state.db'}", sheet="simulated.csv")
        moments = iter([dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC) + dt.timedelta(days=d) for d in range(days)])
        day_tabs: list[list[Tab]] = []
        deps = Deps(
            settings=settings_env,
            read_tabs=lambda spec: day_tabs[-1],
            clock=lambda: next(moments),
            state=state_factory(settings_env),
        )
        signal = np.zeros((sims, days))
        for d in range(days):
            day_tabs.append(undated_sheet(cum[:, d, :], DAILY * (d + 1)))
            report = full_report(deps, parse_workbook(day_tabs[-1]))
            for i, test in enumerate(report.tests):
                decision = test.comparisons[0].decision if test.comparisons else ""
                signal[i, d] = {"better": 1, "worse": -1}.get(decision, 0)
        deps.state().close() if deps.state else None
    return Outcome("microopt", *_first(signal))


def _row(label: str, outcome: Outcome, lift: float, horizon: int) -> str:
    hit = outcome.called != 0 if lift == 0 else outcome.called > 0
    by_30 = hit & (outcome.day <= 30)
    share = (hit if lift == 0 else by_30).mean()
    se = np.sqrt(share * (1 - share) / len(hit))
    median = np.nanmedian(outcome.day[hit]) if hit.any() else np.nan
    calls = outcome.called != 0
    reverts = outcome.reverted[calls].mean() if calls.any() else 0.0
    what = f"{share * 100:5.1f}% ±{se * 100:.1f}"
    median_text = f"{median:.0f}" if np.isfinite(median) else "—"
    return f"{label:<26}{outcome.rule:<32}{what:>14}{median_text:>10}{reverts * 100:>12.1f}%"


def run(sims: int, undated_sims: int, seed: int, swing_sims: int = 1000, previous: str = "a6e9282") -> None:
    settings = DecisionSettings()
    rng = np.random.default_rng(seed)
    print(f"5% base rate, {DAILY:,} visitors/day/arm, a look every day; {sims:,} tests per dated scenario")
    print(f"{'scenario':<26}{'rule':<32}{'false/called':>14}{'median day':>10}{'reverts':>13}")
    for label, lift, days in DATED:
        conversions = simulate(sims, lift, days, rng)
        started = time.perf_counter()
        ours = microopt_dated(conversions, settings)
        elapsed = time.perf_counter() - started
        for outcome in (*alternatives(conversions, dated=True), ours):
            print(_row(label, outcome, lift, days))
        print(f"{'':<26}(microopt's replay of {sims * days * 2:,} rows: {elapsed:.1f} s)")
    conversions = simulate(undated_sims, 0.0, 30, rng)
    started = time.perf_counter()
    ours = microopt_undated(conversions, settings)
    elapsed = time.perf_counter() - started
    label = "A/A undated, 30 reads"
    for outcome in (*alternatives(conversions, dated=False), ours):
        print(_row(label, outcome, 0.0, 30))
    print(f"{'':<26}({undated_sims:,} tests re-read 30 times through the service and SQLite: {elapsed:.1f} s)")
    print("False calls for A/A, share called better by day 30 for lifts; ± is one Monte Carlo standard error.")
    print("Targets: A/A ≤ 5% on every path; ≥ 70% at +10% and ≥ 99% at +20% by day 30; +40% median < 5 days;")
    print("no call of microopt's reverts.")
    if swing_sims:
        swing.run(swing_sims, seed, previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sims", type=int, default=4000)
    parser.add_argument("--undated-sims", type=int, default=2000)
    parser.add_argument("--swing-sims", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--previous", default="a6e9282", help="the commit whose analysis/ is today's rule")
    args = parser.parse_args()
    run(args.sims, args.undated_sims, args.seed, args.swing_sims, args.previous)


if __name__ == "__main__":
    main()
