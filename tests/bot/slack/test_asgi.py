"""The ASGI front on its own, driven with ASGI messages: lifespan, a body that never comes, the body limit."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from slack_bolt import BoltRequest

from bot.slack.app import create_app, intake_for
from bot.slack.asgi import SlackAsgi
from tests.bot.slack.harness import command_body, deps_for, settings_for, signed_headers
from tests.fakes.slack_api import SlackStandIn


def front(slack: SlackStandIn, book, **callbacks: Any) -> SlackAsgi:
    settings = settings_for(slack, book, max_body_kb=16)
    return SlackAsgi(intake_for(create_app(settings, deps_for(settings)), settings), **callbacks)


def call(app: SlackAsgi, scope: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run one ASGI call; `messages` are consumed as the app receives them."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def http(headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/slack/events",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }


def signed() -> dict[str, str]:
    """Headers that pass the checks made before the body is read (the signature itself is checked after)."""
    return {"x-slack-signature": "v0=00", "x-slack-request-timestamp": str(int(time.time()))}


def test_lifespan_starts_and_stops_the_answer_watch(slack: SlackStandIn, book) -> None:
    events: list[str] = []
    app = front(slack, book, on_start=lambda: events.append("start"), on_stop=lambda: events.append("stop"))
    sent = call(app, {"type": "lifespan"}, [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    assert events == ["start", "stop"]
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_body_that_never_arrives_in_full_gets_408(slack: SlackStandIn, book, caplog) -> None:
    first = {"type": "http.request", "body": b"text=", "more_body": True}
    sent = call(front(slack, book), http({**signed(), "content-length": "100"}), [first])  # then http.disconnect
    assert sent[0]["status"] == 408
    assert [r.getMessage() for r in caplog.records if "refused" in r.getMessage()] == [
        "refused a request to /slack/events with 408: its body did not arrive in full"
    ]


def test_a_body_without_a_length_is_read_to_the_limit_and_no_further(slack: SlackStandIn, book) -> None:
    chunks = [{"type": "http.request", "body": b"a" * 4096, "more_body": True} for _ in range(100)]
    sent = call(front(slack, book), http(signed()), chunks)
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    assert len(chunks) == 100 - 5  # 16 KB is four chunks: the fifth passed the limit, none was read after it


def test_bolts_own_line_for_a_bad_signature_withholds_the_request(slack: SlackStandIn, book, caplog) -> None:
    """Requests over HTTP are checked before bolt; should one reach bolt's own check, its log line is cut."""
    caplog.set_level(logging.INFO)
    settings = settings_for(slack, book)
    app = create_app(settings, deps_for(settings))
    body = command_body(slack, "status", response="secret-response")
    response = app.dispatch(BoltRequest(body=body, headers=signed_headers(body, secret="f" * 32)))
    assert response.status == 401
    lines = [record.getMessage() for record in caplog.records]
    assert "Invalid request signature detected (request withheld from the log)" in lines
    assert not any("secret-response" in line or "deprecated-verification-token" in line for line in lines)
