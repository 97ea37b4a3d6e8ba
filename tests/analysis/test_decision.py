"""The per-comparison rule: one rule on every path, final calls, Holm, minimums, no difference, what is left."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.decision import DecisionSettings, decide_comparisons, holm_adjust
from analysis.stats.sequential import DISCRETE_SHIFT, LATE_SHARE, MAX_STEP, planned_per_arm


def plan_p(z: float, t: float, step: float | None = None) -> float:
    """The plan part's p-value at a look, within the rule's share of alpha (0.9): the reflection bound with
    the discrete-look shift, over the share left up to the plan."""
    shift = DISCRETE_SHIFT * np.sqrt(min(t if step is None else step, MAX_STEP))
    return 4 * stats.norm.sf(abs(z) * np.sqrt(t) + shift) / (1 - LATE_SHARE) / 0.9


def frame(**columns) -> pd.DataFrame:
    """One look per row; a dated total of ten days unless said otherwise (an undated one waits for reads)."""
    defaults = {"family": 0, "dated": True, "days": 10}
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


def test_one_look_at_a_large_lift_is_called_by_the_always_valid_mixture():
    """The Spring Sale audience test: 161 vs 100 of 2,000 is 1.4% of the default plan, far too early for
    the plan's boundary, but the mixture's 1 / Lambda is 0.0037 < 0.005 (its tenth of alpha)."""
    table = frame(visitors_control=[2000], conversions_control=[100], visitors=[2000], conversions=[161])
    out = decide_comparisons(table, DecisionSettings())
    pooled = 261 / 4000
    variance = (1 - pooled) / pooled * 2 / 2000
    z = (161 - 100) / 2000 / np.sqrt(pooled * (1 - pooled) * 2 / 2000)
    r = 0.3**2 / variance
    expected = np.sqrt(1 + r) * np.exp(-(z**2) * r / (2 * (1 + r))) / 0.1
    assert out["decision_rule"][0] == "sequential" and out["decision"][0] == "better"
    assert abs(out["decision_p_value"][0] / expected - 1) < 1e-3


def test_dated_and_undated_looks_at_the_same_numbers_decide_alike():
    """One rule on every path: a dated path waits for min_days days, an undated one for min_days reads with new
    figures (one total cannot show how much rates swing); at the same numbers they then decide alike."""
    counts = {"visitors_control": [2000], "conversions_control": [100], "visitors": [2000], "conversions": [161]}
    dated = decide_comparisons(frame(**counts, dated=[True], days=[5]), DecisionSettings())
    undated = decide_comparisons(frame(**counts, dated=[False], days=[np.nan]), DecisionSettings())
    assert dated["decision"][0] == "better" and undated["decision"][0] == "too_early"
    reads = path([(1000 * i, 50 * i + i % 2, 1000 * i, 80 * i - i % 2) for i in range(1, 9)]).assign(dated=False)
    decided = decide_comparisons(reads, DecisionSettings())
    assert decided["decision"].tolist()[:2] == ["too_early", "too_early"]
    assert decided["decision"].iloc[-1] == "better" and decided["dispersion_df"].iloc[-1] == 7
    as_days = decide_comparisons(reads.assign(dated=True, days=np.arange(1, 9)), DecisionSettings())
    assert as_days["decision"].tolist() == decided["decision"].tolist()
    plan = planned_per_arm(np.array([261 / 4000]), 0.1, 0.05, 0.8)[0]
    assert dated["planned_visitors"][0] == plan
    assert abs(dated["information_fraction"][0] - 2000 / plan) < 1e-12
    early = decide_comparisons(frame(**counts, dated=[True], days=[2]), DecisionSettings())
    assert early["decision"][0] == "too_early"


def test_a_planned_visitors_column_sets_the_plan_the_boundary_uses():
    table = frame(
        visitors_control=[2000], conversions_control=[100], visitors=[2000], conversions=[140], planned=[2500.0]
    )
    out = decide_comparisons(table, DecisionSettings())
    assert out["planned_visitors"][0] == 2500
    z = 0.02 / np.sqrt(240 / 4000 * (1 - 240 / 4000) * 2 / 2000)
    assert abs(out["decision_p_value"][0] - plan_p(z, 0.8)) < 1e-9
    assert out["decision"][0] == "better"


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
    table = frame(visitors_control=[30000], conversions_control=[1500], visitors=[30000], conversions=[1506])
    out = decide_comparisons(table, DecisionSettings(minimum_effect=0.10))
    assert out["information_fraction"][0] < 1 and out["decision"][0] == "no_difference"
    assert 1 / 1.1 - 1 < out["decision_low"][0] < 0 < out["decision_high"][0] < 0.10
    # with a 5% minimum effect the plan is four times longer and the same interval rules nothing out
    assert decide_comparisons(table, DecisionSettings(minimum_effect=0.05))["decision"][0] == "keep_running"


def test_the_planned_sample_in_without_a_call_is_not_a_call_and_a_later_look_may_still_make_one():
    """At the plan +6% (500 vs 530 of 10,000) is neither called nor ruled out: the comparison stays open
    with the watch to twice the plan left; when the lift grows after the plan, a later look calls it."""
    at_plan = (10000, 500, 10000, 530)
    counts = {name: [value] for name, value in zip(COUNTS, at_plan, strict=True)}
    out = decide_comparisons(frame(**counts, planned=[10000.0]), DecisionSettings())
    assert out["information_fraction"][0] == 1 and out["decision"][0] == "keep_running"
    assert out["plan_reached"][0] and out["call"].isna().all()
    assert out["visitors_to_go"][0] == 2 * 10000 - 10000
    later = dated_path([(1000, 50, 1000, 53)] * 10 + [(1000, 50, 1000, 75)] * 8).assign(planned=10000.0)
    decided = decide_comparisons(later, DecisionSettings())
    assert decided["plan_reached"].iloc[9] and decided["decision"].iloc[9] == "keep_running"
    assert decided["decision"].iloc[-1] == "better" and decided["information_fraction"].iloc[-1] > 1


def test_several_variants_are_holm_corrected_within_their_family():
    """Two variants with a rule p-value of 0.03 each: each alone would be called, together neither is."""
    table = frame(
        family=[0, 0],
        visitors_control=[2000, 2000],
        conversions_control=[100, 100],
        visitors=[2000, 2000],
        conversions=[140, 140],
        planned=[2500.0, 2500.0],
    )
    out = decide_comparisons(table, DecisionSettings())
    p = out["decision_p_value"].to_numpy()
    assert 0.025 < p[0] < 0.05 and np.allclose(out["adjusted_p_value"], 2 * p)
    assert out["decision"].tolist() == ["keep_running", "keep_running"]
    alone = decide_comparisons(table.assign(family=[0, 1]), DecisionSettings())
    assert alone["decision"].tolist() == ["better", "better"]


COUNTS = ["visitors_control", "conversions_control", "visitors", "conversions"]


def path(looks: list[tuple[int, int, int, int]], **extra) -> pd.DataFrame:
    """One comparison looked at on days 10, 11, …: (visitors_control, conversions_control, visitors, conversions)."""
    rows = pd.DataFrame(looks, columns=COUNTS)
    days = np.arange(10, 10 + len(looks), dtype=float)
    return rows.assign(family=range(len(looks)), dated=True, days=days, path=0, look=range(len(looks)), **extra)


def test_a_call_is_final_with_its_look_and_the_numbers_at_that_moment():
    """Called at the first look; the later looks' numbers would not call it, and it stays called."""
    table = path([(2000, 100, 2000, 161), (3000, 160, 3000, 180), (4000, 210, 4000, 215)])
    out = decide_comparisons(table, DecisionSettings())
    assert out["decision"].tolist() == ["better", "better", "better"]
    assert out["call"].tolist() == ["better", "better", "better"]
    assert out["call_looks"].tolist() == [1, 1, 1] and out["looks"].tolist() == [1, 2, 3]
    assert out["call_conversions"].tolist() == [161, 161, 161]
    assert out["decision_p_value"][2] == out["decision_p_value"][0]
    alone = decide_comparisons(path([(4000, 210, 4000, 215)]), DecisionSettings())
    assert alone["decision"][0] != "better"  # the last look alone says otherwise


def test_the_decision_p_value_of_an_open_comparison_is_the_smallest_over_its_looks():
    table = path([(2000, 100, 2000, 130), (4000, 200, 4000, 215)])
    out = decide_comparisons(table, DecisionSettings())
    assert out["call"].isna().all()
    first = decide_comparisons(path([(2000, 100, 2000, 130)]), DecisionSettings())["decision_p_value"][0]
    assert out["decision_p_value"][1] == first


def test_a_first_look_past_the_plan_is_one_fixed_horizon_look_but_a_later_one_is_not():
    """50,000 per arm against a ~33,000 plan: a first look there uses the plan's share as a fixed test."""
    late = (50000, 2500, 50000, 2250)
    first = decide_comparisons(path([late]), DecisionSettings())
    assert first["information_fraction"][0] > 1 and first["decision"][0] == "worse"
    z = -0.005 / np.sqrt(4750 / 100000 * (1 - 4750 / 100000) * 2 / 50000)
    assert abs(first["decision_p_value"][0] - 2 * stats.norm.sf(abs(z)) / 0.9) < 1e-9
    after_looks = decide_comparisons(path([(10000, 500, 10000, 480), late]), DecisionSettings())
    assert after_looks["decision"].tolist()[-1] in ("keep_running", "worse")
    assert after_looks["decision_p_value"].iloc[-1] > first["decision_p_value"][0]


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


def dated_path(daily: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    """A dated comparison from its days' own counts (cumulated here), one look per day."""
    table = path(np.cumsum(np.array(daily), axis=0).tolist())
    return table.assign(dated=True, days=np.arange(1, len(daily) + 1, dtype=float))


def test_days_that_swing_far_beyond_binomial_are_not_called_while_steady_days_at_the_same_totals_are():
    """The same 30-day totals (+17% on 1,000 clicks a day, 5%): spread evenly over the days they are called;
    made of days that alternate between the arms leading by 3 points they are not, and phi says why."""
    steady = dated_path([(1000, 50, 1000, 59)] * 30)
    swinging = dated_path([(1000, 35, 1000, 74) if d % 2 else (1000, 65, 1000, 43) for d in range(30)])
    settled = decide_comparisons(steady, DecisionSettings())
    swung = decide_comparisons(swinging, DecisionSettings())
    assert settled["decision"].iloc[-1] == "better"
    assert swung["decision"].iloc[-1] == "keep_running" and swung["call"].isna().all()
    assert swung["dispersion"].iloc[-1] > 5 and swung["dispersion_df"].iloc[-1] == 29
    assert settled["dispersion"].iloc[-1] == 0.5  # steadier than binomial: floored, not infinitely precise
    assert swung["visitors_to_go"].iloc[-1] > 0


def test_one_look_keeps_the_binomial_test_exactly():
    table = path([(2000, 100, 2000, 161)])
    out = decide_comparisons(table, DecisionSettings())
    assert out["dispersion"][0] == 1 and out["dispersion_df"][0] == 0
    assert out["decision"][0] == "better"


def test_the_range_is_intersected_only_over_looks_that_could_call():
    """30,000 clicks a day reach the plan on day one, whose binomial range (+14% to +26%) knows nothing of
    the swing to come: the 30 days together say -14%, and the range at the end still holds that."""
    daily = [(30000, 1500, 30000, 1800)] * 2 + [(30000, 1800, 30000, 1500)] * 28
    out = decide_comparisons(dated_path(daily), DecisionSettings())
    assert out["decision_low"].iloc[0] > 0.1
    total = 1500 * 2 + 1800 * 28
    lift = (1800 * 2 + 1500 * 28) / total - 1
    assert out["decision_low"].iloc[-1] < lift < out["decision_high"].iloc[-1]
