"""A decision per comparison, vectorised over every comparison and every look: the one rule that `status`,
digests and `backtest` all apply.

A comparison's *path* is its looks in order: the days of a dated test (cumulative counts at the end of each
day), or the reads microopt recorded of an undated one. At each look:

- the rule's p-value is the smaller of the plan's and the mixture's (analysis.stats.sequential), and the
  comparison's decision p-value is the smallest over its looks so far (an always-valid p-value);
- the p-values are Holm-adjusted within each family: one test's comparisons of one kind (micro or macro)
  at one look;
- a comparison is called `better` or `worse` when its adjusted p-value is below alpha, and `no_difference`
  only when its always-valid interval of the rate ratio (the intersection over its looks) lies inside
  [1 / (1 + minimum_effect), 1 + minimum_effect]; reaching the plan without a call is not a call
  (`plan_reached`): the comparison stays open, and a later look may still call it;
- z, the mixture's variance and the interval allow for how much the path's periods vary beyond what
  independent clicks explain (analysis.stats.dispersion: phi and its degrees of freedom, `dispersion` and
  `dispersion_df`);
- nothing is called before `min_days` dated days (or, undated, `min_days` recorded reads with new figures:
  one total cannot show how much rates swing), nor with fewer than `min_conversions` conversions in an arm.

**A call is final**: from its first call on, a comparison keeps that call, its look and the numbers at that
moment, whatever later looks show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.models import Method
from analysis.stats.arrays import FloatArray
from analysis.stats.bayes import PRIOR
from analysis.stats.dispersion import adjusted_z, dispersion, raw_multipliers
from analysis.stats.proportions import rates, risk_ratio_interval_at, z_statistics
from analysis.stats.sequential import (
    HORIZON,
    Looks,
    information_fractions,
    look_multipliers,
    look_p_values,
    null_log_lift_variances,
    planned_per_arm,
    visitors_to_call,
)

INPUT_COLUMNS = ("family", "visitors_control", "conversions_control", "visitors", "conversions", "dated", "days")
CALLS = ("better", "worse", "no_difference")
# What is frozen at a comparison's first call and carried to its later looks (missing while it is open)...
CALL_FIGURES = {
    "visitors_control": "call_visitors_control",
    "conversions_control": "call_conversions_control",
    "visitors": "call_visitors",
    "conversions": "call_conversions",
    "looks": "call_looks",
}
# ...and the decision's own figures: at the call once called, the running ones while open.
DECISION_FIGURES = {
    "rule_p_value": "decision_p_value",
    "adjusted": "adjusted_p_value",
    "low": "decision_low",
    "high": "decision_high",
}


@dataclass(frozen=True)
class DecisionSettings:
    alpha: float = 0.05
    minimum_effect: float = 0.10
    power: float = 0.8
    min_days: int = 3
    min_conversions: int = 5
    # The always-valid mixture's share of alpha, and the spread (sd of the log lift) of the lifts it is
    # tuned to: large lifts early, and looks past the plan (docs/methodology.md shows the measurements).
    mixture_share: float = 0.1
    mixture_sd: float = 0.3

    def method(self) -> Method:
        """The method and defaults, as reported beside every result."""
        return Method(
            alpha=self.alpha,
            minimum_effect=self.minimum_effect,
            power=self.power,
            min_days=self.min_days,
            min_conversions=self.min_conversions,
            prior=PRIOR,
            mixture_share=self.mixture_share,
            mixture_sd=self.mixture_sd,
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


def _paths(table: pd.DataFrame) -> pd.DataFrame:
    """The table in path order (each comparison's looks in order), with `path` and `look` filled in."""
    if "path" not in table:
        return table.assign(path=np.arange(len(table)), look=0)
    return table.sort_values(["path", "look"], kind="stable")


def decide_comparisons(table: pd.DataFrame, settings: DecisionSettings) -> pd.DataFrame:
    """Adds the rule's columns to a table with INPUT_COLUMNS, one row per comparison per look.

    Optional columns: `planned` (the visitors per arm the sheet plans), `path` (one id per comparison;
    without it every row is a comparison of its own, looked at once), `look` (the order of a path's looks)
    and `looked_at` (when, carried to `called_at`). Returned in path order, the input's index kept."""
    frame = _paths(table)
    path = frame["path"].to_numpy()
    nc = frame["visitors_control"].to_numpy(dtype=np.float64)
    xc = frame["conversions_control"].to_numpy(dtype=np.float64)
    nv = frame["visitors"].to_numpy(dtype=np.float64)
    xv = frame["conversions"].to_numpy(dtype=np.float64)
    dated = frame["dated"].to_numpy(dtype=bool)
    days = frame["days"].to_numpy(dtype=np.float64)
    given = frame["planned"].to_numpy(dtype=np.float64) if "planned" in frame else np.full(len(frame), np.nan)
    alpha, effect, share, tau = settings.alpha, settings.minimum_effect, settings.mixture_share, settings.mixture_sd

    pooled = rates(nc + nv, xc + xv)
    planned = np.where(np.isnan(given), planned_per_arm(pooled, effect, alpha, settings.power), given)
    information = information_fractions(nc, nv, planned)
    # The periods' own variation widens the test where rates swing from day to day (analysis.stats.dispersion).
    spread = dispersion(path, nc, xc, nv, xv)
    z = adjusted_z(z_statistics(nc, xc, nv, xv), spread)
    variance = null_log_lift_variances(nc, xc, nv, xv) * spread.phi
    control_rate, variant_rate = rates(nc, xc), rates(nv, xv)
    direction = np.sign(variant_rate - control_rate)

    # Periods are the evidence of the variance: an undated path waits for as many reads as a dated one for days.
    early = np.where(dated, ~(days >= settings.min_days), spread.df + 1 < settings.min_days)
    few = (xc < settings.min_conversions) | (xv < settings.min_conversions)
    enough = ~early & ~few
    # Evidence counts only from looks where a call is allowed, so a call rests on a look that could make it.
    groups = pd.Series(path, index=frame.index)
    looks_so_far = groups.groupby(groups).cumcount().to_numpy() + 1
    looks = Looks.along(path, information)
    look_p = np.where(enough, look_p_values(z, looks, variance, share, tau), 1.0)
    boundary = look_multipliers(looks, variance, alpha, share, tau)
    multipliers = raw_multipliers(boundary, spread)
    low, high = risk_ratio_interval_at(nc, xc, nv, xv, multipliers)

    rule_p = pd.Series(look_p, index=frame.index).groupby(groups).cummin().to_numpy()
    new_low = np.isfinite(rule_p) & (look_p <= rule_p)
    call_direction = pd.Series(np.where(new_low, direction, np.nan), index=frame.index).groupby(groups).ffill()
    # The intervals too are intersected over the looks that could make a call: before them (day one, say)
    # nothing shows how much the rates swing, and that look's binomial interval may be far too narrow.
    running_low = pd.Series(np.where(enough, low, -np.inf), index=frame.index).groupby(groups).cummax().to_numpy()
    running_high = pd.Series(np.where(enough, high, np.inf), index=frame.index).groupby(groups).cummin().to_numpy()
    none_yet = np.isneginf(running_low) & np.isposinf(running_high)
    running_low, running_high = np.where(none_yet, low, running_low), np.where(none_yet, high, running_high)
    empty = running_low > running_high  # only when the model is badly off; fall back to this look's interval
    running_low, running_high = np.where(empty, low, running_low), np.where(empty, high, running_high)

    adjusted = holm_adjust(rule_p, frame["family"].to_numpy())
    sign = call_direction.fillna(0).to_numpy()
    significant = enough & (adjusted < alpha) & (sign != 0)
    rules_out = enough & (running_low > 1 / (1 + effect) - 1) & (running_high < effect)
    # Swinging rates carry less information per visitor: the plan is reached at phi times its visitors.
    reached = np.nan_to_num(information) >= np.maximum(spread.phi, 1.0)
    candidate = np.select(
        [significant & (sign > 0), significant & (sign < 0), early, rules_out, few],
        ["better", "worse", "too_early", "no_difference", "too_early"],
        "keep_running",
    )

    out = frame.copy()
    out["looks"] = looks_so_far
    out["decision_rule"] = "sequential"
    out["planned_visitors"] = planned
    out["information_fraction"] = information
    out["dispersion"], out["dispersion_df"] = spread.phi, spread.df
    out["rule_p_value"] = rule_p
    # How far this look's evidence is toward a call: |z| as a share of the |z| a call needs now (1 calls).
    with np.errstate(invalid="ignore", divide="ignore"):
        out["evidence"] = np.where(enough & np.isfinite(boundary), np.abs(z) / boundary, np.nan)
    out["adjusted"] = adjusted
    out["low"], out["high"] = running_low, running_high
    # The always-valid range at every look, also after the call (which freezes the decision's own figures).
    out["range_low"], out["range_high"] = running_low, running_high

    is_call = np.isin(candidate, CALLS)
    calls_so_far = pd.Series(is_call, index=frame.index).groupby(groups).cumsum().to_numpy()
    called = calls_so_far > 0
    first_call = is_call & (calls_so_far == 1)

    def at_call(values: npt.ArrayLike) -> pd.Series:
        return pd.Series(values, index=frame.index).where(first_call).groupby(groups).ffill()

    calls = at_call(candidate).to_numpy(dtype=object)
    calls[~called] = None
    out["call"] = pd.Series(calls, index=frame.index, dtype="object")
    out["decision"] = np.where(called, out["call"], candidate)
    out["plan_reached"] = reached & ~called
    out["significant"] = np.isin(out["decision"], ("better", "worse"))
    if "looked_at" in out:
        out["called_at"] = at_call(out["looked_at"])
    for name, renamed in CALL_FIGURES.items():
        out[renamed] = at_call(out[name])
    for name, renamed in DECISION_FIGURES.items():
        out[renamed] = np.where(called, at_call(out[name]), out[name])

    # What is left matters at a path's latest look only, and only while it is open.
    latest = np.r_[path[1:] != path[:-1], True] if len(path) else np.zeros(0, dtype=bool)
    open_ended = np.isin(out["decision"].to_numpy(), ["keep_running", "too_early"]) & latest
    to_go = np.full(len(frame), np.nan)
    if open_ended.any():
        i = np.flatnonzero(open_ended)
        needed = visitors_to_call(control_rate[i], variant_rate[i], planned[i], alpha, settings.power, share, tau)
        # Swinging rates need phi times the visitors for the same evidence, and reach the plan at phi times it;
        # past the plan, what is left is the watch up to the horizon.
        scale = np.maximum(spread.phi[i], 1.0)
        inflated = np.where(reached[i], HORIZON * planned[i], np.fmin(needed, planned[i])) * scale
        to_go[i] = np.maximum(inflated - np.minimum(nc[i], nv[i]), 0)
    out["visitors_to_go"] = to_go
    return out.drop(columns=["rule_p_value", "adjusted", "low", "high"])
