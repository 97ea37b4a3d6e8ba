"""The traffic-split check, only where a split was planned: a sequential test of the arms' visitors.

A test whose sheet declares its planned shares (a `Split` column, the Setup role `split`) is checked
against them with the Dirichlet-multinomial mixture likelihood ratio of Lindon & Malek (2022,
"Anytime-valid inference for multinomial count data"): under the planned shares it is a martingale, so
by Ville's inequality the chance that it ever exceeds 1/alpha, however many looks are taken, is at most
alpha. It is evaluated at every look of the test's path (a dated test's cumulative visitors at the end of
each day; an undated test's current totals), and its running maximum gives an anytime-valid p-value.
A test without a planned split is not checked: its arms were not randomised, and nobody claims they
split evenly.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from scipy.special import gammaln

from analysis.models import SheetData
from analysis.paths import KEYS, rows_as_of, spec_frame
from analysis.stats.arrays import FloatArray

# The Dirichlet prior's concentration around the planned shares (prior parameters = 100 x shares), as in
# Lindon & Malek's examples: sensitive to mismatches of a few points of share in thousands of visitors.
SPLIT_CONCENTRATION = 100.0
_LAST_LOOK = pd.Timestamp.max  # undated rows count at the test's last look


def log_mixture_ratios(
    counts: FloatArray, shares: FloatArray, concentration: float = SPLIT_CONCENTRATION
) -> FloatArray:
    """Per row of `counts` (one test at one look: visitors per arm, cumulative), the log of the Dirichlet-
    multinomial mixture likelihood ratio against the row's planned `shares` (each row sums to 1; an arm
    the test does not have has share 0 and count 0):

        log Γ(c) − log Γ(c + n) + Σ_i [log Γ(c·θ_i + x_i) − log Γ(c·θ_i) − x_i·log θ_i]."""
    x = np.asarray(counts, dtype=np.float64)
    theta = np.asarray(shares, dtype=np.float64)
    used = theta > 0
    prior = concentration * np.where(used, theta, 1.0)
    safe_theta = np.where(used, theta, 1.0)
    terms = np.where(used, gammaln(prior + x) - gammaln(prior) - x * np.log(safe_theta), 0.0)
    n = x.sum(axis=1)
    ratios: FloatArray = gammaln(concentration) - gammaln(concentration + n) + terms.sum(axis=1)
    return ratios


def split_looks(sheet: SheetData, as_of: dt.date | None = None) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """The look path of every test with a planned split: (cumulative visitors per arm, planned shares per
    arm, test index), one row per test and look. Arms are the spec's variants in order; a dated test has a
    look at the end of each of its days, and its undated rows (if any) join at a last look."""
    planned = [(index, spec) for index, spec in enumerate(sheet.tests) if spec.split is not None]
    width = max((len(spec.variants) for _, spec in planned), default=0)
    if not planned:
        return np.zeros((0, 0)), np.zeros((0, 0)), np.zeros(0, dtype=np.int64)
    arms = pd.DataFrame(
        [(index, variant, position) for index, spec in planned for position, variant in enumerate(spec.variants)],
        columns=["test_index", "variant", "position"],
    )
    shares = np.zeros((len(sheet.tests), width))
    for index, spec in planned:
        shares[index, : len(spec.variants)] = spec.split or ()
    traffic = rows_as_of(sheet.traffic, as_of).merge(spec_frame(sheet.tests)[[*KEYS, "test_index"]], on=KEYS)
    traffic = traffic.merge(arms, on=["test_index", "variant"])
    traffic = traffic.assign(look=traffic["date"].fillna(_LAST_LOOK))
    daily = traffic.pivot_table(
        index=["test_index", "look"], columns="position", values="visitors", aggfunc="sum", fill_value=0.0
    )
    daily = daily.reindex(columns=range(width), fill_value=0.0).sort_index()
    cumulative = daily.groupby(level="test_index").cumsum()
    tests = cumulative.index.get_level_values("test_index").to_numpy(dtype=np.int64)
    return cumulative.to_numpy(dtype=np.float64), shares[tests], tests


def split_p_values(
    sheet: SheetData, as_of: dt.date | None = None, concentration: float = SPLIT_CONCENTRATION
) -> FloatArray:
    """Per test, the anytime-valid p-value of its traffic split against its planned shares: 1 / the largest
    mixture likelihood ratio over its looks so far, at most 1. NaN for a test with no planned split."""
    p = np.full(len(sheet.tests), np.nan)
    counts, shares, tests = split_looks(sheet, as_of)
    if not len(tests):
        return p
    log_ratios = log_mixture_ratios(counts, shares, concentration)
    largest = np.full(len(sheet.tests), -np.inf)
    np.maximum.at(largest, tests, log_ratios)
    checked = np.array([spec.split is not None for spec in sheet.tests])
    p[checked] = np.exp(-np.maximum(largest[checked], 0.0))
    return p
