"""The Home view within Slack's 100 blocks, whatever the mix and number of tests."""

from __future__ import annotations

import datetime as dt

import pytest
from slack_sdk.models.views import View

from bot.render.home import MAX_VIEW_BLOCKS, HomeTest, channel_of_block, render_home
from tests.bot.render.test_actions import decision, valid
from tests.bot.slack.factories import result

NOW = dt.datetime(2026, 3, 11, 10, 42, tzinfo=dt.UTC)


def home_tests(needing: int, running: int, done: int) -> list[HomeTest]:
    made: list[HomeTest] = []
    for n in range(needing + running + done):
        test = result(campaign=f"Campaign {n // 7}").model_copy(update={"test": f"Test {n}", "title": f"Test {n}"})
        if n < needing:
            made.append(HomeTest(test, "C0SPRING"))
        elif n < needing + running:
            made.append(HomeTest(test.model_copy(update={"verdict": "keep_running"}), "C0SEARCH"))
        else:
            old = NOW - dt.timedelta(hours=1)  # past Undo: one packed line each
            made.append(HomeTest(test, "C0SPRING", decision(decided_at=old)))
    return made


@pytest.mark.parametrize(
    ("needing", "running", "done"), [(0, 0, 1), (3, 2, 1), (500, 0, 0), (0, 5000, 0), (40, 3000, 2000), (167, 333, 0)]
)
def test_any_mix_of_tests_is_one_valid_view_of_at_most_100_blocks(needing: int, running: int, done: int) -> None:
    view = render_home(home_tests(needing, running, done), NOW, read_at=NOW)
    blocks = view["blocks"]
    assert len(blocks) <= MAX_VIEW_BLOCKS and all(valid(b) for b in blocks)
    View(type="home", blocks=blocks).validate_json()
    text = str(blocks)
    for group, count in (("Needs action", needing), ("Running", running), ("Done this month", done)):
        assert (f"{group} ({count:,})" in text) == (count > 0)
    shown_whole = sum(1 for b in blocks if b["type"] == "actions")
    assert shown_whole == min(needing, shown_whole) and (needing == 0 or shown_whole >= min(needing, 30))
    if running > 200:
        assert "more running: ask `/microopt status <campaign>` in its channel" in text
    for block in blocks:
        if b_id := block.get("block_id"):
            assert channel_of_block(b_id) in ("C0SPRING", "C0SEARCH")


def test_no_tests_is_one_sentence_saying_how_to_get_some() -> None:
    [_, sentence] = render_home([], NOW)["blocks"]
    assert "join a campaign's channel" in sentence["text"]["text"]
