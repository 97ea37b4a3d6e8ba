"""The peeking-safe boundary: valid whatever the number and timing of looks, up to the plan and for ever after.

Two always-valid tests share alpha by a union bound (docs/methodology.md has the proof sketch):

- **Up to the plan** (share `1 - mixture_share` of alpha): the z statistic of a two-proportion test, watched
  as visitors arrive, behaves like Z(t) = W(t) / sqrt(t), where W is a Brownian motion in information time
  t = visitors so far / planned visitors per arm. By the reflection principle
  P(sup_{t <= 1} |W(t)| >= c) <= 4 * (1 - Phi(c)), so calling only when |Z(t)| * sqrt(t) >= c keeps the
  chance of a false call over every look up to the plan at or below this share (the O'Brien-Fleming
  boundary for continuous monitoring). Looks past the plan are not covered by it, with one exception: a
  path whose *first* look is already past the plan (an undated sheet microopt first reads late) has no
  earlier look, and every look after it is too late to use this part, so that one look is a fixed-horizon
  test at this share: |Z| >= Phi^-1(1 - share / 2).
- **At any time, and for ever** (share `mixture_share`): a normal-mixture likelihood ratio on the log lift
  (mSPRT, Johari et al. 2017; Robbins' mixture), Lambda = sqrt(V / (V + tau^2)) * exp(Z^2 tau^2 / (2 (V + tau^2))),
  with V the variance of the log lift under no difference and tau the spread of the lifts it is tuned to.
  Lambda is a nonnegative martingale under no difference, so by Ville's inequality
  P(sup_t Lambda >= 1 / a) <= a over every look there will ever be.

Both are tests of |Z| against a multiplier, so a look's boundary is the smaller of the two multipliers and
its p-value the smaller of the two p-values, each divided by its share of alpha.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from analysis.stats import BoolArray, FloatArray, sample_size_per_arm

# Halvings of the log-visitors bracket (about 28 wide): 2^-32 of it is far below one visitor.
BISECTION_STEPS = 32
# Below this share of the plan a test never uses the O'Brien-Fleming part (its boundary is beyond 30 sigma).
_TINY_FRACTION = 1e-4


def information_fractions(nc: FloatArray, nv: FloatArray, planned: FloatArray) -> FloatArray:
    """Visitors so far as a share of the planned visitors per arm (harmonic mean of the two arms, which
    is what the variance of the difference sees); NaN where there is no plan."""
    effective = np.divide(2.0, 1.0 / np.maximum(nc, 1e-12) + 1.0 / np.maximum(nv, 1e-12))
    fraction: FloatArray = np.divide(effective, planned, out=np.full_like(effective, np.nan), where=planned > 0)
    return fraction


def planned_per_arm(base_rate: FloatArray, minimum_effect: float, alpha: float, power: float) -> FloatArray:
    """Default plan: the classic fixed-horizon sample per arm to detect a relative lift of
    `minimum_effect` on `base_rate` (two-sided alpha, given power); NaN where the base rate is 0 or 1."""
    defined = (base_rate > 0) & (base_rate < 1)
    target = np.clip(base_rate * (1 + minimum_effect), 0.0, 1.0)
    planned: FloatArray = np.where(defined, sample_size_per_arm(base_rate, target, alpha, power), np.nan)
    return planned


def null_log_lift_variances(nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> FloatArray:
    """Variance of the log lift when both arms convert at the pooled rate: (1 - p) / p * (1/nc + 1/nv);
    NaN where the pooled rate is 0 or 1 or an arm has no visitors."""
    total, converted = nc + nv, xc + xv
    defined = (nc > 0) & (nv > 0) & (converted > 0) & (converted < total)
    pooled = np.divide(converted, total, out=np.full_like(total, np.nan), where=defined)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance: FloatArray = np.where(defined, (1 - pooled) / pooled * (1 / nc + 1 / nv), np.nan)
    return variance


def obf_constant(alpha: float) -> float:
    """The value |W(t)| must reach up to the plan: 2.2818 for alpha = 0.045."""
    return float(special.ndtri(1 - alpha / 4))


def obf_p_values(z: FloatArray, information: FloatArray, first: BoolArray) -> FloatArray:
    """4 * (1 - Phi(|z| * sqrt(t))) for looks up to the plan; the fixed-horizon 2 * (1 - Phi(|z|)) for a
    path's first look when it is already past the plan; 1 for any other look past it (or without a plan)."""
    t = np.nan_to_num(information, nan=np.inf)
    inside = t <= 1
    sequential = np.minimum(4 * special.ndtr(-np.abs(z) * np.sqrt(np.where(inside, t, 0.0))), 1.0)
    late_first = first & ~inside & np.isfinite(t)
    p: FloatArray = np.select([inside, late_first], [sequential, 2 * special.ndtr(-np.abs(z))], 1.0)
    return p


def obf_multipliers(information: FloatArray, alpha: float, first: BoolArray) -> FloatArray:
    """The |z| the plan's part asks for at each look: c / sqrt(t) up to the plan, the fixed-horizon
    Phi^-1(1 - alpha / 2) at a first look past it, infinite at any other look past it."""
    t = np.nan_to_num(information, nan=np.inf)
    inside = (t <= 1) & (t > _TINY_FRACTION)
    late_first = first & (t > 1) & np.isfinite(t)
    multiplier: FloatArray = np.select(
        [inside, late_first],
        [obf_constant(alpha) / np.sqrt(np.where(inside, t, 1.0)), float(special.ndtri(1 - alpha / 2))],
        np.inf,
    )
    return multiplier


def mixture_p_values(z: FloatArray, variance: FloatArray, tau: float) -> FloatArray:
    """1 / Lambda of the normal mixture (at most 1); 1 where the variance is undefined."""
    v = np.where(np.isfinite(variance) & (variance > 0), variance, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = 0.5 * np.log(v / (v + tau**2)) + z**2 * tau**2 / (2 * (v + tau**2))
    p: FloatArray = np.where(np.isfinite(v), np.minimum(np.exp(-np.nan_to_num(log_ratio, nan=0.0)), 1.0), 1.0)
    return p


def mixture_multipliers(variance: FloatArray, alpha: float, tau: float) -> FloatArray:
    """The |z| at which Lambda reaches 1 / alpha: sqrt((1 + V / tau^2) * (2 log(1 / alpha) + log(1 + tau^2 / V)))."""
    defined = np.isfinite(variance) & (variance > 0)
    v = np.where(defined, variance, 1.0)
    multiplier: FloatArray = np.sqrt((1 + v / tau**2) * (2 * math.log(1 / alpha) + np.log1p(tau**2 / v)))
    return np.where(defined, multiplier, np.inf)


def look_p_values(
    z: FloatArray, information: FloatArray, variance: FloatArray, first: BoolArray, mixture_share: float, tau: float
) -> FloatArray:
    """The rule's p-value at one look: min(p_plan / (1 - share), p_mixture / share), at most 1.

    Below alpha exactly when |z| reaches `look_multipliers` at that alpha."""
    plan = obf_p_values(z, information, first) / (1 - mixture_share)
    mixture = mixture_p_values(z, variance, tau) / mixture_share
    p: FloatArray = np.minimum(np.minimum(plan, mixture), 1.0)
    return p


def look_multipliers(
    information: FloatArray, variance: FloatArray, first: BoolArray, alpha: float, mixture_share: float, tau: float
) -> FloatArray:
    """The |z| a comparison must reach at this look to be called: the smaller of the two boundaries."""
    plan = obf_multipliers(information, alpha * (1 - mixture_share), first)
    mixture = mixture_multipliers(variance, alpha * mixture_share, tau)
    multiplier: FloatArray = np.minimum(plan, mixture)
    return multiplier


def visitors_to_call(
    control_rate: FloatArray,
    variant_rate: FloatArray,
    planned: FloatArray,
    alpha: float,
    power: float,
    mixture_share: float,
    tau: float,
) -> FloatArray:
    """Visitors per arm at which a true difference control_rate -> variant_rate crosses the boundary with
    the given power (normal approximation); NaN where the rates are equal or it would not before the plan.

    The expected z is a * sqrt(n) with a = |p1 - p0| / sqrt(p0 q0 + p1 q1); it must reach the boundary plus
    z_power. Up to the plan the O'Brien-Fleming part solves a*n - z_beta*sqrt(n) = c*sqrt(N) in closed form;
    the mixture part is solved by bisection on log n (it helps large lifts early)."""
    c = obf_constant(alpha * (1 - mixture_share))
    z_beta = float(special.ndtri(power))
    sigma = np.sqrt(control_rate * (1 - control_rate) + variant_rate * (1 - variant_rate))
    diff = np.abs(variant_rate - control_rate)
    defined = (diff > 0) & (sigma > 0)
    a = np.divide(diff, sigma, out=np.full_like(diff, np.nan), where=defined)
    plan = np.nan_to_num(planned, nan=np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        root = (z_beta + np.sqrt(z_beta**2 + 4 * a * c * np.sqrt(plan))) / (2 * a)
    by_plan = np.where(root**2 <= plan, root**2, np.inf)

    pooled = (control_rate + variant_rate) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        unit_variance = np.where((pooled > 0) & (pooled < 1), 2 * (1 - pooled) / pooled, np.nan)
    low, high = np.zeros_like(diff), np.log(np.where(np.isfinite(plan), plan, 1e12))
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        n = np.exp(middle)
        crosses = a * np.sqrt(n) - z_beta >= mixture_multipliers(unit_variance / n, alpha * mixture_share, tau)
        high, low = np.where(crosses, middle, high), np.where(crosses, low, middle)
    n_mixture = np.exp(high)
    n_mixture = np.where(
        a * np.sqrt(n_mixture) - z_beta >= mixture_multipliers(unit_variance / n_mixture, alpha * mixture_share, tau),
        n_mixture,
        np.inf,
    )
    needed = np.fmin(by_plan, n_mixture)
    result: FloatArray = np.where(defined & np.isfinite(needed), np.ceil(needed), np.nan)
    return result
