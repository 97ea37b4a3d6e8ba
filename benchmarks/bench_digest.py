"""Digests for 200 channels × 5 campaigns against the loopback Slack stand-in, which rate-limits
chat.postMessage to one post per second per channel (429 + Retry-After, like Slack).

Two rounds, one right after the other (as when a missed slot is caught up just before the next one):
every channel gets a digest in round 1 and another in round 2, so round 2 meets the per-channel limit.
Compared, on the same digests and the same stand-in:
- microopt: `post_digests` (channels concurrently, one message a second per channel, Retry-After honoured);
- naive: one message after another with a plain WebClient (no pacing, no retries);
- naive + retries: the same, with slack_sdk's RateLimitErrorRetryHandler (waits Retry-After, one channel at a time).

    python benchmarks/bench_digest.py [--channels 200] [--campaigns 5] [--faults]

`--faults` adds the faults table: each fault of tests/fakes/digest_faults.py (kill -9 mid-run, 500 after
storing, an answer after the client's timeout, two channels failing for 20 s, PostgreSQL stopped mid-run)
against real `microopt digest` processes, 20 channels, a real PostgreSQL, the default settings and a run
every 15 s, for this code and for the code before this work (`--before`, default the merge base with
main, extracted with `git archive`) in the same run: posted / duplicated / lost / minutes to recover.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from analysis.models import Tab
from bot.deps import Deps
from bot.digests.run import ChannelPacer, post_digests
from bot.settings import Settings
from bot.slack_api.client import create_web_client
from bot.state.store import StateStore
from tests.fakes.slack_api import SlackStandIn

NINE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def sheet(channels: int, campaigns: int) -> list[Tab]:
    results: list[list[Any]] = [["Campaign", "Test", "Variant", "Visitors", "Cart views (micro)", "Purchases (macro)"]]
    routes: list[list[Any]] = [["Campaign", "Channel", "Schedule", "Timezone"]]
    for c in range(channels):
        for k in range(campaigns):
            name = f"Campaign {c:03d}-{k}"
            lift = 40 * (k % 3)
            results.append([name, "Audience", "A", 5000, 250, 20])
            results.append([name, "Audience", "B", 5000, 250 + lift, 21])
            routes.append([name, f"#chan-{c:03d}", "0 * * * *", "UTC"])
    return [Tab("Results", results), Tab("Channels", routes)]


def count_posts(slack: SlackStandIn) -> int:
    with slack._lock:
        return sum(1 for call in slack.calls if call.method == "chat.postMessage")


def run_microopt(channels: int, campaigns: int) -> dict[str, Any]:
    names = {f"C{c:08d}": f"chan-{c:03d}" for c in range(channels)}
    tabs = sheet(channels, campaigns)
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn(channels=names, post_interval_seconds=1.0) as slack:
        settings = Settings(SLACK_BOT_TOKEN=slack.token, SLACK_API_URL=slack.api_url, MICROOPT_DIGEST_CONCURRENCY=32)
        store = StateStore.open(f"sqlite:///{tmp}/bench.db")
        deps = Deps(
            settings=settings,
            read_tabs=lambda spec: tabs,
            clock=lambda: NINE,
            state=lambda: store,
            slack_client=lambda: create_web_client(settings),
        )
        post_digests(deps, NINE - dt.timedelta(minutes=30))  # first sync of the schedules
        preview = post_digests(deps, NINE, dry_run=True)
        payloads = [m for o in preview.outcomes if o.digest for m in o.digest.messages]
        pacer = ChannelPacer(1.0)
        started = time.perf_counter()
        first = post_digests(deps, NINE, pacer=pacer)
        second = post_digests(deps, NINE + dt.timedelta(hours=1), pacer=pacer)
        elapsed = time.perf_counter() - started
        posted = sum(o.messages for o in first.outcomes + second.outcomes if o.status == "posted")
        expected = 2 * len(payloads)
        accepted = count_posts(slack) - slack.rate_limited
        store.close()
        return {
            "poster": "microopt (concurrent, paced)",
            "seconds": elapsed,
            "expected": expected,
            "posted": posted,
            "lost": expected - accepted,
            "429s": slack.rate_limited,
            "targets": [o.target for o in preview.outcomes],
            "payloads": [(o.target, o.digest.messages) for o in preview.outcomes if o.digest],
        }


def run_naive(payloads: list[tuple[str, list[dict[str, Any]]]], channels: int, retries: bool) -> dict[str, Any]:
    names = {f"C{c:08d}": f"chan-{c:03d}" for c in range(channels)}
    with SlackStandIn(channels=names, post_interval_seconds=1.0) as slack:
        if retries:
            client = create_web_client(Settings(SLACK_BOT_TOKEN=slack.token, SLACK_API_URL=slack.api_url))
        else:
            client = WebClient(token=slack.token, base_url=slack.api_url)
        expected = posted = 0
        started = time.perf_counter()
        for _round in range(2):
            for target, messages in payloads:
                for message in messages:
                    expected += 1
                    try:
                        client.chat_postMessage(channel=target, text=message["text"], blocks=message["blocks"])
                        posted += 1
                    except SlackApiError:
                        pass
        elapsed = time.perf_counter() - started
        return {
            "poster": "naive sequential" + (" + Retry-After retries" if retries else ""),
            "seconds": elapsed,
            "expected": expected,
            "posted": posted,
            "lost": expected - posted,
            "429s": slack.rate_limited,
        }


REPO = Path(__file__).resolve().parent.parent


def extract(ref: str, into: Path) -> Path:
    """The tree of `ref` in `into` (no .git): what a run of that release would execute."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run_faults(before: str, every: float, deadline: float, only: str | None = None) -> None:
    from tests.fakes.digest_faults import FAULTS, run_fault
    from tests.fakes.postgres import restartable_postgres

    if before == "merge-base":
        before = subprocess.run(
            ["git", "-C", str(REPO), "merge-base", "HEAD", "main"], check=True, capture_output=True, text=True
        ).stdout.strip()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, restartable_postgres() as server:
        old = extract(before, Path(tmp) / "before")
        for index, fault in enumerate(FAULTS):
            if only and only.lower() not in fault.lower():
                continue
            figures = []
            for label, code in (("before", old), ("after", REPO)):
                work = Path(tmp) / f"{label}-{index}"
                work.mkdir()
                database = server.create(f"bench_{label}_{index}")
                result = run_fault(
                    fault,
                    code=code,
                    workdir=work,
                    database=database,
                    postgres=server,
                    every=every,
                    deadline=deadline,
                    stall_seconds=12.0,  # past the client's 10 s timeout
                )
                figures.append(result.row())
                print(f"  {fault:28} {label:6} {result.row()}", flush=True)
            rows.append((fault, figures[0], figures[1]))
    print(
        f"\nfaults: 20 channels × 1 post, real processes, PostgreSQL, default settings, a run every {every:g} s; "
        f"lost = not in Slack {deadline:g} s after the fault; before = {before[:10]}"
    )
    print(f"{'fault':28} {'before (posted / duplicated / lost / minutes)':48} after")
    for fault, old_row, new_row in rows:
        print(f"{fault:28} {old_row:48} {new_row}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--campaigns", type=int, default=5)
    parser.add_argument("--skip-naive-retries", action="store_true", help="the slow baseline (minutes)")
    parser.add_argument("--faults", action="store_true", help="also the faults table (about 15 minutes)")
    parser.add_argument("--before", default="merge-base", help="the git ref the faults table compares with")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between runs after a fault")
    parser.add_argument("--deadline", type=float, default=130.0, help="seconds after a fault a channel counts lost")
    parser.add_argument("--only", help="only the faults whose name contains this (e.g. postgresql)")
    parser.add_argument("--faults-only", action="store_true", help="skip the 200-channel figures")
    args = parser.parse_args()
    if args.faults_only:
        run_faults(args.before, args.every, args.deadline, args.only)
        return
    ours = run_microopt(args.channels, args.campaigns)
    from analysis.reading.workbook import parse_workbook
    from analysis.report import analyse

    started = time.perf_counter()
    analyse(parse_workbook(sheet(args.channels, args.campaigns)), source="bench")
    reading = time.perf_counter() - started
    rows = [ours, run_naive(ours["payloads"], args.channels, retries=False)]
    if not args.skip_naive_retries:
        rows.append(run_naive(ours["payloads"], args.channels, retries=True))
    print(
        f"{args.channels} channels × {args.campaigns} campaigns, two digest rounds back to back; "
        "stand-in limit 1 post/s per channel"
    )
    print(f"{'poster':40} {'seconds':>8} {'messages':>9} {'posted':>7} {'lost':>5} {'429s':>5}")
    for row in rows:
        print(
            f"{row['poster']:40} {row['seconds']:8.2f} {row['expected']:9d} {row['posted']:7d} "
            f"{row['lost']:5d} {row['429s']:5d}"
        )
    print(
        f"microopt's time includes, per round, parsing and analysing the sheet once ({reading:.2f} s here) and "
        "recording every claim, post and verdict in the database (SQLite); the naive posters only post."
    )
    if args.faults:
        run_faults(args.before, args.every, args.deadline, args.only)


if __name__ == "__main__":
    main()
