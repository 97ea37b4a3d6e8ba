"""A verdict per test, as data, from its comparisons' final calls. Words are analysis.verdict_words' job.

Order of the rules (docs/methodology.md explains each):
1. check_tracking: the traffic split is broken (sample-ratio mismatch against the planned split; a test
   with no planned split is not checked: analysis.splits).
2. conflict: a variant's micro call and its macro metric disagree significantly (macro called the other
   way, or macro per micro conversion significantly the other way) — do not move budget.
3. move_budget on the macro metric: a macro call acts on its own.
4. move_budget on the micro metric, with the macro still to confirm and what that costs — unless the
   micro metric's track record in the sheet says it does not follow the macro metric.
5. no_difference: every deciding comparison ruled out the minimum effect (its always-valid range lies
   inside +-minimum effect).
6. keep_running, with what is left; `plan_reached` when the plan is in without a call: not a call, and
   a later look may still make one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from analysis.decision import DecisionSettings
from analysis.models import ArmTotals, Comparison, ProxyRecord, TestSpec, VerdictCode
from analysis.stats.arrays import FloatArray
from analysis.stats.sequential import visitors_to_call

# The split check's alpha: a correctly split test sees the alarm at most this often, however often it is
# looked at (analysis.splits).
SRM_ALPHA = 0.01
POOR_PROXY_TESTS = 4
CALLED = ("better", "worse")

# Why a verdict is what it is: stable codes, one wording each (analysis.verdict_words).
Reason = Literal[
    "broken_split",
    "macro_against_micro",
    "macro_winner",
    "macro_loser",
    "micro_winner",
    "micro_loser",
    "poor_proxy",
    "plan_reached",
    "ruled_out",
    "no_conversions",
    "too_early",
    "not_sized",
    "open",
]


@dataclass(frozen=True)
class FunnelPair:
    """Macro conversions per micro conversion in each arm, and the p-value of their difference."""

    variant: str
    micro: str
    macro: str
    control_funnel: float | None
    variant_funnel: float | None
    p_value: float | None


@dataclass(frozen=True)
class TestContext:
    settings: DecisionSettings = field(default_factory=DecisionSettings)
    days: int = 0
    daily_visitors: float | None = None
    cost_per_visitor: float | None = None
    funnels: tuple[FunnelPair, ...] = ()
    proxies: tuple[ProxyRecord, ...] = ()
    # Visitors per arm at which the variant's macro metric would confirm a micro lift, by (variant, micro
    # metric): `confirm_visitors` over a whole sheet at once (analysis.report); sized one by one without.
    to_confirm: Mapping[tuple[str, str], float] = field(default_factory=dict)


@dataclass(frozen=True)
class Needed:
    """What settling a comparison still takes, per variant: visitors, and days and money when the sheet
    has dates and spend. `visitors` is None when there is too little to size it; `beyond_plan` when the
    plan will not be enough."""

    visitors: float | None
    daily_visitors: float | None = None
    unit_cost: float | None = None
    plan: float | None = None
    beyond_plan: bool = False
    within_plan: bool = False

    @property
    def days(self) -> float | None:
        return self.visitors / self.daily_visitors if self.visitors and self.daily_visitors else None

    @property
    def money(self) -> float | None:
        return self.visitors * self.unit_cost if self.visitors and self.unit_cost is not None else None


@dataclass(frozen=True)
class Verdict:
    """A test's verdict: its code and reason, the comparison it rests on, the macro comparison still to
    confirm, the funnel and track-record evidence, what is still needed, and the day it was called."""

    code: VerdictCode
    reason: Reason
    best_variant: str | None = None
    rests_on: Comparison | None = None
    to_confirm: Comparison | None = None
    funnel: FunnelPair | None = None
    track_record: ProxyRecord | None = None
    others: tuple[str, ...] = ()
    deciding: tuple[Comparison, ...] = ()
    needed: Needed | None = None
    srm_p_value: float | None = None

    @property
    def called_on(self) -> dt.datetime | dt.date | None:
        """When the comparison this verdict rests on was called (None while nothing is)."""
        calls = [c.called_on for c in (self.rests_on, *self.deciding) if c is not None and c.call is not None]
        return max((when for when in calls if when is not None), key=_sortable, default=None)


def _sortable(when: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(when, dt.datetime):
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return dt.datetime(when.year, when.month, when.day, tzinfo=dt.UTC)


def cost_per_visitor(arms: tuple[ArmTotals, ...], context: TestContext) -> float | None:
    if context.cost_per_visitor is not None:
        return context.cost_per_visitor
    spend = sum(a.spend for a in arms if a.spend is not None)
    visitors = sum(a.visitors for a in arms if a.spend is not None)
    return spend / visitors if visitors and spend else None


def _needed(arms: tuple[ArmTotals, ...], context: TestContext, more: float, plan: float | None = None) -> Needed:
    return Needed(
        visitors=more,
        daily_visitors=context.daily_visitors,
        unit_cost=cost_per_visitor(arms, context),
        plan=plan,
    )


def confirm_visitors(
    control_rate: FloatArray,
    lift: FloatArray,
    variant_rate: FloatArray,
    planned: FloatArray,
    settings: DecisionSettings,
) -> FloatArray:
    """Visitors per arm at which macro comparisons (their control and variant rates and plans, NaN for none)
    would confirm a lift of `lift` (NaN: their own lift) with the rule's power; NaN where they would not."""
    target_rate = np.where(np.isnan(lift), variant_rate, control_rate * (1 + lift))
    s = settings
    plan = np.nan_to_num(planned, nan=math.inf)
    return visitors_to_call(control_rate, target_rate, plan, s.alpha, s.power, s.mixture_share, s.mixture_sd)


def _to_confirm(arms: tuple[ArmTotals, ...], c: Comparison, micro: Comparison, context: TestContext) -> Needed:
    """What confirming the lift of `micro` on `c` (the macro metric of its variant) still takes."""
    plan = float(c.planned_visitors) if c.planned_visitors is not None else math.inf
    needed = context.to_confirm.get((micro.variant, micro.metric))
    if needed is None:
        lift = micro.lift if micro.lift is not None else math.nan
        rates = np.array([c.control_rate]), np.array([lift]), np.array([c.variant_rate])
        needed = float(confirm_visitors(*rates, np.array([plan]), context.settings)[0])
    if c.control_rate == 0 or c.control_visitors == 0:
        return Needed(visitors=None)
    if math.isnan(needed):
        return Needed(visitors=None, plan=plan if math.isfinite(plan) else None, beyond_plan=math.isfinite(plan))
    more = max(needed - min(c.control_visitors, c.variant_visitors), 0)
    return _needed(arms, context, more)


def _record(micro: str, macro: str, proxies: tuple[ProxyRecord, ...]) -> ProxyRecord | None:
    return next(
        (p for p in proxies if p.micro.lower() == micro.lower() and p.macro.lower() == macro.lower()),
        None,
    )


def _poor_proxy(record: ProxyRecord) -> bool:
    """Enough finished tests, and the micro metric pointed the macro metric's way in fewer than half."""
    return record.finished_tests >= POOR_PROXY_TESTS and 2 * record.agreeing_tests < record.finished_tests


def macro_for(comparisons: tuple[Comparison, ...], variant: str) -> Comparison | None:
    return next((c for c in comparisons if c.variant == variant and c.kind == "macro"), None)


def _conflict(
    comparisons: tuple[Comparison, ...], context: TestContext
) -> tuple[Comparison, Comparison, FunnelPair | None] | None:
    alpha = context.settings.alpha
    for micro in sorted(
        (c for c in comparisons if c.kind == "micro" and c.decision in CALLED), key=lambda c: -abs(c.lift or 0)
    ):
        for macro in (c for c in comparisons if c.kind == "macro" and c.variant == micro.variant):
            funnel = next(
                (
                    f
                    for f in context.funnels
                    if f.variant == micro.variant and f.micro == micro.metric and f.macro == macro.metric
                ),
                None,
            )
            opposite_call = macro.decision in CALLED and macro.decision != micro.decision
            direction = 1 if micro.decision == "better" else -1
            funnel_against = (
                funnel is not None
                and funnel.p_value is not None
                and funnel.p_value < alpha
                and funnel.variant_funnel is not None
                and funnel.control_funnel is not None
                and direction * (funnel.variant_funnel - funnel.control_funnel) < 0
                and macro.lift is not None
                and direction * macro.lift < 0
            )
            if opposite_call or funnel_against:
                return micro, macro, funnel
    return None


def _winner(
    arms: tuple[ArmTotals, ...],
    comparisons: tuple[Comparison, ...],
    winners: list[Comparison],
    context: TestContext,
) -> Verdict:
    best = max(winners, key=lambda c: c.lift or 0)
    others = tuple(dict.fromkeys(c.variant for c in winners if c.variant != best.variant))
    if best.kind == "macro":
        micro = next((c for c in comparisons if c.variant == best.variant and c.kind == "micro"), None)
        return Verdict("move_budget", "macro_winner", best.variant, best, micro, others=others)
    macro = macro_for(comparisons, best.variant)
    record = _record(best.metric, macro.metric, context.proxies) if macro is not None else None
    needed = _to_confirm(arms, macro, best, context) if macro is not None else None
    if record is not None and _poor_proxy(record):
        return Verdict("keep_running", "poor_proxy", None, best, macro, track_record=record, needed=needed)
    return Verdict(
        "move_budget", "micro_winner", best.variant, best, macro, track_record=record, others=others, needed=needed
    )


def _plan_reached(arms: tuple[ArmTotals, ...], deciding: list[Comparison], context: TestContext) -> Verdict | None:
    """The plan is in without a call on any deciding comparison that is still open."""
    open_ = [c for c in deciding if c.decision != "no_difference"]
    if not open_ or not all(c.plan_reached and c.decision == "keep_running" for c in open_):
        return None
    widest = max(open_, key=lambda c: (c.decision_ci[1] is None, c.decision_ci[1] or 0))
    more = widest.visitors_to_go
    needed = _needed(arms, context, float(more)) if more is not None else None
    return Verdict("keep_running", "plan_reached", rests_on=widest, deciding=tuple(deciding), needed=needed)


def _keep_running(arms: tuple[ArmTotals, ...], comparisons: tuple[Comparison, ...], context: TestContext) -> Verdict:
    open_ = [c for c in comparisons if c.decision in ("keep_running", "too_early")]
    if not open_ or all(c.control_conversions + c.variant_conversions == 0 for c in comparisons):
        return Verdict("keep_running", "no_conversions")
    reached = _plan_reached(arms, [c for c in comparisons if c.kind == "micro"] or list(comparisons), context)
    if reached is not None:
        return reached
    if all(c.decision == "too_early" for c in open_):
        return Verdict("keep_running", "too_early", rests_on=open_[0])
    sized = [c for c in open_ if c.visitors_to_go is not None and c.decision == "keep_running"]
    if not sized:
        return Verdict("keep_running", "not_sized", rests_on=open_[0])
    closest = min(sized, key=lambda c: c.visitors_to_go or 0)
    more = float(closest.visitors_to_go or 0)
    plan = float(closest.planned_visitors) if closest.planned_visitors is not None else None
    in_hand = min(closest.control_visitors, closest.variant_visitors)
    needed = _needed(arms, context, more, plan)
    if plan is not None and in_hand + more >= plan:
        needed = Needed(needed.visitors, needed.daily_visitors, needed.unit_cost, plan, within_plan=True)
    return Verdict("keep_running", "open", rests_on=closest, needed=needed)


def decide(
    spec: TestSpec,
    arms: tuple[ArmTotals, ...],
    comparisons: tuple[Comparison, ...],
    srm_p_value: float | None,
    context: TestContext | None = None,
) -> Verdict:
    """`srm_p_value` is the split check's anytime-valid p-value, None when the test plans no split."""
    context = context or TestContext()
    if srm_p_value is not None and srm_p_value < SRM_ALPHA:
        return Verdict("check_tracking", "broken_split", srm_p_value=srm_p_value)
    # Each (kind, decision) group in sheet order, in one pass: a large sheet decides 60,000 tests.
    groups: dict[tuple[str, str], list[Comparison]] = {}
    for c in comparisons:
        groups.setdefault((c.kind, c.decision), []).append(c)
    if ("micro", "better") in groups or ("micro", "worse") in groups:
        conflict = _conflict(comparisons, context)
        if conflict is not None:
            micro, macro, funnel = conflict
            return Verdict("conflict", "macro_against_micro", None, micro, macro, funnel=funnel)

    rivals = len(spec.variants) - 1
    macro_better = groups.get(("macro", "better"))
    if macro_better:
        return _winner(arms, comparisons, macro_better, context)
    macro_worse = groups.get(("macro", "worse"))
    if macro_worse and len({c.variant for c in macro_worse}) == rivals:
        worst = min(macro_worse, key=lambda c: c.lift or 0)
        return Verdict("move_budget", "macro_loser", spec.control, worst)

    micro_better = groups.get(("micro", "better"))
    if micro_better:
        return _winner(arms, comparisons, micro_better, context)
    micro_worse = groups.get(("micro", "worse"))
    if micro_worse and len({c.variant for c in micro_worse}) == rivals:
        worst = min(micro_worse, key=lambda c: c.lift or 0)
        return Verdict("move_budget", "micro_loser", spec.control, worst, macro_for(comparisons, worst.variant))

    deciding = [c for c in comparisons if c.kind == "micro"] or list(comparisons)
    if deciding and all(c.decision == "no_difference" for c in deciding):
        widest = max(deciding, key=lambda c: abs(c.lift or 0))
        return Verdict("no_difference", "ruled_out", rests_on=widest, deciding=tuple(deciding))
    return _keep_running(arms, comparisons, context)
