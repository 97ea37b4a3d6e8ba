"""What `/microopt …` answers: the Slack-facing service, from a command to the messages to post.

`first_reply` is what the acknowledgement carries (instant, no I/O); `Answers.answer` does the slow
part (reading the sheet, analysing it) and never raises: a failure becomes one sentence the channel can
act on, and the traceback goes to the log. Charts are drawn lazily, after their verdicts are posted.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from analysis.models import ChannelRoute, Report, SheetData, Tab, TestResult
from analysis.sheet import parse_workbook
from bot.deps import Deps
from bot.errors import UserFacingError
from bot.render.chart import chart_filename, render_chart
from bot.routing import campaigns_for_channel, same_campaign
from bot.service import full_report, narrow
from bot.slack.blocks import (
    COMMAND,
    Payload,
    escape,
    render_help,
    render_notice,
    render_sheet_messages,
    render_status_posts,
)

logger = logging.getLogger("microopt.slack")

Visibility = Literal["in_channel", "ephemeral"]
Verb = Literal["status", "sheet", "schedule", "help", "unknown"]


@dataclass(frozen=True)
class SlashCommand:
    channel_id: str
    channel_name: str | None
    user_id: str
    text: str

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> SlashCommand:
        return cls(
            channel_id=str(body.get("channel_id", "")),
            channel_name=body.get("channel_name"),
            user_id=str(body.get("user_id", "")),
            text=" ".join(str(body.get("text", "")).split()),
        )

    @property
    def verb(self) -> Verb:
        word = self.text.split(" ", 1)[0].lower() if self.text else "status"
        known: dict[str, Verb] = {"status": "status", "sheet": "sheet", "schedule": "schedule", "help": "help"}
        return known.get(word, "unknown")

    @property
    def answered_later(self) -> bool:
        """Whether the answer comes after the acknowledgement (help is the acknowledgement itself)."""
        return self.verb in ("status", "sheet", "schedule")

    @property
    def argument(self) -> str:
        return self.text.split(" ", 1)[1].strip() if " " in self.text else ""

    @property
    def where(self) -> str:
        """How a message names this channel: `#spring-sale`, or "this channel" for DMs and unnamed ones."""
        name = self.channel_name or ""
        return f"#{escape(name)}" if name and name not in ("directmessage", "privategroup") else "this channel"


@dataclass(frozen=True)
class Chart:
    filename: str
    title: str
    alt_text: str
    draw: Callable[[], bytes]


@dataclass(frozen=True)
class Post:
    payload: Payload
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True)
class Answer:
    posts: tuple[Post, ...]
    visibility: Visibility = "in_channel"


DrawChart = Callable[[TestResult], bytes]

NOTHING = Answer(posts=())
# Past this many tests in one answer, charts would bury the verdicts: the first ones get charts.
MAX_CHARTS = 12
CHARTS_CAPPED = (
    f"Charts are shown for the first {MAX_CHARTS} tests only: ask `{COMMAND} status <campaign>` for the others'."
)
READING = "Reading the sheet…"


def first_reply(command: SlashCommand) -> Payload:
    """What `ack()` carries. Help needs no sheet, so it is the whole answer; the rest say they are on it."""
    if command.verb == "help":
        return {**render_help(), "response_type": "ephemeral"}
    if command.verb == "unknown":
        return {**render_help(unknown=command.text), "response_type": "ephemeral"}
    if command.verb in ("status", "sheet"):
        return {"text": READING, "response_type": "ephemeral"}
    return {}


class SharedReports:
    """One parse and analysis per sheet read: commands that got the same tabs (from the shared read behind
    `Deps.read_tabs`) share the result instead of each analysing the sheet again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[list[Tab], SheetData, Report] | None = None

    def get(self, deps: Deps, spec: str) -> tuple[SheetData, Report]:
        tabs = deps.read_tabs(spec)
        with self._lock:
            if self._last is not None and self._last[0] is tabs:
                return self._last[1], self._last[2]
            data = parse_workbook(tabs, currency=deps.settings.currency)
            report = full_report(deps, data, spec)
            self._last = (tabs, data, report)
            return data, report


class Answers:
    """The slow part of every command, for one app: its deps, how it draws charts, its shared reports."""

    def __init__(self, deps: Deps, draw_chart: DrawChart | None = render_chart) -> None:
        self.deps = deps
        self.draw_chart = draw_chart
        self.reports = SharedReports()

    def answer(self, command: SlashCommand) -> Answer:
        """Never raises: failures become a short message for the channel, the traceback goes to the log."""
        handlers: dict[Verb, Callable[[SlashCommand], Answer]] = {
            "status": self.status,
            "sheet": self.sheet,
            "schedule": self.schedule,
        }
        handler = handlers.get(command.verb)
        if handler is None:
            return NOTHING
        try:
            return handler(command)
        except UserFacingError as error:
            return failure_answer(f":warning: {escape(error)}", command)
        except Exception as error:
            reference = secrets.token_hex(3)
            logger.exception(
                "%s %s failed in channel %s (reference %s)", COMMAND, command.verb, command.channel_id, reference
            )
            return failure_answer(
                f":warning: microopt could not finish `{COMMAND} {command.verb}` (an unexpected "
                f"{type(error).__name__}, reference {reference}): try again in a minute, and if it keeps failing "
                "give that reference to whoever runs microopt.",
                command,
            )

    def status(self, command: SlashCommand) -> Answer:
        spec = self.deps.settings.sheet
        data, report = self.reports.get(self.deps, spec)
        selected, note = select_tests(report, command, data.channels)
        read_at = self.deps.last_read(spec) or self.deps.clock()
        return status_answer(selected, note, read_at, self.draw_chart)

    def sheet(self, command: SlashCommand) -> Answer:
        spec = self.deps.settings.sheet
        notes = delivery_notes(self.deps)
        try:
            _, report = self.reports.get(self.deps, spec)
        except UserFacingError as error:
            payloads = render_sheet_messages(
                source=spec,
                last_read=self.deps.last_read(spec),
                problems=(),
                tests=0,
                notes=[f":warning: {escape(error)}", *notes],
            )
            return Answer(posts=tuple(Post(p) for p in payloads), visibility="ephemeral")
        payloads = render_sheet_messages(
            source=spec,
            last_read=self.deps.last_read(spec) or self.deps.clock(),
            problems=report.problems,
            tests=len(report.tests),
            notes=notes,
        )
        return Answer(posts=tuple(Post(p) for p in payloads), visibility="ephemeral")

    def schedule(self, command: SlashCommand) -> Answer:
        try:
            from bot.schedules import handle_schedule_command
        except ImportError:
            notice = render_notice("Schedules are not available in this version of microopt yet.")
            return Answer((Post(notice),), "ephemeral")
        reply = handle_schedule_command(self.deps, command.channel_id, command.channel_name or "", command.argument)
        return Answer(posts=(Post(render_notice(reply)),), visibility="in_channel")


def failure_answer(sentence: str, command: SlashCommand) -> Answer:
    visibility: Visibility = "in_channel" if command.verb == "status" else "ephemeral"
    return Answer(posts=(Post(render_notice(sentence)),), visibility=visibility)


# -- status --------------------------------------------------------------------------------------
def _names(campaigns: Sequence[str]) -> str:
    return ", ".join(f"“{escape(name)}”" for name in campaigns)


def select_tests(report: Report, command: SlashCommand, routes: Sequence[ChannelRoute]) -> tuple[Report, str | None]:
    """The tests this channel asked for, and a note (mrkdwn) when the choice needs explaining."""
    query = command.argument
    if query:
        found = narrow(report, query)
        if found.tests:
            return found, None
        campaigns = tuple(dict.fromkeys(t.campaign for t in report.tests))
        return found, (
            f"No campaign or test matches “{escape(query)}”. "
            + (f"The sheet has {_names(campaigns)}." if campaigns else "The sheet has no tests yet.")
        )
    routed = campaigns_for_channel(routes, command.channel_id, command.channel_name)
    if routed is None:
        return report, None
    if not routed:
        return report, (
            f"No campaign is routed to {command.where} in the sheet's Channels tab, so here are all of them. "
            f"Add a row with a Campaign and this channel there to see only yours."
        )
    tests = tuple(t for t in report.tests if any(same_campaign(t.campaign, name) for name in routed))
    missing = tuple(name for name in routed if not any(same_campaign(t.campaign, name) for t in report.tests))
    note = (
        f"The Channels tab routes {_names(missing)} here, but no Results tab has "
        f"{'that campaign' if len(missing) == 1 else 'those campaigns'}: check the spelling in both tabs."
        if missing
        else None
    )
    return report.model_copy(update={"tests": tests}), note


def chart_alt_text(test: TestResult) -> str:
    parts = [
        f"{c.variant} vs {test.control} on {c.metric}: "
        + (f"{c.lift * 100:+.0f}%" if c.lift is not None else "no lift (no control conversions)")
        for c in test.comparisons
    ]
    return f"Lift over {test.control} with 95% ranges. " + "; ".join(parts)


def chart_for(test: TestResult, draw_chart: DrawChart) -> Chart:
    return Chart(
        chart_filename(test), f"{test.title}: lift vs {test.control}", chart_alt_text(test), partial(draw_chart, test)
    )


def status_answer(report: Report, note: str | None, read_at: dt.datetime, draw_chart: DrawChart | None) -> Answer:
    """The status messages, each with (lazy) charts of its tests, the first `MAX_CHARTS` tests charted."""
    drawable = [t for t in report.tests if t.comparisons] if draw_chart else []
    charted = {id(t) for t in drawable[:MAX_CHARTS]}
    posts = [
        Post(payload, tuple(chart_for(t, draw_chart) for t in tests if id(t) in charted and draw_chart))
        for payload, tests in render_status_posts(report, note=note, read_at=read_at)
    ]
    if len(drawable) > MAX_CHARTS:
        posts.append(Post(render_notice(CHARTS_CAPPED)))
    return Answer(posts=tuple(posts))


# -- sheet ---------------------------------------------------------------------------------------
def delivery_notes(deps: Deps) -> list[str]:
    """Recent digest deliveries that failed, when the digests module offers them."""
    try:
        from bot.digests import delivery_notes as notes
    except ImportError:
        return []
    return list(notes(deps))
