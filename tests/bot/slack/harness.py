"""The real app on real HTTP: bolt behind a WSGI server on 127.0.0.1, signed requests, a Slack stand-in."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from analysis.models import Tab, TestResult
from bot.deps import Deps, no_state
from bot.render.chart import render_chart
from bot.settings import Settings
from bot.slack.app import create_app, intake_for, wsgi_app
from bot.sources import read_tabs
from bot.state.store import StateStore
from tests.fakes.slack_api import SlackStandIn

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
NOW = dt.datetime(2026, 3, 11, 9, 30, tzinfo=dt.UTC)
CHANNELS = {"C0SPRING": "spring-sale", "C0SEARCH": "search-team", "C0SUMMER": "summer-launch", "C0RANDOM": "random"}
_triggers = itertools.count(1)


RESULTS = [
    ["Campaign", "Test", "Variant", "Clicks", "Spend", "Cart views (micro)", "Purchases (macro)"],
    ["Spring Sale", "Audience", "A", "2,000", "$840.00", 100, 8],
    ["Spring Sale", "Audience", "B", 2000, 840, 161, 11],
    ["Spring Sale", "Ad copy", "Free shipping", 3100, 1302, 118, 9],
    ["Spring Sale", "Ad copy", "20% off", 3050, 1281, 127, 10],
    ["Brand Search", "Keyword", "running shoes", 4000, 2520, 180, 14],
    ["Brand Search", "Keyword", "trail running shoes", 4000, 2520, 236, 19],
    ["Brand Search", "Keyword", "buy running shoes", 4000, 2520, 171, 15],
    ["Summer Launch", "Landing page", "Current page", 5654, 3110, 230, 55],
    ["Summer Launch", "Landing page", "New page", 5665, 3116, 282, 64],
]
ROUTES = [
    ["Campaign", "Channel", "Schedule", "Timezone"],
    ["Spring Sale", "#spring-sale", "weekdays 09:00", "Europe/London"],
    ["Brand Search", "C0SEARCH", "mon 08:30", "America/New_York"],
    ["Summer Launch", " Summer-Launch ", "", ""],
]


def write_book(path: Path, results: list[list[Any]] = RESULTS, routes: list[list[Any]] = ROUTES) -> Path:
    """A small .xlsx in the users' layout: a Results tab and a Channels tab (names, an ID, odd spacing)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Results"
    for row in results:
        sheet.append(row)
    channels = book.create_sheet("Channels")
    for row in routes:
        channels.append(row)
    book.save(path)
    return path


def settings_for(slack: SlackStandIn, sheet: Path | str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "sheet": str(sheet),
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "database_url": "sqlite://",
        "min_days": 1,  # commands are checked on verdicts called from single totals
    }
    values.update(overrides)
    return Settings(**values)


def deps_for(
    settings: Settings,
    read: Callable[[str], list[Tab]] | None = None,
    state: Callable[[], StateStore] = no_state,
) -> Deps:
    """Deps for one app; `state` shares a database with other apps (`no_state`: no shared state)."""
    return Deps(
        settings=settings,
        read_tabs=read or (lambda spec: read_tabs(spec, settings)),
        clock=lambda: NOW,
        state=state,
    )


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of concurrent commands, like gunicorn's backlog


@dataclass
class Served:
    url: str
    answers: ThreadPoolExecutor
    charts: ThreadPoolExecutor

    def drain(self) -> None:
        """Wait for every answer in progress, then every chart, to finish."""
        self.answers.shutdown(wait=True)
        self.charts.shutdown(wait=True)


# A real 1×1 PNG, for tests about answering rather than drawing (a real chart takes ~0.1 s of CPU).
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def tiny_chart(test: TestResult, path: object = None) -> bytes:
    return TINY_PNG


@contextmanager
def serve(
    settings: Settings,
    deps: Deps,
    workers: int = 8,
    draw_chart: Callable[..., bytes] = render_chart,
) -> Iterator[Served]:
    """The app behind a threaded WSGI server on 127.0.0.1; stopped, and its pool drained, on exit."""
    answers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="test-answer")
    charts = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-chart")
    app = create_app(settings, deps, executor=answers, chart_executor=charts, draw_chart=draw_chart)
    served = Served(url="", answers=answers, charts=charts)
    application = wsgi_app(intake_for(app, settings))
    server = make_server("127.0.0.1", 0, application, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        served.url = f"http://127.0.0.1:{server.server_port}/slack/events"
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        served.drain()


def command_body(
    slack: SlackStandIn,
    text: str = "status",
    channel_id: str = "C0SPRING",
    channel_name: str = "spring-sale",
    response: str = "r1",
    trigger_id: str | None = None,
    team_id: str = "T0TEAM",
    user_id: str = "U0ASKER",
) -> str:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": "team",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": "marketer",
            "command": "/microopt",
            "text": text,
            "api_app_id": "A0APP",
            "is_enterprise_install": "false",
            "response_url": slack.response_url(response),
            "trigger_id": trigger_id or f"{next(_triggers)}.1.trigger",
        }
    )


def signed_headers(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


@dataclass
class Reply:
    status: int
    body: str
    seconds: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}


def post(url: str, body: str, headers: dict[str, str], timeout: float = 10) -> Reply:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, response.read().decode(), time.perf_counter() - started)
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode(), time.perf_counter() - started)


def send_command(served: Served, slack: SlackStandIn, text: str = "status", **fields: Any) -> Reply:
    body = command_body(slack, text, **fields)
    return post(served.url, body, signed_headers(body))


def wait_for(condition: Callable[[], Any], timeout: float = 10, interval: float = 0.01) -> Any:
    """Bounded polling for an asynchronous answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise AssertionError(f"gave up after {timeout}s waiting for {condition}")


def posted_messages(slack: SlackStandIn) -> list[dict[str, Any]]:
    """Every chat.postMessage call (refused ones too), with `blocks` decoded."""
    messages = []
    for call in slack.calls_to("chat.postMessage"):
        params = dict(call.params)
        if isinstance(params.get("blocks"), str):
            params["blocks"] = json.loads(params["blocks"])
        messages.append(params)
    return messages


def all_text(payload: dict[str, Any]) -> str:
    """Every string a reader could see in a payload."""
    parts = [str(payload.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload.get("blocks", []))
    return "\n".join(parts)
