"""Socket Mode: the same app, fed envelopes through bolt's own Socket Mode adapter code (no websocket)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl

from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.slack.app import create_app
from tests.bot.slack.harness import command_body, deps_for, posted_messages, settings_for, tiny_chart
from tests.fakes.slack_api import SlackStandIn


def envelope(slack: SlackStandIn, text: str, retry_attempt: int | None = None, trigger_id: str = "9.9.socket"):
    payload = dict(parse_qsl(command_body(slack, text, trigger_id=trigger_id)))
    return SocketModeRequest(type="slash_commands", envelope_id="env-1", payload=payload, retry_attempt=retry_attempt)


def test_socket_mode_needs_no_signing_secret_acks_and_drops_retries(slack: SlackStandIn, book) -> None:
    settings = settings_for(slack, book, slack_signing_secret=None, slack_app_token="xapp-1-A0APP-1-abc")
    answers, charts = ThreadPoolExecutor(2), ThreadPoolExecutor(1)
    app = create_app(
        settings, deps_for(settings), mode="socket", executor=answers, chart_executor=charts, draw_chart=tiny_chart
    )
    try:
        first = run_bolt_app(app, envelope(slack, "status"))
        again = run_bolt_app(app, envelope(slack, "status", retry_attempt=1))
        helped = run_bolt_app(app, envelope(slack, "help", trigger_id="9.9.help"))
    finally:
        answers.shutdown(wait=True)
        charts.shutdown(wait=True)

    assert first.status == 200 and "Reading the sheet" in first.body
    assert again.status == 200 and again.body == ""
    assert "/microopt status" in helped.body
    [message] = posted_messages(slack)
    assert message["channel"] == "C0SPRING"
