"""Secondary Bayesian figures: the chance a variant beats its control, and lifts shrunk towards zero.

Neither decides anything; the peeking-safe boundary does (analysis.decision). They help a reader weigh
a call: "chance to beat" with a flat Beta(1, 1) prior on each rate, and a lift shrunk by a normal
prior on the log lift (standard deviation PRIOR_LOG_LIFT_SD: most real lifts are within about ±40%)
to show how much of a large lift from few conversions is likely noise.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from analysis.stats.arrays import FloatArray
from analysis.stats.proportions import log_lifts

PRIOR = "Beta(1, 1) (flat) on each conversion rate"
PRIOR_LOG_LIFT_SD = 0.2
# Gauss-Legendre nodes between the narrower posterior's _TAIL and 1 - _TAIL quantiles: within 1e-5 of the
# closed form. Quantiles, not mean ± 10 sd: a posterior with no conversions is exponential, and e^-11 =
# 1.7e-5 of it lies past 10 sd.
_NODES = 40
_TAIL = 1e-12
# From this many conversions and non-conversions in each arm (plus the prior's one) the Edgeworth expansion
# is within 2e-5 of the closed form, at a hundredth of the quadrature's cost.
EXPANSION_FROM = 200


def chance_to_beat(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """P(variant rate > control rate) under independent Beta(1 + x, 1 + n - x) posteriors: by quadrature
    while an arm has few conversions or few non-conversions, by an Edgeworth expansion from
    EXPANSION_FROM of each; NaN without traffic."""
    smallest = np.minimum(np.minimum(xc, nc - xc), np.minimum(xv, nv - xv)) + 1
    large = smallest >= EXPANSION_FROM
    result = np.empty(len(nc))
    if large.any():
        result[large] = _expansion(nc[large], xc[large], nv[large], xv[large])
    if not large.all():
        small = ~large
        result[small] = _quadrature(nc[small], xc[small], nv[small], xv[small])
    return result


def _beta_cumulants(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Mean, variance and third and fourth cumulants of Beta(a, b)."""
    s = a + b
    mean = a / s
    variance = a * b / (s * s * (s + 1))
    third = 2 * a * b * (b - a) / (s**3 * (s + 1) * (s + 2))
    excess_kurtosis = 6 * ((a - b) ** 2 * (s + 1) - a * b * (s + 2)) / (a * b * (s + 2) * (s + 3))
    return mean, variance, third, excess_kurtosis * variance * variance


def _expansion(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """P(p_v - p_c > 0) from the first four cumulants of the difference (they add, the third with its
    sign): the normal tail with the second-order Edgeworth terms, clipped to [0, 1]. Its error falls as
    the counts' -3/2 power; the skewness term alone would leave 1e-4 even at 1,000 conversions."""
    mean_c, variance_c, third_c, fourth_c = _beta_cumulants(1 + xc, 1 + nc - xc)
    mean_v, variance_v, third_v, fourth_v = _beta_cumulants(1 + xv, 1 + nv - xv)
    sd = np.sqrt(variance_c + variance_v)
    skewness = (third_v - third_c) / sd**3
    kurtosis = (fourth_v + fourth_c) / sd**4
    t = (mean_c - mean_v) / sd  # where 0 sits in the standardised difference
    density = np.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    terms = (
        skewness / 6 * (t * t - 1)
        + kurtosis / 24 * (t**3 - 3 * t)
        + skewness * skewness / 72 * (t**5 - 10 * t**3 + 15 * t)
    )
    chance: FloatArray = np.clip(special.ndtr(-t) + density * terms, 0.0, 1.0)
    return chance


def _quadrature(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """Integrates over the *narrower* of the two posteriors (so a sharp one never falls between nodes):
    P = ∫ f_control(p) (1 - F_variant(p)) dp = ∫ f_variant(p) F_control(p) dp, by Gauss-Legendre quadrature
    between its _TAIL and 1 - _TAIL quantiles, the density normalised on the nodes; NaN
    without traffic."""
    ac, bc, av, bv = 1 + xc, 1 + nc - xc, 1 + xv, 1 + nv - xv
    spread_c = ac * bc / ((ac + bc) ** 2 * (ac + bc + 1))
    spread_v = av * bv / ((av + bv) ** 2 * (av + bv + 1))
    over_variant = spread_v < spread_c
    a, b = np.where(over_variant, av, ac)[:, None], np.where(over_variant, bv, bc)[:, None]
    other_a, other_b = np.where(over_variant, ac, av)[:, None], np.where(over_variant, bc, bv)[:, None]
    low, high = special.betaincinv(a, b, _TAIL), special.betaincinv(a, b, 1 - _TAIL)
    nodes, weights = np.polynomial.legendre.leggauss(_NODES)
    grid = low + (high - low) * (nodes[None, :] + 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        density = np.exp((a - 1) * np.log(grid) + (b - 1) * np.log1p(-grid) - special.betaln(a, b)) * weights
        other = special.betainc(other_a, other_b, grid)
        inner = np.where(over_variant[:, None], other, 1.0 - other)
        chance = (density * inner).sum(axis=1) / density.sum(axis=1)
    result: FloatArray = np.where((nc > 0) & (nv > 0), chance, np.nan)
    return result


def shrink_factors(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """Share of the observed log lift the prior lets through: tau^2 / (tau^2 + se^2)."""
    _, se = log_lifts(nc, xc, nv, xv)
    factor: FloatArray = PRIOR_LOG_LIFT_SD**2 / (PRIOR_LOG_LIFT_SD**2 + se**2)
    return factor


def shrunk_lifts(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """Posterior mean of the log lift under the normal prior, back on the lift scale."""
    log_ratio, _ = log_lifts(nc, xc, nv, xv)
    shrunk: FloatArray = np.expm1(log_ratio * shrink_factors(nc, xc, nv, xv))
    return shrunk
