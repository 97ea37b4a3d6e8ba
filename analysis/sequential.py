"""A peeking-safe boundary: looks may come at any time, as often as anyone likes, up to a planned sample.

The z statistic of a two-proportion test, watched as visitors arrive, behaves like Z(t) = W(t) / sqrt(t),
where W is a Brownian motion in information time t = visitors so far / planned visitors per arm.
By the reflection principle, P(sup_{t <= 1} |W(t)| >= c) <= 4 * (1 - Phi(c)), so calling a
difference only when |Z(t)| * sqrt(t) >= c with c = Phi^-1(1 - alpha / 4) keeps the chance of any
false call, over every look up to the planned sample, at or below alpha, however many looks there are
(the O'Brien-Fleming boundary for continuous monitoring). Discrete daily looks only make it safer.
Past the planned sample the boundary stays at its final value c.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analysis.stats import FloatArray


def boundary_constant(alpha: float) -> float:
    """The value |W(t)| must reach: 2.241 for alpha = 0.05."""
    return float(stats.norm.isf(alpha / 4))


def information_fractions(nc: FloatArray, nv: FloatArray, planned: FloatArray) -> FloatArray:
    """Visitors so far as a share of the planned visitors per arm (harmonic mean of the two arms, which
    is what the variance of the difference sees); NaN where there is no plan."""
    effective = np.divide(2.0, 1.0 / np.maximum(nc, 1e-12) + 1.0 / np.maximum(nv, 1e-12))
    fraction: FloatArray = np.divide(effective, planned, out=np.full_like(effective, np.nan), where=planned > 0)
    return fraction


def boundaries(information: FloatArray, alpha: float) -> FloatArray:
    """The |z| a comparison must reach at this information fraction to be called."""
    t = np.clip(information, 1e-12, 1.0)
    bound: FloatArray = boundary_constant(alpha) / np.sqrt(t)
    return bound


def sequential_p_values(z: FloatArray, information: FloatArray) -> FloatArray:
    """The smallest alpha whose boundary |z| reaches now: 4 * (1 - Phi(|z| * sqrt(min(t, 1)))), at most 1.

    Valid under continuous monitoring, so it can be Holm-adjusted like any p-value."""
    t = np.clip(information, 0.0, 1.0)
    p: FloatArray = np.minimum(4 * stats.norm.sf(np.abs(z) * np.sqrt(t)), 1.0)
    return p


def planned_per_arm(base_rate: FloatArray, minimum_effect: float, alpha: float, power: float) -> FloatArray:
    """Default plan: the classic fixed-horizon sample per arm to detect a relative lift of
    `minimum_effect` on `base_rate` (two-sided alpha, given power); NaN where the base rate is 0 or 1."""
    p0 = base_rate
    p1 = np.clip(base_rate * (1 + minimum_effect), 0.0, 1.0)
    z_alpha = stats.norm.isf(alpha / 2)
    z_beta = stats.norm.ppf(power)
    mean = (p0 + p1) / 2
    spread = z_alpha * np.sqrt(2 * mean * (1 - mean)) + z_beta * np.sqrt(p0 * (1 - p0) + p1 * (1 - p1))
    diff = np.abs(p1 - p0)
    defined = (diff > 0) & (p0 > 0) & (p0 < 1)
    planned: FloatArray = np.ceil(np.divide(spread**2, diff**2, out=np.full_like(diff, np.nan), where=defined))
    return planned


def visitors_to_call(
    control_rate: FloatArray,
    variant_rate: FloatArray,
    planned: FloatArray,
    alpha: float,
    power: float,
) -> FloatArray:
    """Visitors per arm at which a true difference control_rate -> variant_rate crosses the sequential
    boundary with the given power (normal approximation); NaN where the rates are equal.

    With z(n) = a * sqrt(n) and the boundary c * sqrt(N / n) (n <= N), solve a*n - z_beta*sqrt(n) = c*sqrt(N);
    past the plan the boundary is c, so n = ((c + z_beta) / a)^2."""
    c = boundary_constant(alpha)
    z_beta = float(stats.norm.ppf(power))
    sigma = np.sqrt(control_rate * (1 - control_rate) + variant_rate * (1 - variant_rate))
    diff = np.abs(variant_rate - control_rate)
    defined = (diff > 0) & (sigma > 0)
    a = np.divide(diff, sigma, out=np.full_like(diff, np.nan), where=defined)
    root = (z_beta + np.sqrt(z_beta**2 + 4 * a * c * np.sqrt(np.nan_to_num(planned)))) / (2 * a)
    within = root**2
    beyond = ((c + z_beta) / a) ** 2
    needed: FloatArray = np.ceil(np.where(within <= planned, within, beyond))
    return needed
