"""The Home tab (`views.publish`): a member's tests, grouped as *needs action*, *running* and *done this month*.
Pure: from tests, their channels and the decisions standing to one `home` view.

Slack allows a view 100 blocks. Needs action comes first and whole (its verdict, its range over time in words,
its buttons: two blocks a test) up to a budget; running and done tests are one line each, packed many to a
section; whatever does not fit is counted in one line per group that says where to see it
(`/microopt status <campaign>` in the test's channel). So 500 tests, or 5,000, are one valid view.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from analysis.models import TestResult
from bot.decided import Decision, Standing
from bot.render.actions import (
    ASKS_FOR_ACTION,
    action_block,
    decided_block,
    decision_line,
    signature,
)
from bot.render.blocks import COMMAND, MAX_SECTION_TEXT, VERDICT_EMOJI, _clip, context, escape, header, slack_time

Block = dict[str, Any]
View = dict[str, Any]

MAX_VIEW_BLOCKS = 100
# A home test's blocks carry its channel: a press from the Home tab acts for that channel
# (`bot.slack.decisions.presses`).
HOME_PREFIX = "microopt.home."
# Needs action is shown whole first, but leaves running and done at least this many sections each.
RUNNING_FLOOR = 3
DONE_FLOOR = 2
MAX_NOTICE_BLOCKS = 2
Group = str  # "needs_action" | "running" | "done"
GROUP_TITLES = {"needs_action": "Needs action", "running": "Running", "done": "Done this month"}
NO_CHANNELS = (
    "You are in no channel that microopt's tests are routed to yet. To see tests here, join a campaign's channel, "
    f"or route a campaign to one of yours in the sheet's Channels tab (or connect a sheet there with `{COMMAND} "
    "connect <Google Sheet URL>`)."
)


@dataclass(frozen=True)
class HomeTest:
    """One test a member may see, the channel it is shown for (where its presses count), the decision that
    speaks for it (if any) and its decision's range over time in words (if known)."""

    test: TestResult
    channel_id: str
    decision: Decision | None = None
    path_words: str | None = None


def home_block_id(channel_id: str, campaign: str, test: str) -> str:
    """`microopt.home.<channel>.<the test's digest>`: unique in the view, and says the channel to a press."""
    digest = hashlib.sha256(f"{campaign}\x1f{test}".encode()).hexdigest()[:20]
    return f"{HOME_PREFIX}{channel_id}.{digest}"


def channel_of_block(block_id: str) -> str | None:
    """The channel a Home tab block was shown for; None for any other block."""
    if not block_id.startswith(HOME_PREFIX):
        return None
    channel, _, digest = block_id.removeprefix(HOME_PREFIX).partition(".")
    return channel if channel and digest else None


def group_of(entry: HomeTest, month_start: dt.datetime) -> Group | None:
    """Which group a test is in; None for a done test not done this month."""
    test, decision = entry.test, entry.decision
    if decision is not None and decision.done:
        return "done" if decision.decided_at >= month_start else None
    if test.status == "done":
        called = test.called_on
        if called is None:
            return None
        moment = called if isinstance(called, dt.datetime) else dt.datetime.combine(called, dt.time(), dt.UTC)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return "done" if moment >= month_start else None
    if decision is None and test.verdict in ASKS_FOR_ACTION and test.verdict != "keep_running":
        return "needs_action"
    return "running"


def standing_decision(test: TestResult, standing: Standing | None) -> Decision | None:
    """The decision that speaks for `test` now, as status shows it."""
    if standing is None:
        return None
    return standing.speaking(test.campaign, test.test, signature(test), test.status)


def month_start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# -- blocks ----------------------------------------------------------------------------------------
def _with_home_ids(block: Block, channel_id: str, test: TestResult) -> Block:
    return {**block, "block_id": home_block_id(channel_id, test.campaign, test.test)}


def _title(entry: HomeTest) -> str:
    return f"*{escape(entry.test.title)}* · <#{entry.channel_id}>"


def action_unit(entry: HomeTest, now: dt.datetime) -> list[Block]:
    """A test that needs action, whole: its verdict, its range in words, its buttons."""
    test = entry.test
    emoji = VERDICT_EMOJI.get(test.verdict, ":small_blue_diamond:")
    lines = [f"{_title(entry)}\n{emoji} {escape(test.headline)}"]
    if entry.path_words:
        lines.append(f"_{escape(entry.path_words)}_")
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), 3000)}}]
    buttons = action_block(test)
    if buttons is not None:
        blocks.append(_with_home_ids(buttons, entry.channel_id, test))
    return blocks


def decided_unit(entry: HomeTest, now: dt.datetime) -> Block:
    """A test someone acted on moments ago: its decision line with Undo, as the status message shows it."""
    assert entry.decision is not None
    block = decided_block(entry.decision, now, sheet_pending=entry.decision.sheet_error is not None)
    block["text"]["text"] = _clip(f"{_title(entry)}\n{block['text']['text']}", MAX_SECTION_TEXT)
    return _with_home_ids(block, entry.channel_id, entry.test)


def row(entry: HomeTest) -> str:
    """A test in one line: its title, channel and verdict, or what the team decided."""
    test = entry.test
    said = decision_line(entry.decision) if entry.decision is not None else escape(test.headline)
    emoji = VERDICT_EMOJI.get(test.verdict, ":small_blue_diamond:") if entry.decision is None else ""
    return f"• {_title(entry)} — {(emoji + ' ') if emoji else ''}{said}"


def packed(lines: Sequence[str], limit: int = MAX_SECTION_TEXT) -> list[tuple[Block, int]]:
    """Lines packed into as few sections as Slack's 3,000 characters a section allow, each with its line count."""
    out: list[tuple[Block, int]] = []
    current: list[str] = []

    def close() -> None:
        text = "\n".join(current)
        out.append(({"type": "section", "text": {"type": "mrkdwn", "text": text}}, len(current)))

    for line in lines:
        line = _clip(" ".join(line.split()), 600)
        if current and len("\n".join([*current, line])) > limit:
            close()
            current = []
        current.append(line)
    if current:
        close()
    return out


def more_line(left: Sequence[HomeTest], group: Group) -> Block:
    """`and 380 more — ask /microopt status <campaign> in its channel: Spring Sale (120), …`."""
    by_campaign = Counter(entry.test.campaign for entry in left)
    named = ", ".join(f"{escape(name)} ({n})" for name, n in by_campaign.most_common(8))
    rest = len(by_campaign) - 8
    named += f" and {rest} more campaigns" if rest > 0 else ""
    kind = {"needs_action": "needing action", "running": "running", "done": "done this month"}[group]
    return context(f"…and {len(left):,} more {kind}: ask `{COMMAND} status <campaign>` in its channel — {named}")


@dataclass
class _Group:
    name: Group
    entries: list[HomeTest]
    now: dt.datetime

    def units(self) -> list[tuple[list[Block], int]]:
        """The group's content as units of blocks, each whole or not at all, in order, with how many tests each
        shows."""
        if self.name == "needs_action":
            return [(action_unit(e, self.now), 1) for e in self.entries]
        undoable = [e for e in self.entries if e.decision is not None and e.decision.undoable(self.now)]
        rest = [e for e in self.entries if not (e.decision is not None and e.decision.undoable(self.now))]
        return [([decided_unit(e, self.now)], 1) for e in undoable] + [
            ([block], count) for block, count in packed([row(e) for e in rest])
        ]

    def render(self, budget: int) -> list[Block]:
        """The group in at most `budget` blocks: its header, as many whole units as fit, then the rest counted."""
        if not self.entries or budget < 2:
            return []
        units = self.units()
        room = budget - 1
        taken, used, shown = 0, 0, 0
        for unit, count in units:
            spare = 1 if taken + 1 < len(units) else 0  # keep a block for the "and N more" line
            if used + len(unit) + spare > room:
                break
            taken, used, shown = taken + 1, used + len(unit), shown + count
        blocks = [header(f"{GROUP_TITLES[self.name]} ({len(self.entries):,})")]
        blocks.extend(block for unit, _ in units[:taken] for block in unit)
        if shown < len(self.entries):
            blocks.append(more_line(self.entries[shown:], self.name))
        return blocks

    def wanted(self) -> int:
        return (1 + sum(len(unit) for unit, _ in self.units())) if self.entries else 0


def render_home(
    entries: Sequence[HomeTest],
    now: dt.datetime,
    notices: Sequence[str] = (),
    empty: str | None = None,
    read_at: dt.datetime | None = None,
) -> View:
    """The member's Home view: a header, `notices` (mrkdwn: a sheet that could not be read, a refused press), then
    the three groups within MAX_VIEW_BLOCKS; `empty` (mrkdwn) stands alone when there is nothing to show. The
    view names when its sheets were read (`read_at`), not when it was drawn, so an unchanged view is not
    published again."""
    start = month_start(now)
    blocks: list[Block] = [header("Your campaign tests")]
    if read_at is not None:
        blocks.append(context(f"From the sheets as read {slack_time(read_at)} · refreshed each time you open this tab"))
    for notice in notices[:MAX_NOTICE_BLOCKS]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(notice, MAX_SECTION_TEXT)}})
    grouped: dict[Group, list[HomeTest]] = {"needs_action": [], "running": [], "done": []}
    for entry in entries:
        group = group_of(entry, start)
        if group is not None:
            grouped[group].append(entry)
    if not entries or not any(grouped.values()):
        text = empty or (NO_CHANNELS if not entries else "None of your channels' tests is running or done this month.")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
        return {"type": "home", "blocks": blocks}
    action, running, done = (_Group(name, items, now) for name, items in grouped.items())
    room = MAX_VIEW_BLOCKS - len(blocks)
    # Needs action first, leaving running and done a floor each (a header, a few sections, a "more" line);
    # running then takes all but done's floor, and done what is left.
    running_floor = min(running.wanted(), RUNNING_FLOOR + 2)
    done_floor = min(done.wanted(), DONE_FLOOR + 2)
    action_blocks = action.render(room - running_floor - done_floor)
    room -= len(action_blocks)
    running_blocks = running.render(room - done_floor)
    room -= len(running_blocks)
    done_blocks = done.render(room)
    return {"type": "home", "blocks": [*blocks, *action_blocks, *running_blocks, *done_blocks]}


def view_digest(view: View) -> str:
    """What a view says, comparably: two publishes of the same digest show the same thing."""
    return hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()
