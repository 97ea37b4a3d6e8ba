"""Two-proportion statistics, vectorised over every comparison at once.

Conventions (documented in docs/methodology.md):
- lift is relative, variant rate / control rate - 1; its 95% interval is the log risk ratio (Katz)
  interval, with 0.5 added to every cell of the 2x2 table when any cell is zero (Haldane-Anscombe);
- the p-value is the pooled two-proportion z-test, or Fisher's exact test (two-sided) where an
  expected count of the 2x2 table is below 5;
- visitors needed is the classic normal-approximation sample size per arm for the observed rates,
  pooled variance under H0, unpooled under H1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
FISHER_BELOW = 5.0


@dataclass(frozen=True)
class ProportionComparisons:
    """One entry per comparison; NaN marks an undefined lift, interval or sample size."""

    control_rate: FloatArray
    variant_rate: FloatArray
    lift: FloatArray
    lift_low: FloatArray
    lift_high: FloatArray
    p_value: FloatArray
    used_fisher: BoolArray
    visitors_needed: FloatArray


def _as_float(values: npt.ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


def rates(visitors: FloatArray, conversions: FloatArray) -> FloatArray:
    return np.divide(conversions, visitors, out=np.zeros_like(conversions), where=visitors > 0)


def z_test_p_values(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """Two-sided pooled two-proportion z-test; 1.0 where the test has no variance."""
    p_values: FloatArray = 2 * stats.norm.sf(np.abs(z_statistics(nc, xc, nv, xv)))
    return p_values


def min_expected_count(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    total = nc + nv
    converted = xc + xv
    smallest_column = np.minimum(converted, total - converted)
    smallest_row = np.minimum(nc, nv)
    expected: FloatArray = np.divide(smallest_row * smallest_column, total, out=np.zeros_like(total), where=total > 0)
    return expected


def fisher_p_values(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """Two-sided Fisher's exact test; looped, so call it only on the few small tables."""
    return np.array(
        [
            stats.fisher_exact([[b, a - b], [d, c - d]]).pvalue if a + c > 0 else 1.0
            for a, b, c, d in zip(nc, xc, nv, xv, strict=True)
        ],
        dtype=np.float64,
    )


def log_risk_ratio_interval(
    nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    """Interval of the relative lift (risk ratio - 1); NaN where either arm has no traffic or the
    control and variant both never convert."""
    any_zero = (xc == 0) | (xv == 0) | (xc == nc) | (xv == nv)
    half = np.where(any_zero, 0.5, 0.0)
    a, n1, c, n0 = xv + half, nv + 2 * half, xc + half, nc + 2 * half
    defined = (nc > 0) & (nv > 0) & (a > 0) & (c > 0)
    safe = np.where(defined, 1.0, np.nan)
    log_ratio = np.log(a * safe / n1) - np.log(c * safe / n0)
    se = np.sqrt(1 / (a * safe) - 1 / n1 + 1 / (c * safe) - 1 / n0)
    z = stats.norm.ppf(1 - alpha / 2)
    return np.expm1(log_ratio - z * se), np.expm1(log_ratio + z * se)


def sample_size_per_arm(
    control_rate: FloatArray, variant_rate: FloatArray, alpha: float = 0.05, power: float = 0.8
) -> FloatArray:
    """Visitors per arm to detect control_rate -> variant_rate, two-sided; NaN where rates are equal."""
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    z_beta = stats.norm.ppf(power)
    mean = (control_rate + variant_rate) / 2
    spread = z_alpha * np.sqrt(2 * mean * (1 - mean)) + z_beta * np.sqrt(
        control_rate * (1 - control_rate) + variant_rate * (1 - variant_rate)
    )
    diff = np.abs(variant_rate - control_rate)
    needed: FloatArray = np.ceil(np.divide(spread**2, diff**2, out=np.full_like(diff, np.nan), where=diff > 0))
    return needed


def compare_proportions(
    control_visitors: npt.ArrayLike,
    control_conversions: npt.ArrayLike,
    variant_visitors: npt.ArrayLike,
    variant_conversions: npt.ArrayLike,
    alpha: float = 0.05,
    power: float = 0.8,
) -> ProportionComparisons:
    nc, xc = _as_float(control_visitors), _as_float(control_conversions)
    nv, xv = _as_float(variant_visitors), _as_float(variant_conversions)
    control_rate, variant_rate = rates(nc, xc), rates(nv, xv)
    lift_defined = (control_rate > 0) & (nv > 0)
    lift = np.divide(variant_rate, control_rate, out=np.full_like(nc, np.nan), where=lift_defined) - 1
    low, high = log_risk_ratio_interval(nc, xc, nv, xv, alpha)
    low, high = np.where(lift_defined, low, np.nan), np.where(lift_defined, high, np.nan)

    p_value = z_test_p_values(nc, xc, nv, xv)
    small = (min_expected_count(nc, xc, nv, xv) < FISHER_BELOW) & (nc > 0) & (nv > 0)
    if small.any():
        p_value[small] = fisher_p_values(nc[small], xc[small], nv[small], xv[small])
    needed = sample_size_per_arm(control_rate, variant_rate, alpha, power)
    needed = np.where((nc > 0) & (nv > 0), needed, np.nan)
    return ProportionComparisons(
        control_rate=control_rate,
        variant_rate=variant_rate,
        lift=lift,
        lift_low=low,
        lift_high=high,
        p_value=np.clip(p_value, 0.0, 1.0),
        used_fisher=small,
        visitors_needed=needed,
    )


def srm_p_values(visitors: npt.ArrayLike, groups: npt.ArrayLike) -> FloatArray:
    """Sample-ratio mismatch: chi-square goodness of fit of each group's arms against an equal split.

    `groups` labels each arm with its test as an integer 0..k-1; returns one p-value per test
    (1.0 where a test has no traffic or a single arm)."""
    counts = _as_float(visitors)
    labels = np.asarray(groups, dtype=np.int64)
    n_groups = int(labels.max()) + 1 if labels.size else 0
    totals = np.bincount(labels, weights=counts, minlength=n_groups)
    arms = np.bincount(labels, minlength=n_groups).astype(np.float64)
    expected = np.divide(totals, arms, out=np.zeros_like(totals), where=arms > 0)[labels]
    contributions = np.divide((counts - expected) ** 2, expected, out=np.zeros_like(counts), where=expected > 0)
    chi_square = np.bincount(labels, weights=contributions, minlength=n_groups)
    dof = arms - 1
    defined = (dof > 0) & (totals > 0)
    return np.where(defined, stats.chi2.sf(chi_square, np.maximum(dof, 1)), 1.0)


def log_lifts(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Log risk ratio and its standard error, with the zero-cell correction of `log_risk_ratio_interval`;
    NaN where either arm has no traffic."""
    any_zero = (xc == 0) | (xv == 0) | (xc == nc) | (xv == nv)
    half = np.where(any_zero, 0.5, 0.0)
    a, n1, c, n0 = xv + half, nv + 2 * half, xc + half, nc + 2 * half
    defined = (nc > 0) & (nv > 0) & (a > 0) & (c > 0)
    safe = np.where(defined, 1.0, np.nan)
    log_ratio: FloatArray = np.log(a * safe / n1) - np.log(c * safe / n0)
    se: FloatArray = np.sqrt(1 / (a * safe) - 1 / n1 + 1 / (c * safe) - 1 / n0)
    return log_ratio, se


def risk_ratio_interval_at(
    nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray, z: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The lift interval of `log_risk_ratio_interval` with its own normal multiplier per comparison
    (a wider one for a peeking-safe interval)."""
    log_ratio, se = log_lifts(nc, xc, nv, xv)
    with np.errstate(over="ignore"):  # a huge early multiplier means an unbounded interval
        return np.expm1(log_ratio - z * se), np.expm1(log_ratio + z * se)


def z_statistics(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """Signed pooled two-proportion z (variant minus control); 0 where the test has no variance."""
    pooled = rates(nc + nv, xc + xv)
    inverse_n = np.divide(1.0, nc, out=np.zeros_like(nc), where=nc > 0) + np.divide(
        1.0, nv, out=np.zeros_like(nv), where=nv > 0
    )
    se = np.sqrt(pooled * (1 - pooled) * inverse_n)
    diff = rates(nv, xv) - rates(nc, xc)
    defined = (se > 0) & (nc > 0) & (nv > 0)
    z: FloatArray = np.divide(diff, se, out=np.zeros_like(diff), where=defined)
    return z
