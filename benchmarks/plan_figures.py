"""The next test's plan beside a plain fixed-horizon power calculation and statsmodels, and the rule's own power at
the plan by simulation: `python -m benchmarks.plan_figures`."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
from scipy import special
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize, samplesize_proportions_2indep_onetail

from analysis.decision import DecisionSettings, decide_comparisons
from analysis.plan import visitors_needed
from analysis.stats.sequential import LATE_SHARE, obf_constant

SETTINGS = DecisionSettings()


def simulated_power(rate: float, lift: float, days: int, paths: int = 2000, seed: int = 25) -> tuple[float, float]:
    """The share of true lifts the rule calls by the plan made for `days`, and that plan per arm."""
    rng = np.random.default_rng(seed)
    untimed = float(visitors_needed(np.array([rate]), lift, SETTINGS)["planned"][0])
    plan = float(visitors_needed(np.array([rate]), lift, SETTINGS, daily=untimed / days)["planned"][0])
    daily = math.floor(plan / days)
    xc = rng.binomial(daily, rate, size=(paths, days)).cumsum(axis=1)
    xv = rng.binomial(daily, rate * (1 + lift), size=(paths, days)).cumsum(axis=1)
    n = np.tile(np.arange(1, days + 1) * daily, (paths, 1))
    table = pd.DataFrame(
        {
            "family": np.arange(paths * days),
            "path": np.repeat(np.arange(paths), days),
            "look": np.tile(np.arange(days), paths),
            "visitors_control": n.ravel(),
            "conversions_control": xc.ravel(),
            "visitors": n.ravel(),
            "conversions": xv.ravel(),
            "dated": True,
            "days": np.tile(np.arange(1, days + 1), paths),
            "planned": plan,
        }
    )
    decided = decide_comparisons(table, SETTINGS)
    return float(decided.groupby("path")["call"].last().eq("better").mean()), plan


def main() -> None:
    c = obf_constant(SETTINGS.alpha * (1 - SETTINGS.mixture_share) * (1 - LATE_SHARE))
    level = 2 * special.ndtr(-c)
    print(f"rule's boundary at the plan: |z| >= {c:.3f} (a single look's two-sided level {level:.4f})")
    columns = ("fixed", "sm fixed", "plan", "sm plan")
    print(f"{'rate':>6} {'lift':>5} " + " ".join(f"{c:>9}" for c in columns) + f" {'sm arcsine':>10} {'ratio':>6}")
    for rate in (0.02, 0.05, 0.2):
        for lift in (0.05, 0.1, 0.2):
            figures = visitors_needed(np.array([rate]), lift, SETTINGS)
            fixed, plan = figures["fixed_horizon"][0], figures["planned"][0]
            sm_fixed = samplesize_proportions_2indep_onetail(rate * lift, rate, SETTINGS.power, alpha=SETTINGS.alpha)
            sm_plan = samplesize_proportions_2indep_onetail(rate * lift, rate, SETTINGS.power, alpha=level)
            h = proportion_effectsize(rate * (1 + lift), rate)
            arcsine = NormalIndPower().solve_power(effect_size=h, alpha=level, power=SETTINGS.power)
            print(
                f"{rate:>6.2f} {lift:>+5.0%} {fixed:>9,.0f} {sm_fixed:>9,.0f} {plan:>9,.0f} {sm_plan:>9,.0f} "
                f"{arcsine:>10,.0f} {plan / fixed:>6.3f}"
            )
    print("\nthe rule itself, 2,000 binomial paths looked at daily, 5% rate, true +20% (80% planned):")
    for days in (7, 14, 30):
        started = time.perf_counter()
        power, plan = simulated_power(0.05, 0.2, days)
        took = time.perf_counter() - started
        print(f"  {days:>2} days: plan {plan:,.0f} per arm, called by the plan {power:.1%} ({took:.1f} s)")


if __name__ == "__main__":
    main()
