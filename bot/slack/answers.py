"""What `/microopt …` answers: the Slack-facing service, from a command to the messages to post.

`first_reply` is what the acknowledgement carries (instant, no I/O); `Answers.answer` does the slow
part (reading the sheet, analysing it) and never raises: a failure becomes one sentence the channel can
act on, and the traceback goes to the log. Charts are drawn lazily, after their verdicts are posted.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Literal

from analysis.models import ChannelRoute, Report, SheetData, Tab, TestResult
from analysis.plan import plan_test
from analysis.range_paths import RangePath
from bot.channel_sheets import SheetChoice, SheetGroup, group_for, linked_routes, sheet_for
from bot.decided import Standing
from bot.deps import Deps
from bot.digests.notes import trouble_sentences
from bot.digests.record import read_trouble, sheet_error_key, trouble_of
from bot.errors import UserFacingError
from bot.render.blocks import (
    COMMAND,
    Payload,
    escape,
    render_help,
    render_notice,
    render_sheet_messages,
    render_status_posts,
)
from bot.render.chart import chart_filename, path_words, render_chart, resting_path
from bot.render.plan import render_plan_message
from bot.routing import Access, Where, access_for, channel_problems, names_unavailable, needs_names, same_campaign
from bot.sentences import mention, no_match
from bot.service import acted_record_of, analysed, campaigns, decision_paths, decision_settings, narrow
from bot.slack.connect_command import (
    CONNECT,
    ConnectReply,
    ConnectRequest,
    connect_channel,
    disconnect_channel,
    show_link,
)
from bot.slack.decisions.notes import acted_note, decision_notes, standing_for
from bot.slack.schedule_command import ScheduleRequest, handle_schedule_command
from bot.slack_api.directory import NO_SLACK, ChannelNames
from bot.sources.cache import source_key

logger = logging.getLogger("microopt.slack")

Visibility = Literal["in_channel", "ephemeral"]
Verb = Literal["status", "plan", "sheet", "schedule", "connect", "disconnect", "help", "unknown"]


@dataclass(frozen=True)
class SlashCommand:
    channel_id: str
    channel_name: str | None
    user_id: str
    text: str
    team_id: str | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> SlashCommand:
        raw = str(body.get("text", ""))
        # Never split (or keep) more than we could ever accept: the length check below needs only a hint.
        text = " ".join(raw[: MAX_ARGUMENT * 2].split())
        if len(raw) > MAX_ARGUMENT * 2:
            text += " …"
        return cls(
            channel_id=str(body.get("channel_id", "")),
            channel_name=body.get("channel_name"),
            user_id=str(body.get("user_id", "")),
            text=text,
            team_id=str(body["team_id"]) if body.get("team_id") else None,
        )

    @property
    def too_long(self) -> bool:
        return len(self.text) > MAX_ARGUMENT

    @property
    def where_from(self) -> Where:
        return Where(self.channel_id or None, self.channel_name, self.team_id)

    @property
    def verb(self) -> Verb:
        word = self.text.split(" ", 1)[0].lower() if self.text else "status"
        known: tuple[Verb, ...] = ("status", "plan", "sheet", "schedule", "connect", "disconnect", "help")
        return next((verb for verb in known if verb == word), "unknown")

    @property
    def answered_later(self) -> bool:
        """Whether the answer comes after the acknowledgement (help is the acknowledgement itself)."""
        return self.verb in ("status", "plan", "sheet", "schedule", "connect", "disconnect")

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
    # The path chart's words, known once it is drawn (its range over time is computed then, not before posting).
    path_alt: Callable[[], str] = lambda: ""

    def alt(self) -> str:
        return (self.alt_text + " " + self.path_alt()).strip()[:MAX_ALT_TEXT]


class ReadPaths:
    """The decision's range over time of the charted tests of one answer, computed once (vectorised over them
    all) by the first chart drawn, on the chart pool: the verdicts are posted before it."""

    def __init__(self, compute: Callable[[], Mapping[tuple[str, str, str, str], RangePath]]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._paths: Mapping[tuple[str, str, str, str], RangePath] | None = None

    def of(self, test: TestResult) -> RangePath | None:
        with self._lock:
            if self._paths is None:
                try:
                    self._paths = self._compute()
                except Exception:
                    logger.warning("could not compute the decision's range over time", exc_info=True)
                    self._paths = {}
        return resting_path(test, self._paths)


@dataclass(frozen=True)
class Post:
    payload: Payload
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True)
class Answer:
    posts: tuple[Post, ...]
    visibility: Visibility = "in_channel"
    # Details for the asker only (ephemeral), after the posts: what a channel must not see.
    private: tuple[Post, ...] = ()
    # The same details for MICROOPT_ADMINS (ephemeral in the channel, else in a direct message).
    admins: tuple[str, ...] = ()
    admin_post: Post | None = None


DrawChart = Callable[..., bytes]  # (test) -> PNG, or (test, path) when a path chart is known
MAX_ALT_TEXT = 1000

NOTHING = Answer(posts=())
# Past this many tests in one answer, charts would bury the verdicts: the first ones get charts.
MAX_CHARTS = 12
CHARTS_CAPPED = (
    f"Charts are shown for the first {MAX_CHARTS} tests only: ask `{COMMAND} status <campaign>` for the others'."
)
READING = "Reading the sheet…"
NOTHING_TO_PLAN = f"No test here to plan the next one from: `{COMMAND} status` shows what this channel sees."
# Longer command text is refused whole, in one sentence, and never echoed.
MAX_ARGUMENT = 500
TOO_LONG = (
    f"That is more than {MAX_ARGUMENT} characters, longer than any campaign, test or schedule: "
    f"try `{COMMAND} help` for what I understand."
)


def unrouted_sentence(where: str, linked: bool = False) -> str:
    if linked:
        return f"No campaigns are routed to {where}. Add a row to its sheet's Channels tab."
    return (
        f"No campaigns are routed to {where}. Add a row to the sheet's Channels tab. For a sheet of its own "
        f"here: {CONNECT}."
    )


FOREIGN = (
    "No campaigns are routed to this shared channel. To share some, add a row with this channel's ID "
    "to the sheet's Channels tab."
)

# What a channel must never read: service-account addresses and the sheet's key (docs/slack.md).
_SERVICE_ACCOUNT = re.compile(r"[\w.+-]+@[\w-]+\.iam\.gserviceaccount\.com")
_SHEET_KEY = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]{20,})|^([A-Za-z0-9_-]{30,})$")


def redact(text: str, sheet: str) -> str:
    """`text` without service-account emails and without the sheet's URL or key."""
    out = _SERVICE_ACCOUNT.sub("the service account", text)
    match = _SHEET_KEY.search(sheet.strip())
    key = (match.group(1) or match.group(2)) if match else None
    if "://" in sheet or key:
        out = out.replace(sheet.strip(), "the sheet")
    if key:
        out = out.replace(key, "…")
    return out


def first_reply(command: SlashCommand) -> Payload:
    """What `ack()` carries. Help needs no sheet, so it is the whole answer; the rest say they are on it."""
    if command.too_long:
        return {**render_notice(TOO_LONG), "response_type": "ephemeral"}
    if command.verb == "help":
        return {**render_help(), "response_type": "ephemeral"}
    if command.verb == "unknown":
        return {**render_help(unknown=command.text), "response_type": "ephemeral"}
    if command.verb in ("status", "plan", "sheet") or (command.verb == "connect" and command.argument):
        return {"text": READING, "response_type": "ephemeral"}
    return {}


class SharedReports:
    """One parse and analysis per sheet read: commands that got the same tabs (from the shared read behind
    `Deps.read_tabs`) share the result instead of each analysing the sheet again. The last read of each of the
    last `keep` sheets is kept (channels of many clients read many sheets)."""

    def __init__(self, keep: int = 32) -> None:
        self._lock = threading.Lock()
        self._keep = keep
        self._last: OrderedDict[str, tuple[list[Tab], SheetData, Report]] = OrderedDict()

    def get(self, deps: Deps, spec: str) -> tuple[SheetData, Report]:
        tabs = deps.read_tabs(spec)
        key = source_key(spec)
        with self._lock:
            last = self._last.get(key)
            if last is not None and last[0] is tabs:
                self._last.move_to_end(key)
                return last[1], last[2]
            data, report = analysed(deps, tabs, spec)
            self._last[key] = (tabs, data, report)
            while len(self._last) > self._keep:
                self._last.popitem(last=False)
            return data, report


class DrawnCharts:
    """Each test's chart drawn once per sheet read: every channel whose answer shows that test (the same object,
    from the shared analysis of `SharedReports`) uploads the same PNG. A burst of commands used to draw one
    chart per test per channel, CPU work that put the last charts minutes behind their verdicts.

    The last `keep` tests' charts are kept; concurrent askers of a chart being drawn wait for that drawing.
    """

    def __init__(self, draw: DrawChart, keep: int = 64) -> None:
        self._draw = draw
        self._keep = keep
        self._lock = threading.Lock()
        self._drawn: OrderedDict[int, tuple[TestResult, Future[bytes]]] = OrderedDict()

    def __call__(self, test: TestResult, path: RangePath | None = None) -> bytes:
        with self._lock:
            entry = self._drawn.get(id(test))
            mine = entry is None or entry[0] is not test
            if mine:
                entry = (test, Future())
                self._drawn[id(test)] = entry
                while len(self._drawn) > self._keep:
                    self._drawn.popitem(last=False)
            else:
                self._drawn.move_to_end(id(test))
        assert entry is not None
        drawing = entry[1]
        if mine:
            try:
                drawing.set_result(self._draw(test, path) if path is not None else self._draw(test))
            except BaseException as error:
                drawing.set_exception(error)
                with self._lock:
                    if self._drawn.get(id(test)) is entry:
                        del self._drawn[id(test)]  # a failed drawing is tried again by the next asker
        return drawing.result()


class Answers:
    """The slow part of every command, for one app: its deps, how it draws charts, its shared reports."""

    def __init__(
        self,
        deps: Deps,
        draw_chart: DrawChart | None = render_chart,
        home_team: Callable[[str | None], str | None] = lambda team: None,
        channel_names: Callable[[str | None], ChannelNames] = lambda team: NO_SLACK,
        default_team: Callable[[], str | None] | None = None,
        reports: SharedReports | None = None,
    ) -> None:
        self.deps = deps
        self.draw_chart = DrawnCharts(draw_chart) if draw_chart is not None else None
        self.reports = reports or SharedReports()
        # The workspace a request from a given workspace counts as its own (`bot.slack.installs.SlackWorkspaces`):
        # the bot token's (auth.test; None when unknown: every request is then foreign), or with installs in many
        # workspaces the request's own.
        self.home_team = home_team
        # A workspace's channel names → IDs (conversations.list), for Channels-tab rows by name.
        self.channel_names = channel_names
        # With installs in many workspaces, MICROOPT_SHEET serves this workspace alone (SLACK_BOT_TOKEN's; None: none).
        self.default_team = default_team
        self.alerts = AdminAlerts(deps.settings.admins, deps.clock)

    def names(self, routes: Sequence[ChannelRoute], team: str | None = None) -> ChannelNames:
        return self.channel_names(team) if needs_names(routes) else ChannelNames()

    def home_of(self, command: SlashCommand, choice: SheetChoice) -> str | None:
        """The workspace the channel's sheet belongs to: the one its link was made in, else the installing one."""
        link = choice.link
        return link.team_id if link is not None and link.team_id else self.home_team(command.team_id)

    def unserved(self, command: SlashCommand, choice: SheetChoice) -> bool:
        """With installs in many workspaces, a channel not linked to a sheet of its own reads MICROOPT_SHEET only in
        MICROOPT_SHEET's workspace: a workspace sees only the sheets linked in its own channels."""
        if not self.deps.settings.oauth or choice.linked:
            return False
        default = self.default_team() if self.default_team is not None else None
        return default is None or command.team_id != default

    def access(
        self, command: SlashCommand, routes: Sequence[ChannelRoute], names: ChannelNames, home_team: str | None
    ) -> Access:
        """What this channel may see: `bot.routing.access_for`, with status's fallback to every campaign."""
        return access_for(
            routes,
            command.where_from,
            names=names.ids,
            home_team=home_team,
            open_status=self.deps.settings.open_status,
            fallback_to_all=True,
        )

    def answer(self, command: SlashCommand) -> Answer:
        """Never raises: failures become a short message for the channel, the traceback goes to the log."""
        handlers: dict[Verb, Callable[[SlashCommand, Chosen], Answer]] = {
            "status": self.status,
            "plan": self.plan,
            "sheet": self.sheet,
            "schedule": self.schedule,
            "connect": self.connect,
            "disconnect": self.disconnect,
        }
        handler = handlers.get(command.verb)
        if handler is None or command.too_long:
            return NOTHING  # the acknowledgement said it all
        chosen = Chosen(self.deps, command.channel_id)
        try:
            return handler(command, chosen)
        except UserFacingError as error:
            failed = failure_answer(f":warning: {escape(error)}", command, chosen.spec)
            return self.alerts.tell_admins(failed, command, f"{escape(error)}")
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
                chosen.spec,
            )

    def seen(self, command: SlashCommand, chosen: Chosen) -> tuple[SheetData, Report, str | None] | Answer:
        """The sheet's data and the tests this channel may see and asked for (with status's note), or the answer
        that says why it sees none."""
        choice = chosen.choice()
        if self.unserved(command, choice):
            return no_sheet_answer(command)
        data, report = self.reports.get(self.deps, choice.spec)
        routes = linked_routes(data.channels, [command.channel_id]) if choice.linked else data.channels
        home = self.home_of(command, choice)
        names = self.names(routes, home)
        access = self.access(command, routes, names, home)
        if access.reach in ("foreign", "unrouted"):
            sentence = FOREIGN if access.reach == "foreign" else unrouted_sentence(command.where, choice.linked)
            if names.error is not None:
                sentence += f" (Also: {escape(names_unavailable(names.error))}.)"
            return Answer(posts=(Post(render_notice(sentence)),), visibility="ephemeral")
        selected, note = select_tests(report, command, access)
        return data, selected, note

    def status(self, command: SlashCommand, chosen: Chosen) -> Answer:
        seen = self.seen(command, chosen)
        if isinstance(seen, Answer):
            return seen
        data, selected, note = seen
        spec = chosen.spec
        read_at = self.deps.last_read(spec) or self.deps.clock()
        acted = acted_note(acted_record_of(self.deps, spec, data)) if selected.tests else None
        note = "\n".join(n for n in (note, acted) if n) or None
        charted = [(t.campaign, t.test) for t in selected.tests if t.comparisons][:MAX_CHARTS]
        paths = ReadPaths(partial(decision_paths, self.deps, data, spec, charted))
        standing = standing_for(self.deps, read_at, spec)
        return status_answer(selected, note, read_at, self.draw_chart, standing, paths)

    def plan(self, command: SlashCommand, chosen: Chosen) -> Answer:
        """The next test of the first campaign this channel sees (or the one asked for), at the minimum effect."""
        seen = self.seen(command, chosen)
        if isinstance(seen, Answer):
            return seen
        data, selected, note = seen
        if not selected.tests:
            return Answer(posts=(Post(render_notice(note or NOTHING_TO_PLAN)),), visibility="ephemeral")
        _, report = self.reports.get(self.deps, chosen.spec)
        campaign = selected.tests[0].campaign
        plan = plan_test(data, report, campaign, self.deps.settings.minimum_effect, decision_settings(self.deps))
        if plan is None:
            return Answer(posts=(Post(render_notice(NOTHING_TO_PLAN)),), visibility="ephemeral")
        return Answer(posts=(Post(render_plan_message(plan)),))

    def sheet(self, command: SlashCommand, chosen: Chosen) -> Answer:
        if self.unserved(command, chosen.choice()):
            return no_sheet_answer(command)
        spec = chosen.choice().spec
        notes = [*delivery_notes(self.deps, group_for(self.deps, command.channel_id)), *decision_notes(self.deps, spec)]
        try:
            data, report = self.reports.get(self.deps, spec)
        except UserFacingError as error:
            payloads = render_sheet_messages(
                source=spec,
                last_read=self.deps.last_read(spec),
                problems=(),
                tests=0,
                notes=[f":warning: {escape(error)}", *notes],
            )
            return Answer(posts=tuple(Post(p) for p in payloads), visibility="ephemeral")
        names = self.names(data.channels, self.home_of(command, chosen.choice()))
        payloads = render_sheet_messages(
            source=spec,
            last_read=self.deps.last_read(spec) or self.deps.clock(),
            problems=(*report.problems, *channel_problems(data.channels, names.ids, names.error)),
            tests=len(report.tests),
            notes=notes,
            tabs=report.tabs,
        )
        return Answer(posts=tuple(Post(p) for p in payloads), visibility="ephemeral")

    def foreign(self, command: SlashCommand, choice: SheetChoice) -> bool:
        """Whether the asker is of another workspace or organisation than the one the channel's sheet belongs to
        (the installing one; with installs in many workspaces, the one its link was made in)."""
        return command.team_id is not None and command.team_id != self.home_of(command, choice)

    def schedule(self, command: SlashCommand, chosen: Chosen) -> Answer:
        request = ScheduleRequest(
            channel_id=command.channel_id,
            channel_name=command.channel_name or "",
            text=command.argument,
            user_id=command.user_id,
            foreign=self.foreign(command, chosen.choice()),
        )
        reply = handle_schedule_command(self.deps, request)
        return Answer(posts=(Post(render_notice(reply)),), visibility="in_channel")

    def connect_request(self, command: SlashCommand, chosen: Chosen) -> ConnectRequest:
        return ConnectRequest(
            channel_id=command.channel_id,
            channel_name=command.channel_name or "",
            user_id=command.user_id,
            text=command.argument,
            team_id=command.team_id,
            foreign=self.foreign(command, chosen.choice()),
        )

    def connect(self, command: SlashCommand, chosen: Chosen) -> Answer:
        request = self.connect_request(command, chosen)
        if not command.argument:
            reply = show_link(self.deps, request)
        else:
            reply = connect_channel(self.deps, request, partial(self.reports.get, self.deps), self.see)
        return connect_answer(reply)

    def disconnect(self, command: SlashCommand, chosen: Chosen) -> Answer:
        return connect_answer(disconnect_channel(self.deps, self.connect_request(command, chosen)))

    def see(self, routes: tuple[ChannelRoute, ...], where: Where, home_team: str | None) -> Access:
        """What `where` sees of a sheet it was just connected to (the asker is of the installing workspace)."""
        home = home_team or self.home_team(where.team_id)
        return access_for(
            routes,
            where,
            names=self.names(routes, home).ids,
            home_team=home,
            open_status=self.deps.settings.open_status,
        )


class Chosen:
    """The sheet a command's channel reads, looked up once, when a handler first needs it (and known afterwards
    to the failure path, which must keep that sheet's key out of the channel)."""

    def __init__(self, deps: Deps, channel_id: str) -> None:
        self._deps = deps
        self._channel_id = channel_id
        self._choice: SheetChoice | None = None

    def choice(self) -> SheetChoice:
        if self._choice is None:
            self._choice = sheet_for(self._deps, self._channel_id)
        return self._choice

    @property
    def spec(self) -> str:
        return self._choice.spec if self._choice is not None else self._deps.settings.sheet


def no_sheet_answer(command: SlashCommand) -> Answer:
    sentence = f"No sheet is connected to {command.where} yet: {CONNECT} reads one here."
    return Answer(posts=(Post(render_notice(sentence)),), visibility="ephemeral")


def connect_answer(reply: ConnectReply) -> Answer:
    return Answer(posts=(Post(render_notice(reply.text)),), visibility="in_channel" if reply.public else "ephemeral")


class AdminAlerts:
    """Sheet faults for MICROOPT_ADMINS, each fault at most once per `quiet` (a broken sheet would otherwise
    message them on every command)."""

    def __init__(
        self, admins: frozenset[str], clock: Callable[[], dt.datetime], quiet: dt.timedelta = dt.timedelta(hours=1)
    ) -> None:
        self.admins = tuple(sorted(admins))
        self.clock = clock
        self.quiet = quiet
        self._lock = threading.Lock()
        self._told: dict[str, dt.datetime] = {}

    def tell_admins(self, answer: Answer, command: SlashCommand, details: str) -> Answer:
        others = tuple(a for a in self.admins if a != command.user_id)
        if not others:
            return answer
        now = self.clock()
        with self._lock:
            last = self._told.get(details)
            if last is not None and now - last < self.quiet:
                return answer
            self._told[details] = now
        asker = mention(command.user_id) or "Someone"
        sentence = (
            f":warning: {asker} ran `{COMMAND} {command.verb}` in {command.where} and microopt could not read the "
            f"sheet: {details}"
        )
        return replace(answer, admins=others, admin_post=Post(render_notice(sentence)))


def failure_answer(sentence: str, command: SlashCommand, sheet: str = "") -> Answer:
    """A status failure is said in the channel without identifiers; the asker alone gets them."""
    if command.verb != "status":
        return Answer(posts=(Post(render_notice(sentence)),), visibility="ephemeral")
    public = redact(sentence, sheet)
    private = () if public == sentence else (Post(render_notice(sentence)),)
    return Answer(posts=(Post(render_notice(public)),), visibility="in_channel", private=private)


# -- status --------------------------------------------------------------------------------------
def _names(campaigns: Sequence[str]) -> str:
    return ", ".join(f"“{escape(name)}”" for name in campaigns)


def select_tests(report: Report, command: SlashCommand, access: Access) -> tuple[Report, str | None]:
    """The tests this channel may see and asked for, and a note (mrkdwn) when the choice needs explaining.

    A query narrows within what `access` allows; it never reaches campaigns routed elsewhere. When nothing in
    the sheet was tested, no note: the answer says why, per tab.
    """
    if not report.tests:
        return report, None
    visible = report.model_copy(update={"tests": access.tests(report.tests)})
    query = command.argument
    if query:
        found = narrow(visible, query)
        if found.tests:
            return found, None
        where = "here" if access.campaigns is not None else "in the sheet"
        return found, no_match(query, campaigns(visible), where, escape)
    if access.reach == "open" or access.campaigns is None:
        return visible, None
    missing = tuple(name for name in access.campaigns if not any(same_campaign(t.campaign, name) for t in report.tests))
    note = (
        f"The Channels tab routes {_names(missing)} here, but no Results tab has "
        f"{'that campaign' if len(missing) == 1 else 'those campaigns'}: check the spelling in both tabs."
        if missing
        else None
    )
    return visible, note


def chart_alt_text(test: TestResult) -> str:
    parts = [
        f"{c.variant} vs {test.control} on {c.metric}: "
        + (f"{c.lift * 100:+.0f}%" if c.lift is not None else "no lift (no control conversions)")
        for c in test.comparisons
    ]
    return f"Lift over {test.control} with 95% ranges. " + "; ".join(parts)


def chart_for(test: TestResult, draw_chart: DrawChart, paths: ReadPaths | None = None) -> Chart:
    title = f"{test.title}: lift vs {test.control}"
    if paths is None:
        return Chart(chart_filename(test), title, chart_alt_text(test), partial(draw_chart, test))

    def words() -> str:
        path = paths.of(test)
        return path_words(path, test.control) if path is not None else ""

    return Chart(chart_filename(test), title, chart_alt_text(test), lambda: draw_chart(test, paths.of(test)), words)


def status_answer(
    report: Report,
    note: str | None,
    read_at: dt.datetime,
    draw_chart: DrawChart | None,
    standing: Standing | None = None,
    paths: ReadPaths | None = None,
) -> Answer:
    """The status messages, each with (lazy) charts of its tests, the first `MAX_CHARTS` tests charted; a test's
    buttons, or what was decided about it (`standing`)."""
    drawable = [t for t in report.tests if t.comparisons] if draw_chart else []
    charted = {id(t) for t in drawable[:MAX_CHARTS]}
    posts = [
        Post(payload, tuple(chart_for(t, draw_chart, paths) for t in tests if id(t) in charted and draw_chart))
        for payload, tests in render_status_posts(report, note=note, read_at=read_at, standing=standing)
    ]
    if len(drawable) > MAX_CHARTS:
        posts.append(Post(render_notice(CHARTS_CAPPED)))
    return Answer(posts=tuple(posts))


# -- sheet ---------------------------------------------------------------------------------------
def delivery_notes(deps: Deps, group: SheetGroup) -> list[str]:
    """Recent digest trouble of the channels that read `group`'s sheet, in Slack's escaping."""
    return [escape(note) for note in trouble_sentences(trouble_of(read_trouble(deps, sheet_error_key(group)), group))]
