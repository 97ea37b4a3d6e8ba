"""Digests for many clients: MICROOPT_SHEET and sheets linked to channels, each read through real gspread from
the Sheets stand-in, once per run and within Google's read quota (counted at the stand-in on a virtual clock),
each channel given its own sheet's campaigns only; SQLite and a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.channel_sheets import sheet_groups
from bot.deps import Deps
from bot.digests.notes import trouble_sentences
from bot.digests.record import read_trouble, sheet_error_key, trouble_of
from bot.digests.run import ChannelPacer, DigestRun, post_digests
from bot.settings import Settings
from bot.slack_api.client import create_web_client
from bot.sources import read_tabs
from bot.sources.cache import SheetCache
from bot.sources.google import GoogleSheets
from bot.sources.quota import ReadQuota
from bot.state.links import link_channel
from bot.state.store import StateStore
from tests.fakes.sheets_api import SheetsStandIn, service_account_info
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.virtual_time import VirtualTime, most_in_a_minute

EMAIL = "microopt-reader@agency-project.iam.gserviceaccount.com"
MONDAY = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
RESULTS_HEADER = ["Campaign", "Test", "Variant", "Visitors", "Purchases (macro)"]
CHANNELS_HEADER = ["Campaign", "Channel", "Schedule", "Timezone"]


def key_of(name: str) -> str:
    return (name + "_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH")[:44]


def results(*campaigns: str) -> list[list[Any]]:
    rows: list[list[Any]] = [RESULTS_HEADER]
    for campaign in campaigns:
        rows += [[campaign, "Audience", "A", 20000, 400], [campaign, "Audience", "B", 20000, 800]]
    return rows


@dataclass
class Agency:
    slack: SlackStandIn
    sheets: SheetsStandIn
    store: StateStore
    time: VirtualTime
    settings: Settings
    deps: Deps = field(init=False)
    now: dt.datetime = MONDAY

    def __post_init__(self) -> None:
        google = GoogleSheets(
            self.settings,
            quota=ReadQuota(self.settings.sheets_reads_per_minute, clock=self.time, sleep=self.time.sleep),
        )
        cache = SheetCache(
            partial(read_tabs, settings=self.settings, google=lambda: google), ttl_seconds=60, clock=lambda: self.now
        )
        self.deps = Deps(
            settings=self.settings,
            read_tabs=cache.read,
            clock=lambda: self.now,
            last_read=cache.last_read,
            state=lambda: self.store,
            slack_client=lambda: create_web_client(self.settings),
        )

    def sheet(self, name: str, campaigns: tuple[str, ...], channels: list[list[Any]] | None = None, shared=True) -> str:
        key = key_of(name)
        tabs = {"Results": results(*campaigns)}
        if channels is not None:
            tabs["Channels"] = [CHANNELS_HEADER, *channels]
        self.sheets.add_spreadsheet(key, tabs, shared_with={EMAIL: "reader"} if shared else {})
        return key

    def link(self, channel: str, key: str) -> None:
        link_channel(self.store, channel, "T0TEAM", key, "U0LINKER", self.now)

    def schedule(self, channel: str, spec: str = "daily 09:00") -> None:
        """`/microopt schedule daily 09:00` in `channel`, before the day starts."""
        self.store.set_slack_schedule(channel, "", spec, "UTC", MONDAY - dt.timedelta(days=1))

    def run(self, when: dt.datetime, **options: Any) -> DigestRun:
        self.now = when
        return post_digests(self.deps, when, pacer=ChannelPacer(interval=0), sleep=lambda s: None, **options)

    def digest_text(self, channel: str) -> str:
        return "\n".join(
            str(c.params.get("text", ""))
            for c in self.slack.calls_to("chat.postMessage")
            if c.params.get("channel") == channel
        )

    def reads_of(self, key: str) -> int:
        return sum(1 for c in self.sheets.calls_to("batchGet") if key in c.path)


@contextmanager
def agency_over(tmp_path: Path, rsa_key, store: StateStore) -> Iterator[Agency]:
    time = VirtualTime()
    channels = {
        "C0SPRING": "spring-sale",
        "C0ACME01": "acme-results",
        "C0BETA01": "beta-hats",
        "C0BETA02": "beta-caps",
        **{f"C1{n:06d}": f"client-{n}" for n in range(200)},
    }
    with (
        SlackStandIn(channels=channels) as slack,
        SheetsStandIn(rsa_key.public_key(), clock=time, read_quota=60) as sheets,
    ):
        key_file = tmp_path / "key.json"
        key_file.write_text(json.dumps(service_account_info(rsa_key, token_uri=sheets.token_uri, email=EMAIL)))
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=slack.token,
            slack_api_url=slack.api_url,
            sheet=key_of("agency"),
            sheets_endpoint=sheets.base,
            google_credentials_file=key_file,
            min_days=1,
            schedule_sync_minutes=24 * 60,
        )
        yield Agency(slack, sheets, store, time, settings)


@pytest.fixture
def agency(tmp_path: Path, rsa_key, store: StateStore) -> Iterator[Agency]:
    with agency_over(tmp_path, rsa_key, store) as world:
        yield world


@pytest.fixture
def agency_on_sqlite(tmp_path: Path, rsa_key) -> Iterator[Agency]:
    """The 200-sheet run is about reads, not the database: SQLite alone (it takes 20 s of analysis)."""
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    with agency_over(tmp_path, rsa_key, store) as world:
        yield world
    store.close()


def test_each_channel_gets_its_own_sheets_campaigns_and_each_sheet_is_read_once(agency: Agency) -> None:
    agency.sheet(
        "agency",
        ("Spring Sale", "Brand Search"),
        # Brand Search is routed to a channel that reads a sheet of its own: it never gets the agency's campaigns
        [["Spring Sale", "#spring-sale", "daily 09:00", "UTC"], ["Brand Search", "C0ACME01", "daily 09:00", "UTC"]],
    )
    acme = agency.sheet("acme", ("Acme Boots", "Acme Socks"))  # no Channels tab: all of it in its channel
    beta = agency.sheet(
        "beta",
        ("Beta Hats", "Beta Caps"),
        # its last row would send Beta Hats into the agency's channel, which does not read this sheet
        [
            ["Beta Hats", "C0BETA01", "daily 09:00", "UTC"],
            ["Beta Caps", "#beta-caps", "daily 09:00", "UTC"],
            ["Beta Hats", "#spring-sale", "daily 09:00", "UTC"],
        ],
    )
    agency.link("C0ACME01", acme)
    agency.link("C0BETA01", beta)
    agency.link("C0BETA02", beta)
    agency.schedule("C0ACME01")

    agency.run(MONDAY.replace(hour=8, minute=50))  # the Channels tabs' schedules are seen before their slot
    run = agency.run(MONDAY.replace(hour=9, minute=1))

    assert sorted(o.channel for o in run.outcomes if o.status == "posted") == [
        "C0ACME01",
        "C0BETA01",
        "C0BETA02",
        "C0SPRING",
    ]
    spring, acme_text = agency.digest_text("C0SPRING"), agency.digest_text("C0ACME01")
    hats, caps = agency.digest_text("C0BETA01"), agency.digest_text("C0BETA02")
    assert "Spring Sale" in spring and "Beta" not in spring and "Brand Search" not in spring
    assert "Acme Boots" in acme_text and "Acme Socks" in acme_text and "Brand Search" not in acme_text
    assert "Beta Hats" in hats and "Beta Caps" not in hats
    assert "Beta Caps" in caps and "Beta Hats" not in caps
    assert len(agency.slack.calls_to("chat.postMessage")) == 4  # one digest each, #spring-sale only once
    # each sheet read once by the first run (its sync), and once more by the run that posted
    assert [agency.reads_of(key_of("agency")), agency.reads_of(acme), agency.reads_of(beta)] == [2, 2, 2]


def test_a_sheet_that_cannot_be_read_costs_only_its_own_channels(agency: Agency) -> None:
    agency.sheet("agency", ("Spring Sale",), [["Spring Sale", "#spring-sale", "daily 09:00", "UTC"]])
    acme = agency.sheet("acme", ("Acme Boots",))
    beta = agency.sheet("beta", ("Beta Hats",), shared=False)
    agency.link("C0ACME01", acme)
    agency.link("C0BETA01", beta)
    agency.schedule("C0ACME01")
    agency.schedule("C0BETA01")
    agency.run(MONDAY.replace(hour=8, minute=50))

    run = agency.run(MONDAY.replace(hour=9, minute=1))

    assert sorted(o.channel for o in run.outcomes if o.status == "posted") == ["C0ACME01", "C0SPRING"]
    assert agency.store.digest_rows("C0BETA01") == []  # not claimed: the next run tries again
    assert run.problem is not None and f"add {EMAIL} as a Viewer" in run.problem
    groups = sheet_groups(agency.deps)
    by_spec = {group.spec: group for group in groups}
    beta_notes = trouble_sentences(trouble_of(read_trouble(agency.deps, sheet_error_key(by_spec[beta])), by_spec[beta]))
    acme_notes = trouble_sentences(trouble_of(read_trouble(agency.deps, sheet_error_key(by_spec[acme])), by_spec[acme]))
    assert any("could not read the sheet" in note for note in beta_notes)
    assert acme_notes == []  # another client's channel never hears of it

    agency.sheets.spreadsheets[beta].shared_with[EMAIL] = "reader"  # shared at last: the next run posts it
    again = agency.run(MONDAY.replace(hour=9, minute=2))
    assert [o.channel for o in again.outcomes if o.status == "posted"] == ["C0BETA01"]


def test_a_run_over_200_linked_sheets_reads_each_once_within_googles_read_quota(agency_on_sqlite: Agency) -> None:
    """200 channels, each with a sheet of its own and a digest due at 09:00: one run reads every sheet once (two
    requests each), waiting for the quota (50 a minute, the default) instead of meeting Google's 429s, and
    posts every digest."""
    agency = agency_on_sqlite
    agency.sheet("agency", ("Spring Sale",))
    keys = []
    for n in range(200):
        channel = f"C1{n:06d}"
        keys.append(agency.sheet(f"client{n:03d}", (f"Client {n} Launch",)))
        agency.link(channel, keys[-1])
        agency.schedule(channel)

    run = agency.run(MONDAY.replace(hour=9, minute=1), refresh_schedules=False)

    assert run.count("posted") == 200 and run.problem is None
    assert agency.sheets.over_quota == 0
    assert all(agency.reads_of(key) == 1 for key in keys)
    reads = [c.at for c in agency.sheets.calls_to("metadata", "batchGet")]
    assert len(reads) == 400
    # Google's 60 a minute, as the stand-in counts them when they arrive (a request taken from the quota at one
    # moment may arrive a little later, hence the default of 50 a process)
    assert most_in_a_minute(reads) <= 60
    assert agency.time() >= 7 * 60  # 400 requests at 50 a minute: the run paced itself over eight minutes
    for n in (0, 117, 199):
        text = agency.digest_text(f"C1{n:06d}")
        assert f"Client {n} Launch" in text and "Spring Sale" not in text


def test_schedules_of_many_sheets_are_mirrored_a_few_sheets_a_run_oldest_first(agency: Agency) -> None:
    agency.sheet("agency", ("Spring Sale",))
    for n in range(20):
        key = agency.sheet(f"client{n:03d}", (f"Client {n}",), [[f"Client {n}", f"C1{n:06d}", "daily 17:00", "UTC"]])
        agency.link(f"C1{n:06d}", key)
    budget = agency.settings.sheets_reads_per_minute // 8

    synced: list[int] = []
    for minute in range(5):
        before = len(agency.sheets.calls_to("batchGet"))
        agency.run(MONDAY.replace(hour=8, minute=minute))
        synced.append(len(agency.sheets.calls_to("batchGet")) - before)
        assert synced[-1] <= budget

    assert sum(synced) == 21  # every sheet once, none twice
    assert {row.channel for row in agency.store.schedules()} == {f"C1{n:06d}" for n in range(20)}
