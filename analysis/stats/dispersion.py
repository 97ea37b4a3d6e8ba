"""How much a comparison's periods vary beyond what independent clicks explain, and the test that allows for it.

A path's periods are the increments between its consecutive looks: the days of a dated test, the recorded
reads of an undated one. Under the binomial model each period's risk difference D_k = xv_k/nv_k - xc_k/nc_k
has variance p (1 - p) (1/nc_k + 1/nv_k); when an ad's rate swings from day to day, and the arms do not swing
together, it varies more. Cochran's Q of the D_k (weights w_k = 1 / that variance, p the pooled rate so far)
over df = periods - 1 estimates the factor phi by which the variance is larger. The test then divides z by
sqrt(phi) and reads it against Student's t with df degrees of freedom (the variance is estimated from df
periods), mapped back to the normal scale so the sequential boundaries apply unchanged
(docs/methodology.md, "Day-to-day swings").

With one period (a single total, or day one) nothing shows the variation: phi = 1 and the test is the
binomial one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from analysis.stats.arrays import FloatArray

# Below this phi the periods agree better than binomial sampling predicts, which on ad data is chance:
# flooring at 1 would cost power on plain binomial data (docs/methodology.md measures both).
PHI_FLOOR = 0.5


@dataclass(frozen=True)
class Dispersion:
    phi: FloatArray  # the variance factor at each look (1 where df < 1)
    df: FloatArray  # periods with weight so far, less one (0: no estimate)


def dispersion(path: npt.ArrayLike, nc: FloatArray, xc: FloatArray, nv: FloatArray, xv: FloatArray) -> Dispersion:
    """phi and df at each look of rows in path order with cumulative counts (one row per look)."""
    groups = pd.Series(np.asarray(path))
    keys = groups.to_numpy()
    fresh = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)

    def increments(cumulative: FloatArray) -> FloatArray:
        step = np.diff(cumulative, prepend=0.0)
        return np.where(fresh, cumulative, step)

    dnc, dxc, dnv, dxv = increments(nc), increments(xc), increments(nv), increments(xv)
    total, converted = nc + nv, xc + xv
    valid = (dnc > 0) & (dnv > 0) & (dxc >= 0) & (dxv >= 0) & (dxc <= dnc) & (dxv <= dnv)
    valid &= (converted > 0) & (converted < total)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = converted / total
        weight = np.where(valid, 1 / (pooled * (1 - pooled) * (1 / dnc + 1 / dnv)), 0.0)
        difference = np.where(valid, dxv / dnv - dxc / dnc, 0.0)
    sums = pd.DataFrame(
        {"w": weight, "wd": weight * difference, "wdd": weight * difference**2, "k": valid.astype(np.float64)}
    )
    running = sums.groupby(keys, sort=False).cumsum()
    s0, s1, s2 = (running[c].to_numpy(dtype=np.float64) for c in ("w", "wd", "wdd"))
    df = np.maximum(running["k"].to_numpy(dtype=np.float64) - 1, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.maximum(s2 - np.where(s0 > 0, s1**2 / s0, 0.0), 0.0)
        phi = np.where(df >= 1, np.maximum(q / np.maximum(df, 1), PHI_FLOOR), 1.0)
    return Dispersion(phi=phi, df=df)


def adjusted_z(z: FloatArray, spread: Dispersion) -> FloatArray:
    """z / sqrt(phi) read against Student's t with df degrees of freedom, on the normal scale (z where df < 1)."""
    estimated = spread.df >= 1
    df = np.where(estimated, spread.df, 1.0)
    t = np.abs(z) / np.sqrt(spread.phi)
    with np.errstate(invalid="ignore"):
        normal = -special.ndtri(special.stdtr(df, -t))
    result: FloatArray = np.where(estimated & np.isfinite(z), np.sign(z) * normal, z)
    return result


def raw_multipliers(multipliers: FloatArray, spread: Dispersion) -> FloatArray:
    """The |z| that reaches a normal-scale multiplier once adjusted: sqrt(phi) * the t_df quantile of Phi(m)."""
    estimated = spread.df >= 1
    df = np.where(estimated, spread.df, 1.0)
    finite = np.isfinite(multipliers)
    with np.errstate(invalid="ignore"):
        quantile = -special.stdtrit(df, special.ndtr(-np.where(finite, multipliers, 0.0)))
    scaled = np.where(finite, np.sqrt(spread.phi) * quantile, np.inf)
    result: FloatArray = np.where(estimated, scaled, multipliers)
    return result
