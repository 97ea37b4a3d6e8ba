"""Small verdicts for rendering tests."""

from __future__ import annotations

from analysis.models import ArmTotals, Comparison, Problem, Report
from analysis.models import TestResult as Result


def comparison(variant: str, metric: str = "Cart views", kind: str = "micro", conversions: int = 161) -> Comparison:
    return Comparison(
        variant=variant,
        metric=metric,
        kind=kind,  # type: ignore[arg-type]
        control_visitors=2000,
        control_conversions=100,
        variant_visitors=2000,
        variant_conversions=conversions,
        control_rate=0.05,
        variant_rate=conversions / 2000,
        lift=conversions / 100 - 1,
        lift_ci=(0.26, 1.05),
        p_value=0.0001,
        test_used="z",
        significant=True,
        visitors_needed=1029,
    )


def result(campaign: str = "Spring Sale", comparisons: tuple[Comparison, ...] | None = None) -> Result:
    comparisons = comparisons if comparisons is not None else (comparison("B"), comparison("B", "Purchases", "macro"))
    return Result(
        campaign=campaign,
        test="Audience",
        title=f"{campaign} · Audience test",
        control="A",
        traffic_label="clicks",
        srm_p_value=1.0,
        verdict="move_budget",
        headline="Move budget to B.",
        summary="Audience B converts 61% better than A on cart views.",
        best_variant="B",
        arms=(ArmTotals(variant="A", visitors=2000, spend=None), ArmTotals(variant="B", visitors=2000, spend=None)),
        comparisons=comparisons,
    )


def report(*tests: Result, problems: tuple[Problem, ...] = ()) -> Report:
    return Report(
        source="https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz012345/edit",
        tests=tests,
        problems=problems,
    )
