"""Buttons under verdicts and the line that replaces them: pure Block Kit, valid under slack_sdk's own models."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from analysis.models import ComparisonRef
from bot.decided import Decision, Standing, VerdictShown
from bot.render.actions import (
    action_block,
    block_id,
    buttons_for,
    decided_block,
    replace_block,
    signature,
    verdict_shown,
)
from bot.render.blocks import render_status_posts
from bot.render.digest import render_digest
from tests.bot.slack.factories import report, result

NOW = dt.datetime(2026, 3, 11, 10, 42, tzinfo=dt.UTC)


def valid(block: dict) -> bool:
    return Block.parse(block).to_dict() == block  # type: ignore[union-attr]


def moved_result():
    return result().model_copy(update={"rests_on": ComparisonRef(variant="B", metric="Cart views", kind="micro")})


def decision(action: str = "moved", decided_at: dt.datetime = NOW, **changes) -> Decision:
    return Decision(
        id=12,
        action=action,  # type: ignore[arg-type]
        shown=verdict_shown(moved_result()),  # type: ignore[arg-type]
        user_id="U0DANA",
        user_name="dana",
        channel_id="C0SPRING",
        message_ts="1.0",
        decided_at=decided_at,
        **changes,
    )


@pytest.mark.parametrize(
    ("verdict", "labels"),
    [
        ("move_budget", ["Budget moved", "Snooze 1 day", "Snooze 1 week", "Plan next test"]),
        ("no_difference", ["Stopped", "Snooze 1 day", "Snooze 1 week", "Plan next test"]),
        ("conflict", ["Keep running", "Snooze 1 day", "Snooze 1 week"]),
        ("keep_running", ["Keep running", "Snooze 1 day", "Snooze 1 week"]),
        ("check_tracking", ["Snooze 1 day", "Snooze 1 week"]),
    ],
)
def test_each_verdict_that_asks_for_an_action_gets_its_buttons(verdict: str, labels: list[str]) -> None:
    block = action_block(moved_result().model_copy(update={"verdict": verdict}))
    assert block is not None and valid(block)
    assert [e["text"]["text"] for e in block["elements"]] == labels
    assert len({e["action_id"] for e in block["elements"]}) == len(labels)
    assert block["block_id"] == block_id("Spring Sale", "Audience")


def test_a_button_carries_the_verdict_and_its_numbers() -> None:
    test = moved_result()
    [first, *_] = action_block(test)["elements"]  # type: ignore[index]
    shown = VerdictShown.from_value(first["value"])
    assert shown is not None
    assert (shown.campaign, shown.test, shown.verdict, shown.variant, shown.metric) == (
        "Spring Sale",
        "Audience",
        "move_budget",
        "B",
        "Cart views",
    )
    assert shown.signature == signature(test) == "move_budget|B|Cart views"
    assert (shown.variant_conversions, shown.variant_visitors, shown.control_conversions) == (161, 2000, 100)
    assert shown.lift == pytest.approx(0.61)


@given(st.text(min_size=1, max_size=300), st.text(max_size=300), st.text(max_size=400))
def test_any_names_fit_slacks_2000_characters_or_get_no_buttons(campaign: str, test: str, variant: str) -> None:
    verdict = moved_result().model_copy(update={"campaign": campaign, "test": test, "best_variant": variant})
    block = action_block(verdict)
    if block is not None:
        assert valid(block)
        value = block["elements"][0]["value"]
        assert len(value) <= 2000
        assert VerdictShown.from_value(value).campaign == campaign  # type: ignore[union-attr]


def test_a_value_that_is_not_a_verdict_is_refused() -> None:
    assert VerdictShown.from_value("not json") is None
    assert VerdictShown.from_value('{"campaign": "x"}') is None
    assert VerdictShown.from_value("x" * 2001) is None


def test_the_decided_line_says_who_when_and_what_with_undo_for_five_minutes() -> None:
    block = decided_block(decision(), NOW + dt.timedelta(minutes=1))
    assert valid(block)
    assert block["text"]["text"] == (
        ":white_check_mark: *Budget moved* by <@U0DANA> "
        "<!date^1773225720^{date_short_pretty} at {time}|11 Mar 2026 10:42 UTC> — Audience B"
    )
    assert block["accessory"]["value"] == "12" and block["block_id"] == block_id("Spring Sale", "Audience")
    # Once Undo is over, a done test offers to plan the next one (the campaign rides on the button).
    later = decided_block(decision(), NOW + dt.timedelta(minutes=6))
    assert valid(later)
    assert (later["accessory"]["action_id"], later["accessory"]["value"]) == ("microopt_plan.open", "Spring Sale")
    pending = decided_block(decision(), NOW, sheet_pending=True)
    assert "Not in the sheet's Decisions tab yet" in pending["text"]["text"] and valid(pending)


@pytest.mark.parametrize(
    ("action", "changes", "start"),
    [
        ("stopped", {}, ":white_check_mark: *Stopped* by <@U0DANA>"),
        ("kept", {}, ":hourglass_flowing_sand: *Keep running* — acknowledged by <@U0DANA>"),
        ("snoozed", {"until": NOW + dt.timedelta(days=1)}, ":zzz: *Snoozed* by <@U0DANA>"),
    ],
)
def test_every_decision_has_its_line(action: str, changes: dict, start: str) -> None:
    block = decided_block(decision(action, **changes), NOW)
    assert block["text"]["text"].startswith(start) and valid(block)


def test_replacing_one_tests_block_leaves_the_others() -> None:
    blocks = [{"type": "section", "block_id": "a"}, {"type": "actions", "block_id": "b"}, {"type": "divider"}]
    assert replace_block(blocks, "b", {"type": "section", "block_id": "b2"}) == [
        {"type": "section", "block_id": "a"},
        {"type": "section", "block_id": "b2"},
        {"type": "divider"},
    ]
    assert replace_block(blocks, "zz", None) is None
    assert buttons_for(decision().shown) == action_block(moved_result())


def test_status_shows_the_standing_decision_in_place_of_the_buttons() -> None:
    standing = Standing({("Spring Sale", "Audience"): decision()}, NOW + dt.timedelta(minutes=1))
    [(payload, _)] = render_status_posts(report(moved_result()), standing=standing)
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds == ["header", "section", "section", "context"]
    assert payload["blocks"][2]["text"]["text"].startswith(":white_check_mark: *Budget moved*")
    # a snooze of another verdict does not speak for this one: the buttons stay
    other = decision("snoozed", until=NOW + dt.timedelta(days=1))
    other = Decision(**{**other.__dict__, "shown": other.shown.model_copy(update={"signature": "conflict||"})})
    elsewhere = Standing({("Spring Sale", "Audience"): other}, NOW)
    [(payload, _)] = render_status_posts(report(moved_result()), standing=elsewhere)
    assert [b["type"] for b in payload["blocks"]] == ["header", "section", "actions", "context"]


def test_a_digest_puts_buttons_under_new_and_unchanged_verdicts_that_ask_for_an_action() -> None:
    moved = moved_result()
    running = moved.model_copy(
        update={"test": "Ad copy", "title": "Spring Sale · Ad copy test", "verdict": "keep_running"}
    )
    first = render_digest("#spring-sale", [moved, running], {})
    blocks = [b for m in first.messages for b in m["blocks"]]
    assert [b["type"] for b in blocks].count("actions") == 1  # the new verdict; running tests stay one list
    assert all(valid(b) for b in blocks)

    from bot.said import SaidVerdict

    previous = {
        ("Spring Sale", "Audience"): SaidVerdict(
            "Spring Sale", "Audience", "move_budget", "B", signature(moved), "Move budget to B."
        )
    }
    assert render_digest("#spring-sale", [moved, running], previous, NOW).empty  # nothing new: one line
    conflict = moved.model_copy(
        update={"test": "Keyword", "title": "Spring Sale · Keyword test", "verdict": "conflict"}
    )
    later = render_digest("#spring-sale", [moved, running, conflict], previous, NOW)
    blocks = [b for m in later.messages for b in m["blocks"]]
    # the new conflict and the unchanged call each keep their buttons
    assert [b["block_id"] for b in blocks if b["type"] == "actions"] == [
        block_id("Spring Sale", "Keyword"),
        block_id("Spring Sale", "Audience"),
    ]
    assert all(valid(b) for b in blocks)
    assert render_digest("#spring-sale", [], {}, NOW, decided=2).text == (
        "microopt digest · #spring-sale: nothing to repeat (2 tests done or snoozed from Slack)."
    )
