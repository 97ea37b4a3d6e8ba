"""A decision per test, in plain words, from its comparisons' decisions.

Order of the rules (docs/methodology.md explains each):
1. check_tracking: the traffic split is broken (sample-ratio mismatch).
2. conflict: a variant's micro call and its macro metric disagree significantly (macro called the other
   way, or macro per micro conversion significantly the other way) — do not move budget.
3. move_budget on the macro metric: a macro call acts on its own.
4. move_budget on the micro metric, saying so, with the macro still to confirm and what that costs —
   unless the micro metric's track record in the sheet says it does not follow the macro metric.
5. no_difference: every deciding comparison ruled out the minimum effect or reached its plan.
6. keep_running, with what is left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from analysis.decision import DecisionSettings
from analysis.models import ArmTotals, Comparison, ProxyRecord, TestSpec, VerdictCode
from analysis.sequential import visitors_to_call
from analysis.stats import sample_size_per_arm
from analysis.wording import (
    about,
    chance,
    cost_per,
    count,
    days,
    lift_words,
    money,
    per_variant,
    percent,
    plural,
    possessive,
    sentence,
    signed_percent,
    variant_name,
)

SRM_ALPHA = 0.001
POOR_PROXY_TESTS = 4
NOISY_SHARE = 0.5
CALLED = ("better", "worse")


@dataclass(frozen=True)
class Decision:
    verdict: VerdictCode
    headline: str
    summary: str
    best_variant: str | None


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


# -- sentences -----------------------------------------------------------------------------------
def _interval(c: Comparison) -> tuple[float | None, float | None]:
    return c.decision_ci if c.decision_ci != (None, None) else c.lift_ci


def _noisy(c: Comparison) -> bool:
    """Most of the observed lift would vanish under a sceptical prior: it rests on too few conversions."""
    if c.lift is None or c.shrunk_lift is None or c.lift <= -1 or c.lift == 0:
        return False
    return math.log1p(c.shrunk_lift) / math.log1p(c.lift) < NOISY_SHARE


def _evidence(spec: TestSpec, c: Comparison) -> str:
    low, high = _interval(c)
    interval = (
        f", likely {signed_percent(low)} to {signed_percent(high)}" if low is not None and high is not None else ""
    )
    if _noisy(c) and c.shrunk_lift is not None:
        interval += (
            f"; few {c.metric.lower()} so far, so the real lift is more likely near {signed_percent(c.shrunk_lift)}"
        )
    lift = lift_words(c.lift) if c.lift is not None else "differently"
    return sentence(
        f"{variant_name(spec.test, c.variant)} converts {lift} than {spec.control} on {c.metric.lower()} "
        f"({percent(c.variant_rate)} vs {percent(c.control_rate)}{interval})."
    )


def _cost_per_visitor(arms: tuple[ArmTotals, ...], context: TestContext) -> float | None:
    if context.cost_per_visitor is not None:
        return context.cost_per_visitor
    spend = sum(a.spend for a in arms if a.spend is not None)
    visitors = sum(a.visitors for a in arms if a.spend is not None)
    return spend / visitors if visitors and spend else None


def _more(spec: TestSpec, arms: tuple[ArmTotals, ...], context: TestContext, more: float) -> str:
    """'about 11,700 more clicks per audience (≈ $4,900 at today's $0.42 CPC)'."""
    text = f"about {about(more)} more {spec.traffic_label} {per_variant(spec.test)}"
    if more <= 0:
        return text
    extras = []
    if context.daily_visitors:
        extras.append(
            f"about {days(more / context.daily_visitors)} at the recent "
            f"{about(context.daily_visitors)} {spec.traffic_label} a day"
        )
    unit_cost = _cost_per_visitor(arms, context)
    if unit_cost is not None:
        extras.append(
            f"≈ {money(more * unit_cost, spec.currency)} at today's {money(unit_cost, spec.currency)} "
            f"{cost_per(spec.traffic_label)}"
        )
    return text + (f" ({'; '.join(extras)})" if extras else "")


def _still_needed(
    spec: TestSpec, arms: tuple[ArmTotals, ...], c: Comparison, lift: float | None, context: TestContext
) -> str:
    """What confirming a lift of this size on `c` (the macro metric) still takes."""
    target_rate = c.control_rate * (1 + lift) if lift is not None else c.variant_rate
    settings = context.settings
    control, target = np.array([c.control_rate]), np.array([target_rate])
    plan = float(c.planned_visitors) if c.planned_visitors is not None else math.inf
    if c.decision_rule == "sequential":
        needed = float(visitors_to_call(control, target, np.array([plan]), settings.alpha, settings.power)[0])
    else:
        needed = float(sample_size_per_arm(control, target, settings.alpha, settings.power)[0])
    if math.isnan(needed) or c.control_rate == 0:
        return f"there are not enough {c.metric.lower()} yet to size the rest of the test"
    if needed > plan:
        return (
            f"the planned {about(plan)} {spec.traffic_label} {per_variant(spec.test)} will not be enough "
            "to confirm a lift that size"
        )
    more = max(needed - min(c.control_visitors, c.variant_visitors), 0)
    return f"confirming a lift that size needs {_more(spec, arms, context, more)}"


def _chances(spec: TestSpec, comparisons: list[Comparison]) -> str:
    figures = [f"{chance(c.chance_to_beat)} on {c.metric.lower()}" for c in comparisons if c.chance_to_beat is not None]
    if not figures:
        return ""
    variant = comparisons[0].variant
    return f" Chance {variant} beats {spec.control}: {', '.join(figures)} (flat prior)."


def _record(micro: str, macro: str, proxies: tuple[ProxyRecord, ...]) -> ProxyRecord | None:
    return next(
        (p for p in proxies if p.micro.lower() == micro.lower() and p.macro.lower() == macro.lower()),
        None,
    )


def _track_record(micro: str, macro: str, proxies: tuple[ProxyRecord, ...]) -> str:
    """', which have tracked purchases in 3 of 4 finished tests in this sheet'."""
    record = _record(micro, macro, proxies)
    if record is None or record.finished_tests == 0:
        return f"; no finished test in this sheet shows yet how closely they track {macro.lower()}"
    text = (
        f", which have tracked {macro.lower()} in {record.agreeing_tests} of "
        f"{plural(record.finished_tests, 'finished test')} in this sheet"
    )
    if record.correlation is not None:
        text += (
            f" (lifts correlate {record.correlation:.1f} across {record.correlation_tests} tests, allowing for noise)"
        )
    return text


def _poor_proxy(record: ProxyRecord) -> bool:
    """Enough finished tests, and the micro metric pointed the macro metric's way in fewer than half."""
    return record.finished_tests >= POOR_PROXY_TESTS and 2 * record.agreeing_tests < record.finished_tests


def _split(arms: tuple[ArmTotals, ...]) -> str:
    total = sum(a.visitors for a in arms)
    shares = "/".join(f"{100 * a.visitors / total:.0f}" for a in arms) if total else "0"
    return f"{shares} on {count(total)}"


def _costs(spec: TestSpec, arms: tuple[ArmTotals, ...]) -> str:
    priced = [(a.variant, a.spend / a.visitors) for a in arms if a.spend is not None and a.visitors > 0]
    if len(priced) < 2:
        return ""
    return (
        f" ({cost_per(spec.traffic_label)}: "
        + ", ".join(f"{v} {money(cost, spec.currency)}" for v, cost in priced)
        + ")"
    )


def _macro_for(comparisons: tuple[Comparison, ...], variant: str) -> Comparison | None:
    return next((c for c in comparisons if c.variant == variant and c.kind == "macro"), None)


def _confirm(
    spec: TestSpec,
    arms: tuple[ArmTotals, ...],
    comparisons: tuple[Comparison, ...],
    best: Comparison,
    context: TestContext,
) -> str:
    macro = _macro_for(comparisons, best.variant)
    if macro is None:
        return ""
    state = "are not called yet" if macro.decision_rule == "sequential" else "are still too few to call"
    return (
        f" {macro.metric.capitalize()} {state} "
        f"({count(macro.variant_conversions)} vs {count(macro.control_conversions)}): "
        f"{_still_needed(spec, arms, macro, best.lift, context)}."
    )


# -- rules ---------------------------------------------------------------------------------------
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


def _conflict_decision(spec: TestSpec, micro: Comparison, macro: Comparison, funnel: FunnelPair | None) -> Decision:
    low, high = _interval(macro)
    interval = (
        f", likely {signed_percent(low)} to {signed_percent(high)}" if low is not None and high is not None else ""
    )
    text = (
        f"{_evidence(spec, micro)[:-1]}, but {macro.metric.lower()} point the other way "
        f"({percent(macro.variant_rate)} vs {percent(macro.control_rate)}{interval})"
    )
    if funnel is not None and funnel.variant_funnel is not None and funnel.control_funnel is not None:
        text += (
            f": {percent(funnel.variant_funnel)} of {possessive(micro.variant)} {micro.metric.lower()} became "
            f"{macro.metric.lower()}, against {percent(funnel.control_funnel)} of {possessive(spec.control)}"
        )
    text += (
        f". Do not move budget on {micro.metric.lower()} here: check the funnel first (who the extra "
        f"{micro.metric.lower()} are, the pages after them, the tracking of {macro.metric.lower()})."
    )
    return Decision("conflict", "Conflict — do not move budget.", text, None)


def _macro_winner(spec: TestSpec, comparisons: tuple[Comparison, ...], winners: list[Comparison]) -> Decision:
    best = max(winners, key=lambda c: c.lift or 0)
    text = _evidence(spec, best)
    micro = next((c for c in comparisons if c.variant == best.variant and c.kind == "micro"), None)
    if micro is not None and micro.lift is not None and best.lift is not None:
        if micro.lift * best.lift > 0:
            text += f" {micro.metric.capitalize()} moved the same way ({signed_percent(micro.lift)})."
        else:
            text += (
                f" {micro.metric.capitalize()} did not move the same way ({signed_percent(micro.lift)}); "
                f"{best.metric.lower()} are what count."
            )
    text += _chances(spec, [best])
    others = [c.variant for c in winners if c.variant != best.variant]
    if others:
        text += f" {', '.join(others)} also beat{'s' if len(others) == 1 else ''} {spec.control}, by less."
    text += f" Shut down {spec.control} or shift its budget to {best.variant}, then start the next test."
    return Decision("move_budget", f"Move budget to {best.variant}.", text, best.variant)


def _back_to_control(
    spec: TestSpec, losers: list[Comparison], on_micro: bool, comparisons: tuple[Comparison, ...]
) -> Decision:
    worst = min(losers, key=lambda c: c.lift or 0)
    text = _evidence(spec, worst)
    if on_micro:
        macro = _macro_for(comparisons, worst.variant)
        if macro is not None:
            text += (
                f" This rests on {worst.metric.lower()}; {macro.metric.lower()} are still too few to call "
                f"({count(macro.variant_conversions)} vs {count(macro.control_conversions)})."
            )
    text += f" Keep {spec.control} and stop the other variants."
    return Decision("move_budget", f"Move budget back to {spec.control}.", text, spec.control)


def _micro_winner(
    spec: TestSpec,
    arms: tuple[ArmTotals, ...],
    comparisons: tuple[Comparison, ...],
    winners: list[Comparison],
    context: TestContext,
) -> Decision:
    best = max(winners, key=lambda c: c.lift or 0)
    macro = _macro_for(comparisons, best.variant)
    confirm = _confirm(spec, arms, comparisons, best, context)
    record = _record(best.metric, macro.metric, context.proxies) if macro is not None else None
    if macro is not None and record is not None and _poor_proxy(record):
        return Decision(
            "keep_running",
            "Keep running.",
            f"{_evidence(spec, best)} But {best.metric.lower()} have tracked {macro.metric.lower()} in only "
            f"{record.agreeing_tests} of {record.finished_tests} finished tests in this sheet, so this waits for "
            f"{macro.metric.lower()}: {_still_needed(spec, arms, macro, best.lift, context)}.",
            None,
        )
    text = f"{_evidence(spec, best)}{confirm}"
    if macro is not None:
        text += f" This call rests on {best.metric.lower()}{_track_record(best.metric, macro.metric, context.proxies)}."
    text += _chances(spec, [best, *([macro] if macro is not None else [])])
    others = [c.variant for c in winners if c.variant != best.variant]
    if others:
        text += f" {', '.join(others)} also beat{'s' if len(others) == 1 else ''} {spec.control}, by less."
    text += f" Shut down {spec.control} or shift its budget to {best.variant}, then start the next test."
    return Decision("move_budget", f"Move budget to {best.variant}.", text, best.variant)


def _no_difference(
    spec: TestSpec, arms: tuple[ArmTotals, ...], deciding: list[Comparison], context: TestContext
) -> Decision:
    widest = max(deciding, key=lambda c: abs(c.lift or 0))
    low, high = _interval(widest)
    interval = (
        f", likely {signed_percent(low)} to {signed_percent(high)}" if low is not None and high is not None else ""
    )
    numbers = f"{percent(widest.variant_rate)} vs {percent(widest.control_rate)}{interval}"
    reached = [c for c in deciding if (c.information_fraction or 0) >= 1]
    effect = f"{context.settings.minimum_effect * 100:.0f}%"
    metric = widest.metric.lower()
    if reached and reached[0].planned_visitors is not None:
        text = (
            f"The planned {about(reached[0].planned_visitors)} {spec.traffic_label} {per_variant(spec.test)} are in "
            f"without a call on {metric} ({variant_name(spec.test, widest.variant)}: {numbers}): any difference "
            "is too small to matter."
        )
    elif len(deciding) == 1:
        text = (
            f"On {metric}, {variant_name(spec.test, widest.variant)} and {spec.control} convert within {effect} "
            f"of each other ({numbers}): no difference worth acting on."
        )
    else:
        text = (
            f"On {metric}, no variant converts {effect} better or worse than {spec.control} (the widest gap: "
            f"{widest.variant}, {numbers}): no difference worth acting on."
        )
    text += f" Keep whichever costs less{_costs(spec, arms)} and start the next test."
    return Decision("no_difference", "No meaningful difference — stop the test.", text, None)


def _keep_running(
    spec: TestSpec, arms: tuple[ArmTotals, ...], comparisons: tuple[Comparison, ...], context: TestContext
) -> Decision:
    settings = context.settings
    open_ = [c for c in comparisons if c.decision in ("keep_running", "too_early")]
    if not open_ or all(c.control_conversions + c.variant_conversions == 0 for c in comparisons):
        return Decision(
            "keep_running",
            "Keep running.",
            "No conversions to compare yet; check back when the variants have converted.",
            None,
        )
    if all(c.decision == "too_early" for c in open_):
        first = open_[0]
        wait = f"{plural(settings.min_conversions, 'conversion')} in each arm"
        so_far = f"{first.metric.lower()}: {count(first.variant_conversions)} vs {count(first.control_conversions)}"
        if first.decision_rule == "sequential" and context.days:
            wait = f"{plural(settings.min_days, 'day')} of data and {wait}"
            so_far = f"{plural(context.days, 'day')}, {so_far}"
        return Decision(
            "keep_running",
            "Keep running.",
            f"Too early to call: microopt waits for {wait} before calling anything (so far {so_far}).",
            None,
        )
    sized = [c for c in open_ if c.visitors_to_go is not None and c.decision == "keep_running"]
    if not sized:
        return Decision("keep_running", "Keep running.", f"No variant is ahead yet. {_evidence(spec, open_[0])}", None)
    closest = min(sized, key=lambda c: c.visitors_to_go or 0)
    more = _more(spec, arms, context, closest.visitors_to_go or 0)
    in_hand = min(closest.control_visitors, closest.variant_visitors)
    plan = closest.planned_visitors
    effect = f"{settings.minimum_effect * 100:.0f}%"
    if plan is not None and in_hand + (closest.visitors_to_go or 0) >= plan:
        rest = (
            f"within {more} the planned sample is in, and microopt will either call it or say there is "
            f"no difference worth {effect}"
        )
    else:
        rest = f"{more} would settle a difference that size"
    text = f"No variant is ahead yet. {_evidence(spec, closest)[:-1]}, too close to call: {rest}."
    return Decision("keep_running", "Keep running.", text + _chances(spec, [closest]), None)


def decide(
    spec: TestSpec,
    arms: tuple[ArmTotals, ...],
    comparisons: tuple[Comparison, ...],
    srm_p_value: float,
    context: TestContext | None = None,
) -> Decision:
    context = context or TestContext()
    if srm_p_value < SRM_ALPHA:
        return Decision(
            "check_tracking",
            "Check tracking before trusting this test.",
            f"The traffic split looks broken ({_split(arms)} {spec.traffic_label}, expected an even split; "
            f"p = {srm_p_value:.1g}). Fix the split or the tracking, then restart the test.",
            None,
        )
    conflict = _conflict(comparisons, context)
    if conflict is not None:
        return _conflict_decision(spec, *conflict)

    rivals = len(spec.variants) - 1
    macro_better = [c for c in comparisons if c.kind == "macro" and c.decision == "better"]
    if macro_better:
        return _macro_winner(spec, comparisons, macro_better)
    macro_worse = [c for c in comparisons if c.kind == "macro" and c.decision == "worse"]
    if macro_worse and len({c.variant for c in macro_worse}) == rivals:
        return _back_to_control(spec, macro_worse, False, comparisons)

    micro_better = [c for c in comparisons if c.kind == "micro" and c.decision == "better"]
    if micro_better:
        return _micro_winner(spec, arms, comparisons, micro_better, context)
    micro_worse = [c for c in comparisons if c.kind == "micro" and c.decision == "worse"]
    if micro_worse and len({c.variant for c in micro_worse}) == rivals:
        return _back_to_control(spec, micro_worse, True, comparisons)

    deciding = [c for c in comparisons if c.kind == "micro"] or list(comparisons)
    if deciding and all(c.decision == "no_difference" for c in deciding):
        return _no_difference(spec, arms, deciding, context)
    return _keep_running(spec, arms, comparisons, context)
