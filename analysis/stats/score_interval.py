"""The Miettinen-Nurminen score limits of a rate ratio, solved for every comparison at once.

The lift's interval everywhere in microopt (analysis.stats.proportions, the conventions there) is these limits: the
ratios whose score test is not rejected, as statsmodels' confint_proportions_2indep(method="score",
compare="ratio", correction=True). They have no closed form, so each is found by a safeguarded Newton
iteration on the log ratio; this module is that solver and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis.stats.arrays import BoolArray, FloatArray, as_float

# The score limits are solved on u = log(ratio) inside |u| <= LOG_RATIO_LIMIT (a limit beyond it is a ratio
# of 0 or inf), until a Newton step is below SCORE_STEP times the limit's distance to the estimate or to
# ratio 1, clipped to [SCORE_NEAR, 1] (the error left is of the order of the step's square), or the bracket
# is narrower than SCORE_TOLERANCE. Against 50-digit bisection the ratios come out within 3e-10 relative.
LOG_RATIO_LIMIT = 230.0
SCORE_TOLERANCE = 1e-10
SCORE_STEP = 1e-6
SCORE_NEAR = 1e-6
SCORE_MAX_ITERATIONS = 100
SCORE_BLOCK_ITERATIONS = 4  # within a block; the limits still unsolved then are finished together
SCORE_BLOCK = 2048  # comparisons solved together, so that their working arrays stay in cache


def score_ratio_limits(
    nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray, z: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Miettinen-Nurminen score limits of the rate ratio theta = (xv / nv) / (xc / nc) at multiplier z.

    The limits solve S(theta) = +z (low) and -z (high) for the score statistic
    S = (pv - theta pc) / sqrt(N / (N - 1) V(theta)), V = rv (1 - rv) / nv + theta^2 rc (1 - rc) / nc,
    where rc, rv = theta rc are the restricted maximum likelihood rates (closed form, the smaller root of
    N theta r^2 - ((nv + xc) theta + xv + nc) r + xc + xv = 0). S falls as theta rises, so each limit is
    a safeguarded Newton iteration over u = log(theta) (bisection whenever a step leaves the bracket or
    fails to halve), started from the closed-form limits where they are usable. All limits are solved
    together, a cache-sized block of comparisons at a time; the few that need more than
    SCORE_BLOCK_ITERATIONS iterations are gathered from every block and finished together.

    0 and inf mark the unbounded ends (no variant conversions, no control conversions, or z = inf);
    NaN where either arm has no visitors, neither arm has converted, a count is impossible (negative,
    or more conversions than visitors) or z is NaN."""
    shape = np.broadcast(nc, xc, nv, xv, z).shape
    nc, xc, nv, xv, multiplier = (np.broadcast_to(as_float(a), shape).ravel() for a in (nc, xc, nv, xv, z))
    low, high = np.empty(nc.size), np.empty(nc.size)
    if nc.size == 0:
        return low.reshape(shape), high.reshape(shape)
    left: list[_Search] = []
    with np.errstate(all="ignore"):
        for start in range(0, nc.size, SCORE_BLOCK):
            block = slice(start, start + SCORE_BLOCK)
            low[block], high[block], unsolved = _block_limits(
                nc[block], xc[block], nv[block], xv[block], multiplier[block]
            )
            left.append(unsolved.moved(start))
        hard = _Search.joined(left)
        for start in range(0, hard.u.size, 2 * SCORE_BLOCK):
            search = hard.subset(np.arange(start, min(start + 2 * SCORE_BLOCK, hard.u.size)))
            solved, unsolved = _iterate(search, SCORE_MAX_ITERATIONS)
            solved[unsolved.index] = unsolved.u  # (never: that many iterations bisect any bracket below tolerance)
            ratio = _ratio(solved)
            low[search.at[search.low]], high[search.at[~search.low]] = ratio[search.low], ratio[~search.low]
    return low.reshape(shape), high.reshape(shape)


def _block_limits(
    nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray, z: FloatArray
) -> tuple[FloatArray, FloatArray, _Search]:
    """Both limits of a block of comparisons, NaN where a limit is left in the returned search."""
    z = np.abs(z)
    counts = (xc >= 0) & (xv >= 0) & (xc <= nc) & (xv <= nv)
    defined = counts & (nc > 0) & (nv > 0) & (xc + xv > 0) & ~np.isnan(z)
    unbounded = np.isinf(z)
    low = np.where(defined & ((xv == 0) | unbounded), 0.0, np.nan)
    high = np.where(defined & ((xc == 0) | unbounded), np.inf, np.nan)
    lows, highs = np.flatnonzero(defined & np.isnan(low)), np.flatnonzero(defined & np.isnan(high))
    at = np.concatenate([lows, highs])
    is_low = np.arange(at.size) < lows.size
    start_low, start_high = _cubic_starts(nc, xc, nv, xv, z)
    search = _Search.start(
        at, is_low, _ScoreTerms.of(nc, xc, nv, xv).subset(at), np.where(is_low, z[at], -z[at]), start_low, start_high
    )
    solved, unsolved = _iterate(search, SCORE_BLOCK_ITERATIONS)
    ratio = _ratio(solved)
    low[lows], high[highs] = ratio[: lows.size], ratio[lows.size :]
    return low, high, unsolved


def _ratio(u: FloatArray) -> FloatArray:
    ratio = np.exp(u)
    ratio[u >= LOG_RATIO_LIMIT] = np.inf
    ratio[u <= -LOG_RATIO_LIMIT] = 0.0
    return ratio


def _cubic_starts(
    nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray, z: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """log of both limits from the closed form statsmodels uses (Nam 1995, eq. 5-6, after Koopman 1984):
    the restricted control rate at a limit is a root of a cubic, the middle root for the low limit and
    the smallest for the high one (trigonometric solution). Good to ~1e-11 for the usual tables, it is
    only a start: NaN or a wrong root (arms that all converted, zero cells, very unequal arms) leaves the
    iteration to its Katz start."""
    n0, x0, n1, x1 = nc, xc, nv, xv
    total, converted = n0 + n1, x0 + x1
    k = z * z * total / (total - 1)
    lead = 1 / (n0 * (n0 * total * x1 + n1 * (n0 + x1) * k))
    b = -n0 * (n0 * n1 * converted + 2 * total * x0 * x1 + n1 * (n0 + x0 + 2 * x1) * k) * lead
    c = (2 * n0 * n1 * x0 * converted + total * x0 * x0 * x1 + n0 * n1 * converted * k) * lead
    d = -n1 * x0 * x0 * converted * lead
    third = b / 3
    p = c - b * third  # r^3 + b r^2 + c r + d = 0 is t^3 + p t + q = 0 at r = t - b / 3
    q = (2 / 27) * b * b * b - third * c + d
    radius = np.sqrt(-p / 3)
    cosine = np.cos(np.arccos(np.clip(1.5 * q / (p * radius), -1.0, 1.0)) / 3)
    sine = np.sqrt(3 * (1 - cosine * cosine))
    middle, smallest = radius * (sine - cosine) - third, -radius * (cosine + sine) - third
    # the restricted MLE solved for theta
    low = (converted - (x1 + n0) * middle) / (middle * (n1 + x0 - total * middle))
    high = (converted - (x1 + n0) * smallest) / (smallest * (n1 + x0 - total * smallest))
    return np.log(low), np.log(high)


@dataclass(frozen=True)
class _Search:
    """Limits being solved: where each goes (`at` its comparison, `low` its end), its bracket [lo, hi]
    of u = log(theta), the iterate u, the last step's size and the target of `_score_gap`."""

    at: npt.NDArray[np.intp]
    low: BoolArray
    index: npt.NDArray[np.intp]  # position in the search it was started as
    u: FloatArray
    lo: FloatArray
    hi: FloatArray
    step_before: FloatArray
    target: FloatArray
    terms: _ScoreTerms

    @classmethod
    def start(
        cls,
        at: npt.NDArray[np.intp],
        low: BoolArray,
        terms: _ScoreTerms,
        z: FloatArray,
        start_low: FloatArray,
        start_high: FloatArray,
    ) -> _Search:
        """The search for the limits solving S = z (z > 0 a low limit, z < 0 a high one).

        The estimate, where S = 0, bounds each limit on one side when finite. The start is the closed
        form's limit where it lands inside the bracket, else the Katz limit for moderate z * scale,
        bending to the logarithmic growth of the score limits in z for huge ones."""
        finite = np.isfinite(terms.estimate)
        lo = np.where(~low & finite, terms.estimate, -LOG_RATIO_LIMIT)
        hi = np.where(low & finite, terms.estimate, LOG_RATIO_LIMIT)
        u = np.where(low, start_low[at], start_high[at])
        katz = ~((u > lo) & (u < hi))  # True for NaN
        if katz.any():
            guess = terms.katz[katz] - 2 * np.arcsinh(0.5 * z[katz] * terms.scale[katz])
            u[katz] = np.minimum(np.maximum(guess, lo[katz]), hi[katz])
        target = np.arcsinh(terms.scale * z * terms.correction)  # S = z: z * correction without N / (N - 1)
        return cls(at, low, np.arange(at.size), u, lo, hi, hi - lo, target, terms)

    def subset(self, keep: npt.NDArray[np.intp]) -> _Search:
        arrays: dict[str, Any] = {name: getattr(self, name)[keep] for name in _SEARCH_ARRAYS}
        return replace(self, terms=self.terms.subset(keep), **arrays)

    def moved(self, offset: int) -> _Search:
        """The same search over comparisons numbered from `offset`."""
        return replace(self, at=self.at + offset)

    @classmethod
    def joined(cls, searches: list[_Search]) -> _Search:
        """One search of all, its `index` renumbered."""
        arrays: dict[str, Any] = {name: np.concatenate([getattr(s, name) for s in searches]) for name in _SEARCH_ARRAYS}
        terms: dict[str, Any] = {
            name: np.concatenate([getattr(s.terms, name) for s in searches])
            if isinstance(getattr(searches[0].terms, name), np.ndarray)
            else any(getattr(s.terms, name) for s in searches)
            for name in vars(searches[0].terms)
        }
        arrays["index"] = np.arange(arrays["u"].size)
        return cls(terms=_ScoreTerms(**terms), **arrays)


_SEARCH_ARRAYS = ("at", "low", "index", "u", "lo", "hi", "step_before", "target")


def _iterate(search: _Search, iterations: int) -> tuple[FloatArray, _Search]:
    """Up to `iterations` safeguarded Newton steps on asinh(scale S(u)) - target for every limit; returns
    u by the search's `index` (NaN where unconverged) and the search of the unconverged.

    asinh(scale S), with `scale` the Katz standard error of u, is linear in u near the estimate and
    logarithmic in S (so again close to linear) far from it, where huge multipliers land. A step that
    would leave the bracket or fails to halve the one before is a bisection. A Newton step counts as
    converged below SCORE_STEP times the distance to the estimate or to ratio 1 (at most 1, at least
    SCORE_NEAR): S can have a square-root corner there (arms that all converted), and a limit near
    ratio 1 is a lift near 0, wanted to a relative precision too. A bracket narrower than
    SCORE_TOLERANCE always converges."""
    search = replace(search, index=np.arange(search.u.size))
    solved = np.full(search.u.size, np.nan)
    u, lo, hi, step_before, k = search.u, search.lo, search.hi, search.step_before, search.terms
    for _ in range(iterations):
        if u.size == 0:
            break
        gap, slope = _score_gap(u, search.target, k)
        beyond = gap < 0  # S falls as u rises: below the target means past the root
        lo, hi = np.where(beyond, lo, u), np.where(beyond, u, hi)
        step = gap / slope
        size = np.abs(step)
        newton = u - step
        ok = (newton >= lo) & (newton <= hi) & (size <= 0.5 * step_before)  # False for NaN
        half = 0.5 * (hi - lo)
        u = np.where(ok, newton, lo + half)
        step_before = np.where(ok, size, half)
        near = np.minimum(np.minimum(np.abs(u - k.estimate), np.abs(u)), 1.0)
        done = (ok & (size <= SCORE_STEP * np.maximum(near, SCORE_NEAR))) | (half < SCORE_TOLERANCE)
        if done.any():
            solved[search.index[done]] = u[done]
            keep = np.flatnonzero(~done)
            search = replace(search, u=u, lo=lo, hi=hi, step_before=step_before).subset(keep)
            u, lo, hi, step_before, k = search.u, search.lo, search.hi, search.step_before, search.terms
    return solved, replace(search, u=u, lo=lo, hi=hi, step_before=step_before)


@dataclass(frozen=True)
class _ScoreTerms:
    """The constants of `_score_gap`, one per comparison or per limit: arm 0 (x0 of n0) is the control,
    arm 1 the variant. y = n - x are the non-converted, X = x0 + x1; c1 = n1 + x0 and c_sum = N + X
    (= c1 + c2) come from the restricted-MLE quadratic N theta r0^2 - (c1 theta + c2) r0 + X = 0.
    katz and scale are the log risk ratio and its standard error with 0.5 added to every cell of a
    table with a zero one (the start and the scale of the iteration); correction = sqrt(N / (N - 1)).
    The flags say whether any of them may need the cancellation-free complements or has both arms all
    converted (so that the common case skips those checks)."""

    estimate: FloatArray
    katz: FloatArray
    scale: FloatArray
    correction: FloatArray
    p0: FloatArray
    p1: FloatArray
    inv0: FloatArray
    inv1: FloatArray
    y0: FloatArray
    y1: FloatArray
    y_diff: FloatArray
    y_product4: FloatArray
    y_sum: FloatArray
    total: FloatArray
    converted: FloatArray
    c1: FloatArray
    c_sum: FloatArray
    converted2: FloatArray
    may_cancel0: bool
    may_cancel1: bool
    may_vanish: bool

    @classmethod
    def of(cls, n0: FloatArray, x0: FloatArray, n1: FloatArray, x1: FloatArray) -> _ScoreTerms:
        y0, y1 = n0 - x0, n1 - x1
        p0, p1 = x0 / n0, x1 / n1
        half = 0.5 * (np.minimum(np.minimum(x0, x1), np.minimum(y0, y1)) == 0)
        a, c, m0, m1 = x1 + half, x0 + half, n0 + 2 * half, n1 + 2 * half
        total, converted = n0 + n1, x0 + x1
        return cls(
            estimate=np.log(p1 / p0),  # -inf without variant conversions, inf without control ones
            katz=np.log(a * m0 / (c * m1)),
            scale=np.sqrt(1 / a - 1 / m1 + 1 / c - 1 / m0),
            correction=np.sqrt(total / (total - 1)),
            p0=p0,
            p1=p1,
            inv0=1 / n0,
            inv1=1 / n1,
            y0=y0,
            y1=y1,
            y_diff=y1 - y0,
            y_product4=4 * y0 * y1,
            y_sum=y0 + y1,
            total=total,
            converted=converted,
            c1=n1 + x0,
            c_sum=total + converted,
            converted2=2 * converted,
            may_cancel0=bool(np.any(y0 + y1 < n1 + x0)),
            may_cancel1=bool(np.any(converted > y1)),
            may_vanish=bool(np.any((y0 == 0) & (y1 == 0))),
        )

    def subset(self, keep: npt.NDArray[np.intp]) -> _ScoreTerms:
        """The terms of the limits at `keep` (the flags stay: they only allow for cases that may not occur)."""
        arrays: dict[str, Any] = {name: v[keep] for name, v in vars(self).items() if isinstance(v, np.ndarray)}
        return replace(self, **arrays)


def _score_gap(u: FloatArray, target: FloatArray, k: _ScoreTerms) -> tuple[FloatArray, FloatArray]:
    """asinh(scale S(u)) - target and its derivative in u; S here omits the N/(N-1) factor.

    The restricted rates r0, r1 = theta r0 and their complements s0 = 1 - r0, s1 = 1 - r1 are written
    without cancellation: the quadratic's discriminant as (c1 (theta - 1) + y1 - y0)^2 + 4 theta y0 y1,
    and a complement whose numerator a + root would cancel (a < 0) as the conjugate (root^2 - a^2) / (root - a)."""
    theta, excess = np.exp(u), np.expm1(u)
    shift = k.c1 * excess  # c1 (theta - 1)
    tilt = shift + k.y_diff
    root = np.sqrt(tilt * tilt + k.y_product4 * theta)
    inverse = 1 / (shift + k.c_sum + root)  # 1 / (c1 theta + c2 + root)
    r0 = k.converted2 * inverse
    r1 = theta * r0
    a0 = shift + k.y_sum
    s0 = a0 + root
    if k.may_cancel0:  # a0 < 0 needs theta < 1 - (y0 + y1) / c1: rates near 1
        negative = np.flatnonzero(a0 < 0)  # then root^2 - a0^2 = 4 y0 X (1 - theta)
        s0[negative] = -4 * (k.y0 * k.converted * excess)[negative] / (root - a0)[negative]
    s0 *= inverse
    a1 = theta * k.y1 + k.y0 - k.converted * excess
    s1 = a1 + root
    if k.may_cancel1:  # a1 < 0 needs X > y1 and theta > (y0 + X) / (X - y1)
        negative = np.flatnonzero(a1 < 0)  # then root^2 - a1^2 = 4 theta y1 X (theta - 1)
        s1[negative] = 4 * (theta * k.y1 * k.converted * excess)[negative] / (root - a1)[negative]
    s1 *= inverse
    binomial0 = theta * r1 * s0 * k.inv0  # theta^2 r0 s0 / n0
    variance = r1 * s1 * k.inv1 + binomial0
    spread = np.sqrt(variance)
    shifted = theta * k.p0
    statistic = (k.p1 - shifted) / spread
    if k.may_vanish:  # V = 0 needs both restricted rates 1: both arms all converted, at theta = 1
        statistic[np.isnan(statistic)] = 0.0  # where S is 0 / 0
    # derivatives in u: r0's from the quadratic (implicitly), then the variance's and the statistic's
    dr0 = r1 * (k.y0 - k.total * s0) / root
    dr1 = r1 + theta * dr0
    dvariance = dr1 * (s1 - r1) * k.inv1 + binomial0 + theta * (dr1 * s0 - r1 * dr0) * k.inv0
    dstatistic = -shifted / spread - 0.5 * statistic * dvariance / variance
    scaled = k.scale * statistic
    gap: FloatArray = np.arcsinh(scaled) - target
    slope: FloatArray = k.scale * dstatistic / np.sqrt(1 + scaled * scaled)
    return gap, slope
