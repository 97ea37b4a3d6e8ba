"""`microopt serve` under idle connections and a burst of commands: today's serving beside the new one, one run.

    python benchmarks/bench_serving.py [--requests 200] [--concurrency 20] [--idle 200 --idle 400] [--sheet-seconds 2]

Each configuration is a real `microopt serve` process on 127.0.0.1 (as the Procfile starts it), its code
either this tree or today's (`--before`, extracted with `git archive`), answering signed `/microopt status`
into the Slack stand-in, reading a Google Sheet from the Sheets API stand-in whose first read takes
`--sheet-seconds`. Every command comes from its own channel (all routed to Spring Sale: 2 tests, so 2 charts
drawn with matplotlib per answer). Each configuration runs with no idle connection, then with each `--idle`
count of connections held open that each sent one byte (what a slow or idle client does).

Configurations:
  today          `microopt serve` at --before: gunicorn gthread, 1 worker x 8 threads
  today x256     the same with --threads 256: the obvious knob
  new            `microopt serve` of this tree: gunicorn's asyncio worker (bot.slack.asgi), charts drawn once per
                 sheet read and uploaded on their own pool
  uvicorn        the same ASGI application (`bot.asgi:create`) under uvicorn, one process: the other asyncio
                 server (run only where uvicorn is installed; microopt does not depend on it)

Measured: acknowledgement latency by the client (a request with no answer in 5 s counts as none: Slack shows
the user an error after 3 s); answer time (request sent -> its verdict message at chat.postMessage); chart lag
(its verdict message -> its charts' files.completeUploadExternal), and the last chart after the last verdict.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BEFORE = "2eb9bba"  # the last commit before serving was hardened: gunicorn gthread
KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-Bench"
EMAIL = "microopt-reader@bench.iam.gserviceaccount.com"
ACK_WAIT = 5.0


def extract(ref: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return conn.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def run(code: Path, extra: list[str], idle: int, args: argparse.Namespace, env: dict[str, str], work: Path) -> dict:
    from tests.bot.slack.harness import command_body, post, signed_headers
    from tests.fakes.slack_api import SlackStandIn

    channels = {f"C0BENCH{i:03d}": f"bench-{i:03d}" for i in range(args.requests)}
    sheets = env["_sheets"]
    sheets.delay_next("batchGet", args.sheet_seconds, times=10_000)
    with SlackStandIn(token="xoxb-test-token", channels=channels) as slack:
        port = free_port()
        child_env = {
            **{k: v for k, v in env.items() if not k.startswith("_")},
            "SLACK_API_URL": slack.api_url,
            "PYTHONPATH": str(code),
            "DATABASE_URL": f"sqlite:///{work / f'state-{port}.db'}",
        }
        log = (work / f"serve-{port}.log").open("wb")
        command = (
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "bot.asgi:create",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ]
            if extra == ["uvicorn"]
            else [sys.executable, "-m", "bot", "serve", "--port", str(port), *extra]
        )
        server = subprocess.Popen(
            command,
            cwd=work, env=child_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        held: list[socket.socket] = []
        try:
            deadline = time.monotonic() + 60
            while not healthy(port):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"microopt serve did not start ({work / f'serve-{port}.log'})")
                time.sleep(0.1)
            url = f"http://127.0.0.1:{port}/slack/events"
            warm = command_body(slack, "help", channel_id="C0BENCH000", channel_name="bench-000")
            post(url, warm, signed_headers(warm), timeout=60)
            for _ in range(idle):
                conn = socket.create_connection(("127.0.0.1", port), timeout=5)
                conn.sendall(b"P")
                held.append(conn)
            time.sleep(1.0)

            sent: dict[str, float] = {}
            lock = threading.Lock()

            def send(i: int) -> float:
                channel = f"C0BENCH{i:03d}"
                body = command_body(slack, "status", channel_id=channel, channel_name=channels[channel])
                with lock:
                    sent[channel] = time.monotonic()
                try:
                    reply = post(url, body, signed_headers(body), timeout=ACK_WAIT)
                except OSError:
                    return float("inf")
                return reply.seconds if reply.status == 200 else float("inf")

            with ThreadPoolExecutor(max_workers=args.concurrency) as clients:
                acks = list(clients.map(send, range(args.requests)))
            acked = sum(a < float("inf") for a in acks)

            verdicts: dict[str, float] = {}
            charts: dict[str, float] = {}
            deadline = time.monotonic() + args.wait
            while time.monotonic() < deadline:
                for call in slack.calls_to("chat.postMessage"):
                    channel = str(call.params.get("channel"))
                    verdicts.setdefault(channel, call.at)
                for call in slack.calls_to("files.completeUploadExternal"):
                    charts.setdefault(str(call.params.get("channel_id")), call.at)
                if len(charts) >= acked and len(verdicts) >= acked:
                    break
                time.sleep(0.1)
        finally:
            for conn in held:
                conn.close()
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
            log.close()
    answers = [verdicts[c] - sent[c] for c in verdicts if c in sent]
    lags = [charts[c] - verdicts[c] for c in charts if c in verdicts]
    return {
        "ack_p50": percentile([a for a in acks], 50),
        "ack_p99": percentile([a for a in acks], 99),
        "no_ack": sum(a > 3 for a in acks),
        "answered": len(answers),
        "answer_p50": percentile(answers, 50),
        "answer_p99": percentile(answers, 99),
        "lag_p50": percentile(lags, 50),
        "lag_max": max(lags) if lags else float("nan"),
        "last_chart_after": (max(charts.values()) - max(verdicts.values())) if charts and verdicts else float("nan"),
        "charts": len(lags),
    }


def ms(value: float) -> str:
    return "none" if value == float("inf") else f"{value * 1000:,.0f} ms"


def seconds(value: float) -> str:
    return "–" if value != value else f"{value:,.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--idle", type=int, action="append", help="idle connections held (default 200 and 400)")
    parser.add_argument("--sheet-seconds", type=float, default=2.0)
    parser.add_argument("--wait", type=float, default=300, help="seconds to wait for answers and charts")
    parser.add_argument("--before", default=BEFORE, help="the commit whose `microopt serve` is today's")
    parser.add_argument("--only", choices=("today", "today x256", "new", "uvicorn"), action="append")
    args = parser.parse_args()

    from tests.bot.slack.harness import BOT_TOKEN, RESULTS, SIGNING_SECRET
    from tests.fakes.sheets_api import SheetsStandIn, new_rsa_key, service_account_info

    key = new_rsa_key()
    routes = [["Campaign", "Channel"], *([["Spring Sale", f"C0BENCH{i:03d}"] for i in range(args.requests)])]
    with tempfile.TemporaryDirectory() as folder, SheetsStandIn(public_key=key.public_key()) as sheets:
        work = Path(folder)
        sheets.add_spreadsheet(KEY, {"Results": RESULTS, "Channels": routes}, shared_with={EMAIL: "reader"})
        key_file = work / "key.json"
        key_file.write_text(json.dumps(service_account_info(key, token_uri=sheets.token_uri, email=EMAIL)))
        env: dict[str, Any] = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "MICROOPT_SHEET": KEY,
            "MICROOPT_SHEETS_ENDPOINT": sheets.base,
            "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
            "_sheets": sheets,
        }
        today = extract(args.before, work / "today")
        configurations = {"today": (today, []), "today x256": (today, ["--threads", "256"]), "new": (ROOT, [])}
        if importlib.util.find_spec("uvicorn") is not None:
            configurations["uvicorn"] = (ROOT, ["uvicorn"])
        print(
            f"{args.requests} signed /microopt status, {args.concurrency} at a time, each from its own channel; "
            f"first sheet read {args.sheet_seconds:g} s; 2 tests + 2 charts per answer; "
            f"idle connections send one byte and wait; today = {args.before}"
        )
        header = ("configuration", "idle", "ack p50", "ack p99", "acks>3s", "answered", "answer p50", "answer p99",
                  "chart lag p50", "chart lag max", "last chart after last verdict")  # fmt: skip
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for name, (code, extra) in configurations.items():
            if args.only and name not in args.only:
                continue
            for idle in (0, *(args.idle or (200, 400))):
                r = run(code, extra, idle, args, env, work)
                print(
                    f"| {name} | {idle} | {ms(r['ack_p50'])} | {ms(r['ack_p99'])} | {r['no_ack']}/{args.requests} | "
                    f"{r['answered']}/{args.requests} | {seconds(r['answer_p50'])} | {seconds(r['answer_p99'])} | "
                    f"{seconds(r['lag_p50'])} | {seconds(r['lag_max'])} | {seconds(r['last_chart_after'])} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
