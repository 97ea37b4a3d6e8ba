"""Fault injection against real `microopt digest` processes: one slot for N channels, one fault, then a run
every few seconds (as cron or the scheduler's minute tick would) until every channel holds its digest.

Used by tests/bot/digests/test_faults.py (short leases, this code) and benchmarks/bench_digest.py (default
settings, this code and an earlier checkout side by side). The processes read the real clock, so the sheet's
schedules are written for the current minute, in a timezone where it is now about noon (a missed digest is
only posted the same local day). What counts is in Slack: the stand-in's stored messages, by their metadata.

Faults:
- `kill -9`: posts are answered 0.3 s after Slack stored them; the run is killed after a few are stored.
- `500 after storing`: three posts are stored and answered 500.
- `answer after timeout`: two posts are stored and answered only after the client gave up.
- `channel failing`: two channels answer 500 (nothing stored) for 20 s, then recover.
- `PostgreSQL stopped`: as `kill -9`, but the database server is stopped instead, then started again.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.fakes.postgres import RestartablePostgres
from tests.fakes.slack_api import STORE_THEN_500, STORE_THEN_STALL, SlackStandIn

KILL, FIVE_HUNDRED, TIMEOUT, FAILING, DATABASE = (
    "kill -9 mid-run",
    "500 after storing",
    "answer after timeout",
    "channel failing 20 s",
    "PostgreSQL stopped mid-run",
)
FAULTS = (KILL, FIVE_HUNDRED, TIMEOUT, FAILING, DATABASE)
RESULTS_HEADER = ["Campaign", "Test", "Variant", "Visitors", "Purchases (macro)"]


@dataclass
class FaultResult:
    fault: str
    channels: int
    posted: int = 0  # channels holding the digest at least once
    duplicated: int = 0  # copies beyond the first
    lost: int = 0  # channels without it at the deadline
    minutes: float | None = None  # from the fault until every channel held it
    exits: list[int] = field(default_factory=list)
    first_run: tuple[str, str] = ("", "")  # stdout, stderr of the run the fault hit

    def row(self) -> str:
        minutes = f"{self.minutes:.2f}" if self.minutes is not None else "never"
        return f"{self.posted} posted / {self.duplicated} duplicated / {self.lost} lost / {minutes} min"


def noon_zone(now: dt.datetime) -> str:
    """A fixed-offset zone where `now` is between 12:00 and 12:59 (`Etc/GMT+N` is N hours *behind* UTC)."""
    return f"Etc/GMT{-(12 - now.hour):+d}"


def channel_ids(count: int) -> dict[str, str]:
    return {f"C{index:07d}X": f"fault-{index:02d}" for index in range(count)}


def write_sheet(path: Path, channels: dict[str, str], now: dt.datetime) -> Path:
    """One campaign per channel, each channel's digest due this minute; channels named `#fault-NN`."""
    from openpyxl import Workbook

    zone = noon_zone(now)
    local = now.astimezone(ZoneInfo(zone))
    book = Workbook()
    results = book.active
    assert results is not None
    results.title = "Results"
    results.append(RESULTS_HEADER)
    routes = book.create_sheet("Channels")
    routes.append(["Campaign", "Channel", "Schedule", "Timezone"])
    for index, name in enumerate(channels.values()):
        results.append([f"Campaign {index:02d}", "Audience", "A", 20000, 400])
        results.append([f"Campaign {index:02d}", "Audience", "B", 20000, 410 + index])
        routes.append([f"Campaign {index:02d}", f"#{name}", f"daily {local:%H:%M}", zone])
    book.save(path)
    return path


def process_env(
    code: Path, slack: SlackStandIn, sheet: Path, database: str, settings: dict[str, str]
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MICROOPT_", "SLACK_", "GOOGLE_")) and key not in ("DATABASE_URL", "PYTHONPATH")
    }
    env.update(
        {
            "MICROOPT_SHEET": str(sheet),
            "DATABASE_URL": database,
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_API_URL": slack.api_url,
            "PYTHONPATH": str(code),
            **settings,
        }
    )
    return env


def prime_schedules(database: str, sheet: Path, now: dt.datetime, channels: dict[str, str]) -> None:
    """The scheduler has known these schedules for an hour (a schedule first seen now counts from now on);
    `channels` is Slack's ID → name, as conversations.list would resolve the sheet's names."""
    from analysis.reading.workbook import parse_workbook
    from bot.schedules.by_channel import sheet_schedules
    from bot.settings import Settings
    from bot.sources import read_tabs
    from bot.state.store import StateStore

    store = StateStore.open(database, worker="fault-setup")
    try:
        data = parse_workbook(read_tabs(str(sheet), Settings(MICROOPT_SHEET=str(sheet))))
        store.sync_sheet_schedules(
            sheet_schedules(data.channels, "UTC", {n: i for i, n in channels.items()}), now - dt.timedelta(hours=1)
        )
    finally:
        store.close()


def coverage(slack: SlackStandIn, slot: str) -> Counter[str]:
    """Copies of this slot's digest per channel ID (the most copied part)."""
    per_channel: Counter[str] = Counter()
    for (channel, at, _part), copies in slack.digest_copies().items():
        if at == slot:
            per_channel[channel] = max(per_channel[channel], copies)
    return per_channel


def run_fault(
    fault: str,
    *,
    code: Path,
    workdir: Path,
    database: str,
    postgres: RestartablePostgres | None = None,
    channels: int = 20,
    every: float = 2.0,
    deadline: float = 130.0,
    settings: dict[str, str] | None = None,
    stall_seconds: float = 3.0,
) -> FaultResult:
    """Run one fault against the code at `code` (a checkout's root) and measure what ends up in Slack."""
    names = channel_ids(channels)
    ids = list(names)
    now = dt.datetime.now(dt.UTC)
    if now.second > 50:  # the slot is this minute: do not start a run that would cross into the next
        time.sleep(61 - now.second)
        now = dt.datetime.now(dt.UTC)
    slot = now.replace(second=0, microsecond=0).isoformat()
    sheet = write_sheet(workdir / "campaigns.xlsx", names, now)
    prime_schedules(database, sheet, now, names)
    result = FaultResult(fault, channels)
    with SlackStandIn(channels=names) as slack:
        faults = slack.faults
        faults.stall_seconds = stall_seconds
        if fault in (KILL, DATABASE):
            faults.answer_delay_seconds = 0.3
        elif fault == FIVE_HUNDRED:
            faults.add(STORE_THEN_500, times=3)
        elif fault == TIMEOUT:
            faults.add(STORE_THEN_STALL, times=2)
        elif fault == FAILING:
            for channel in ids[:2]:
                faults.fail_channel(channel, 20)
        env = process_env(code, slack, sheet, database, settings or {})

        def start() -> subprocess.Popen[str]:
            command = [sys.executable, "-m", "bot", "digest"]
            return subprocess.Popen(
                command, env=env, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )

        first = start()
        fault_at = time.monotonic()
        try:
            if fault in (KILL, DATABASE):
                if not slack.wait_for_stored(6, timeout=60):
                    raise AssertionError(f"the digest run posted too little before the fault: {first.communicate()}")
                fault_at = time.monotonic()
                if fault == KILL:
                    first.send_signal(signal.SIGKILL)
                else:
                    assert postgres is not None
                    postgres.stop()
            out, err = first.communicate(timeout=120)
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()
        result.first_run = (out, err)
        result.exits.append(first.returncode)
        faults.answer_delay_seconds = 0.0
        if fault == DATABASE:
            assert postgres is not None
            postgres.start()
        if fault == FAILING:
            fault_at += 20  # counted from Slack's recovery
        covered_at: float | None = None
        extra_runs = 0
        while time.monotonic() - fault_at < deadline:
            have = coverage(slack, slot)
            if len(have) == channels:
                covered_at = covered_at or time.monotonic()
                if extra_runs >= 1:  # one more run after full coverage: does anything post twice?
                    break
                extra_runs += 1
            time.sleep(max(0.0, every))
            again = start()
            try:
                again.communicate(timeout=120)
            finally:
                if again.poll() is None:
                    again.kill()
                    again.communicate()
            result.exits.append(again.returncode)
        have = coverage(slack, slot)
        if len(have) == channels and covered_at is None:
            covered_at = time.monotonic()
        result.posted = len(have)
        result.duplicated = sum(copies - 1 for copies in have.values())
        result.lost = channels - len(have)
        result.minutes = (covered_at - fault_at) / 60 if covered_at is not None else None
    return result
