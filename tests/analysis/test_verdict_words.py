"""A verdict's words where a count is one, with the tab's own traffic word: counts agree in number."""

from __future__ import annotations

import datetime as dt

from analysis.models import ArmTotals, CallRecord, Comparison, MetricSpec, ProxyRecord
from analysis.models import TestSpec as Spec
from analysis.verdict import Needed, Verdict
from analysis.verdict import TestContext as Context
from analysis.verdict_words import summary, variation_note


def spec(traffic_label: str) -> Spec:
    metrics = (MetricSpec(name="Cart views", kind="micro"), MetricSpec(name="Purchases", kind="macro"))
    return Spec(
        campaign="Spring",
        test="Audience",
        control="A",
        variants=("A", "B"),
        metrics=metrics,
        traffic_label=traffic_label,
        has_dates=True,
        has_spend=True,
    )


def comparison(metric: str = "Cart views", kind: str = "micro", **changes: object) -> Comparison:
    values: dict[str, object] = {
        "variant": "B",
        "metric": metric,
        "kind": kind,
        "control_visitors": 2000,
        "control_conversions": 100,
        "variant_visitors": 2000,
        "variant_conversions": 110,
        "control_rate": 0.05,
        "variant_rate": 0.055,
        "lift": 0.1,
        "lift_ci": (-0.1, 0.3),
        "p_value": 0.4,
        "test_used": "z",
        "significant": False,
        "visitors_needed": 1,
        "decision_ci": (-0.1, 0.3),
    }
    return Comparison.model_validate({**values, **changes})


ARMS = (ArmTotals(variant="A", visitors=2000, spend=10.0), ArmTotals(variant="B", visitors=2000, spend=10.0))


def test_one_more_link_click_a_day_at_a_cost_per_link_click():
    needed = Needed(visitors=1, daily_visitors=1, unit_cost=0.5)
    verdict = Verdict(code="keep_running", reason="open", rests_on=comparison(), needed=needed)
    text = summary(spec("link clicks"), ARMS, verdict, Context())
    assert (
        "about 1 more link click per audience (about 1 more day at the recent 1 link click a day; "
        "≈ $0.50 at today's $0.50 cost per link click) would settle" in text
    )


def test_a_plan_of_one_user_is_in():
    reached = comparison(planned_visitors=1, information_fraction=1.0, plan_reached=True)
    verdict = Verdict(code="keep_running", reason="plan_reached", rests_on=reached, deciding=(reached,))
    text = summary(spec("users"), ARMS, verdict, Context())
    assert text.startswith("The planned 1 user per audience is in without a lift of +10% or more on cart views")


def test_a_broken_split_on_one_impression():
    arms = (ArmTotals(variant="A", visitors=1, spend=None), ArmTotals(variant="B", visitors=0, spend=None))
    verdict = Verdict(code="check_tracking", reason="broken_split", srm_p_value=0.01)
    assert "(100/0 on 1 impression, planned an even split;" in summary(spec("impressions"), arms, verdict, Context())


def test_one_finished_test_and_a_call_on_one_session():
    record = ProxyRecord(
        micro="Cart views", macro="Purchases", finished_tests=1, agreeing_tests=0, correlation=None, correlation_tests=0
    )
    called = CallRecord(
        call="better",
        called_on=dt.date(2026, 3, 2),
        looks=3,
        control_visitors=1,
        control_conversions=0,
        variant_visitors=1,
        variant_conversions=1,
        lift=None,
    )
    best = comparison(call="better", at_call=called, control_visitors=1, variant_visitors=1, lift=0.1)
    macro = comparison("Purchases", "macro", variant_conversions=1, control_conversions=1)
    poor = Verdict(code="keep_running", reason="poor_proxy", rests_on=best, to_confirm=macro, track_record=record)
    assert "in only 0 of 1 finished test in this sheet" in summary(spec("sessions"), ARMS, poor, Context())
    winner = Verdict(code="move_budget", reason="micro_winner", best_variant="B", rests_on=best, to_confirm=macro)
    text = summary(spec("sessions"), ARMS, winner, Context())
    assert "on 1 session per audience. The call stands." in text


def test_rates_that_swing_well_beyond_independent_clicks_are_said_with_the_factor():
    swung = comparison(decision="better", dispersion=12.4, dispersion_df=29)
    verdict = Verdict(code="move_budget", reason="micro_winner", best_variant="B", rests_on=swung)
    assert variation_note(verdict, (swung,), "days") == (
        " Daily rates swing 12 times more than independent clicks explain; the ranges allow for it."
    )
    assert variation_note(verdict, (swung,), "looks").startswith(" Rates between reads swing 12 times")


def test_a_call_on_one_total_says_what_it_assumes_and_an_open_test_or_a_mild_swing_says_nothing():
    total = comparison(decision="better")
    called = Verdict(code="move_budget", reason="micro_winner", best_variant="B", rests_on=total)
    assert "assumes each click converts independently" in variation_note(called, (total,), "one_look")
    running = Verdict(code="keep_running", reason="open", rests_on=total)
    assert variation_note(running, (total,), "one_look") == ""
    mild = comparison(decision="better", dispersion=1.3, dispersion_df=20)
    steady = Verdict(code="move_budget", reason="micro_winner", best_variant="B", rests_on=mild)
    assert variation_note(steady, (mild,), "days") == ""
