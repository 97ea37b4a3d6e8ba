"""A decision per comparison, vectorised: the one rule that `status` and `backtest` both apply.

- Dated tests, and any test with a planned sample, are watched sequentially: the boundary of
  analysis.sequential against the planned visitors per arm (the `Planned visitors` column, else the
  classic sample that detects `minimum_effect` on the pooled rate at `alpha` and `power`).
- Undated tests without a plan are read as one fixed-horizon look: the sheet keeps no history of looks.
- The p-values of the rule are Holm-adjusted within each family: one test's comparisons of one kind
  (micro or macro) at one look.
- Nothing is called before `min_days` dated days; nor with fewer than `min_conversions` conversions in
  an arm, though a planned sample reached with that few is "no difference".
- No difference: the rule's interval of the rate ratio lies inside [1 / (1 + minimum_effect),
  1 + minimum_effect], or the planned sample is in without a call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from analysis.bayes import PRIOR
from analysis.models import Method
from analysis.sequential import (
    boundaries,
    information_fractions,
    planned_per_arm,
    sequential_p_values,
    visitors_to_call,
)
from analysis.stats import (
    FloatArray,
    rates,
    risk_ratio_interval_at,
    sample_size_per_arm,
    z_statistics,
    z_test_p_values,
)

INPUT_COLUMNS = ("family", "visitors_control", "conversions_control", "visitors", "conversions", "dated", "days")


@dataclass(frozen=True)
class DecisionSettings:
    alpha: float = 0.05
    minimum_effect: float = 0.10
    power: float = 0.8
    min_days: int = 3
    min_conversions: int = 5

    def method(self) -> Method:
        """The method and defaults, as reported beside every result."""
        return Method(
            alpha=self.alpha,
            minimum_effect=self.minimum_effect,
            power=self.power,
            min_days=self.min_days,
            min_conversions=self.min_conversions,
            prior=PRIOR,
        )


def holm_adjust(p_values: npt.ArrayLike, families: npt.ArrayLike) -> FloatArray:
    """Holm step-down adjusted p-values, each family on its own."""
    frame = pd.DataFrame({"p": np.asarray(p_values, dtype=np.float64), "family": np.asarray(families)})
    ordered = frame.sort_values(["family", "p"], kind="stable")
    groups = ordered.groupby("family", sort=False)["p"]
    size = groups.transform("size").to_numpy(dtype=np.float64)
    rank = groups.cumcount().to_numpy(dtype=np.float64)
    ordered["adjusted"] = np.minimum((size - rank) * ordered["p"].to_numpy(), 1.0)
    ordered["adjusted"] = ordered.groupby("family", sort=False)["adjusted"].cummax()
    adjusted: FloatArray = ordered["adjusted"].reindex(frame.index).to_numpy(dtype=np.float64)
    return adjusted


def decide_comparisons(table: pd.DataFrame, settings: DecisionSettings) -> pd.DataFrame:
    """Adds the rule's columns to a table with INPUT_COLUMNS (and optionally `planned`, the visitors per
    arm the sheet plans, and `p_value`, the fixed-horizon p-value to use for undated tests)."""
    nc = table["visitors_control"].to_numpy(dtype=np.float64)
    xc = table["conversions_control"].to_numpy(dtype=np.float64)
    nv = table["visitors"].to_numpy(dtype=np.float64)
    xv = table["conversions"].to_numpy(dtype=np.float64)
    dated = table["dated"].to_numpy(dtype=bool)
    days = table["days"].to_numpy(dtype=np.float64)
    given = table["planned"].to_numpy(dtype=np.float64) if "planned" in table else np.full(len(table), np.nan)
    alpha, effect = settings.alpha, settings.minimum_effect

    sequential = dated | ~np.isnan(given)
    pooled = rates(nc + nv, xc + xv)
    planned = np.where(np.isnan(given), planned_per_arm(pooled, effect, alpha, settings.power), given)
    information = information_fractions(nc, nv, planned)
    z = z_statistics(nc, xc, nv, xv)
    fixed_p = table["p_value"].to_numpy(dtype=np.float64) if "p_value" in table else z_test_p_values(nc, xc, nv, xv)
    rule_p = np.where(sequential, sequential_p_values(z, np.nan_to_num(information)), fixed_p)
    adjusted = holm_adjust(rule_p, table["family"].to_numpy())

    control_rate, variant_rate = rates(nc, xc), rates(nv, xv)
    direction = np.sign(variant_rate - control_rate)
    early = dated & ~(days >= settings.min_days)
    few = (xc < settings.min_conversions) | (xv < settings.min_conversions)
    enough = ~early & ~few
    significant = enough & (adjusted < alpha) & (direction != 0)

    fixed_z = float(stats.norm.isf(alpha / 2))
    multiplier = np.where(sequential, boundaries(np.nan_to_num(information), alpha), fixed_z)
    low, high = risk_ratio_interval_at(nc, xc, nv, xv, multiplier)
    # "within 10% of each other" either way round: the ratio inside [1 / 1.1, 1.1], so swapping arms agrees
    rules_out = enough & (low > 1 / (1 + effect) - 1) & (high < effect)
    reached = np.nan_to_num(information) >= 1
    decision = np.select(
        [significant & (direction > 0), significant & (direction < 0), early, rules_out | reached, few],
        ["better", "worse", "too_early", "no_difference", "too_early"],
        "keep_running",
    )

    needed = np.where(
        sequential,
        visitors_to_call(control_rate, variant_rate, planned, alpha, settings.power),
        sample_size_per_arm(control_rate, variant_rate, alpha, settings.power),
    )
    needed = np.fmin(needed, planned)
    open_ended = np.isin(decision, ["keep_running", "too_early"])
    to_go = np.where(open_ended, np.maximum(needed - np.minimum(nc, nv), 0), np.nan)

    out = table.copy()
    out["decision_rule"] = np.where(sequential, "sequential", "fixed_horizon")
    out["planned_visitors"] = planned
    out["information_fraction"] = information
    out["decision_p_value"] = rule_p
    out["adjusted_p_value"] = adjusted
    out["significant"] = significant
    out["decision"] = decision
    out["decision_low"] = low
    out["decision_high"] = high
    out["visitors_to_go"] = to_go
    return out
