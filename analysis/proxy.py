"""How well each micro metric has tracked its macro metric, from the tests in the sheet.

Every variant's micro comparison is paired with its macro comparison(s) in the same test. Two figures:
- direction: among finished tests (the macro comparison was called better or worse, or its fixed-horizon
  p-value is below 0.05: a finished test's total is one look at the end, not a peek), how many had the
  micro lift pointing the same way;
- a noise-aware correlation of the log lifts across tests: the inverse-variance weighted covariance minus
  what sampling noise alone would put there (method of moments, as in trial-level surrogate evaluation),
  so that noisy lifts from small tests neither dominate it nor drag it towards zero. The sampling
  covariance of the two log lifts is the micro log lift's variance when the funnel is nested (macro <= micro
  conversions in both arms: every buyer passed the micro step), else zero.
The pairs also carry the funnel check the verdict uses for conflicts: macro conversions per micro
conversion, variant against control (pooled two-proportion z-test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.models import ProxyRecord
from analysis.stats.proportions import log_lifts, z_test_p_values

MIN_CORRELATION_TESTS = 3
PAIR_KEYS = ["test_index", "variant"]
_SIDE_COLUMNS = [
    "metric",
    "visitors_control",
    "conversions_control",
    "visitors",
    "conversions",
    "decision",
    "lift",
    "p_value",
]
FINISHED_ALPHA = 0.05


def micro_macro_pairs(table: pd.DataFrame) -> pd.DataFrame:
    """Each variant's micro comparison next to each macro comparison of its test, with both log lifts,
    their sampling (co)variances and the funnel check."""
    sides = [*PAIR_KEYS, *(c for c in _SIDE_COLUMNS if c in table)]
    micro = table.loc[table["kind"] == "micro", sides]
    macro = table.loc[table["kind"] == "macro", sides]
    pairs = micro.merge(macro, on=PAIR_KEYS, suffixes=("_micro", "_macro"))
    if pairs.empty:
        return pairs

    def column(name: str) -> np.ndarray:
        return pairs[name].to_numpy(dtype=np.float64)

    micro_counts = [
        column(f"{n}_micro") for n in ("visitors_control", "conversions_control", "visitors", "conversions")
    ]
    macro_counts = [
        column(f"{n}_macro") for n in ("visitors_control", "conversions_control", "visitors", "conversions")
    ]
    pairs["log_lift_micro"], se_micro = log_lifts(*micro_counts)
    pairs["log_lift_macro"], se_macro = log_lifts(*macro_counts)
    pairs["var_micro"], pairs["var_macro"] = se_micro**2, se_macro**2
    xc_micro, xv_micro = micro_counts[1], micro_counts[3]
    xc_macro, xv_macro = macro_counts[1], macro_counts[3]
    nested = (xc_macro <= xc_micro) & (xv_macro <= xv_micro)
    pairs["nested"] = nested
    pairs["covariance"] = np.where(nested, se_micro**2, 0.0)
    pairs["funnel_control"] = np.divide(xc_macro, xc_micro, out=np.full_like(xc_macro, np.nan), where=xc_micro > 0)
    pairs["funnel_variant"] = np.divide(xv_macro, xv_micro, out=np.full_like(xv_macro, np.nan), where=xv_micro > 0)
    funnel_p = z_test_p_values(xc_micro, np.minimum(xc_macro, xc_micro), xv_micro, np.minimum(xv_macro, xv_micro))
    pairs["funnel_p_value"] = np.where(nested, funnel_p, np.nan)
    return pairs


def _between(values: np.ndarray, other: np.ndarray, within: np.ndarray, weights: np.ndarray) -> float:
    """Between-test (co)variance by weighted method of moments: the weighted sample (co)variance minus
    what sampling noise alone puts there, E = b * (W - sum w^2 / W) + sum w v - sum w^2 v / W."""
    total = weights.sum()
    dx = values - (weights * values).sum() / total
    dy = other - (weights * other).sum() / total
    observed = (weights * dx * dy).sum()
    noise = (weights * within).sum() - (weights**2 * within).sum() / total
    return float((observed - noise) / (total - (weights**2).sum() / total))


def _correlation(group: pd.DataFrame) -> tuple[float | None, int]:
    usable = group[np.isfinite(group["log_lift_micro"]) & np.isfinite(group["log_lift_macro"])]
    tests = int(usable["test_index"].nunique())
    if tests < MIN_CORRELATION_TESTS or len(usable) < MIN_CORRELATION_TESTS:
        return None, tests
    x, y = usable["log_lift_micro"].to_numpy(), usable["log_lift_macro"].to_numpy()
    vx, vy, cxy = (usable[c].to_numpy() for c in ("var_micro", "var_macro", "covariance"))
    weights = 1.0 / (vx + vy)
    between_xx = _between(x, x, vx, weights)
    between_yy = _between(y, y, vy, weights)
    between_xy = _between(x, y, cxy, weights)
    if between_xx <= 0 or between_yy <= 0:
        return None, tests
    return float(np.clip(between_xy / np.sqrt(between_xx * between_yy), -1.0, 1.0)), tests


def proxy_records(pairs: pd.DataFrame, excluded_tests: frozenset[int] = frozenset()) -> tuple[ProxyRecord, ...]:
    """One record per (micro metric, macro metric) pair of names, matched without regard to case;
    tests in `excluded_tests` (a broken split) are left out."""
    if pairs.empty:
        return ()
    usable = pairs[~pairs["test_index"].isin(excluded_tests)].copy()
    usable["key_micro"] = usable["metric_micro"].str.lower()
    usable["key_macro"] = usable["metric_macro"].str.lower()
    finished = usable["decision_macro"].isin(["better", "worse"])
    if "p_value_macro" in usable:
        finished |= usable["p_value_macro"] < FINISHED_ALPHA
    usable["agrees"] = np.sign(usable["log_lift_micro"]) == np.sign(usable["log_lift_macro"])
    records = []
    for _, group in usable.groupby(["key_micro", "key_macro"], sort=False):
        done = group[finished.loc[group.index]]
        by_test = done.groupby("test_index")["agrees"].all()
        correlation, tests = _correlation(group)
        records.append(
            ProxyRecord(
                micro=str(group["metric_micro"].iloc[0]),
                macro=str(group["metric_macro"].iloc[0]),
                finished_tests=len(by_test),
                agreeing_tests=int(by_test.sum()),
                correlation=correlation,
                correlation_tests=tests,
            )
        )
    return tuple(records)
