"""Acknowledgement latency of button presses (Budget moved) under a burst, while the Google Sheet is slow.

    python benchmarks/bench_actions.py [--presses 50] [--concurrency 10] [--sheet-seconds 1]

The load of `bench_ack.py`, for buttons: each configuration runs behind real gunicorn (gthread, 1 worker,
8 threads) on 127.0.0.1 and gets `--presses` signed `block_actions` requests, `--concurrency` at a time, each
pressing *Budget moved* on a different test's status message in its own channel. Behind them: the Slack
stand-in (chat.update, response_url) and the Sheets stand-in through real gspread, whose reads (`batchGet`)
and writes (`batchUpdate`) each take `--sheet-seconds`; a SQLite state database.

Configurations:
  naive     bolt defaults: `ack()` then the press's work (who may press, the decision, chat.update, then its
            row written to the Decisions tab in the same thread) inside the listener, on bolt's own pool.
  microopt  `create_app`: the acknowledgement on the request thread, the press as a lazy listener on the
            app's answer pool (bot.slack.listeners.actions), the sheet written by one thread at a time per
            process, a burst of presses in one request or a few (bot.slack.decisions.sheet_rows.SheetWrites).

Ack latency is measured by the client (request sent → HTTP response); "updated" is press sent → the message's
`chat.update` reaching the Slack stand-in; "written" counts Decisions rows in the sheet at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
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

CONFIGURATIONS = ("naive", "microopt")
KEY = "1BenchBenchBenchBenchBenchBench0123456789"
EMAIL = "microopt-bench@bench-project.iam.gserviceaccount.com"


# -- inside the gunicorn worker ------------------------------------------------------------------
def served_app() -> Any:
    """The WSGI app of the configuration named by BENCH_MODE (gunicorn calls this in the worker)."""
    from slack_bolt import App

    from bot.deps import create_deps
    from bot.settings import Settings
    from bot.slack.app import create_app, intake_for, wsgi_app
    from bot.slack.decisions.presses import Press, Presses
    from bot.slack.listeners.commands import home_team_of
    from bot.slack_api.client import create_web_client
    from bot.slack_api.directory import ChannelDirectory

    settings = Settings()
    deps = create_deps(settings)
    if os.environ["BENCH_MODE"] == "microopt":
        return wsgi_app(intake_for(create_app(settings, deps), settings))

    quiet = logging.getLogger("benchmarks.naive_bolt")
    quiet.setLevel(logging.CRITICAL)
    app = App(
        client=create_web_client(settings),
        signing_secret=settings.slack_signing_secret,
        token_verification_enabled=False,
        logger=quiet,
    )
    home, names = home_team_of(app.client), ChannelDirectory(lambda: app.client, deps.clock).names
    presses = Presses(deps, lambda team: home(), lambda team: names())
    presses.sheet = WritesInline(deps)  # type: ignore[assignment]  # each press writes its own row, and waits

    @app.action(re.compile(r"^microopt\."))
    def press(ack: Any, body: dict[str, Any], client: Any, respond: Any) -> None:
        ack()
        presses.handle(Press.from_body(body), client, respond)

    return wsgi_app(intake_for(app, settings))


class WritesInline:
    """The obvious way to write the sheet: in the press's own thread, right after the message is updated."""

    def __init__(self, deps: Any) -> None:
        self.deps = deps

    def request(self, client: Any, spec: str, decision_id: int | None = None, on_failure: Any = None) -> None:
        from bot.slack.decisions.sheet_rows import write_owed

        flushed = write_owed(self.deps, self.deps.clock(), client=client, spec=spec)
        if on_failure is not None and flushed.error is not None:
            on_failure(flushed.error)


# -- the driver ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def sheet_tabs(presses: int) -> dict[str, list[list[Any]]]:
    header = ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)", "Purchases (macro)", "Status"]
    results: list[list[Any]] = [header]
    routes: list[list[Any]] = [["Campaign", "Channel"]]
    for i in range(presses):
        results += [[f"Campaign {i:03d}", "Audience", "A", 2000, 100, 8, "running"]]
        results += [[f"Campaign {i:03d}", "Audience", "B", 2000, 161, 11, "running"]]
        routes.append([f"Campaign {i:03d}", f"C0BENCH{i:03d}"])
    return {"Results": results, "Channels": routes}


def status_messages(presses: int) -> dict[str, dict[str, Any]]:
    """Each channel's status message as microopt renders it, from the same numbers as the sheet."""
    from analysis.decision import DecisionSettings
    from analysis.models import Tab
    from analysis.reading.workbook import parse_workbook
    from analysis.report import analyse

    tabs = [Tab(name, rows) for name, rows in sheet_tabs(presses).items()]
    report = analyse(parse_workbook(tabs), source=KEY, settings=DecisionSettings(min_days=1))
    from bot.render.blocks import render_status_messages

    out = {}
    for i, test in enumerate(report.tests):
        [payload] = render_status_messages(report.model_copy(update={"tests": (test,)}))
        out[f"C0BENCH{i:03d}"] = payload
    return out


def run(mode: str, args: argparse.Namespace) -> dict[str, float]:
    from slack_sdk import WebClient

    from benchmarks.timing import first_calls, wait_for_port
    from tests.bot.slack.buttons import press_body
    from tests.bot.slack.harness import BOT_TOKEN, SIGNING_SECRET, post, signed_headers
    from tests.fakes.sheets_api import SheetsStandIn, new_rsa_key, service_account_info
    from tests.fakes.slack_api import SlackStandIn

    # One more test than presses: the warm-up press (imports, sign-in, the first sheet read) acts on it.
    tests = args.presses + 1
    channels = {f"C0BENCH{i:03d}": f"bench-{i:03d}" for i in range(tests)}
    key = new_rsa_key()
    with (
        SlackStandIn(token=BOT_TOKEN, channels=channels) as slack,
        SheetsStandIn(public_key=key.public_key()) as sheets,
        tempfile.TemporaryDirectory() as folder,
    ):
        spreadsheet = sheets.add_spreadsheet(KEY, sheet_tabs(tests), shared_with={EMAIL: "writer"})
        key_file = Path(folder) / "key.json"
        key_file.write_text(json.dumps(service_account_info(key, token_uri=sheets.token_uri, email=EMAIL)))
        poster = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
        messages = {}
        for channel, payload in status_messages(tests).items():
            ts = poster.chat_postMessage(channel=channel, **payload)["ts"]
            messages[channel] = slack.message(channel, ts)
        for route in ("batchGet", "batchUpdate"):
            sheets.delay_next(route, args.sheet_seconds, times=100_000)
        port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "MICROOPT_SHEET": KEY,
            "MICROOPT_SHEETS_ENDPOINT": sheets.base,
            "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
            "MICROOPT_SHEETS_TIMEOUT": "60",
            "MICROOPT_MIN_DAYS": "1",  # the single totals of the bench's sheet are called, as in the messages
            "DATABASE_URL": f"sqlite:///{Path(folder) / 'state.db'}",
            "BENCH_MODE": mode,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")]),
        }
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", "8", "--workers", "1",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "bench_actions:served_app()"],
            cwd=folder,
            env=env,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_for_port(port, web, 30, f"gunicorn for {mode}")
            url = f"http://127.0.0.1:{port}/slack/events"
            # Warm-up: one accepted press on the extra test, so imports, the Google sign-in, auth.test and the
            # first sheet read are behind us, as in a process that has served before; the sheet cache (60 s)
            # may be warm for the burst, as it usually is.
            warm_channel = f"C0BENCH{args.presses:03d}"
            warm = press_body(slack, messages[warm_channel], warm_channel, "microopt.moved", trigger_id="warm.9")
            post(url, warm, signed_headers(warm), timeout=60)
            deadline = time.monotonic() + 120
            while not slack.calls_to("chat.update") and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)

            sent: dict[str, float] = {}
            # Built before the burst: the driver (clients and both stand-ins share its interpreter) should spend
            # the burst waiting for answers, not encoding the next press.
            bodies = {
                f"C0BENCH{i:03d}": press_body(
                    slack, messages[f"C0BENCH{i:03d}"], f"C0BENCH{i:03d}", "microopt.moved", trigger_id=f"{i}.9.bench"
                )
                for i in range(args.presses)
            }

            def send(i: int) -> float:
                channel = f"C0BENCH{i:03d}"
                body = bodies[channel]
                sent[channel] = time.monotonic()
                return post(url, body, signed_headers(body), timeout=120).seconds

            with ThreadPoolExecutor(max_workers=args.concurrency) as clients:
                acks = list(clients.map(send, range(args.presses)))

            updated = first_calls(slack, "chat.update", sent, args.presses, 600)
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                tab = spreadsheet.sheet("Decisions")
                if tab is not None and len(tab.rows) - 2 >= args.presses:
                    break
                time.sleep(0.1)
        finally:
            os.killpg(web.pid, 15)
            web.wait(timeout=30)
        tab = spreadsheet.sheet("Decisions")
        written = len(tab.rows) - 2 if tab is not None else 0  # the header and the warm-up's row
    times = list(updated.values())
    return {
        "ack_p50_ms": percentile(acks, 50) * 1000,
        "ack_p99_ms": percentile(acks, 99) * 1000,
        "ack_max_ms": max(acks) * 1000,
        "acks_over_3s": sum(a > 3 for a in acks),
        "updated_p50_s": percentile(times, 50) if times else float("nan"),
        "updated_p99_s": percentile(times, 99) if times else float("nan"),
        "updated": len(times),
        "written": written,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--sheet-seconds", type=float, default=1.0)
    parser.add_argument("--only", choices=CONFIGURATIONS, action="append")
    args = parser.parse_args()

    print(
        f"{args.presses} signed Budget moved presses, {args.concurrency} at a time, each on its own test and "
        f"channel; Sheets reads and writes take {args.sheet_seconds:g} s each; gunicorn gthread 1×8; SQLite state"
    )
    columns = ("ack p50", "ack p99", "ack max", "acks>3s", "updated p50", "updated p99", "updated", "rows")
    widths = (10, 10, 10, 9, 13, 13, 9, 6)
    print(f"{'configuration':<14}" + "".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for mode in args.only or CONFIGURATIONS:
        r = run(mode, args)
        print(
            f"{mode:<14}{r['ack_p50_ms']:>8.1f}ms{r['ack_p99_ms']:>8.1f}ms{r['ack_max_ms']:>8.0f}ms"
            f"{r['acks_over_3s']:>9.0f}{r['updated_p50_s']:>12.2f}s{r['updated_p99_s']:>12.2f}s"
            f"{r['updated']:>6.0f}/{args.presses}{r['written']:>6.0f}"
        )  # fmt: skip


if __name__ == "__main__":
    main()
