"""Exactly-once digests with two real OS processes: two `microopt digest` runs started together against one
real PostgreSQL, one local sheet and the loopback Slack stand-in.

The processes read the real clock, so the sheet's schedules are written for the current minute. They are
written in a timezone where it is now about noon, so the digest's slot and the run always fall on the same
local day (a missed digest is only posted the same day), whatever the time the test runs.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from analysis.reading.workbook import parse_workbook
from bot.schedules.by_channel import sheet_schedules
from bot.settings import Settings
from bot.sources import read_tabs
from bot.state.store import StateStore
from tests.bot.slack.harness import write_book
from tests.fakes.slack_api import SlackStandIn

REPO = Path(__file__).resolve().parents[3]
EXIT_TIMEOUT = 60


def noon_zone(now: dt.datetime) -> str:
    """A fixed-offset zone where `now` is between 12:00 and 12:59 (`Etc/GMT+N` is N hours *behind* UTC)."""
    ahead = 12 - now.hour  # -11 … +12, all of which exist as Etc/GMT zones
    return f"Etc/GMT{-ahead:+d}"


def process_env(slack: SlackStandIn, sheet: Path, database: str) -> dict[str, str]:
    """The environment of a worker process: ours without any microopt or Slack settings, then the test's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MICROOPT_", "SLACK_", "GOOGLE_")) and key != "DATABASE_URL"
    }
    env.update(
        {
            "MICROOPT_SHEET": str(sheet),
            "DATABASE_URL": database,
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_API_URL": slack.api_url,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        }
    )
    return env


def wait_for_waiters(store: StateStore, workers: list[subprocess.Popen[str]], count: int) -> None:
    """Until `count` sessions wait for the lock on microopt_schedules (bounded; fails if a worker exits)."""
    query = text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'microopt_schedules'::regclass")
    deadline = time.monotonic() + EXIT_TIMEOUT
    with store.engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(query).scalar() == count:
                return
            exited = [w.returncode for w in workers if w.poll() is not None]
            assert not exited, f"a digest process exited early ({exited})"
            conn.rollback()
            time.sleep(0.02)
    raise AssertionError(f"the digest processes did not reach the database within {EXIT_TIMEOUT}s")


def test_two_digest_processes_at_once_post_each_slot_once(
    slack: SlackStandIn, postgres_url: str, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    zone = noon_zone(now)
    local = now.astimezone(ZoneInfo(zone))
    slot = local.replace(second=0, microsecond=0).astimezone(dt.UTC)
    sheet = write_book(
        tmp_path / "campaigns.xlsx",
        routes=[
            ["Campaign", "Channel", "Schedule", "Timezone"],
            ["Spring Sale", "#spring-sale", f"daily {local:%H:%M}", zone],
            ["Brand Search", "C0SEARCH", f"{local.minute} {local.hour} * * *", zone],
        ],
    )
    # The scheduler has known these schedules for an hour (a schedule first seen now counts from now on).
    store = StateStore.open(postgres_url, worker="test")
    try:
        data = parse_workbook(read_tabs(str(sheet), Settings(MICROOPT_SHEET=str(sheet))))
        store.sync_sheet_schedules(
            sheet_schedules(data.channels, "UTC", {"spring-sale": "C0SPRING"}), now - dt.timedelta(hours=1)
        )

        env = process_env(slack, sheet, postgres_url)
        command = [sys.executable, "-m", "bot", "digest"]
        outputs = []
        with store.engine.connect() as gate:
            # Hold both processes at their first look at the schedules, then let them go at the same moment,
            # so that both find the slots due and race to claim them.
            gate.execute(text("LOCK TABLE microopt_schedules IN ACCESS EXCLUSIVE MODE"))
            workers = [
                subprocess.Popen(
                    command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
                for _ in range(2)
            ]
            try:
                wait_for_waiters(store, workers, 2)
            finally:
                gate.rollback()
        try:
            for worker in workers:
                outputs.append(worker.communicate(timeout=EXIT_TIMEOUT))
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.communicate()
        for worker, (out, err) in zip(workers, outputs, strict=True):
            assert worker.returncode == 0, f"microopt digest exited {worker.returncode}:\n{out}\n{err}"

        rows = store.digest_rows()
    finally:
        store.close()

    # Each process printed what it posted; together, each channel once.
    printed = Counter(line for out, _ in outputs for line in out.splitlines() if line.endswith(": posted"))
    assert printed == {"#spring-sale: posted": 1, "C0SEARCH: posted": 1}
    # Slack got each slot's messages once …
    posts = [call.params for call in slack.calls_to("chat.postMessage")]
    slots = Counter((p["channel"], p["metadata"]["event_payload"]["slot"]) for p in posts)
    assert set(slots) == {("C0SPRING", slot.isoformat()), ("C0SEARCH", slot.isoformat())}
    # … and the record has one posted row per slot, saying how many messages it took.
    assert sorted((r.channel, r.slot_at, r.kind, r.status) for r in rows) == [
        ("C0SEARCH", slot, "scheduled", "posted"),
        ("C0SPRING", slot, "scheduled", "posted"),
    ]
    assert {r.target: r.messages for r in rows} == dict(Counter(p["channel"] for p in posts))
    assert all(r.attempts == 1 for r in rows)
