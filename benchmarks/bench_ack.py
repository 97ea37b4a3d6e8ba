"""Acknowledgement latency and command-to-answer time of `/microopt status` under a burst, while the sheet is slow.

    python benchmarks/bench_ack.py [--requests 50] [--concurrency 10] [--sheet-seconds 2]

Each configuration runs the same bolt app code behind real gunicorn (gthread, 1 worker, 8 threads) on
127.0.0.1, answering signed slash commands into the loopback Slack stand-in from `tests/fakes`. Every
request comes from its own channel (all routed to the same campaign), so each answer is matched to its
command. The sheet read sleeps `--sheet-seconds` before returning the bundled tabs.

Configurations:
  naive         bolt defaults: `ack()` then the work inside the listener, on bolt's 5-thread pool;
                every command reads the sheet itself.
  naive+shared  the same, with the shared sheet reads (cache + one read in flight) of `bot.deps`.
  microopt      `create_app`: ack on the request thread, the answer as a lazy listener on its own pool,
                shared sheet reads and one analysis per read.

(How the server itself holds up, `microopt serve` today and now, with idle connections held open:
`bench_serving`.)

Ack latency is measured by the client (request sent → HTTP response); answer time is request sent → the
verdict message reaching `chat.postMessage` at the stand-in (charts follow it). Slack gives up on an
acknowledgement after 3 s, so acks slower than that are counted.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIGURATIONS = ("naive", "naive+shared", "microopt")


# -- inside the gunicorn worker ------------------------------------------------------------------
def served_app() -> Any:
    """The WSGI app of the configuration named by BENCH_MODE (gunicorn calls this in the worker)."""
    from slack_bolt import App

    from analysis.models import Tab
    from bot.deps import Deps, utc_now
    from bot.settings import Settings
    from bot.slack.answers import Answers
    from bot.slack.app import create_app, intake_for, wsgi_app
    from bot.slack.command_answer import SlashCommand
    from bot.slack.delivery import deliver
    from bot.slack_api.client import create_web_client
    from bot.sources import read_tabs
    from bot.sources.cache import SheetCache

    settings = Settings()
    delay = float(os.environ["BENCH_SHEET_SECONDS"])
    mode = os.environ["BENCH_MODE"]

    def slow_read(spec: str) -> list[Tab]:
        time.sleep(delay)
        return read_tabs(spec, settings)

    shared = SheetCache(slow_read, ttl_seconds=settings.sheet_cache_seconds, clock=utc_now)
    if mode == "microopt":
        deps = Deps(settings=settings, read_tabs=shared.read, last_read=shared.last_read)
        return wsgi_app(intake_for(create_app(settings, deps), settings))

    deps = Deps(settings=settings, read_tabs=shared.read if mode == "naive+shared" else slow_read)
    answers = Answers(deps)
    # Past 3 s bolt gives up on an acknowledgement and logs a warning per request; the table counts them.
    quiet = logging.getLogger("benchmarks.naive_bolt")
    quiet.setLevel(logging.CRITICAL)
    app = App(
        client=create_web_client(settings),
        signing_secret=settings.slack_signing_secret,
        token_verification_enabled=False,
        logger=quiet,
    )

    @app.command("/microopt")
    def status(ack: Any, command: dict[str, Any], client: Any, respond: Any) -> None:
        ack()
        reply = answers.answer(SlashCommand.from_body(command))
        deliver(reply, client=client, respond=respond, channel_id=command["channel_id"])

    return wsgi_app(intake_for(app, settings))


# -- the driver ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def run(mode: str, args: argparse.Namespace, sheet: Path) -> dict[str, float]:
    from benchmarks.timing import first_calls, wait_for_port
    from tests.bot.slack.harness import BOT_TOKEN, SIGNING_SECRET, command_body, post, signed_headers
    from tests.fakes.slack_api import SlackStandIn

    channels = {f"C0BENCH{i:03d}": f"bench-{i:03d}" for i in range(args.requests)}
    with SlackStandIn(token=BOT_TOKEN, channels=channels) as slack:
        port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "MICROOPT_SHEET": str(sheet),
            "MICROOPT_SHEET_CACHE_SECONDS": str(args.cache_seconds),
            "BENCH_MODE": mode,
            "BENCH_SHEET_SECONDS": str(args.sheet_seconds),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")]),
        }
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", "8", "--workers", "1",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "bench_ack:served_app()"],
            cwd=tempfile.gettempdir(),
            env=env,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_for_port(port, web, 30, f"gunicorn for {mode}")
            url = f"http://127.0.0.1:{port}/slack/events"
            # Warm-up (imports, auth.test) with `help`, which leaves the sheet unread: the burst meets a cold sheet.
            warm = command_body(slack, "help", channel_id="C0BENCH000", channel_name="bench-000")
            post(url, warm, signed_headers(warm), timeout=60)

            sent: dict[str, float] = {}

            def send(i: int) -> float:
                channel = f"C0BENCH{i:03d}"
                body = command_body(slack, "status", channel_id=channel, channel_name=channels[channel])
                sent[channel] = time.monotonic()
                return post(url, body, signed_headers(body), timeout=60).seconds

            with ThreadPoolExecutor(max_workers=args.concurrency) as clients:
                acks = list(clients.map(send, range(args.requests)))

            answered = first_calls(slack, "chat.postMessage", sent, args.requests, 300)
        finally:
            os.killpg(web.pid, 15)
            web.wait(timeout=30)
    answers = list(answered.values())
    return {
        "ack_p50_ms": percentile(acks, 50) * 1000,
        "ack_p99_ms": percentile(acks, 99) * 1000,
        "ack_max_ms": max(acks) * 1000,
        "acks_over_3s": sum(a > 3 for a in acks),
        "answer_p50_s": percentile(answers, 50) if answers else float("nan"),
        "answer_p99_s": percentile(answers, 99) if answers else float("nan"),
        "answered": len(answers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--sheet-seconds", type=float, default=2.0)
    parser.add_argument(
        "--cache-seconds", type=float, default=60.0, help="MICROOPT_SHEET_CACHE_SECONDS (0: only in-flight sharing)"
    )
    parser.add_argument("--only", choices=CONFIGURATIONS, action="append")
    args = parser.parse_args()

    from tests.bot.slack.harness import RESULTS, write_book

    with tempfile.TemporaryDirectory() as folder:
        routes = [["Campaign", "Channel"], *([["Spring Sale", f"C0BENCH{i:03d}"] for i in range(args.requests)])]
        sheet = write_book(Path(folder) / "bench.xlsx", RESULTS, routes)
        print(
            f"{args.requests} signed /microopt status, {args.concurrency} at a time; sheet read takes "
            f"{args.sheet_seconds:g} s; cache {args.cache_seconds:g} s; gunicorn gthread 1×8; "
            "2 tests + 2 charts per answer"
        )
        columns = ("ack p50", "ack p99", "ack max", "acks>3s", "answer p50", "answer p99", "answered")
        widths = (10, 10, 10, 9, 12, 12, 10)
        print(f"{'configuration':<14}" + "".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
        for mode in args.only or CONFIGURATIONS:
            r = run(mode, args, sheet)
            print(
                f"{mode:<14}{r['ack_p50_ms']:>8.1f}ms{r['ack_p99_ms']:>8.1f}ms{r['ack_max_ms']:>8.0f}ms"
                f"{r['acks_over_3s']:>9.0f}{r['answer_p50_s']:>11.2f}s{r['answer_p99_s']:>11.2f}s"
                f"{r['answered']:>7.0f}/{args.requests}"
            )  # fmt: skip


if __name__ == "__main__":
    main()
