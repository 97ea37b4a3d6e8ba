"""Start-up: a missing or malformed setting is one sentence naming it; `microopt serve` is real gunicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.bot.slack.harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    command_body,
    post,
    posted_messages,
    signed_headers,
    wait_for,
)
from tests.fakes.slack_api import SlackStandIn

ROOT = Path(__file__).resolve().parents[3]
SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")


def run(args: list[str], **env: str) -> tuple[int, str]:
    clean = dict.fromkeys(SLACK_VARIABLES)  # None unsets
    result = CliRunner().invoke(app, args, env={**clean, **env})
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture(autouse=True)
def no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.mark.parametrize(
    ("args", "env", "sentence"),
    [
        (["serve"], {}, "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your app's OAuth"),
        (["serve"], {"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN does not look like a Bot User OAuth"),
        (["serve"], {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from"),
        (
            ["serve"],
            {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "not a secret"},
            "SLACK_SIGNING_SECRET does not look like a Signing Secret",
        ),
        (["socket"], {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_APP_TOKEN is not set: copy the app-level token (xapp-…"),
        (
            ["socket"],
            {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xoxb-wrong-kind"},
            "SLACK_APP_TOKEN does not look like a app-level token",
        ),
    ],
)
def test_a_missing_or_malformed_token_fails_at_start_with_one_sentence(args, env, sentence) -> None:
    code, output = run(args, **env)
    assert code == 1
    assert sentence in output
    assert "https://api.slack.com/apps" in output
    assert "Traceback" not in output
    assert output.count(". ") == 0  # one sentence


def test_a_token_slack_rejects_fails_at_start(slack: SlackStandIn, book) -> None:
    code, output = run(
        ["serve"], SLACK_BOT_TOKEN="xoxb-revoked", SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url
    )
    assert code == 1
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in output
    assert "xoxb-revoked" not in output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_procfile_web_command_serves_slack_over_gunicorn(slack: SlackStandIn, book: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in SLACK_VARIABLES},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "MICROOPT_SHEET": str(book),
        "PYTHONPATH": str(ROOT),
    }
    web = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return True
            except OSError:
                return web.poll() is not None  # stop waiting if it died

        wait_for(healthy, timeout=20, interval=0.05)
        assert web.poll() is None
        body = command_body(slack, "status")
        reply = post(f"{url}/slack/events", body, signed_headers(body))
        assert reply.status == 200
        assert reply.json()["text"] == "Reading the sheet…"
        wait_for(lambda: slack.calls_to("files.completeUploadExternal"), timeout=20)
        assert posted_messages(slack)[0]["channel"] == "C0SPRING"
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        output, _ = web.communicate(timeout=20)
    assert "Using worker: asgi" in output
    assert SIGNING_SECRET not in output and BOT_TOKEN not in output
