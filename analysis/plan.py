"""The next test of a campaign, planned from the sheet's own history: which micro metric to test on, and the
visitors, days and money a chosen minimum lift takes on each metric at the campaign's current pace.

The visitors are microopt's own rule's (analysis.stats.sequential), for a test with two arms:

- `fixed_horizon`: the classic fixed-horizon sample per arm (`planned_per_arm`), what the rule plans by
  itself for a test whose sheet gives no Planned visitors;
- `planned`: the plan at which the peeking-safe rule calls a true lift of that size with the settings' power by
  the plan. Its boundary at the plan is the O'Brien-Fleming constant c (about 2.29 for alpha 0.05) instead of
  the fixed-horizon 1.96, so the plan is ((c + z_power) / a)^2 with a = |p1 - p0| / sqrt(p0 q0 + p1 q1): about
  1.25 times the fixed-horizon sample. This is the figure Add to sheet writes as Planned visitors;
- `to_call`: the visitors per arm at which the rule calls it (`visitors_to_call` at that plan: at most the plan,
  less where the always-valid mixture calls a large lift early), times the metric's day-to-day swing `swing`
  (phi, analysis.stats.dispersion: swinging rates carry less information per visitor, and the rule needs phi times
  the visitors for the same evidence).

Days are `to_call` over the visitors each arm gets a day (the campaign's recent daily clicks split between the
arms), never fewer than the rule's `min_days`; money is `to_call` times the arms times the cost per click.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special

from analysis.decision import DecisionSettings
from analysis.models import ProxyRecord, Report, SheetData, TestSpec
from analysis.pace import test_pace
from analysis.stats.arrays import FloatArray
from analysis.stats.sequential import LATE_SHARE, obf_constant, planned_per_arm, visitors_to_call
from analysis.verdict import POOR_PROXY_TESTS

ARMS = 2  # a next test is one variant against its control
LIFTS = (0.05, 0.10, 0.20)  # the choices offered beside the sheet's minimum effect
Reason = Literal["tracked_and_soonest", "soonest_untracked", "only_one", "no_micro"]


def sequential_plans(
    base_rate: FloatArray, lift: float, settings: DecisionSettings, days: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Per metric: the fixed-horizon sample per arm and the plan at which the rule calls a true relative `lift`
    on `base_rate` with the settings' power by the plan (both NaN where the rate is 0 or 1).

    With `days` (the days the test will run), the boundary is the rule's once it reads z against Student's t with
    days - 1 degrees of freedom (analysis.stats.dispersion: the swing is estimated from those days)."""
    base = np.asarray(base_rate, dtype=np.float64)
    defined = (base > 0) & (base < 1)
    target = np.clip(base * (1 + lift), 0.0, 1.0)
    fixed = planned_per_arm(base, lift, settings.alpha, settings.power)
    c = np.full(len(base), obf_constant(settings.alpha * (1 - settings.mixture_share) * (1 - LATE_SHARE)))
    if days is not None:
        df = np.asarray(days, dtype=np.float64) - 1
        estimated = np.isfinite(df) & (df >= 1)
        with np.errstate(invalid="ignore"):
            c = np.where(estimated, -special.stdtrit(np.where(estimated, df, 1.0), special.ndtr(-c)), c)
    z_power = float(special.ndtri(settings.power))
    sigma = np.sqrt(base * (1 - base) + target * (1 - target))
    diff = np.abs(target - base)
    with np.errstate(divide="ignore", invalid="ignore"):
        plan = np.ceil(((c + z_power) * sigma / diff) ** 2)
    planned: FloatArray = np.where(defined & (diff > 0), plan, np.nan)
    return fixed, planned


def visitors_needed(
    base_rate: FloatArray, lift: float, settings: DecisionSettings, daily: float | None = None
) -> dict[str, FloatArray]:
    """`fixed_horizon`, `planned` and `to_call` (before any swing) per arm, vectorised over metrics; with `daily`
    visitors per arm, the plan allows for the days it will take (Student's t, `sequential_plans`)."""
    base = np.asarray(base_rate, dtype=np.float64)
    fixed, planned = sequential_plans(base, lift, settings)
    if daily is not None and daily > 0:
        _, planned = sequential_plans(base, lift, settings, np.ceil(planned / daily))
    target = np.clip(base * (1 + lift), 0.0, 1.0)
    needed = visitors_to_call(
        base, target, planned, settings.alpha, settings.power, settings.mixture_share, settings.mixture_sd
    )
    return {"fixed_horizon": fixed, "planned": planned, "to_call": np.fmin(needed, planned)}


@dataclass(frozen=True)
class MetricPlan:
    """What testing on one metric takes (visitors per arm; days and money None where the sheet cannot say)."""

    metric: str
    kind: Literal["micro", "macro"]
    base_rate: float
    fixed_horizon: int | None
    planned: int | None
    to_call: int | None
    swing: float
    days: int | None
    cost: float | None
    record: ProxyRecord | None = None  # micro metrics: how it tracked `TestPlan.macro`

    @property
    def tracking(self) -> float | None:
        """The share of finished tests in which it pointed the macro metric's way (None: no finished test)."""
        if self.record is None or self.record.finished_tests == 0:
            return None
        return self.record.agreeing_tests / self.record.finished_tests

    @property
    def poor(self) -> bool:
        r = self.record
        return r is not None and r.finished_tests >= POOR_PROXY_TESTS and 2 * r.agreeing_tests < r.finished_tests


@dataclass(frozen=True)
class TestPlan:
    """The next test of `campaign` at minimum lift `lift`: micro metrics best first, then the macro ones."""

    campaign: str
    based_on: str  # the test whose pace and rates the plan uses (the campaign's latest)
    lift: float
    arms: int
    daily_visitors: float | None  # per arm of the new test
    cost_per_visitor: float | None
    currency: str
    traffic_label: str
    metrics: tuple[MetricPlan, ...]
    macro: str | None
    recommended: str | None
    reason: Reason

    @property
    def micro(self) -> tuple[MetricPlan, ...]:
        return tuple(m for m in self.metrics if m.kind == "micro")

    def metric(self, name: str | None) -> MetricPlan | None:
        return next((m for m in self.metrics if name is not None and m.metric.lower() == name.lower()), None)

    @property
    def macro_plan(self) -> MetricPlan | None:
        return self.metric(self.macro)


def latest_test(sheet: SheetData, campaign: str) -> TestSpec | None:
    """The campaign's test with the latest date (the last in sheet order among equals, or when undated)."""
    specs = [spec for spec in sheet.tests if spec.campaign.lower() == campaign.lower()]
    if not specs:
        return None
    traffic = sheet.traffic
    last = traffic[traffic["campaign"] == specs[0].campaign].groupby("test", sort=False)["date"].max()
    order = {spec.test: i for i, spec in enumerate(specs)}

    def recency(spec: TestSpec) -> tuple[float, int]:
        day = last.get(spec.test)
        return (-math.inf if day is None or pd.isna(day) else pd.Timestamp(day).timestamp(), order[spec.test])

    return max(specs, key=recency)


def _swings(report: Report, spec: TestSpec) -> dict[str, float]:
    """Each metric's day-to-day swing (phi, at least 1) in that test: the median over its variants."""
    test = next((t for t in report.tests if (t.campaign, t.test) == (spec.campaign, spec.test)), None)
    found: dict[str, list[float]] = {}
    for c in test.comparisons if test is not None else ():
        if c.dispersion is not None:
            found.setdefault(c.metric, []).append(max(c.dispersion, 1.0))
    return {metric: float(np.median(values)) for metric, values in found.items()}


def _record(report: Report, micro: str, macro: str | None) -> ProxyRecord | None:
    if macro is None:
        return None
    return next(
        (p for p in report.proxies if p.micro.lower() == micro.lower() and p.macro.lower() == macro.lower()), None
    )


def _whole(value: float) -> int | None:
    return int(value) if math.isfinite(value) else None


def plan_test(
    sheet: SheetData, report: Report, campaign: str, lift: float, settings: DecisionSettings
) -> TestPlan | None:
    """The plan of the next test of `campaign` (None when the sheet has no test of it)."""
    spec = latest_test(sheet, campaign)
    if spec is None:
        return None
    traffic = sheet.traffic
    pace = test_pace(traffic[(traffic["campaign"] == spec.campaign) & (traffic["test"] == spec.test)])
    arms_then = max(len(spec.variants), 1)
    per_arm_then = float(pace["daily_visitors"].iloc[0]) if len(pace) else math.nan
    daily = per_arm_then * arms_then / ARMS
    cost = float(pace["cost_per_visitor"].iloc[0]) if len(pace) else math.nan

    conversions = sheet.conversions
    rows = conversions[(conversions["campaign"] == spec.campaign) & (conversions["test"] == spec.test)]
    totals = rows.groupby("metric", sort=False)[["visitors", "conversions"]].sum()
    names = [m.name for m in spec.metrics]
    kinds = [m.kind for m in spec.metrics]
    visitors = totals["visitors"].reindex(names).to_numpy(dtype=np.float64)
    converted = totals["conversions"].reindex(names).to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.where(visitors > 0, converted / visitors, np.nan)
    figures = visitors_needed(base, lift, settings, daily if math.isfinite(daily) else None)
    swings = _swings(report, spec)
    swing = np.array([swings.get(name, 1.0) for name in names])
    to_call = np.ceil(figures["to_call"] * swing)
    with np.errstate(divide="ignore", invalid="ignore"):
        days = np.maximum(np.ceil(to_call / daily), settings.min_days) if daily > 0 else np.full(len(names), np.nan)
    money = to_call * ARMS * cost
    macro = next((m.name for m in spec.metrics if m.kind == "macro"), None)
    plans = [
        MetricPlan(
            metric=name,
            kind="micro" if kind == "micro" else "macro",
            base_rate=float(base[i]),
            fixed_horizon=_whole(figures["fixed_horizon"][i]),
            planned=_whole(figures["planned"][i]),
            to_call=_whole(to_call[i]),
            swing=float(swing[i]),
            days=_whole(days[i]),
            cost=float(money[i]) if math.isfinite(money[i]) else None,
            record=_record(report, name, macro) if kind == "micro" else None,
        )
        for i, (name, kind) in enumerate(zip(names, kinds, strict=True))
    ]
    micro = sorted((p for p in plans if p.kind == "micro"), key=_rank)
    recommended, reason = _recommend(micro)
    return TestPlan(
        campaign=spec.campaign,
        based_on=spec.test,
        lift=lift,
        arms=ARMS,
        daily_visitors=daily if math.isfinite(daily) and daily > 0 else None,
        cost_per_visitor=cost if math.isfinite(cost) else None,
        currency=spec.currency,
        traffic_label=spec.traffic_label,
        metrics=(*micro, *(p for p in plans if p.kind == "macro")),
        macro=macro,
        recommended=recommended,
        reason=reason,
    )


def _rank(plan: MetricPlan) -> tuple[bool, bool, float, float]:
    """Best first: not a poor proxy, with a track record, the best tracking, then the fewest visitors to call."""
    tracking = plan.tracking
    return (
        plan.poor,
        tracking is None,
        -(tracking or 0.0),
        float(plan.to_call) if plan.to_call is not None else math.inf,
    )


def _recommend(ranked: list[MetricPlan]) -> tuple[str | None, Reason]:
    usable = [p for p in ranked if p.to_call is not None]
    if not usable:
        return None, "no_micro"
    best = usable[0]
    if len(usable) == 1:
        return best.metric, "only_one"
    return best.metric, "tracked_and_soonest" if best.tracking is not None else "soonest_untracked"


def lift_choices(minimum_effect: float) -> tuple[float, ...]:
    """The lifts offered: the sheet's minimum effect and the usual ones, each once, smallest first."""
    return tuple(sorted({round(minimum_effect, 4), *LIFTS}))
