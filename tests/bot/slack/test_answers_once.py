"""Each command answered once, against the real `microopt serve`: a post whose answer never came back, and a
process killed (-9) after the acknowledgement, its answer taken over by a restarted or a second process.

The sheet is a Google Sheet on the Sheets API stand-in (so a read can be made slow); the state is a SQLite
file shared by the processes; the answer lease is a second, so a test does not wait the default 30 s.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.bot.slack.harness import ROUTES, command_body, post, signed_headers, wait_for
from tests.bot.slack.server import Server, microopt_serve, serve_env
from tests.fakes.sheets_api import SheetsStandIn, new_rsa_key, service_account_info
from tests.fakes.slack_api import ALL_SCOPES, STORE_THEN_500, STORE_THEN_STALL, SlackStandIn

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-Spring"
EMAIL = "microopt-reader@spring-team.iam.gserviceaccount.com"
RESULTS = [
    ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)", "Purchases (macro)"],
    ["Spring Sale", "Audience", "A", 2000, 100, 8],
    ["Spring Sale", "Audience", "B", 2000, 161, 11],
]
PROMISED = 120  # seconds: docs/slack.md's promise for an answer whose process stopped


@pytest.fixture(scope="module")
def rsa_key():
    return new_rsa_key()


@pytest.fixture
def sheets(rsa_key) -> Iterator[SheetsStandIn]:
    with SheetsStandIn(public_key=rsa_key.public_key()) as stand_in:
        stand_in.add_spreadsheet(KEY, {"Results": RESULTS, "Channels": ROUTES}, shared_with={EMAIL: "reader"})
        yield stand_in


@pytest.fixture
def env(slack: SlackStandIn, sheets: SheetsStandIn, rsa_key, tmp_path: Path) -> dict[str, str]:
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps(service_account_info(rsa_key, token_uri=sheets.token_uri, email=EMAIL)))
    return serve_env(
        slack,
        MICROOPT_SHEET=KEY,
        MICROOPT_SHEETS_ENDPOINT=sheets.base,
        GOOGLE_APPLICATION_CREDENTIALS=str(key_file),
        MICROOPT_SHEETS_TIMEOUT="60",
        DATABASE_URL=f"sqlite:///{tmp_path / 'state.db'}",
        MICROOPT_ANSWER_LEASE_SECONDS="1",
    )


def answer_copies(slack: SlackStandIn, channel: str = "C0SPRING") -> Counter[tuple[str, int]]:
    """How many times each message of each answer is in the channel, from its metadata (request, part)."""
    copies: Counter[tuple[str, int]] = Counter()
    with slack._lock:
        messages = list(slack.stored.get(channel, []))
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        copies[(str(payload.get("request")), int(payload.get("part", 0)))] += 1
    return copies


def verdicts_in(slack: SlackStandIn, channel: str = "C0SPRING") -> list[str]:
    with slack._lock:
        return [str(m.get("text", "")) for m in slack.stored.get(channel, [])]


def ack(server: Server, slack: SlackStandIn) -> None:
    body = command_body(slack, "status", trigger_id="77.1.kill")
    reply = post(server.url, body, signed_headers(body))
    assert reply.status == 200 and reply.json()["text"] == "Reading the sheet…"


def answer_row(tmp_path: Path) -> tuple[str, int, str | None]:
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT status, attempts, request FROM microopt_answers")).one()
    finally:
        engine.dispose()
    return row.status, row.attempts, row.request


def test_a_post_slack_stored_before_answering_500_is_in_the_channel_once(
    slack: SlackStandIn, env: dict[str, str], tmp_path: Path
) -> None:
    slack.faults.add(STORE_THEN_500, times=1, channel="C0SPRING")
    with microopt_serve(env, tmp_path) as server:
        ack(server, slack)
        wait_for(lambda: slack.calls_to("files.completeUploadExternal"), timeout=30)
        log = server.log()
    copies = answer_copies(slack)
    assert copies and set(copies.values()) == {1}, copies  # the 500 was not followed by a blind retry
    assert len(slack.calls_to("chat.postMessage")) == len(copies)
    assert len(slack.calls_to("conversations.history")) == 1  # it looked before sending again, found it
    assert "Spring Sale" in verdicts_in(slack)[0]
    assert "Traceback" not in log


def test_without_the_history_scope_a_post_slack_did_not_confirm_is_not_sent_again_and_the_asker_is_told(
    env: dict[str, str], tmp_path: Path
) -> None:
    scopes = [s for s in ALL_SCOPES if not s.endswith(":history")]
    with SlackStandIn(channels={"C0SPRING": "spring-sale"}, scopes=scopes) as slack:
        slack.faults.add(STORE_THEN_500, times=1, channel="C0SPRING")
        with microopt_serve({**env, "SLACK_API_URL": slack.api_url}, tmp_path) as server:
            ack(server, slack)
            told = wait_for(lambda: [r for _, r in slack.responses if "ask again" in str(r.get("text"))], timeout=30)
        assert sum(answer_copies(slack).values()) == 1
        assert "channels:history" in told[0]["text"] and told[0]["response_type"] == "ephemeral"


def kill_while_reading(server: Server, sheets: SheetsStandIn, slack: SlackStandIn, workers_only: bool) -> float:
    """Acknowledge a command, wait until its answer waits on the sheet, then kill -9; when it was killed."""
    sheets.delay_next("batchGet", 600)
    ack(server, slack)
    wait_for(lambda: sheets.calls_to("batchGet"), timeout=30)
    killed = time.monotonic()
    if workers_only:
        for pid in server.worker_pids():
            os.kill(pid, signal.SIGKILL)
    else:
        server.kill()
    return killed


def test_kill_9_after_the_ack_a_second_process_answers_once(
    slack: SlackStandIn, sheets: SheetsStandIn, env: dict[str, str], tmp_path: Path
) -> None:
    with microopt_serve(env, tmp_path, name="first") as first:
        killed = kill_while_reading(first, sheets, slack, workers_only=False)
    assert verdicts_in(slack) == []  # the user sees "Reading the sheet…" and nothing else, for now
    with microopt_serve(env, tmp_path, name="second") as second:
        wait_for(lambda: verdicts_in(slack), timeout=PROMISED)
        answered_after = time.monotonic() - killed
        wait_for(lambda: slack.calls_to("files.completeUploadExternal"), timeout=30)
        time.sleep(1.5)  # a lease more: nothing else may come
        log = second.log()
    assert answered_after < PROMISED
    assert set(answer_copies(slack).values()) == {1}
    assert "Spring Sale" in verdicts_in(slack)[0]
    assert answer_row(tmp_path)[:2] == ("answered", 2)
    assert answer_row(tmp_path)[2] is None  # the response_url kept for the take-over is erased
    assert "in place of a process that stopped" in log and "Traceback" not in log


def test_kill_9_of_the_worker_after_the_ack_the_restarted_worker_answers_once(
    slack: SlackStandIn, sheets: SheetsStandIn, env: dict[str, str], tmp_path: Path
) -> None:
    with microopt_serve(env, tmp_path) as server:
        killed = kill_while_reading(server, sheets, slack, workers_only=True)
        wait_for(lambda: verdicts_in(slack), timeout=PROMISED)
        answered_after = time.monotonic() - killed
        time.sleep(1.5)
    assert answered_after < PROMISED
    assert set(answer_copies(slack).values()) == {1}
    assert answer_row(tmp_path)[:2] == ("answered", 2)


def test_kill_9_while_posting_the_messages_already_in_slack_are_not_sent_again(
    slack: SlackStandIn, env: dict[str, str], tmp_path: Path
) -> None:
    """Slack stored the answer's message but the process died before hearing back: the next process finds it
    in the channel's history, sends nothing again, and uploads the charts the first never did."""
    slack.faults.stall_seconds = 30
    slack.faults.add(STORE_THEN_STALL, times=1, channel="C0SPRING")
    with microopt_serve(env, tmp_path, name="first") as first:
        ack(first, slack)
        slack.wait_for_stored(1, timeout=30)
        first.kill()
    with microopt_serve(env, tmp_path, name="second"):
        wait_for(lambda: slack.calls_to("files.completeUploadExternal"), timeout=PROMISED)
        time.sleep(1.5)
    copies = answer_copies(slack)
    assert set(copies.values()) == {1}, copies
    assert len(slack.calls_to("chat.postMessage")) == 1  # only the first process's post
    assert answer_row(tmp_path)[:2] == ("answered", 2)


def test_a_command_its_processes_stopped_on_twice_is_not_tried_again_and_the_channel_is_told(
    slack: SlackStandIn, book: Path, tmp_path: Path
) -> None:
    """In process: the answer's claim says two processes took it and stopped; the third tells the channel."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.slack.app import create_slack
    from bot.state.store import StateStore
    from tests.bot.slack.harness import NOW, deps_for, settings_for, tiny_chart

    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", worker="gone")
    request = json.dumps({"channel_id": "C0SPRING", "user_id": "U0ASKER", "text": "status", "command": "/microopt"})
    lease = dt.timedelta(seconds=1)
    assert store.claim_answer("trigger_id:5.5.twice", NOW, dt.timedelta(days=1), lease, request)
    assert store.take_answer("trigger_id:5.5.twice", NOW + lease, lease)  # a second process, which stopped too
    settings = settings_for(slack, book, answer_lease_seconds=1.0)
    answers = ThreadPoolExecutor(max_workers=2)
    later = [NOW + dt.timedelta(seconds=5)]
    deps = deps_for(settings, state=lambda: store)
    deps.clock = lambda: later[0]
    slack_app = create_slack(settings, deps, executor=answers, draw_chart=tiny_chart)
    try:
        assert slack_app.answering.recover() == 1
        answers.shutdown(wait=True)
        assert slack_app.answering.recover() == 0  # told once
    finally:
        store.close()
    (told,) = verdicts_in(slack)
    assert "stopped while answering `/microopt status` for <@U0ASKER>" in told and "please ask again" in told
    assert answer_row(tmp_path)[:2] == ("lost", 3)
