"""The buttons under a verdict that asks for an action, and the line that replaces them once someone acted.
Pure functions from verdicts and decisions to Block Kit.

    move_budget     Budget moved · Snooze 1 day · Snooze 1 week
    no_difference   Stopped · Snooze 1 day · Snooze 1 week
    conflict        Keep running · Snooze 1 day · Snooze 1 week
    keep_running    Keep running · Snooze 1 day · Snooze 1 week   (not called yet)
    check_tracking  Snooze 1 day · Snooze 1 week

The first button carries the verdict it sits under, with its numbers (`VerdictShown`, at most 2,000
characters), for every button of its block, so a press records what the team saw. The block of one test has
a `block_id` made from its campaign and test, so a press replaces that test's buttons and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from analysis.models import Comparison, TestResult
from analysis.verdict_words import when
from analysis.wording import variant_name
from bot.decided import MAX_NAME, MAX_VALUE, Choice, Decision, VerdictShown
from bot.sentences import mention

Block = dict[str, Any]

ACTION_PREFIX = "microopt."
UNDO = "undo"
BLOCK_PREFIX = "microopt.verdict."
LABELS: dict[Choice, str] = {
    "moved": "Budget moved",
    "stopped": "Stopped",
    "kept": "Keep running",
    "snooze_day": "Snooze 1 day",
    "snooze_week": "Snooze 1 week",
}
# The button that says the team acted as the verdict asked; every verdict that asks for an action can be snoozed.
PRIMARY: dict[str, Choice] = {
    "move_budget": "moved",
    "no_difference": "stopped",
    "conflict": "kept",
    "keep_running": "kept",
}
ASKS_FOR_ACTION = frozenset({*PRIMARY, "check_tracking"})
ENDS_A_TEST = frozenset({"move_budget", "no_difference"})
# The button that plans the next test (bot.render.plan, bot.slack.planning): its own prefix, so a press of it is
# never taken for a decision.
PLAN_PREFIX = "microopt_plan."
OPEN = PLAN_PREFIX + "open"
SHEET_PENDING = (
    "_Not in the sheet's Decisions tab yet: the sheet did not answer. microopt keeps the decision and writes "
    "it there as soon as the sheet answers._"
)


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- what a verdict says, comparably ---------------------------------------------------------------
def winning_metrics(test: TestResult) -> list[str]:
    """The metric a move-budget verdict rests on, read from the verdict itself."""
    if test.verdict != "move_budget" or test.rests_on is None:
        return []
    return [test.rests_on.metric]


def signature(test: TestResult) -> str:
    """What a verdict says, comparable across digests: the call, the variant, the metrics it rests on."""
    return "|".join([test.verdict, test.best_variant or "", ",".join(sorted(winning_metrics(test)))])


def _resting_on(test: TestResult) -> Comparison | None:
    ref = test.rests_on or test.to_confirm
    if ref is not None:
        found = next((c for c in test.comparisons if c.variant == ref.variant and c.metric == ref.metric), None)
        if found is not None:
            return found
    return next((c for c in test.comparisons if c.variant == test.best_variant), None)


def verdict_shown(test: TestResult) -> VerdictShown | None:
    """The verdict and the numbers it rests on, as a button carries them; None when it cannot (a name longer
    than the state keeps, or a value past Slack's 2,000 characters)."""
    if len(test.campaign) > MAX_NAME or len(test.test) > MAX_NAME:
        return None
    c = _resting_on(test)
    low, high = c.decision_ci if c is not None else (None, None)
    called = test.called_on or (c.called_on if c is not None else None)
    shown = VerdictShown(
        campaign=test.campaign,
        test=test.test,
        verdict=test.verdict,
        signature=signature(test),
        headline=test.headline[:500],
        control=test.control[:MAX_NAME],
        variant=(c.variant if c is not None else test.best_variant),
        metric=c.metric if c is not None else None,
        kind=c.kind if c is not None else None,
        lift=_rounded(c.lift) if c is not None else None,
        low=_rounded(low),
        high=_rounded(high),
        variant_conversions=float(c.variant_conversions) if c is not None else None,
        variant_visitors=c.variant_visitors if c is not None else None,
        control_conversions=float(c.control_conversions) if c is not None else None,
        control_visitors=c.control_visitors if c is not None else None,
        p_value=_rounded(c.adjusted_p_value) if c is not None else None,
        called_on=when(called) if called is not None else None,
    )
    if len(shown.to_value()) > MAX_VALUE:
        shown = shown.model_copy(update={"headline": ""})
    return shown if len(shown.to_value()) <= MAX_VALUE else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def block_id(campaign: str, test: str) -> str:
    digest = hashlib.sha256(f"{campaign}\x1f{test}".encode()).hexdigest()[:20]
    return BLOCK_PREFIX + digest


def choices(verdict: str) -> tuple[Choice, ...]:
    """The buttons a verdict gets, the primary one first; none when it asks for no action."""
    if verdict not in ASKS_FOR_ACTION:
        return ()
    primary = PRIMARY.get(verdict)
    return ((primary,) if primary else ()) + ("snooze_day", "snooze_week")


def _button(choice: Choice, value: str | None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": ACTION_PREFIX + choice,
        "text": {"type": "plain_text", "text": LABELS[choice], "emoji": True},
    }
    if value is not None:
        button["value"] = value
    if choice in ("moved", "stopped"):
        button["style"] = "primary"
    return button


def _buttons(offered: tuple[Choice, ...], value: str) -> list[Block]:
    """The verdict rides on the first button only: a press of any other finds it there, in the message Slack
    sends back (`bot.slack.decisions.presses.Press`), so the message's copy in every press stays small."""
    return [_button(choice, value if index == 0 else None) for index, choice in enumerate(offered)]


def plan_button(campaign: str) -> Block:
    return {
        "type": "button",
        "action_id": OPEN,
        "text": {"type": "plain_text", "text": "Plan next test", "emoji": True},
        "value": campaign[:MAX_VALUE],
    }


def action_block(test: TestResult) -> Block | None:
    """The buttons under one test's verdict; None when the verdict asks for no action."""
    offered = choices(test.verdict)
    shown = verdict_shown(test) if offered else None
    if shown is None:
        return None
    return buttons_for(shown)


def buttons_for(shown: VerdictShown) -> Block | None:
    """The buttons of a verdict as a button carried it: what Undo puts back."""
    offered = choices(shown.verdict)
    if not offered:
        return None
    value = shown.to_value()
    # A verdict that ends a test also offers to plan the next one (bot.render.plan).
    planning = [plan_button(shown.campaign)] if shown.verdict in ENDS_A_TEST else []
    return {
        "type": "actions",
        "block_id": block_id(shown.campaign, shown.test),
        "elements": [*_buttons(offered, value), *planning],
    }


# -- what someone did ------------------------------------------------------------------------------
def slack_moment(moment: dt.datetime, style: str = "{date_short_pretty} at {time}") -> str:
    """A time each reader sees in their own time zone (`today at 10:42`), with a UTC fallback."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    fallback = moment.astimezone(dt.UTC).strftime("%-d %b %Y %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{style}|{fallback}>"


def _who(decision: Decision) -> str:
    return mention(decision.user_id) or f"@{_escape(decision.user_name or 'someone')}"


def decision_line(decision: Decision) -> str:
    """`:white_check_mark: *Budget moved* by @dana today at 10:42 — Audience B` (mrkdwn)."""
    shown = decision.shown
    by = f"by {_who(decision)} {slack_moment(decision.decided_at)}"
    if decision.action == "moved":
        target = variant_name(shown.test, shown.variant) if shown.variant else ""
        return f":white_check_mark: *Budget moved* {by}" + (f" — {_escape(target)}" if target else "")
    if decision.action == "stopped":
        return f":white_check_mark: *Stopped* {by} — the test is done"
    if decision.action == "snoozed" and decision.until is not None:
        return (
            f":zzz: *Snoozed* {by} — digests leave this verdict out until {slack_moment(decision.until)}, "
            "or until it changes"
        )
    return f":hourglass_flowing_sand: *Keep running* — acknowledged {by}"


def decided_block(decision: Decision, now: dt.datetime, sheet_pending: bool = False) -> Block:
    """The line that replaces a test's buttons once someone acted, with Undo while it may be undone."""
    text = decision_line(decision) + (f"\n{SHEET_PENDING}" if sheet_pending else "")
    block: Block = {
        "type": "section",
        "block_id": block_id(decision.campaign, decision.test),
        "text": {"type": "mrkdwn", "text": text},
    }
    if decision.undoable(now):
        block["accessory"] = {
            "type": "button",
            "action_id": ACTION_PREFIX + UNDO,
            "text": {"type": "plain_text", "text": "Undo", "emoji": True},
            "value": str(decision.id),
        }
    elif decision.done:  # budget moved or stopped: the test is over, and the next one can be planned
        block["accessory"] = plan_button(decision.campaign)
    return block


def replace_block(blocks: Sequence[Block], target: str, new: Block | None) -> list[Block] | None:
    """`blocks` with the block whose id is `target` replaced by `new` (removed when None); None when no
    block has that id."""
    out: list[Block] = []
    found = False
    for block in blocks:
        if block.get("block_id") == target:
            found = True
            if new is not None:
                out.append(new)
        else:
            out.append(block)
    return out if found else None
