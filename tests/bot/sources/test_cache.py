"""Reads are cached for a while and shared by concurrent commands, for local files and Google Sheets alike."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from analysis.models import Tab
from bot.deps import create_deps
from bot.errors import SheetUnavailable
from bot.service import status_report
from bot.sources.cache import SheetCache
from tests.bot.sources.conftest import EMAIL, KEY

START = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class Reader:
    """A source that counts its reads and can be held mid-read."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail_with: Exception | None = None

    def __call__(self, spec: str) -> list[Tab]:
        self.calls.append(spec)
        self.entered.set()
        assert self.gate.wait(5)
        if self.fail_with is not None:
            raise self.fail_with
        return [Tab(spec, [[len(self.calls)]])]


def test_reads_are_cached_for_the_configured_time():
    clock, reader = Clock(), Reader()
    cache = SheetCache(reader, ttl_seconds=60, clock=clock)
    first = cache.read("a.csv")
    clock.advance(59)
    assert cache.read("a.csv") is first
    clock.advance(1)
    assert cache.read("a.csv") is not first
    assert reader.calls == ["a.csv", "a.csv"]


def test_last_read_is_when_the_source_was_last_read():
    clock, reader = Clock(), Reader()
    cache = SheetCache(reader, ttl_seconds=60, clock=clock)
    assert cache.last_read("a.csv") is None
    cache.read("a.csv")
    clock.advance(30)
    cache.read("a.csv")  # from the cache: not a read
    assert cache.last_read("a.csv") == START


def test_a_url_and_its_key_share_one_entry():
    reader = Reader()
    cache = SheetCache(reader, ttl_seconds=60, clock=Clock())
    cache.read(f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0")
    cache.read(KEY)
    assert len(reader.calls) == 1


def test_concurrent_commands_share_one_read_in_flight():
    reader = Reader()
    reader.gate.clear()
    cache = SheetCache(reader, ttl_seconds=0, clock=Clock())  # no caching: only the in-flight read is shared
    with ThreadPoolExecutor(max_workers=8) as pool:
        leader = pool.submit(cache.read, "a.csv")
        assert reader.entered.wait(5)
        followers = [pool.submit(cache.read, "a.csv") for _ in range(7)]
        reader.gate.set()
        results = [leader.result(5)] + [f.result(5) for f in followers]
    assert all(r is results[0] for r in results)
    assert reader.calls == ["a.csv"]


def test_a_failed_read_is_shared_by_the_waiting_commands_and_not_cached():
    reader = Reader()
    reader.gate.clear()
    reader.fail_with = SheetUnavailable("Google Sheets is rate-limiting microopt.")
    cache = SheetCache(reader, ttl_seconds=60, clock=Clock())
    with ThreadPoolExecutor(max_workers=3) as pool:
        leader = pool.submit(cache.read, "a.csv")
        assert reader.entered.wait(5)
        follower = pool.submit(cache.read, "a.csv")
        reader.gate.set()
        for future in (leader, follower):
            with pytest.raises(SheetUnavailable):
                future.result(5)
    reader.fail_with = None
    assert cache.read("a.csv")[0].rows == [[2]]
    assert cache.last_read("a.csv") == START


def test_the_deps_reader_caches_google_reads_across_commands(sheets_api, make_settings):
    """Three status commands within a minute read the Google Sheet once: two Sheets requests in all."""
    header = ["Campaign", "Variant", "Clicks", "Buys (macro)"]
    sheets_api.add_spreadsheet(
        KEY, {"Results": [header, ["S", "A", 100, 3], ["S", "B", 100, 5]]}, shared_with={EMAIL: "reader"}
    )
    clock = Clock()
    deps = create_deps(make_settings(), clock=clock)
    for _ in range(3):
        assert status_report(deps).tests
        clock.advance(20)
    assert len(sheets_api.sheets_calls) == 2
    assert deps.last_read(KEY) == START
    clock.advance(1)  # 61 s after the first read
    status_report(deps)
    assert len(sheets_api.sheets_calls) == 4
    assert len(sheets_api.calls_to("token")) == 1  # one sign-in for the process
