"""A channel's digest, from its tests' verdicts and what the channel was told last time. Pure functions.

Order: the tests whose verdict changed since the channel's last digest ("New: B now beats A on
purchases"), then one short line per test still running, then one line per test already called and
unchanged. A digest with nothing new is one line (the channel's first digest shows every test). A new
verdict that asks for an action, and an unchanged one, has its buttons under it (`bot.render.actions`);
tests the team marked done, and verdicts it snoozed, are left out before they get here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from analysis.models import TestResult
from bot.render.actions import action_block, signature, winning_metrics
from bot.render.blocks import VERDICT_EMOJI, Block, Payload, Unit, escape, pack, sections, to_payloads
from bot.said import SaidVerdict, VerdictRecord
from bot.sentences import counted

SHORT_SENTENCE = 140


@dataclass(frozen=True)
class Digest:
    channel: str
    messages: list[Payload]  # chat.postMessage payloads: `text` fallback and `blocks`
    said: list[VerdictRecord]
    new: int
    empty: bool
    tests: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _plain_metric(name: str) -> str:
    return name.lower()


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def what_changed(test: TestResult, previous: SaidVerdict | None) -> str:
    """'B now beats A on purchases', 'no longer called: keep running', …"""
    if test.verdict == "move_budget" and test.best_variant and test.best_variant != test.control:
        metrics = winning_metrics(test)
        on = f" on {_join([_plain_metric(m) for m in metrics])}" if metrics else ""
        return f"{test.best_variant} now beats {test.control}{on}"
    if test.verdict == "move_budget":
        return f"{test.control} now beats the other variants"
    if test.verdict == "no_difference":
        return "no meaningful difference between the variants"
    if test.verdict == "conflict":
        return "micro and macro conversions disagree"
    if test.verdict == "check_tracking":
        return "the traffic split looks broken"
    if previous is not None and previous.verdict != "keep_running":
        return "no longer called"
    return "first look"


def _first_sentence(text: str) -> str:
    sentence = text.split(". ", 1)[0].rstrip(".") + "."
    return sentence if len(sentence) <= SHORT_SENTENCE else ""


def _day(moment: dt.datetime | None) -> str:
    return f"{moment:%a %-d %b}" if moment else ""


def is_new(test: TestResult, previous: SaidVerdict | None) -> bool:
    """Changed since the channel's last digest; a first look at a test still running is not news."""
    if previous is None:
        return test.verdict != "keep_running"
    return previous.signature != signature(test)


def render_digest(
    channel_label: str,
    tests: Sequence[TestResult],
    previous: Mapping[tuple[str, str], SaidVerdict],
    last_digest_at: dt.datetime | None = None,
    timezone: dt.tzinfo = dt.UTC,
    decided: int = 0,
) -> Digest:
    """`decided`: how many of the channel's running tests were left out, done or snoozed from Slack."""
    label = escape(channel_label)
    since = f" since {_day(last_digest_at.astimezone(timezone))}" if last_digest_at else ""
    new: list[tuple[TestResult, SaidVerdict | None]] = []
    running: list[TestResult] = []
    unchanged: list[TestResult] = []
    said: list[VerdictRecord] = []
    for test in tests:
        before = previous.get((test.campaign, test.test))
        changed = is_new(test, before)
        said.append(
            VerdictRecord(
                campaign=test.campaign,
                test=test.test,
                verdict=test.verdict,
                best_variant=test.best_variant,
                signature=signature(test),
                headline=test.headline,
                changed=changed,
            )
        )
        if changed:
            new.append((test, before))
        elif test.verdict == "keep_running":
            running.append(test)
        else:
            unchanged.append(test)

    if not tests and decided:
        line = f"microopt digest · {label}: nothing to repeat ({counted(decided, 'test')} done or snoozed from Slack)."
        return Digest(channel_label, [_one_line(line)], said, 0, True, 0, [line])
    if not tests:
        line = f"microopt digest · {label}: no tests are routed to this channel; add it to the Channels tab."
        return Digest(channel_label, [_one_line(line)], said, 0, True, 0, [line])
    first = last_digest_at is None and not previous
    if not new and not first:
        tally = counted(len(tests), "test")
        line = f"microopt digest · {label}: nothing new{since} ({tally}, every verdict as before)."
        return Digest(channel_label, [_one_line(line)], said, 0, True, len(tests), [line])

    heading = f"microopt digest · {channel_label} — " + ("first digest" if first else f"{len(new)} new{since}")
    units: list[Unit] = []
    lines = [escape(heading)]
    for test, before in new:
        short = f"New: {escape(what_changed(test, before))}. {escape(test.headline)}"
        emoji = VERDICT_EMOJI.get(test.verdict, "")
        line = f"• *{escape(test.title)}* — {short}"
        lines.append(line)
        blocks = sections(f"{emoji} *{escape(test.title)}* — {short}\n{escape(test.summary)}")
        units.append(Unit(_with_buttons(blocks, test), line))
    if running:
        body = "\n".join(
            f"• {escape(t.title)}: keep running. {escape(_first_sentence(t.summary))}".rstrip() for t in running
        )
        lines.extend(["*Still running*", body])
        units.append(Unit(sections("*Still running*\n" + body), f"{len(running)} still running"))
    if unchanged:
        body = "\n".join(_unchanged_line(t) for t in unchanged)
        lines.extend(["*Unchanged*", body])
        # Verdicts that ask for an action get their buttons, one test to a section; the rest stay one list.
        acting = [(t, block) for t in unchanged if (block := action_block(t)) is not None]
        plain = [t for t in unchanged if all(t is not other for other, _ in acting)]
        listed = "\n".join(_unchanged_line(t) for t in plain)
        heading_unit = Unit(sections("*Unchanged*" + (f"\n{listed}" if listed else "")), f"{len(unchanged)} unchanged")
        units.append(heading_unit)
        units.extend(Unit([*sections(_unchanged_line(t)), block], _unchanged_line(t)) for t, block in acting)
    messages = to_payloads(pack(units, heading), heading)
    return Digest(channel_label, messages, said, len(new), False, len(tests), lines)


def _unchanged_line(test: TestResult) -> str:
    return f"• {escape(test.title)}: {escape(test.headline)}"


def _with_buttons(blocks: list[Block], test: TestResult) -> list[Block]:
    block = action_block(test)
    return [*blocks, block] if block is not None else blocks


def _one_line(mrkdwn: str) -> Payload:
    return {"text": mrkdwn, "blocks": sections(mrkdwn)}
