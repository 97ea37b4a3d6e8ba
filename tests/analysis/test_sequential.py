"""The peeking-safe boundary, against closed forms, statsmodels and seeded Monte Carlo."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from analysis.sequential import (
    boundaries,
    boundary_constant,
    information_fractions,
    planned_per_arm,
    sequential_p_values,
    visitors_to_call,
)
from analysis.stats import sample_size_per_arm


def test_the_boundary_constant_is_the_reflection_principle_bound():
    # P(sup_{t<=1} |W(t)| >= c) <= 4 (1 - Phi(c)) = alpha
    for alpha in (0.01, 0.05, 0.1):
        c = boundary_constant(alpha)
        assert abs(4 * stats.norm.sf(c) - alpha) < 1e-12
    assert abs(boundary_constant(0.05) - 2.2414) < 1e-4


def test_continuous_looks_at_a_brownian_motion_stay_within_alpha():
    """1,000 looks per path on 4,000 seeded A/A paths: the crossing rate is at most alpha (3 standard errors)."""
    rng = np.random.default_rng(3)
    looks = 1000
    t = np.arange(1, looks + 1) / looks
    paths = np.cumsum(rng.normal(0, np.sqrt(1 / looks), size=(4000, looks)), axis=1)
    z = paths / np.sqrt(t)
    crossed = (np.abs(z) >= boundaries(t, 0.05)).any(axis=1).mean()
    assert crossed <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 4000)
    assert crossed > 0.03  # and it is not wildly conservative


def test_the_sequential_p_value_is_below_alpha_exactly_when_z_crosses_the_boundary():
    rng = np.random.default_rng(5)
    z = rng.normal(0, 3, 2000)
    t = rng.uniform(0.01, 1.5, 2000)
    crossed = np.abs(z) >= boundaries(t, 0.05)
    assert np.array_equal(sequential_p_values(z, t) <= 0.05, crossed)


@given(
    z=st.floats(-10, 10),
    t=st.floats(0.001, 3),
    more=st.floats(0, 2),
)
def test_sequential_p_values_are_probabilities_and_more_evidence_never_raises_them(z, t, more):
    p = sequential_p_values(np.array([z]), np.array([t]))[0]
    assert 0 <= p <= 1
    assert sequential_p_values(np.array([abs(z) + more]), np.array([t]))[0] <= p + 1e-12
    assert sequential_p_values(np.array([z]), np.array([t + more]))[0] <= p + 1e-12
    # never less cautious than a single fixed-horizon look
    assert p >= 2 * stats.norm.sf(abs(z)) - 1e-12


def test_information_is_the_harmonic_mean_of_the_arms_over_the_plan():
    info = information_fractions(np.array([1000.0, 3000.0]), np.array([1000.0, 1000.0]), np.array([2000.0, 2000.0]))
    assert np.allclose(info, [0.5, 0.75])
    assert np.isnan(information_fractions(np.array([1.0]), np.array([1.0]), np.array([np.nan]))[0])


def test_the_default_plan_is_the_classic_sample_for_the_minimum_effect():
    base = np.array([0.05, 0.004, 0.2])
    planned = planned_per_arm(base, 0.10, 0.05, 0.8)
    assert np.array_equal(planned, sample_size_per_arm(base, base * 1.1))
    # statsmodels' arcsine-based answer agrees within 1%
    for rate, n in zip(base, planned, strict=True):
        h = proportion_effectsize(rate * 1.1, rate)
        reference = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1.0)
        assert abs(n / reference - 1) < 0.01
    assert np.isnan(planned_per_arm(np.array([0.0]), 0.1, 0.05, 0.8)[0])


def test_visitors_to_call_gives_the_stated_power_by_monte_carlo():
    """At the returned sample, a true lift crosses the boundary with about 80% probability (±3 points)."""
    rng = np.random.default_rng(8)
    control, variant = 0.05, 0.06
    plan = float(planned_per_arm(np.array([0.055]), 0.10, 0.05, 0.8)[0])
    n = float(visitors_to_call(np.array([control]), np.array([variant]), np.array([plan]), 0.05, 0.8)[0])
    assert n < plan
    xc = rng.binomial(int(n), control, 20000).astype(float)
    xv = rng.binomial(int(n), variant, 20000).astype(float)
    pooled = (xc + xv) / (2 * n)
    z = (xv - xc) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
    power = (z >= boundaries(np.full(20000, n / plan), 0.05)).mean()
    assert abs(power - 0.8) < 0.03


def test_visitors_to_call_past_the_plan_uses_the_final_boundary():
    plan = np.array([1000.0])
    n = visitors_to_call(np.array([0.05]), np.array([0.051]), plan, 0.05, 0.8)[0]
    sigma = np.sqrt(0.05 * 0.95 + 0.051 * 0.949)
    expected = ((boundary_constant(0.05) + stats.norm.ppf(0.8)) * sigma / 0.001) ** 2
    assert abs(n - np.ceil(expected)) <= 1
