"""The next test's plan in Block Kit: the `/microopt plan` answer, the *Plan next test* button, and the modal
(`views.open` / `views.update`) in which a lift is chosen and the test added to the sheet.

Pure: a `TestPlan` (analysis.plan) and the modal's state (`PlanForm`, carried in the view's `private_metadata`)
in, payloads out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from analysis.plan import MetricPlan, TestPlan
from analysis.wording import about, money, percent
from bot.render.actions import PLAN_PREFIX, plan_button
from bot.render.blocks import COMMAND, escape
from bot.sources.planned_tests import NewTest

Block = dict[str, Any]
View = dict[str, Any]

LIFT = PLAN_PREFIX + "lift"
TYPED_LIFT = PLAN_PREFIX + "typed_lift"
METRIC = PLAN_PREFIX + "metric"
CALLBACK = "microopt_plan"
NAMES_BLOCK, CONTROL_BLOCK, VARIANT_BLOCK = "plan_test", "plan_control", "plan_variant"
NAME_INPUT = "name"
MAX_METADATA = 3000  # Slack's limit on private_metadata
MAX_OPTION = 75  # Slack's limit on an option's text


@dataclass(frozen=True)
class PlanForm:
    """The modal's state, in its `private_metadata`: whose plan, where it was asked, the lift and the metric."""

    campaign: str
    channel_id: str
    lift: float
    metric: str | None = None
    team_id: str | None = None
    attempt: int = 0

    def to_metadata(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))[:MAX_METADATA]

    @classmethod
    def from_metadata(cls, raw: str) -> PlanForm | None:
        try:
            data = json.loads(raw or "")
            return cls(
                campaign=str(data["campaign"]),
                channel_id=str(data["channel_id"]),
                lift=float(data["lift"]),
                metric=data.get("metric"),
                team_id=data.get("team_id"),
                attempt=int(data.get("attempt", 0)),
            )
        except (ValueError, KeyError, TypeError):
            return None


def lift_words(lift: float) -> str:
    return f"+{lift * 100:g}%"


def _days(days: int | None) -> str:
    if days is None:
        return "days unknown (no dates)"
    return "1 day" if days == 1 else f"{about(days)} days"


def metric_line(plan: TestPlan, m: MetricPlan) -> str:
    """`*Add to cart* (micro, 5.0% now): 11,700 clicks per arm · 9 days · $4,900`."""
    if m.to_call is None:
        return f"*{escape(m.metric)}* ({m.kind}): no conversions to plan from yet"
    parts = [f"{about(m.to_call)} {escape(plan.traffic_label)} per arm", _days(m.days)]
    if m.cost is not None:
        parts.append(money(m.cost, plan.currency))
    swing = f", day-to-day swing ×{m.swing:.1f}" if m.swing > 1.05 else ""
    return f"*{escape(m.metric)}* ({m.kind}, {percent(m.base_rate)} now{swing}): " + " · ".join(parts)


def why(plan: TestPlan) -> str:
    """One sentence: why this micro metric."""
    best = plan.metric(plan.recommended)
    if best is None:
        return "The sheet has no micro metric with conversions to plan on: plan on the macro metric below."
    name, macro = f"*{escape(best.metric)}*", escape((plan.macro or "the macro metric").lower())
    record = best.record
    if plan.reason == "tracked_and_soonest" and record is not None:
        tracked = f"it tracked {macro} in {record.agreeing_tests} of {record.finished_tests} finished tests"
        return f"Test on {name}: {tracked}, as well as any micro metric here, and calls soonest among them."
    if plan.reason == "only_one":
        return f"Test on {name}, the only micro metric with conversions here."
    return f"Test on {name}: it calls soonest, though no finished test here shows yet how closely it tracks {macro}."


def summary_text(plan: TestPlan, chosen: MetricPlan | None = None) -> str:
    """What a lift takes on the chosen (else the recommended) micro metric against the macro metric, side by
    side, and on the other micro metrics."""
    lines = [why(plan)]
    at = [f"{about(plan.daily_visitors)} {escape(plan.traffic_label)} a day per arm"] if plan.daily_visitors else []
    if plan.cost_per_visitor is not None:
        at.append(f"{money(plan.cost_per_visitor, plan.currency)} each")
    pace = f" at {', '.join(at)}" if at else ""
    lines.append(f"To call a {lift_words(plan.lift)} lift{pace}:")
    chosen, macro = chosen or plan.metric(plan.recommended), plan.macro_plan
    for m in (chosen, macro):
        if m is not None:
            lines.append(f"• {metric_line(plan, m)}")
    others = [m for m in plan.micro if m is not chosen]
    if others:
        lines.append("_Alternatives:_ " + "; ".join(metric_line(plan, m) for m in others))
    return "\n".join(lines)


def render_plan_message(plan: TestPlan) -> dict[str, Any]:
    """The `/microopt plan` answer: the plan at the sheet's minimum lift, with the button that opens the modal."""
    title = f"Next test for {escape(plan.campaign)}"
    text = summary_text(plan)
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _footnote(plan)}],
        },
        {"type": "actions", "block_id": "microopt_plan.next", "elements": [plan_button(plan.campaign)]},
    ]
    return {"text": f"{title}: {why(plan)}"[:3000], "blocks": blocks}


def _footnote(plan: TestPlan) -> str:
    return (
        f"Visitors per arm that microopt's peeking-safe rule needs to call the lift 80% of the time (two arms, "
        f"pace and rates of “{escape(plan.based_on or plan.campaign)}”). `{COMMAND} plan` again any time."
    )


def _option(text: str, value: str) -> Block:
    return {"text": {"type": "plain_text", "text": text[:MAX_OPTION], "emoji": True}, "value": value[:150]}


def _lift_select(plan: TestPlan, lifts: Sequence[float]) -> Block:
    options = [_option(lift_words(lift), f"{lift:g}") for lift in lifts]
    if not any(math.isclose(lift, plan.lift) for lift in lifts):
        options.append(_option(lift_words(plan.lift), f"{plan.lift:g}"))
    initial = next(o for o in options if math.isclose(float(o["value"]), plan.lift))
    return {"type": "static_select", "action_id": LIFT, "options": options, "initial_option": initial}


def _metric_select(plan: TestPlan, chosen: MetricPlan | None) -> Block | None:
    usable = [m for m in plan.micro if m.to_call is not None]
    if len(usable) < 2:
        return None
    options = [_option(m.metric, m.metric) for m in usable]
    select: Block = {"type": "static_select", "action_id": METRIC, "options": options}
    if chosen is not None:
        select["initial_option"] = next(o for o in options if o["value"] == chosen.metric[:150])
    return select


def _input(block_id: str, label: str, initial: str, hint: str | None = None) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {"type": "plain_text_input", "action_id": NAME_INPUT, "initial_value": initial, "max_length": 200},
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def render_plan_view(plan: TestPlan, form: PlanForm, lifts: Sequence[float], next_name: str) -> View:
    """The modal: the recommendation, a lift to choose (or type), what it takes, and the new test's names."""
    chosen = plan.metric(form.metric) or plan.metric(plan.recommended)
    controls: list[Block] = [_lift_select(plan, lifts)]
    metric = _metric_select(plan, chosen)
    if metric is not None:
        controls.append(metric)
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": summary_text(plan, chosen)[:3000]}},
        {"type": "actions", "block_id": "plan_controls", "elements": controls},
        {
            "type": "input",
            "block_id": "plan_typed_lift",
            "optional": True,
            "dispatch_action": True,
            "label": {"type": "plain_text", "text": "Or type a minimum lift (%), then press Enter"},
            "element": {
                "type": "number_input",
                "is_decimal_allowed": True,
                "action_id": TYPED_LIFT,
                "min_value": "0.5",
                "max_value": "500",
            },
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _footnote(plan)}]},
        {"type": "divider"},
        _input(NAMES_BLOCK, "New test", next_name, "Add to sheet writes its rows in the campaign's tab"),
        _input(CONTROL_BLOCK, "Control", "A"),
        _input(VARIANT_BLOCK, "Variant", "B"),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": {"type": "plain_text", "text": "Plan next test"},
        "submit": {"type": "plain_text", "text": "Add to sheet"},
        "close": {"type": "plain_text", "text": "Close"},
        "private_metadata": form.to_metadata(),
        "blocks": blocks,
    }


def render_message_view(title: str, mrkdwn: str, form: PlanForm | None = None) -> View:
    """A modal that only says something: loading, a refusal, what was added, what to add by hand."""
    view: View = {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn[:3000]}}],
    }
    if form is not None:
        view["private_metadata"] = form.to_metadata()
    return view


def by_hand(new: NewTest) -> str:
    """The rows to add by hand when microopt could not."""
    planned = f", Planned visitors {new.planned:,}" if new.planned else ""
    return (
        f"add two rows to the campaign's tab: Campaign “{escape(new.campaign)}”, Test “{escape(new.test)}”, "
        f"Variant “{escape(new.control)}” (the control) and “{escape(new.variant)}”{planned}, Status running."
    )
