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
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

from analysis.models import ChannelRoute, Report, SheetData
from analysis.plan import plan_test
from bot.channel_sheets import SheetChoice, SheetGroup, group_for, linked_routes, sheet_for
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
)
from bot.render.chart import render_chart
from bot.render.plan import render_plan_message
from bot.routing import Access, Where, access_for, channel_problems, names_unavailable, needs_names
from bot.sentences import mention
from bot.service import acted_record_of, decision_paths, decision_settings
from bot.slack.command_answer import (
    NOTHING,
    TOO_LONG,
    Answer,
    DrawChart,
    Post,
    SlashCommand,
    Verb,
)
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
from bot.slack.shared_reads import DrawnCharts, SharedPaths, SharedReports
from bot.slack.status import MAX_CHARTS, select_tests, status_answer
from bot.slack_api.directory import NO_SLACK, ChannelNames

logger = logging.getLogger("microopt.slack")


READING = "Reading the sheet…"
NOTHING_TO_PLAN = f"No test here to plan the next one from: `{COMMAND} status` shows what this channel sees."


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
        self.paths = SharedPaths()
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
        paths = self.paths.get(data, charted, partial(decision_paths, self.deps, data, spec, charted))
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


# -- sheet ---------------------------------------------------------------------------------------
def delivery_notes(deps: Deps, group: SheetGroup) -> list[str]:
    """Recent digest trouble of the channels that read `group`'s sheet, in Slack's escaping."""
    return [escape(note) for note in trouble_sentences(trouble_of(read_trouble(deps, sheet_error_key(group)), group))]
