"""Peeking: how often each rule calls a winner when it looks every day for 30 days.

Monte Carlo through the real decision path: seeded dated sheets (5% base rate, 1,000 visitors per day
per arm, 30 days) are parsed by `parse_workbook` and replayed by `analysis.backtest.replay`, the same
rule `microopt status` and `microopt backtest` apply. On the same simulated data, side by side:
- the naive daily z-test (call on the first day p < 0.05),
- one fixed-horizon look on day 30 (the classic design, no peeking; the ceiling for power),
- microopt's rule with its defaults (sequential boundary against the planned sample for a 10% lift).

Run: python -m benchmarks.bench_peeking [--sims 4000] [--seed 11]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import pandas as pd

from analysis.backtest import daily_comparisons, replay
from analysis.models import Cell, Tab
from analysis.sheet import parse_workbook
from analysis.stats import z_statistics

DAYS = 30
DAILY = 1000
BASE = 0.05
ALPHA = 0.05
SCENARIOS = (("A/A (no difference)", 0.0), ("+10% lift", 0.10), ("+20% lift", 0.20))
HEADER: list[Cell] = ["Date", "Campaign", "Test", "Variant", "Visitors", "Spend", "Cart views (micro)"]


def simulated_sheet(sims: int, lift: float, rng: np.random.Generator) -> list[Tab]:
    """`sims` independent A/B tests, one row per variant per day."""
    conversions = rng.binomial(DAILY, [BASE, BASE * (1 + lift)], size=(sims, DAYS, 2))
    start = dt.date(2026, 1, 1)
    dates = [(start + dt.timedelta(days=d)).isoformat() for d in range(DAYS)]
    rows: list[list[Cell]] = [HEADER]
    for s in range(sims):
        for d in range(DAYS):
            for v, name in enumerate(("A", "B")):
                rows.append([dates[d], f"Sim {s}", "Audience", name, DAILY, DAILY * 0.4, int(conversions[s, d, v])])
    return [Tab("Results", rows)]


def naive_and_fixed(table: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """First day the naive daily z-test calls (NaN if never), its direction, and the day-30 fixed look."""
    z = z_statistics(
        *(
            table[c].to_numpy(dtype=np.float64)
            for c in ("visitors_control", "conversions_control", "visitors", "conversions")
        )
    )
    called = np.abs(z) >= 1.959963984540054
    frame = pd.DataFrame({"test": table["test_index"], "days": table["days"], "called": called, "z": z})
    first = frame[frame["called"]].groupby("test").head(1).set_index("test")
    last = frame[frame["days"] == DAYS].set_index("test")
    return first["days"], np.sign(first["z"]), np.sign(last["z"]).where(last["called"], 0)


def run(sims: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    print(
        f"{sims:,} simulated tests per scenario; 5% base rate, {DAILY:,} visitors/day/arm, "
        f"looks every day for {DAYS} days"
    )
    print(f"{'scenario':<22}{'rule':<40}{'called by day 30':>18}{'median day':>12}")
    for label, lift in SCENARIOS:
        started = time.perf_counter()
        sheet = parse_workbook(simulated_sheet(sims, lift, rng))
        table = daily_comparisons(sheet)
        result = replay(sheet)
        elapsed = time.perf_counter() - started
        naive_day, naive_sign, fixed_sign = naive_and_fixed(table)
        wanted = (lambda s: s != 0) if lift == 0 else (lambda s: s > 0)
        ours_called = result["call"].map({"better": 1.0, "worse": -1.0}).fillna(0.0)
        ours_hit = wanted(ours_called)
        naive_hit = wanted(naive_sign.reindex(range(sims), fill_value=0))
        fixed_hit = wanted(fixed_sign.reindex(range(sims), fill_value=0))
        rows = (
            ("naive daily z-test (p < 0.05)", naive_hit.mean(), naive_day[naive_hit[naive_hit].index].median()),
            ("one fixed look on day 30", fixed_hit.mean(), float(DAYS)),
            (
                "microopt (sequential, defaults)",
                ours_hit.mean(),
                result.loc[ours_hit.to_numpy(), "days_to_call"].median(),
            ),
        )
        for rule, share, day in rows:
            se = np.sqrt(share * (1 - share) / sims)
            median = f"{day:.0f}" if np.isfinite(day) else "—"
            print(f"{label:<22}{rule:<40}{share * 100:>11.1f}% ±{se * 100:.1f}{median:>12}")
        naive_median = naive_day[naive_hit[naive_hit].index].median()
        ours_median = result.loc[ours_hit.to_numpy(), "days_to_call"].median()
        ratio = f"{ours_median / naive_median:.1f}x the naive median day" if lift and naive_median else ""
        print(f"{'':<22}(replayed in {elapsed:.1f} s{'; microopt waits ' + ratio if ratio else ''})")
    print("± is one Monte Carlo standard error. Targets: A/A ≤ 5%; power ≥ 60% at +10%, ≥ 95% at +20%.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sims", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    run(args.sims, args.seed)


if __name__ == "__main__":
    main()
