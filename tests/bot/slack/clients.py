"""A deployment serving several clients, for end-to-end tests: the real app behind a loopback server, the Slack
stand-in, the Sheets stand-in with a service-account key signed in to by real google-auth, and a real state
database (SQLite or PostgreSQL). Each client has a Google Sheet of its own, shared (or not) with microopt."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.models import Tab
from bot.deps import Deps, create_deps
from bot.settings import Settings
from bot.state.links import SheetLink, link_of
from tests.bot.slack.harness import (
    BOT_TOKEN,
    NOW,
    SIGNING_SECRET,
    Served,
    all_text,
    posted_messages,
    send_command,
    serve,
    tiny_chart,
    wait_for,
)
from tests.fakes.sheets_api import SheetsStandIn, service_account_info
from tests.fakes.slack_api import SlackStandIn

_triggers = itertools.count(1)
EMAIL = "microopt-reader@agency-project.iam.gserviceaccount.com"
RESULTS_HEADER = ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)", "Purchases (macro)"]
CHANNELS_HEADER = ["Campaign", "Channel", "Schedule", "Timezone"]


def sheet_key(name: str) -> str:
    """A spreadsheet key as Google makes them (44 characters), one per client."""
    return (name.capitalize() + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ")[:44]


def sheet_url(key: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0"


def results(*campaigns: str) -> list[list[Any]]:
    """A Results tab with one two-variant test per campaign."""
    rows: list[list[Any]] = [RESULTS_HEADER]
    for campaign in campaigns:
        rows += [[campaign, "Audience", "A", 2000, 100, 8], [campaign, "Audience", "B", 2000, 161, 11]]
    return rows


@dataclass
class Clients:
    slack: SlackStandIn
    sheets: SheetsStandIn
    settings: Settings
    key_file: Path
    served: Served | None = None
    deps: Deps | None = None
    keys: dict[str, str] = field(default_factory=dict)  # client name -> its sheet's key

    def add_sheet(
        self, name: str, campaigns: tuple[str, ...], channels: list[list[Any]] | None = None, shared: bool = True
    ) -> str:
        """A client's Google Sheet: a Results tab, a Channels tab when `channels` is given; its key."""
        key = sheet_key(name)
        tabs = {"Results": results(*campaigns)}
        if channels is not None:
            tabs["Channels"] = [CHANNELS_HEADER, *channels]
        self.sheets.add_spreadsheet(key, tabs, shared_with={EMAIL: "reader"} if shared else {})
        self.keys[name] = key
        return key

    def ask(self, text: str, channel_id: str, **fields: Any) -> str:
        """Send a command and wait until it is answered (its claim in the database ends); every text it sent to
        Slack, posts and responses, joined."""
        assert self.served is not None and self.deps is not None
        posts, responses = len(posted_messages(self.slack)), len(self.slack.responses)
        trigger = f"{next(_triggers)}.clients.trigger"
        channel_name = fields.pop("channel_name", self.slack.channels.get(channel_id, "elsewhere"))
        fields.update(channel_id=channel_id, channel_name=channel_name, trigger_id=trigger)
        reply = send_command(self.served, self.slack, text, **fields)
        assert reply.status == 200, reply
        store = self.deps.state()
        wait_for(lambda: store.answer_status(f"trigger_id:{trigger}")[0] in ("answered", "lost"))
        new_posts = posted_messages(self.slack)[posts:]
        new_responses = [payload for _, payload in self.slack.responses[responses:]]
        return "\n".join([*(all_text(p) for p in new_posts), *(all_text(p) for p in new_responses)])

    def link(self, channel_id: str) -> SheetLink | None:
        assert self.deps is not None
        return link_of(self.deps.state(), channel_id)


def clients_settings(slack: SlackStandIn, sheets: SheetsStandIn, key_file: Path, **values: Any) -> Settings:
    defaults: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "sheets_endpoint": sheets.base,
        "google_credentials_file": key_file,
        "google_credentials_json": None,
        "sheets_timeout_seconds": 2.0,
        "sheets_attempts": 2,
        "min_days": 1,
    }
    return Settings(_env_file=None, **{**defaults, **values})  # type: ignore[call-arg]


@contextmanager
def deployment(
    tmp_path: Path,
    rsa_key: Any,
    slack: SlackStandIn,
    database_url: str,
    **values: Any,
) -> Iterator[Clients]:
    """A Sheets stand-in and a key for it, settings over the given database; not serving yet (`serving`)."""
    with SheetsStandIn(public_key=rsa_key.public_key()) as sheets:
        key_file = tmp_path / "service-account.json"
        key_file.write_text(json.dumps(service_account_info(rsa_key, token_uri=sheets.token_uri, email=EMAIL)))
        settings = clients_settings(slack, sheets, key_file, database_url=database_url, **values)
        yield Clients(slack, sheets, settings, key_file)


@contextmanager
def serving(clients: Clients, clock: Any = None) -> Iterator[Clients]:
    """The real app with the real deps (shared sheet cache, Google client, state store) behind a loopback server."""
    deps = create_deps(clients.settings, clock=clock or (lambda: NOW))
    deps.state().ensure_schema()  # opened once before the threads race to open it
    clients.deps = deps
    with serve(clients.settings, deps, draw_chart=tiny_chart) as served:
        clients.served = served
        try:
            yield clients
        finally:
            served.drain()
            clients.served = None
    deps.state().close()


def tabs_of(clients: Clients, key: str) -> list[Tab]:
    spreadsheet = clients.sheets.spreadsheets[key]
    return [Tab(sheet.title, sheet.rows) for sheet in spreadsheet.sheets]


__all__ = ["NOW", "Clients", "deployment", "dt", "serving"]
