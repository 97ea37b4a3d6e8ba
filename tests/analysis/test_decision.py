"""The per-comparison rule: Holm, minimums, fixed versus sequential, no difference, what is left."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from analysis.decision import DecisionSettings, decide_comparisons, holm_adjust
from analysis.sequential import planned_per_arm


def frame(**columns) -> pd.DataFrame:
    defaults = {"family": 0, "dated": False, "days": np.nan}
    n = len(next(iter(columns.values())))
    data = {k: [v] * n for k, v in defaults.items()}
    data.update(columns)
    return pd.DataFrame(data)


@settings(max_examples=25, deadline=None)  # statsmodels' multipletests costs ~40 ms a call
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 1)), min_size=1, max_size=12))
def test_holm_matches_statsmodels_within_each_family(items):
    p = np.array([x for x, _ in items])
    families = np.array([f for _, f in items])
    adjusted = holm_adjust(p, families)
    for family in np.unique(families):
        mask = families == family
        reference = multipletests(p[mask], method="holm")[1]
        assert np.allclose(adjusted[mask], reference)


def test_an_undated_test_is_one_fixed_horizon_look():
    table = frame(
        visitors_control=[2000], conversions_control=[100], visitors=[2000], conversions=[161], p_value=[9.4e-5]
    )
    out = decide_comparisons(table, DecisionSettings())
    assert out["decision_rule"][0] == "fixed_horizon"
    assert out["decision"][0] == "better" and out["adjusted_p_value"][0] == 9.4e-5


def test_a_dated_test_with_the_same_totals_is_not_called_this_early():
    """2,000 per arm against a plan of ~31,000: the sequential boundary wants |z| of about 8.8."""
    table = frame(
        visitors_control=[2000], conversions_control=[100], visitors=[2000], conversions=[161], dated=[True], days=[5]
    )
    out = decide_comparisons(table, DecisionSettings())
    assert out["decision_rule"][0] == "sequential"
    assert out["decision"][0] == "keep_running"
    assert out["decision_p_value"][0] > 0.05
    plan = planned_per_arm(np.array([261 / 4000]), 0.1, 0.05, 0.8)[0]
    assert out["planned_visitors"][0] == plan
    assert abs(out["information_fraction"][0] - 2000 / plan) < 1e-12


def test_a_planned_visitors_column_makes_an_undated_test_sequential_against_that_plan():
    table = frame(
        visitors_control=[2000], conversions_control=[100], visitors=[2000], conversions=[161], planned=[2500.0]
    )
    out = decide_comparisons(table, DecisionSettings())
    assert out["decision_rule"][0] == "sequential" and out["planned_visitors"][0] == 2500
    assert out["decision"][0] == "better"  # z of 3.9 beats 2.24 / sqrt(0.8) = 2.51


def test_minimum_days_and_conversions_come_before_any_call():
    table = frame(
        visitors_control=[50000, 50000, 50000],
        conversions_control=[2500, 4, 2500],
        visitors=[50000, 50000, 50000],
        conversions=[3500, 60, 3500],
        dated=[True, True, True],
        days=[2, 10, 3],
    )
    out = decide_comparisons(table, DecisionSettings(min_days=3, min_conversions=5))
    assert out["decision"].tolist() == ["too_early", "too_early", "better"]
    assert not out["significant"][0] and not out["significant"][1]


def test_no_difference_when_the_interval_rules_out_the_minimum_effect():
    table = frame(visitors_control=[25000], conversions_control=[1250], visitors=[25000], conversions=[1256])
    out = decide_comparisons(table, DecisionSettings(minimum_effect=0.10))
    assert out["decision"][0] == "no_difference"
    assert 1 / 1.1 - 1 < out["decision_low"][0] < 0 < out["decision_high"][0] < 0.10
    # with a 5% minimum effect the same interval does not rule it out
    assert decide_comparisons(table, DecisionSettings(minimum_effect=0.05))["decision"][0] == "keep_running"


def test_no_difference_when_the_planned_sample_is_in_without_a_call():
    table = frame(
        visitors_control=[10000], conversions_control=[500], visitors=[10000], conversions=[530], planned=[10000.0]
    )
    out = decide_comparisons(table, DecisionSettings())
    assert out["information_fraction"][0] == 1 and out["decision"][0] == "no_difference"
    assert np.isnan(out["visitors_to_go"][0])


def test_several_variants_are_holm_corrected_within_their_family():
    """Two variants with p = 0.03 each: each alone would be called, together neither is."""
    table = frame(
        family=[0, 0],
        visitors_control=[2000, 2000],
        conversions_control=[100, 100],
        visitors=[2000, 2000],
        conversions=[130, 130],
        p_value=[0.03, 0.03],
    )
    out = decide_comparisons(table, DecisionSettings())
    assert out["adjusted_p_value"].tolist() == [0.06, 0.06]
    assert out["decision"].tolist() == ["keep_running", "keep_running"]
    alone = decide_comparisons(table.assign(family=[0, 1]), DecisionSettings())
    assert alone["decision"].tolist() == ["better", "better"]


def test_what_is_left_is_capped_by_the_plan():
    table = frame(
        visitors_control=[5000], conversions_control=[250], visitors=[5000], conversions=[252], dated=[True], days=[5]
    )
    out = decide_comparisons(table, DecisionSettings())
    assert out["visitors_to_go"][0] == out["planned_visitors"][0] - 5000


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(200, 20000),
    x=st.integers(0, 200),
    y=st.integers(0, 200),
    dated=st.booleans(),
)
def test_swapping_the_arms_flips_better_and_worse(n, x, y, dated):
    table = frame(
        visitors_control=[n], conversions_control=[x], visitors=[n], conversions=[y], dated=[dated], days=[10]
    )
    swapped = frame(
        visitors_control=[n], conversions_control=[y], visitors=[n], conversions=[x], dated=[dated], days=[10]
    )
    a = decide_comparisons(table, DecisionSettings())["decision"][0]
    b = decide_comparisons(swapped, DecisionSettings())["decision"][0]
    flip = {"better": "worse", "worse": "better"}
    assert b == flip.get(a, a)
