"""A decision per test, in plain words, from its comparisons."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.models import ArmTotals, Comparison, TestSpec, VerdictCode
from analysis.stats import sample_size_per_arm
from analysis.wording import (
    about,
    cost_per,
    count,
    lift_words,
    money,
    per_variant,
    percent,
    signed_percent,
    variant_name,
)

SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Decision:
    verdict: VerdictCode
    headline: str
    summary: str
    best_variant: str | None


def _evidence(spec: TestSpec, c: Comparison) -> str:
    low, high = c.lift_ci
    interval = (
        f", likely {signed_percent(low)} to {signed_percent(high)}" if low is not None and high is not None else ""
    )
    lift = lift_words(c.lift) if c.lift is not None else "differently"
    return (
        f"{variant_name(spec.test, c.variant)} converts {lift} than {spec.control} on {c.metric.lower()} "
        f"({percent(c.variant_rate)} vs {percent(c.control_rate)}{interval})."
    )


def _cost_per_visitor(arms: tuple[ArmTotals, ...]) -> float | None:
    spend = sum(a.spend for a in arms if a.spend is not None)
    visitors = sum(a.visitors for a in arms if a.spend is not None)
    return spend / visitors if visitors and spend else None


def _still_needed(spec: TestSpec, arms: tuple[ArmTotals, ...], c: Comparison, lift: float | None) -> str:
    """'confirming a lift that size needs about 11,700 more clicks per audience (≈ $4,900 at ...)'."""
    target_rate = c.control_rate * (1 + lift) if lift is not None else c.variant_rate
    needed = sample_size_per_arm(np.array([c.control_rate]), np.array([target_rate]))[0]
    if np.isnan(needed) or c.control_rate == 0:
        return f"there are not enough {c.metric.lower()} yet to size the rest of the test"
    more = max(needed - min(c.control_visitors, c.variant_visitors), 0)
    text = f"confirming a lift that size needs about {about(more)} more {spec.traffic_label} {per_variant(spec.test)}"
    unit_cost = _cost_per_visitor(arms)
    if unit_cost is not None and more > 0:
        text += f" (≈ {money(more * unit_cost)} at today's {money(unit_cost)} {cost_per(spec.traffic_label)})"
    return text


def _split(arms: tuple[ArmTotals, ...]) -> str:
    total = sum(a.visitors for a in arms)
    shares = "/".join(f"{100 * a.visitors / total:.0f}" for a in arms) if total else "0"
    return f"{shares} on {count(total)}"


def decide(
    spec: TestSpec, arms: tuple[ArmTotals, ...], comparisons: tuple[Comparison, ...], srm_p_value: float
) -> Decision:
    if srm_p_value < SRM_ALPHA:
        return Decision(
            "check_tracking",
            "Check tracking before trusting this test.",
            f"The traffic split looks broken ({_split(arms)} {spec.traffic_label}, expected an even split; "
            f"p = {srm_p_value:.1g}). Fix the split or the tracking, then restart the test.",
            None,
        )
    winners = [c for c in comparisons if c.significant and c.lift is not None and c.lift > 0]
    macro_winners = [c for c in winners if c.kind == "macro"]
    if macro_winners:
        best = max(macro_winners, key=lambda c: c.lift or 0)
        return Decision(
            "move_budget",
            f"Move budget to {best.variant}.",
            f"{_evidence(spec, best)} Shut down {spec.control} or shift its budget to {best.variant}, "
            "then start the next test.",
            best.variant,
        )
    if winners:
        best = max(winners, key=lambda c: c.lift or 0)
        macro = next((c for c in comparisons if c.variant == best.variant and c.kind == "macro"), None)
        confirm = ""
        if macro is not None:
            confirm = (
                f" {macro.metric.capitalize()} are still too few to call "
                f"({count(macro.variant_conversions)} vs {count(macro.control_conversions)}): "
                f"{_still_needed(spec, arms, macro, best.lift)}."
            )
        return Decision(
            "move_budget",
            f"Move budget to {best.variant}.",
            f"{_evidence(spec, best)}{confirm} Shut down {spec.control} or shift its budget to "
            f"{best.variant}, then start the next test.",
            best.variant,
        )
    losers = [c for c in comparisons if c.significant and c.lift is not None and c.lift < 0]
    if losers and len({c.variant for c in losers}) == len(spec.variants) - 1:
        worst = min(losers, key=lambda c: c.lift or 0)
        return Decision(
            "move_budget",
            f"Move budget back to {spec.control}.",
            f"{_evidence(spec, worst)} Keep {spec.control} and stop the other variants.",
            spec.control,
        )
    sized = [c for c in comparisons if c.visitors_needed is not None]
    if not sized:
        return Decision(
            "keep_running",
            "Keep running.",
            "No conversions to compare yet; check back when the variants have converted.",
            None,
        )
    closest = min(sized, key=lambda c: (c.visitors_needed or 0) - min(c.control_visitors, c.variant_visitors))
    more = max((closest.visitors_needed or 0) - min(closest.control_visitors, closest.variant_visitors), 0)
    return Decision(
        "keep_running",
        "Keep running.",
        f"No variant is ahead yet. {_evidence(spec, closest)[:-1]}, too close to call: about {about(more)} "
        f"more {spec.traffic_label} {per_variant(spec.test)} would settle a difference that size.",
        None,
    )
