"""`microopt doctor`: a deployment checked end to end, one line per check, in the environment it runs in.

Run it where each process runs (`heroku run microopt doctor`, the worker's shell): settings, the database,
Slack's answer to the bot token and its scopes, each sheet in use (MICROOPT_SHEET and every sheet linked to a
channel) shared and readable, the channels their Channels tabs name visible to microopt, and the next digest
of every channel. A line starts `ok`, `warn` (works, with a limit worth knowing) or `FAIL` (something a user
will miss), then says what it found or what to do. Exit status 1 when any line fails. It records nothing: no
look of a sheet, no schedule, no claim.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import typer
from pydantic import ValidationError

from analysis.models import SheetData
from bot.cli.options import DebugOption, run_for_user, settings_sentence
from bot.errors import UserFacingError
from bot.sentences import counted
from bot.settings import Settings

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.channel_sheets import SheetGroup
    from bot.deps import Deps
    from bot.slack_api.directory import ChannelNames
    from bot.state.links import SheetLink
    from bot.state.store import StateStore

Status = Literal["ok", "warn", "FAIL"]
MAX_WORKSPACES = 200  # installed workspaces whose token is checked, one auth.test each


@dataclass(frozen=True)
class Line:
    status: Status
    what: str
    sentence: str

    def __str__(self) -> str:
        return f"{self.status:<5} {self.what}: {self.sentence}"


@dataclass
class Checkup:
    """What the checks found so far, for the checks after them."""

    settings: Settings
    store: StateStore | None = None  # when the database answered
    links: list[SheetLink] = field(default_factory=list)
    client: WebClient | None = None  # when Slack took the token
    sheets: dict[str, SheetData] = field(default_factory=dict)  # spec → what was read
    clients: dict[str, WebClient] = field(default_factory=dict)  # with installs: each workspace's, when it answered
    _deps: Deps | None = None
    _names: dict[str | None, ChannelNames] = field(default_factory=dict)

    @property
    def deps(self) -> Deps:
        """The process's deps, writing nothing: no Verdicts tab, no look recorded (reads pass `record=False`)."""
        if self._deps is None:
            from bot.deps import create_deps, no_verdict_writer

            self._deps = replace(create_deps(self.settings), write_verdicts=no_verdict_writer)
        return self._deps

    @property
    def groups(self) -> list[SheetGroup]:
        from bot.channel_sheets import sheet_groups

        return sheet_groups(self.deps, self.links)

    def client_of(self, team: str | None) -> WebClient | None:
        """The client of `team` (None: SLACK_BOT_TOKEN's) when Slack took its token, else None."""
        return self.client if team is None else self.clients.get(team)

    def names_of(self, team: str | None) -> ChannelNames | None:
        """`team`'s channels, asked of Slack once; None when its token did not answer."""
        from bot.slack_api.directory import list_channel_names

        client = self.client_of(team)
        if client is None:
            return None
        if team not in self._names:
            self._names[team] = list_channel_names(client)
        return self._names[team]


def check_settings() -> tuple[Line, Settings | None]:
    try:
        settings = Settings()
    except ValidationError as error:
        return Line("FAIL", "Settings", settings_sentence(error)), None
    from bot.sources import google_key

    sheet = settings.sheet
    kind = f"the Google Sheet {google_key(sheet)}" if google_key(sheet) else f"the file {sheet}"
    return Line("ok", "Settings", f"read; MICROOPT_SHEET is {kind}."), settings


def check_serving(settings: Settings) -> Line:
    """HTTP mode needs the signing secret, Socket Mode the app-level token; a worker needs neither."""
    from bot.slack.app import check_app_token, check_signing_secret

    found = []
    for name, check, mode in (
        ("SLACK_SIGNING_SECRET", check_signing_secret, "HTTP mode (microopt serve)"),
        ("SLACK_APP_TOKEN", check_app_token, "Socket Mode (microopt socket, microopt run)"),
    ):
        if getattr(settings, name.lower()) is None:
            continue
        try:
            check(settings)
        except UserFacingError as error:
            return Line("FAIL", "Serving", str(error))
        found.append(mode)
    if not found:
        return Line(
            "warn",
            "Serving",
            "neither SLACK_SIGNING_SECRET (HTTP mode) nor SLACK_APP_TOKEN (Socket Mode) is set: fine for the "
            "worker (microopt scheduler), but microopt serve and microopt socket will not start here.",
        )
    return Line("ok", "Serving", " and ".join(found) + " can start.")


def check_database(checkup: Checkup) -> Line:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.state.engine import redacted, unavailable_sentence
    from bot.state.links import all_links
    from bot.state.store import StateStore

    url = checkup.settings.database_url
    try:
        store = StateStore.open(url)
        store.ensure_schema()
        links = all_links(store)
        version = store.schema_version()
    except UserFacingError as error:
        return Line("FAIL", "Database", str(error))
    except (SQLAlchemyError, OSError):
        return Line("FAIL", "Database", unavailable_sentence(url))
    checkup.store, checkup.links = store, list(links)
    channels = f"{counted(len(links), 'channel')} with a sheet of its own"
    return Line("ok", "Database", f"{redacted(url)} answers (schema {version}); {channels}.")


def check_slack(checkup: Checkup) -> Iterator[Line]:
    """The token (set, well-formed, taken by Slack's auth.test) and its scopes, from the same answer."""
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import check_bot_token
    from bot.slack_api.auth import REFUSED, refused_sentence, unreachable_sentence
    from bot.slack_api.client import create_web_client
    from bot.slack_api.scopes import OPTIONAL, REQUIRED, granted

    settings = checkup.settings
    if settings.oauth and not settings.slack_bot_token:
        yield Line(
            "ok",
            "Slack",
            "installs in many workspaces, no SLACK_BOT_TOKEN: each workspace's token is in the database, and "
            "MICROOPT_SHEET serves no workspace (each reads the sheets linked in its channels).",
        )
        return
    try:
        check_bot_token(settings)
    except UserFacingError as error:
        yield Line("FAIL", "Slack", f"{error} Every process needs it: the web and the worker (digests) alike.")
        return
    client = create_web_client(settings, timeout=10)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error", ""))
        sentence = refused_sentence(code) if code in REFUSED else f"auth.test answered {code}: try again in a minute."
        yield Line("FAIL", "Slack", sentence)
        return
    except OSError as error:
        yield Line("FAIL", "Slack", unreachable_sentence(settings, error))
        return
    checkup.client = client
    team = f"{answer.get('team') or 'a workspace'} ({answer.get('team_id')})"
    yield Line("ok", "Slack", f"SLACK_BOT_TOKEN is the bot of {team}.")
    scopes = granted(answer.headers)
    if scopes is None:
        yield Line("warn", "Slack scopes", "Slack did not say which scopes the token has; compare with manifest.yml.")
        return
    missing = [scope for scope in REQUIRED if scope not in scopes]
    if missing:
        why = "; ".join(f"{scope} ({REQUIRED[scope]})" for scope in missing)
        yield Line(
            "FAIL",
            "Slack scopes",
            f"the token lacks {why}: add them under OAuth & Permissions (manifest.yml asks for them) and "
            "reinstall the app, then copy the new Bot User OAuth Token.",
        )
        return
    optional = [scope for scope in OPTIONAL if scope not in scopes]
    if optional:
        why = "; ".join(f"{scope} ({OPTIONAL[scope]})" for scope in optional)
        yield Line("warn", "Slack scopes", f"every scope microopt needs, but not {why}.")
        return
    yield Line("ok", "Slack scopes", "every scope manifest.yml asks for.")


def check_sheets(checkup: Checkup) -> Iterator[Line]:
    """Each sheet in use read once, through the same code as status (nothing recorded)."""
    from bot.service import analysed, campaigns
    from bot.sources import google_key

    deps, groups = checkup.deps, checkup.groups
    if any(google_key(group.spec) for group in groups):
        yield check_google(checkup.settings)
    for group in groups:
        what = "Sheet MICROOPT_SHEET" if not group.linked else f"Sheet of {', '.join(sorted(group.channels))}"
        try:
            data, report = analysed(deps, deps.read_tabs(group.spec), group.spec, record=False)
        except UserFacingError as error:
            yield Line("FAIL", what, str(error))
            continue
        checkup.sheets[group.spec] = data
        if not report.tests:
            yield Line("warn", what, "read, but nothing in it is tested yet: `microopt status` says why, per tab.")
            continue
        found = f"{counted(len(report.tests), 'test')} in {counted(len(campaigns(report)), 'campaign')}"
        yield Line("ok", what, f"read; {found}.")


def check_google(settings: Settings) -> Line:
    from bot.sources.google_credentials import load_credentials

    try:
        credentials = load_credentials(settings)
    except UserFacingError as error:
        return Line("FAIL", "Google", str(error))
    return Line(
        "ok",
        "Google",
        f"the service account {credentials.service_account_email}: share each client's sheet with it (Viewer).",
    )


def check_channels(checkup: Checkup) -> Iterator[Line]:
    """Every channel a Channels tab names, and every linked channel, visible to microopt; and a member of it. Each
    sheet's channels are asked of the workspace that reads it (with installs in many workspaces, its link's)."""
    from slack_sdk.errors import SlackApiError

    from bot.routing import channel_id_of, channel_problems

    wanted: dict[tuple[str | None, str], str] = {}  # (workspace, channel ID) → where it is named
    bad = checked = 0
    for group in checkup.groups:
        team = group.team_id if checkup.settings.oauth else None
        names = checkup.names_of(team)
        if names is None:
            continue
        checked += 1
        data = checkup.sheets.get(group.spec)
        for channel in sorted(group.channels):
            wanted.setdefault((team, channel), "a link (/microopt connect)")
        if data is None:
            continue
        for problem in channel_problems(data.channels, names.ids, names.error):
            bad += 1
            yield Line("FAIL", problem.cell, problem.message + ".")
        for route in data.channels:
            channel_id = channel_id_of(route.channel, names.ids)
            if channel_id is not None:
                wanted.setdefault((team, channel_id), route.cell or "the Channels tab")
    if not checked:
        yield Line("warn", "Channels", "not checked: Slack did not take the token (above).")
        return
    for (team, channel_id), where in sorted(wanted.items(), key=lambda item: (item[0][1], item[0][0] or "")):
        names = checkup.names_of(team)
        client = checkup.client_of(team)
        if names is None or client is None:
            continue
        if channel_id not in set(names.ids.values()):
            try:
                client.conversations_info(channel=channel_id)
            except SlackApiError as error:
                bad += 1
                code = error.response.get("error", "")
                yield Line(
                    "FAIL",
                    where,
                    f"Slack has no channel {channel_id} that microopt can see ({code}): check the ID, or invite "
                    "microopt if the channel is private.",
                )
                continue
        elif names.joined and channel_id not in names.joined:
            bad += 1
            yield Line(
                "FAIL",
                where,
                f"microopt is not a member of {channel_id}: `/invite @microopt` there, or its digests and charts "
                "cannot be posted.",
            )
    if not bad:
        named = counted(len(wanted), "channel")
        yield Line("ok", "Channels", f"{named} named by the sheets and links, each visible to microopt and joined.")


def check_installs(checkup: Checkup) -> Iterator[Line]:
    """With installs in many workspaces: each installed workspace's token, asked of Slack (`auth.test`)."""
    from slack_sdk.errors import SlackApiError
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from bot.state.installs import installation_store

    if not checkup.settings.oauth:
        return
    if checkup.store is None:
        yield Line("warn", "Slack installs", "not checked: the database did not answer (above).")
        return
    try:
        installs = installation_store(checkup.store, checkup.settings.slack_client_id or "")
        with checkup.store.engine.connect() as conn:
            teams = sorted({str(t) for (t,) in conn.execute(select(installs.bots.c.team_id).distinct()) if t})
    except SQLAlchemyError:
        yield Line("FAIL", "Slack installs", "the installations could not be read from the database.")
        return
    if not teams:
        yield Line("warn", "Slack installs", "no workspace has installed microopt yet: open /slack/install.")
        return
    yield Line("ok", "Slack installs", f"{counted(len(teams), 'workspace')} installed microopt.")
    for team in teams[:MAX_WORKSPACES]:
        try:
            client = checkup.deps.slack_client_for(team)
            answer = client.auth_test()
        except (SlackApiError, UserFacingError) as error:
            why = error.response.get("error", "") if isinstance(error, SlackApiError) else str(error)
            yield Line("FAIL", f"Workspace {team}", f"its token does not work ({why}): reinstall from /slack/install.")
            continue
        checkup.clients[team] = client
        yield Line("ok", f"Workspace {team}", f"the bot of {answer.get('team') or team} answers.")


def check_digests(checkup: Checkup) -> Iterator[Line]:
    """The next digest of every channel, from the Channels tabs as read now and the schedules set in Slack."""
    from bot.channel_sheets import routes_of
    from bot.schedules.by_channel import ScheduleRow, effective_schedules, sheet_schedules
    from bot.schedules.slots import next_slot
    from bot.slack_api.directory import ChannelNames

    now = dt.datetime.now(dt.UTC)
    settings = checkup.settings
    rows: list[ScheduleRow] = []
    for group in checkup.groups:
        data = checkup.sheets.get(group.spec)
        if data is None:
            continue
        names = checkup.names_of(group.team_id if settings.oauth else None) or ChannelNames()
        routes = routes_of(group, data.channels, names.ids)
        for wanted in sheet_schedules(routes, settings.timezone, names.ids):
            rows.append(
                ScheduleRow(
                    wanted.channel, "sheet", wanted.channel_name, wanted.target, wanted.spec, wanted.timezone, now, now
                )
            )
    if checkup.store is not None:
        rows += [row for row in checkup.store.schedules() if row.source == "slack"]
    schedules = effective_schedules(rows)
    if not schedules:
        yield Line(
            "warn",
            "Digests",
            "no channel has a schedule yet: type `/microopt schedule weekdays 09:00` in a channel, or fill the "
            "Channels tab's Schedule column.",
        )
        return
    for found in sorted(schedules, key=lambda s: s.channel):
        where = f"Digest {('#' + found.channel_name) if found.channel_name else found.channel} ({found.channel})"
        if found.schedule is None:
            if found.problem:
                yield Line("FAIL", where, found.problem)
            else:
                yield Line("ok", where, "turned off with /microopt schedule off.")
            continue
        upcoming = next_slot(found.schedule, now)
        when = f"{upcoming.astimezone(found.schedule.zone):%a %-d %b %H:%M} ({found.timezone})" if upcoming else "never"
        origin = "the Channels tab" if found.source == "sheet" else "/microopt schedule"
        yield Line("ok", where, f"next {when}, {found.schedule.description} from {origin}.")


def doctor() -> bool:
    """Print one line per check; True when none failed."""
    lines: list[Line] = []

    def say(line: Line) -> None:
        lines.append(line)
        typer.echo(str(line))

    first, settings = check_settings()
    say(first)
    if settings is None:
        return False
    checkup = Checkup(settings)
    say(check_serving(settings))
    say(check_database(checkup))
    for check in (check_slack, check_installs, check_sheets, check_channels, check_digests):
        for line in check(checkup):
            say(line)
    failed = sum(1 for line in lines if line.status == "FAIL")
    typer.echo(f"{counted(failed, 'check')} failed." if failed else "Every check passed.")
    return failed == 0


def register(app: typer.Typer) -> None:
    @app.command(name="doctor")
    def doctor_command(debug: DebugOption = False) -> None:
        """Check this deployment end to end (settings, database, Slack, sheets, channels, digests); exit 1 when a
        check fails."""
        if not run_for_user(doctor, debug):
            raise typer.Exit(1)
