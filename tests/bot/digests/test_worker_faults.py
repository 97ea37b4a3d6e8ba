"""The digest worker fails loudly, as real OS processes against the loopback Slack stand-in: `microopt scheduler`,
`microopt digest` and `microopt run` check the token once at start and exit 1 with one sentence when it is
missing or refused; a token refused while running stops the run with one sentence; a Slack that cannot be
reached is said to be unreachable, once, without slack_sdk's ERROR lines or advice about the channel."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analysis.reading.workbook import parse_workbook
from bot.deps import Deps
from bot.digests.run import post_channel_digest
from bot.schedules.by_channel import sheet_schedules
from bot.settings import Settings
from bot.slack_api.client import create_worker_client
from bot.sources import read_tabs
from bot.state.store import StateStore
from tests.bot.digests.test_processes import noon_zone
from tests.bot.slack.harness import write_book
from tests.fakes.slack_api import SlackStandIn

REPO = Path(__file__).resolve().parents[3]
EXIT_TIMEOUT = 60
MISSING = "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page"
REFUSED = "Slack refused SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token again from your app's OAuth"
APP_TOKEN = "xapp-1-A0APP-1-test"


def closed_port_url() -> str:
    """A Web API base on loopback where nothing listens: every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/"


def worker_env(tmp_path: Path, sheet: Path, **settings: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MICROOPT_", "SLACK_", "GOOGLE_")) and key != "DATABASE_URL"
    }
    env.update(
        {
            "MICROOPT_SHEET": str(sheet),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
            "COLUMNS": "400",  # one sentence is one line
        }
    )
    env.update({key: value for key, value in settings.items() if value is not None})
    return env


def run_worker(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=EXIT_TIMEOUT,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    return write_book(tmp_path / "campaigns.xlsx")


@pytest.mark.parametrize("command", [["scheduler"], ["digest"], ["run"]])
@pytest.mark.parametrize("token", ["missing", "refused"])
def test_a_missing_or_refused_token_stops_the_worker_at_start_with_one_sentence(
    command: list[str], token: str, slack: SlackStandIn, sheet: Path, tmp_path: Path
) -> None:
    env = worker_env(
        tmp_path,
        sheet,
        SLACK_API_URL=slack.api_url,
        SLACK_BOT_TOKEN=None if token == "missing" else "xoxb-revoked-token",
        SLACK_APP_TOKEN=APP_TOKEN,
    )

    code, out, err, _ = run_worker(command, env, tmp_path)

    assert code == 1, (out, err)
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    expected = MISSING if token == "missing" else REFUSED.format(code="invalid_auth")
    assert lines[0].startswith(expected) and lines[0].endswith("."), lines[0]
    assert "xoxb-revoked-token" not in out + err
    assert [c.method for c in slack.calls_to("auth.test")] == ([] if token == "missing" else ["auth.test"])
    assert not slack.calls_to("chat.postMessage") and not slack.calls_to("apps.connections.open")


def test_a_token_revoked_while_the_scheduler_runs_stops_it_with_one_sentence(
    slack: SlackStandIn, sheet: Path, tmp_path: Path
) -> None:
    # auth.test at start takes the token; the first run's channel lookup is then told it was revoked.
    slack.fail_next("conversations.list", 200, {"ok": False, "error": "token_revoked"})
    env = worker_env(tmp_path, sheet, SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=slack.token)

    code, out, err, _ = run_worker(["scheduler"], env, tmp_path)

    assert code == 1, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith(REFUSED.format(code="token_revoked")), lines
    assert [line for line in lines if " WARNING " in line or " ERROR " in line] == []
    assert "Traceback" not in err and out == ""
    assert len(slack.calls_to("auth.test")) == 1


def test_a_token_refused_while_posting_stops_the_run_and_the_digest_is_posted_once_when_it_works_again(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    zone = noon_zone(now)
    local = now.astimezone(ZoneInfo(zone))
    sheet = write_book(
        tmp_path / "campaigns.xlsx",
        routes=[
            ["Campaign", "Channel", "Schedule", "Timezone"],
            ["Brand Search", "C0SEARCH", f"daily {local:%H:%M}", zone],
        ],
    )
    database = f"sqlite:///{tmp_path / 'state.db'}"
    store = StateStore.open(database, worker="test")
    try:  # the schedule has been known for an hour, so the current minute's slot is due
        data = parse_workbook(read_tabs(str(sheet), Settings(MICROOPT_SHEET=str(sheet))))
        store.sync_sheet_schedules(sheet_schedules(data.channels, "UTC", {}), now - dt.timedelta(hours=1))
    finally:
        store.close()
    env = worker_env(
        tmp_path, sheet, SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=slack.token, MICROOPT_DIGEST_LEASE_SECONDS="1"
    )
    slack.fail_next("chat.postMessage", 200, {"ok": False, "error": "invalid_auth"})

    code, out, err, _ = run_worker(["digest"], env, tmp_path)

    assert code == 1, (out, err)
    assert [line for line in err.splitlines() if line.strip()] == [
        next(line for line in err.splitlines() if line.startswith(REFUSED.format(code="invalid_auth")))
    ]
    assert slack.stored_count() == 0
    time.sleep(1.5)  # the stopped run's claim lapses
    code, out, err, _ = run_worker(["digest"], env, tmp_path)
    assert code == 0, (out, err)
    assert "C0SEARCH: posted" in out
    assert sum(slack.digest_copies().values()) == len(slack.stored["C0SEARCH"]) >= 1
    assert set(slack.digest_copies().values()) == {1}  # each part once


def test_an_unreachable_slack_stops_a_forced_digest_with_one_sentence_saying_so(sheet: Path, tmp_path: Path) -> None:
    url = closed_port_url()
    env = worker_env(tmp_path, sheet, SLACK_API_URL=url, SLACK_BOT_TOKEN="xoxb-test-token")

    code, out, err, _ = run_worker(["digest", "--channel", "#spring-sale", "--force"], env, tmp_path)

    assert code == 1
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert lines == [
        f"Slack could not be reached at {url} (ConnectionRefusedError): check this machine's network, proxy and "
        "SLACK_API_URL; nothing was posted."
    ]


def test_a_scheduler_that_cannot_reach_slack_says_so_once_and_keeps_running(sheet: Path, tmp_path: Path) -> None:
    url = closed_port_url()
    env = worker_env(tmp_path, sheet, SLACK_API_URL=url, SLACK_BOT_TOKEN="xoxb-test-token")
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot", "scheduler"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        lines: list[str] = []
        assert worker.stdout is not None
        deadline = time.monotonic() + EXIT_TIMEOUT
        while time.monotonic() < deadline and not any("could not list Slack channels" in line for line in lines):
            line = worker.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
        assert worker.poll() is None, lines  # still running: Slack may come back
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        rest, _ = worker.communicate(timeout=EXIT_TIMEOUT)
    lines += rest.splitlines()
    said = [line for line in lines if "Slack could not be reached" in line or "could not reach Slack" in line]
    assert said[0].endswith(
        f"Slack could not be reached at {url} (ConnectionRefusedError): check this machine's network, proxy and "
        "SLACK_API_URL; nothing was posted. Digests are tried again every minute until it answers."
    )
    # Its first run (the schedules of the Channels tab want channel names) says the same, in a line of its own.
    later = [line.split(": ", 1)[1] for line in said[1:]]
    assert later == ["could not list Slack channels: Slack could not be reached"]
    assert not [line for line in lines if "Failed to send a request" in line or " ERROR " in line], lines
    assert not [line for line in lines if "reinstall" in line or "invite microopt" in line], lines


def test_a_channel_name_slack_could_not_be_asked_about_is_not_called_missing(
    store: StateStore, sheet: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack gone between the start check and the lookup: the sentence says Slack was not reached."""
    settings = Settings(MICROOPT_SHEET=str(sheet), SLACK_API_URL=closed_port_url(), SLACK_BOT_TOKEN="xoxb-test-token")
    client = create_worker_client(settings)
    client.retry_handlers = []  # one try is enough to know
    deps = Deps(settings=settings, read_tabs=lambda spec: read_tabs(spec, settings), state=lambda: store)
    deps.slack_client = lambda: client

    with caplog.at_level(logging.INFO):
        run = post_channel_digest(deps, "#spring-sale")

    assert run.problem == (
        "microopt could not look up “#spring-sale” in Slack (Slack could not be reached): nothing was posted; run "
        "again when Slack answers, or give the channel's ID (C0123ABCD)."
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
