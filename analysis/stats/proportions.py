"""Two-proportion statistics, vectorised over every comparison at once.

Conventions (documented in docs/methodology.md):
- lift is relative, variant rate / control rate - 1; its interval is the Miettinen-Nurminen score
  interval of that rate ratio: the ratios theta whose score test (variance at the rates' maximum
  likelihood estimates restricted to ratio theta, times N / (N - 1)) is not rejected, as statsmodels'
  confint_proportions_2indep(xv, nv, xc, nc, method="score", compare="ratio", correction=True).
  It contains its estimate even at zero counts: its low end is exactly -100% when the variant has not
  converted, and its high end unbounded (inf) when the control has not converted;
- the lift and its interval are NaN when the control has not converted, either arm has no visitors,
  or (interval only) neither arm has converted;
- the p-value is the pooled two-proportion z-test, or Fisher's exact test (two-sided) where an
  expected count of the 2x2 table is below 5;
- visitors needed is the classic normal-approximation sample size per arm for the observed rates,
  pooled variance under H0, unpooled under H1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from analysis.stats.arrays import BoolArray, FloatArray, as_float
from analysis.stats.score_interval import score_ratio_limits

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


def rates(visitors: FloatArray, conversions: FloatArray) -> FloatArray:
    return np.divide(conversions, visitors, out=np.zeros_like(conversions), where=visitors > 0)


def z_test_p_values(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """Two-sided pooled two-proportion z-test; 1.0 where the test has no variance."""
    p_values: FloatArray = 2 * special.ndtr(-np.abs(z_statistics(nc, xc, nv, xv)))
    return p_values


def min_expected_count(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    total = nc + nv
    converted = xc + xv
    smallest_column = np.minimum(converted, total - converted)
    smallest_row = np.minimum(nc, nv)
    expected: FloatArray = np.divide(smallest_row * smallest_column, total, out=np.zeros_like(total), where=total > 0)
    return expected


# Fisher's test sums the tables as likely as the observed one or less; "as likely" within this relative
# tolerance, as R's fisher.test does, so that mathematically tied tables tie in floating point too.
FISHER_TIES = 1e-7
# Tables with more possible values of a cell than this are far from small: NaN keeps their z-test.
FISHER_SUPPORT = 1_000_000


def _fisher_p_value(a: float, b: float, c: float, d: float) -> float:
    """Two-sided Fisher's exact test of control `b` of `a` against variant `d` of `c`, by summing the
    hypergeometric probabilities of every table with the observed margins. Each probability is known up to
    a constant from its neighbour's, pmf(k + 1) / pmf(k) = (n - k)(N - k) / ((k + 1)(M - n - N + k + 1)),
    so the sum needs no factorials (nor scipy.stats, slower to import than the rest of the analysis)."""
    # Fisher's test counts whole events: attribution's fractional conversions (61.5) are rounded to the
    # nearest whole conversion, and the traffic with them, so each row of the table keeps its total.
    n_c, x_c, n_v, x_v = (float(round(value)) for value in (a, b, c, d))
    if min(x_c, x_v, n_c - x_c, n_v - x_v) < 0:
        return float("nan")
    total, converted = n_c + n_v, x_c + x_v
    if n_c == 0 or n_v == 0 or converted == 0 or converted == total:
        return 1.0
    low, high = max(0.0, n_c - (total - converted)), min(n_c, converted)
    if high - low > FISHER_SUPPORT:
        return float("nan")
    k = np.arange(low, high, dtype=np.float64)
    steps = np.log((converted - k) * (n_c - k)) - np.log((k + 1) * (total - converted - n_c + k + 1))
    log_weights = np.concatenate(([0.0], np.cumsum(steps)))
    weights = np.exp(log_weights - log_weights.max())
    observed = weights[int(x_c - low)]
    p_value = float(weights[weights <= observed * (1 + FISHER_TIES)].sum() / weights.sum())
    return min(p_value, 1.0)


def fisher_p_values(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """Two-sided Fisher's exact test (NaN where the counts overflow it); looped, so call it only on the
    few small tables."""
    return np.array([_fisher_p_value(*table) for table in zip(nc, xc, nv, xv, strict=True)], dtype=np.float64)


def sample_size_per_arm(
    control_rate: FloatArray, variant_rate: FloatArray, alpha: float = 0.05, power: float = 0.8
) -> FloatArray:
    """Visitors per arm to detect control_rate -> variant_rate, two-sided; NaN where rates are equal."""
    z_alpha = special.ndtri(1 - alpha / 2)
    z_beta = special.ndtri(power)
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
    nc, xc = as_float(control_visitors), as_float(control_conversions)
    nv, xv = as_float(variant_visitors), as_float(variant_conversions)
    control_rate, variant_rate = rates(nc, xc), rates(nv, xv)
    lift_defined = (control_rate > 0) & (nv > 0)
    lift = np.divide(variant_rate, control_rate, out=np.full_like(nc, np.nan), where=lift_defined) - 1
    low, high = risk_ratio_interval_at(nc, xc, nv, xv, np.full_like(nc, -special.ndtri(alpha / 2)))
    low, high = np.where(lift_defined, low, np.nan), np.where(lift_defined, high, np.nan)

    p_value = z_test_p_values(nc, xc, nv, xv)
    small = (min_expected_count(nc, xc, nv, xv) < FISHER_BELOW) & (nc > 0) & (nv > 0)
    if small.any():
        exact = fisher_p_values(nc[small], xc[small], nv[small], xv[small])
        p_value[small] = np.where(np.isnan(exact), p_value[small], exact)
        small[small] = ~np.isnan(exact)
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
    counts = as_float(visitors)
    labels = np.asarray(groups, dtype=np.int64)
    n_groups = int(labels.max()) + 1 if labels.size else 0
    totals = np.bincount(labels, weights=counts, minlength=n_groups).astype(np.float64)  # float even when empty
    arms = np.bincount(labels, minlength=n_groups).astype(np.float64)
    expected = np.divide(totals, arms, out=np.zeros_like(totals), where=arms > 0)[labels]
    contributions = np.divide((counts - expected) ** 2, expected, out=np.zeros_like(counts), where=expected > 0)
    chi_square = np.bincount(labels, weights=contributions, minlength=n_groups).astype(np.float64)
    dof = arms - 1
    defined = (dof > 0) & (totals > 0)
    return np.where(defined, special.chdtrc(np.maximum(dof, 1), chi_square), 1.0)


def log_lifts(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Log risk ratio (variant / control) and its Katz standard error, with 0.5 added to every cell of
    the 2x2 table when any cell is zero (Haldane-Anscombe); NaN where either arm has no traffic."""
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
    """The lift's score interval (see the module conventions) with its own normal multiplier per
    comparison, e.g. a wider one for a peeking-safe interval; z = norm.isf(alpha / 2) for a 1 - alpha one.

    Returns (low, high) of the lift, ratio - 1: low is exactly -1 where the variant has not converted
    (or z is inf), high is inf where the control has not converted (or z is inf); both are NaN where
    either arm has no visitors, neither arm has converted, a count is impossible or z is NaN."""
    low, high = score_ratio_limits(nc, xc, nv, xv, z)
    return low - 1, high - 1


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
