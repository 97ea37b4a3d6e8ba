from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from analysis.models import Tab
from bot.deps import Deps
from bot.digests.notes import trouble_sentences
from bot.digests.record import read_trouble
from bot.digests.run import ChannelPacer, DigestRun, post_digests
from bot.settings import Settings
from bot.slack_api.client import create_web_client
from bot.state.store import StateStore
from tests.fakes.slack_api import SlackStandIn

# -- a small world: a sheet that can change, the database, the Slack stand-in, an injected clock ---------
RESULTS_HEADER = ["Campaign", "Test", "Variant", "Visitors", "Purchases (macro)"]
CLOSE = [["Spring Sale", "Audience", "A", 20000, 400], ["Spring Sale", "Audience", "B", 20000, 410]]
B_WINS = [["Spring Sale", "Audience", "A", 20000, 400], ["Spring Sale", "Audience", "B", 20000, 800]]
SEARCH = [["Brand Search", "Keyword", "running shoes", 20000, 300], ["Brand Search", "Keyword", "trail", 20000, 305]]
CHANNELS_HEADER = ["Campaign", "Channel", "Schedule", "Timezone"]


class Sheet:
    """What `read_tabs` returns; tests edit it between runs and count the reads."""

    def __init__(self) -> None:
        self.header = RESULTS_HEADER
        self.results = [*CLOSE, *SEARCH]
        self.channels = [
            ["Spring Sale", "#spring-sale", "weekdays 09:00", "Europe/London"],
            ["Brand Search", "C0SEARCH", "daily 17:00", "America/New_York"],
        ]
        self.reads = 0
        self.fail: Exception | None = None

    def read(self, spec: str) -> list[Tab]:
        self.reads += 1
        if self.fail is not None:
            raise self.fail
        return [
            Tab("Results", [self.header, *self.results]),
            Tab("Channels", [CHANNELS_HEADER, *self.channels]),
        ]


@dataclass
class World:
    store: StateStore
    slack: SlackStandIn
    sheet: Sheet
    deps: Deps
    pacer: ChannelPacer
    sleeps: list[float] = field(default_factory=list)  # what the posting waited between tries (not slept)

    def run(self, when: dt.datetime, **options: Any) -> DigestRun:
        return post_digests(self.deps, when, pacer=self.pacer, sleep=self.sleeps.append, **options)

    def copies(self) -> Counter[tuple[str, str, int]]:
        """How many times each digest message is in Slack: (channel ID, slot, part) → copies."""
        return self.slack.digest_copies()

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages posted to `channel` (written as `#name` or ID; digests post to the ID)."""
        calls = [c.params for c in self.slack.calls_to("chat.postMessage")]
        wanted = None if channel is None else self.slack.channel_id(channel) or channel
        return [p for p in calls if wanted is None or (self.slack.channel_id(p["channel"]) or p["channel"]) == wanted]

    def with_store(self, store: StateStore) -> Deps:
        """The same world seen by another process (its own connections)."""
        return replace(self.deps, state=lambda: store)


def settings_for(slack: SlackStandIn, **extra: Any) -> Settings:
    return Settings(
        SLACK_BOT_TOKEN=slack.token,
        SLACK_API_URL=slack.api_url,
        MICROOPT_SHEET="test-sheet.xlsx",
        MICROOPT_SCHEDULE_SYNC_MINUTES=24 * 60,
        MICROOPT_MIN_DAYS=1,  # digests are checked on verdicts called from single totals
        **extra,
    )


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(channels={"C0SPRING": "spring-sale", "C0SEARCH": "search-team", "C0OTHER": "other"}) as stand_in:
        yield stand_in


@pytest.fixture
def world(store: StateStore, slack: SlackStandIn) -> World:
    sheet = Sheet()
    settings = settings_for(slack)
    deps = Deps(
        settings=settings,
        read_tabs=sheet.read,
        clock=lambda: dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        state=lambda: store,
        slack_client=lambda: create_web_client(settings),
    )
    return World(store, slack, sheet, deps, ChannelPacer(interval=0))


def trouble_notes(deps: Deps) -> list[str]:
    """What `/microopt sheet` lists of the digest record, before Slack's escaping."""
    return trouble_sentences(read_trouble(deps))


def schedule_command(deps: Deps, channel_id: str, channel_name: str, text: str, user_id: str = "") -> str:
    """`/microopt schedule <text>` as typed in `channel_id` by someone of the installing workspace."""
    from bot.slack.schedule_command import ScheduleRequest, handle_schedule_command

    return handle_schedule_command(deps, ScheduleRequest(channel_id, channel_name, text, user_id))
