"""The peeking-safe boundary: valid whatever the number and timing of looks, up to the plan and for ever after.

Two always-valid tests share alpha by a union bound (docs/methodology.md has the proof sketch):

- **Up to the plan, and on to twice the plan** (share `1 - mixture_share` of alpha): the z statistic of a
  two-proportion test, watched as visitors arrive, behaves like Z(t) = W(t) / sqrt(t), where W is a Brownian
  motion in information time t = visitors so far / planned visitors per arm. By the reflection principle
  P(sup_{t <= 1} |W(t)| >= c) <= 4 * (1 - Phi(c)), so calling only when |Z(t)| * sqrt(t) >= c keeps the
  chance of a false call over every look up to the plan at or below `1 - LATE_SHARE` of this share (the
  O'Brien-Fleming boundary for continuous monitoring). The rest, `LATE_SHARE`, pays for looks between the
  plan and HORIZON times it: there a call needs |W(t)| >= c_late, where c_late is set by the exact chance
  that a path which stayed inside +-c up to the plan reaches +-c_late before the horizon (`late_crossing`:
  the method of images for the first part, the reflection principle for the second). Past the horizon this
  part is silent. A path whose *first* look is already past the plan (an undated sheet microopt first reads
  late) has no earlier look, so that one look is a fixed-horizon test at the whole share,
  |Z| >= Phi^-1(1 - share / 2), and its later looks use only the mixture.
- **At any time, and for ever** (share `mixture_share`): a normal-mixture likelihood ratio on the log lift
  (mSPRT, Johari et al. 2017; Robbins' mixture), Lambda = sqrt(V / (V + tau^2)) * exp(Z^2 tau^2 / (2 (V + tau^2))),
  with V the variance of the log lift under no difference and tau the spread of the lifts it is tuned to.
  Lambda is a nonnegative martingale under no difference, so by Ville's inequality
  P(sup_t Lambda >= 1 / a) <= a over every look there will ever be.

Both are tests of |Z| against a multiplier, so a look's boundary is the smaller of the two multipliers and
its p-value the smaller of the two p-values, each divided by its share of alpha.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from analysis.stats.arrays import BoolArray, FloatArray
from analysis.stats.proportions import sample_size_per_arm

# Halvings of the log-visitors bracket (about 28 wide): 2^-32 of it is far below one visitor.
BISECTION_STEPS = 32
# Below this share of the plan a test never uses the O'Brien-Fleming part (its boundary is beyond 30 sigma).
_TINY_FRACTION = 1e-4
# Looks between the plan and HORIZON times it are covered by LATE_SHARE of the plan's part: a test that ends
# its plan just short of a call gets a second chance at a small price up to the plan (docs/methodology.md).
HORIZON = 2.0
LATE_SHARE = 0.02
# Looks come at discrete moments, not continuously: a boundary watched only every `step` of information is
# crossed about as often as the continuous one moved out by this times sqrt(step) (Siegmund's corrected
# diffusion approximation, rho = -zeta(1/2) / sqrt(2 pi)); checked by simulation in docs/methodology.md.
DISCRETE_SHIFT = 0.45
# ...for steps up to this much of the plan: the approximation is for small steps, and one far-apart look must
# not spend more than the continuous boundary would over the same stretch.
MAX_STEP = 0.05
# The levels at which the late boundary is tabulated, and the grid of W(1) it is integrated over.
_LEVELS = np.geomspace(1e-15, 1.0, 97)
_GRID = 201


@dataclass(frozen=True)
class Looks:
    """Each row's look on its path: information so far, the information gained since the path's previous look
    (all of it at the first; at most MAX_STEP), whether it is the path's first look and whether the path
    opened past its plan."""

    information: FloatArray
    step: FloatArray
    first: BoolArray
    opened_late: BoolArray

    @classmethod
    def along(cls, path: npt.ArrayLike, information: FloatArray) -> Looks:
        """From rows in path order (one id per path), each path's looks in order."""
        keys = np.asarray(path)
        first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)
        known = np.nan_to_num(information, nan=0.0)
        step = np.where(first, known, np.maximum(known - np.r_[0.0, known[:-1]], 0.0))
        step = np.minimum(step, MAX_STEP)
        opened = pd.Series(np.where(first, known > 1, False)).groupby(np.cumsum(first)).transform("max")
        return cls(information, step, first, opened.to_numpy(dtype=bool))


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
    """The value |W(t)| must reach for a chance of alpha over every look up to t = 1: 2.2818 for alpha = 0.045."""
    return float(special.ndtri(1 - alpha / 4))


def late_crossing(inner: FloatArray, outer: FloatArray, horizon: float = HORIZON) -> FloatArray:
    """The chance that W stays inside +-inner up to t = 1 and then reaches +-outer before t = horizon.

    The density of W(1) among paths that stayed inside is the method of images' alternating sum; from W(1) = w
    the reflection principle gives 2 (1 - Phi((outer - w) / sqrt(horizon - 1))) for the upper side (and the
    lower one alike), whose sum bounds the chance of reaching either."""
    inner, outer = np.asarray(inner, dtype=np.float64)[..., None], np.asarray(outer, dtype=np.float64)[..., None]
    w = np.linspace(-1.0, 1.0, _GRID) * inner
    density = sum((-1) ** abs(k) * np.exp(-((w - 2 * k * inner) ** 2) / 2) for k in range(-3, 4)) / math.sqrt(
        2 * math.pi
    )
    spread = math.sqrt(horizon - 1)
    reach = np.minimum(2 * special.ndtr((w - outer) / spread) + 2 * special.ndtr(-(w + outer) / spread), 1.0)
    chance: FloatArray = np.trapezoid(np.maximum(density, 0.0) * reach, w, axis=-1)
    return chance


@functools.cache
def _late_table() -> tuple[FloatArray, FloatArray]:
    """c_late at each of _LEVELS (the plan's part's alpha), by bisection on `late_crossing`; decreasing."""
    inner = special.ndtri(1 - _LEVELS * (1 - LATE_SHARE) / 4)
    low, high = inner.copy(), inner + 12.0
    for _ in range(40):
        middle = (low + high) / 2
        too_likely = late_crossing(inner, middle) > _LEVELS * LATE_SHARE
        low, high = np.where(too_likely, middle, low), np.where(too_likely, high, middle)
    return _LEVELS, high


def late_constant(alpha: float) -> float:
    """The value |W(t)| must reach between the plan and the horizon, for the plan's part at alpha."""
    levels, constants = _late_table()
    return float(np.interp(math.log(alpha), np.log(levels), constants))


def _late_p_values(w: FloatArray) -> FloatArray:
    """The smallest level of the plan's part at which |W| = w crosses the late boundary."""
    levels, constants = _late_table()
    return np.exp(np.interp(-w, -constants, np.log(levels)))


def _stretches(looks: Looks) -> tuple[FloatArray, BoolArray, BoolArray, BoolArray]:
    """t (infinite without a plan), and which looks are up to the plan, between it and the horizon on a path
    that opened inside it, and a path's first look past the plan."""
    t = np.nan_to_num(looks.information, nan=np.inf)
    inside = t <= 1
    late = (t > 1) & (t <= HORIZON) & ~looks.first & ~looks.opened_late
    late_first = looks.first & ~inside & np.isfinite(t)
    return t, inside, late, late_first


def obf_p_values(z: FloatArray, looks: Looks) -> FloatArray:
    """The plan's part's p-value at each look: 4 * (1 - Phi(w)) / (1 - LATE_SHARE) up to the plan and the late
    boundary's level on to the horizon, with w = |z| * sqrt(t) + DISCRETE_SHIFT * sqrt(step); the
    fixed-horizon 2 * (1 - Phi(|z|)) for a path's first look when it is already past the plan; 1 otherwise
    (past the horizon, without a plan, or any later look of a path that opened past the plan)."""
    t, inside, late, late_first = _stretches(looks)
    covered = inside | late
    w = np.abs(z) * np.sqrt(np.where(covered, t, 0.0)) + DISCRETE_SHIFT * np.sqrt(np.where(covered, looks.step, 0.0))
    sequential = np.minimum(4 * special.ndtr(-w) / (1 - LATE_SHARE), 1.0)
    p: FloatArray = np.select(
        [inside, late, late_first], [sequential, _late_p_values(w), 2 * special.ndtr(-np.abs(z))], 1.0
    )
    return np.minimum(p, 1.0)


def obf_multipliers(looks: Looks, alpha: float) -> FloatArray:
    """The |z| the plan's part asks for at each look: (c - shift) / sqrt(t) up to the plan, (c_late - shift) /
    sqrt(t) on to the horizon, the fixed-horizon Phi^-1(1 - alpha / 2) at a first look past the plan, infinite
    otherwise."""
    t, up_to_plan, late, late_first = _stretches(looks)
    inside = up_to_plan & (t > _TINY_FRACTION)
    root = np.sqrt(np.where(inside | late, t, 1.0))
    shift = DISCRETE_SHIFT * np.sqrt(np.where(inside | late, looks.step, 0.0))
    multiplier: FloatArray = np.select(
        [inside, late, late_first],
        [
            (obf_constant(alpha * (1 - LATE_SHARE)) - shift) / root,
            (late_constant(alpha) - shift) / root,
            float(special.ndtri(1 - alpha / 2)),
        ],
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


def look_p_values(z: FloatArray, looks: Looks, variance: FloatArray, mixture_share: float, tau: float) -> FloatArray:
    """The rule's p-value at one look: min(p_plan / (1 - share), p_mixture / share), at most 1.

    Below alpha exactly when |z| reaches `look_multipliers` at that alpha."""
    plan = obf_p_values(z, looks) / (1 - mixture_share)
    mixture = mixture_p_values(z, variance, tau) / mixture_share
    p: FloatArray = np.minimum(np.minimum(plan, mixture), 1.0)
    return p


def look_multipliers(looks: Looks, variance: FloatArray, alpha: float, mixture_share: float, tau: float) -> FloatArray:
    """The |z| a comparison must reach at this look to be called: the smaller of the two boundaries."""
    plan = obf_multipliers(looks, alpha * (1 - mixture_share))
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
    past it, up to the horizon, the same with c_late; the mixture part is solved by bisection on log n (it
    helps large lifts early)."""
    c = obf_constant(alpha * (1 - mixture_share) * (1 - LATE_SHARE))
    c_late = late_constant(alpha * (1 - mixture_share))
    z_beta = float(special.ndtri(power))
    sigma = np.sqrt(control_rate * (1 - control_rate) + variant_rate * (1 - variant_rate))
    diff = np.abs(variant_rate - control_rate)
    defined = (diff > 0) & (sigma > 0)
    a = np.divide(diff, sigma, out=np.full_like(diff, np.nan), where=defined)
    plan = np.nan_to_num(planned, nan=np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        root = (z_beta + np.sqrt(z_beta**2 + 4 * a * c * np.sqrt(plan))) / (2 * a)
        late = (z_beta + np.sqrt(z_beta**2 + 4 * a * c_late * np.sqrt(plan))) / (2 * a)
    by_plan = np.select([root**2 <= plan, late**2 <= HORIZON * plan], [root**2, np.maximum(late**2, plan)], np.inf)

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
