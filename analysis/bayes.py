"""Secondary Bayesian figures: the chance a variant beats its control, and lifts shrunk towards zero.

Neither decides anything; the peeking-safe boundary does (analysis.decision). They help a reader weigh
a call: "chance to beat" with a flat Beta(1, 1) prior on each rate, and a lift shrunk by a normal
prior on the log lift (standard deviation PRIOR_LOG_LIFT_SD: most real lifts are within about ±40%)
to show how much of a large lift from few conversions is likely noise.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from analysis.stats import FloatArray, log_lifts

PRIOR = "Beta(1, 1) (flat) on each conversion rate"
PRIOR_LOG_LIFT_SD = 0.2
_NODES = 32  # Gauss-Legendre nodes over the narrower posterior's mean ± 10 sd: within 1e-5 of the closed form


def chance_to_beat(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """P(variant rate > control rate) under independent Beta(1 + x, 1 + n - x) posteriors.

    Integrates over the *narrower* of the two posteriors (so a sharp one never falls between nodes):
    P = ∫ f_control(p) (1 - F_variant(p)) dp = ∫ f_variant(p) F_control(p) dp, by Gauss-Legendre quadrature
    on its mean ± 10 standard deviations (clipped to [0, 1]), the density normalised on the nodes; NaN
    without traffic."""
    ac, bc, av, bv = 1 + xc, 1 + nc - xc, 1 + xv, 1 + nv - xv
    spread_c = ac * bc / ((ac + bc) ** 2 * (ac + bc + 1))
    spread_v = av * bv / ((av + bv) ** 2 * (av + bv + 1))
    over_variant = spread_v < spread_c
    a, b = np.where(over_variant, av, ac)[:, None], np.where(over_variant, bv, bc)[:, None]
    other_a, other_b = np.where(over_variant, ac, av)[:, None], np.where(over_variant, bc, bv)[:, None]
    mean = a / (a + b)
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    low, high = np.clip(mean - 10 * sd, 0.0, 1.0), np.clip(mean + 10 * sd, 0.0, 1.0)
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
