"""analysis.stats.dispersion: Cochran's Q of a path's periods against statsmodels' meta-analysis, the t mapping
against scipy.stats."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from analysis.stats.dispersion import PHI_FLOOR, Dispersion, adjusted_z, dispersion, raw_multipliers

# (control visitors, control conversions, variant visitors, variant conversions) each day, not cumulative.
DAYS = np.array([[1000, 52, 1000, 61], [1200, 40, 900, 55], [800, 47, 1100, 52], [1000, 66, 1000, 39]], float)


def cumulative(days: np.ndarray) -> tuple[np.ndarray, ...]:
    totals = days.cumsum(axis=0)
    return tuple(totals[:, i] for i in range(4))


def test_phi_is_cochrans_q_over_its_degrees_of_freedom_as_statsmodels_computes_it():
    """At each look: the fixed-effect Q of the daily risk differences, each weighted with the pooled rate so
    far (fixed once computed), over periods - 1 (statsmodels calls Q / df the HKSJ scale); to 1e-9."""
    nc, xc, nv, xv = cumulative(DAYS)
    spread = dispersion(np.zeros(len(DAYS)), nc, xc, nv, xv)
    pooled = (xc + xv) / (nc + nv)
    difference = DAYS[:, 3] / DAYS[:, 2] - DAYS[:, 1] / DAYS[:, 0]
    variance = pooled * (1 - pooled) * (1 / DAYS[:, 0] + 1 / DAYS[:, 2])
    assert spread.phi[0] == 1 and spread.df[0] == 0
    for k in range(2, len(DAYS) + 1):
        meta = combine_effects(difference[:k], variance[:k])
        assert spread.df[k - 1] == k - 1
        assert abs(spread.phi[k - 1] - max(meta.q / (k - 1), PHI_FLOOR)) < 1e-9


def test_paths_are_estimated_apart_and_one_period_is_the_binomial_assumption():
    nc, xc, nv, xv = cumulative(DAYS)
    both = dispersion(np.r_[np.zeros(4), np.ones(4)], *(np.r_[a, a] for a in (nc, xc, nv, xv)))
    np.testing.assert_array_equal(both.phi[:4], both.phi[4:])
    single = dispersion(np.arange(3), nc[:3], xc[:3], nv[:3], xv[:3])  # three paths of one look each
    np.testing.assert_array_equal(single.phi, 1.0)
    np.testing.assert_array_equal(single.df, 0.0)


def test_a_period_without_visitors_in_an_arm_or_with_negative_counts_has_no_weight():
    days = np.vstack([DAYS[:2], [[0, 0, 500, 20]], [[100, -5, 100, 3]], DAYS[2:]])
    nc, xc, nv, xv = cumulative(days)
    spread = dispersion(np.zeros(len(days)), nc, xc, nv, xv)
    plain = dispersion(np.zeros(4), *cumulative(DAYS))
    assert spread.df[-1] == plain.df[-1] == 3
    assert spread.df[2] == spread.df[3] == 1


def test_identical_days_are_floored_not_taken_as_infinitely_precise():
    days = np.tile([[1000, 50, 1000, 60]], (10, 1)).astype(float)
    spread = dispersion(np.zeros(10), *cumulative(days))
    assert spread.phi[-1] == PHI_FLOOR and spread.df[-1] == 9


@settings(max_examples=100, deadline=None)
@given(z=st.floats(-12, 12), phi=st.floats(0.5, 50), df=st.integers(1, 200))
def test_the_adjusted_z_is_z_over_root_phi_read_as_student_t_and_the_multipliers_invert_it(z, phi, df):
    spread = Dispersion(phi=np.array([phi]), df=np.array([float(df)]))
    adjusted = adjusted_z(np.array([z]), spread)[0]
    expected = np.sign(z) * stats.norm.isf(stats.t.sf(abs(z) / np.sqrt(phi), df))
    assert abs(adjusted - expected) < 1e-6 * max(1, abs(expected))
    raw = raw_multipliers(np.array([abs(adjusted)]), spread)[0]
    assert abs(raw - abs(z)) < 1e-6 * max(1, abs(z))


def test_without_an_estimate_nothing_changes():
    spread = Dispersion(phi=np.ones(3), df=np.zeros(3))
    z = np.array([-2.5, 0.0, 4.0])
    np.testing.assert_array_equal(adjusted_z(z, spread), z)
    np.testing.assert_array_equal(raw_multipliers(np.array([2.0, np.inf, 3.0]), spread), [2.0, np.inf, 3.0])
    assert raw_multipliers(np.array([np.inf]), Dispersion(np.array([2.0]), np.array([5.0])))[0] == np.inf
