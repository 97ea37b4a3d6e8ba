"""What the services need from the outside world, built once by the entry point and injected."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import TYPE_CHECKING

from analysis.models import Problem, Report, Tab
from bot.errors import NoDatabase, NoSlackClient, SheetUnavailable
from bot.sentences import NO_DATABASE, NO_SLACK_CLIENT
from bot.settings import Settings
from bot.sources import read_tabs
from bot.sources.cache import SheetCache
from bot.sources.decisions_tab import DecisionsSheet, SheetEntry, WrittenCell
from bot.sources.quota import ReadQuota
from bot.sources.writeback import VerdictWriter

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.sources.google import GoogleSheets
    from bot.state.store import StateStore


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def never_read(spec: str) -> dt.datetime | None:
    return None


# The null objects of a Deps built without a database, a Slack client or a sheet to write verdicts to (tests,
# the terminal): each says so in one way, and callers that can go on without it catch that one error.
def no_state() -> StateStore:
    raise NoDatabase(NO_DATABASE)


def no_slack_client() -> WebClient:
    raise NoSlackClient(NO_SLACK_CLIENT)


def no_verdict_writer(source: str, report: Report) -> Problem | None:
    return None


def no_decisions_sheet(source: str, entries: Sequence[SheetEntry]) -> list[list[WrittenCell]]:
    raise SheetUnavailable("microopt was started without a Google Sheets client to write the Decisions tab with.")


@dataclass
class Deps:
    settings: Settings
    read_tabs: Callable[[str], list[Tab]]
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    last_read: Callable[[str], dt.datetime | None] = field(default=never_read)
    # Shared state (schedules, digest records, verdict history) and the Slack client digests post with;
    # both built on first use (bot/state, bot/digests/run.py).
    state: Callable[[], StateStore] = field(default=no_state)
    slack_client: Callable[[], WebClient] = field(default=no_slack_client)
    # Rewrites the sheet's Verdicts tab after a status run (MICROOPT_WRITE_VERDICTS); returns a note for the
    # report when that failed.
    write_verdicts: Callable[[str, Report], Problem | None] = field(default=no_verdict_writer)
    # Appends decisions taken from Slack to the sheet's Decisions tab, setting or restoring Status cells
    # (bot.sources.decisions_tab); raises SheetUnavailable when the sheet did not take them.
    write_decisions: Callable[[str, Sequence[SheetEntry]], list[list[WrittenCell]]] = field(default=no_decisions_sheet)
    # The client of one workspace, with installs in many (`bot.workspaces`); None: `slack_client` speaks for all.
    team_client: Callable[[str | None], WebClient] | None = None

    def slack_client_for(self, team_id: str | None) -> WebClient:
        """The client that posts in `team_id`'s channels: its own installation's, or the one SLACK_BOT_TOKEN's."""
        return self.team_client(team_id) if self.team_client is not None else self.slack_client()


def state_factory(settings: Settings) -> Callable[[], StateStore]:
    lock = threading.Lock()  # two threads asking first must not open two stores (they race to make the schema)

    @cache
    def open_state() -> StateStore:
        from bot.state.store import StateStore  # SQLAlchemy is imported only when state is used

        return StateStore.open(settings.database_url)

    def state() -> StateStore:
        with lock:
            return open_state()

    return state


def slack_client_factory(settings: Settings) -> Callable[[], WebClient]:
    @cache
    def client() -> WebClient:
        from bot.slack_api.client import create_worker_client

        return create_worker_client(settings)

    return client


def google_sheets_factory(settings: Settings, quota: ReadQuota | None = None) -> Callable[[], GoogleSheets]:
    @cache
    def sheets() -> GoogleSheets:
        from bot.sources.google import GoogleSheets  # gspread is imported only when a Google Sheet is used

        return GoogleSheets(settings, quota=quota)

    return sheets


def create_deps(settings: Settings, clock: Callable[[], dt.datetime] = utc_now) -> Deps:
    quota = ReadQuota(settings.sheets_reads_per_minute)  # one per process: the reading and the writing client
    google = google_sheets_factory(settings, quota)
    sheets = SheetCache(
        partial(read_tabs, settings=settings, google=google), ttl_seconds=settings.sheet_cache_seconds, clock=clock
    )
    writer = VerdictWriter(google, clock=clock, min_interval_seconds=settings.sheet_cache_seconds)
    # Reads stay read-only; the client that writes decisions signs in with the write scope on first use.
    editor = google_sheets_factory(settings.model_copy(update={"write_verdicts": True}), quota)
    decisions = DecisionsSheet(editor, date_order=settings.date_order)
    state = state_factory(settings)
    slack_client = slack_client_factory(settings)
    team_client = None
    if settings.oauth:  # installs in many workspaces: each workspace's token from the database
        from bot.workspaces import Workspaces

        team_client = Workspaces(settings, state, slack_client).client
    return Deps(
        settings=settings,
        read_tabs=sheets.read,
        clock=clock,
        last_read=sheets.last_read,
        state=state,
        slack_client=slack_client,
        write_verdicts=writer.write,
        write_decisions=decisions.write,
        team_client=team_client,
    )
