"""Slack's retries across processes: two real apps on 127.0.0.1 sharing one database (SQLite, then a real
PostgreSQL), a signed command delivered to one and Slack's retry of it to the other."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import text

from bot.deps import state_factory
from bot.slack.answers import READING
from bot.state.store import StateStore
from tests.bot.slack.harness import (
    Reply,
    Served,
    command_body,
    deps_for,
    post,
    serve,
    settings_for,
    signed_headers,
    tiny_chart,
    wait_for,
)
from tests.fakes.slack_api import SlackStandIn

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


@contextmanager
def two_processes(slack: SlackStandIn, book: Path, database_url: str) -> Iterator[tuple[Served, Served]]:
    """Two apps as two web processes would build them: each its own Deps, state store and pools."""
    with ExitStack() as stack:
        apps = []
        for _ in range(2):
            settings = settings_for(slack, book, database_url=database_url)
            state = state_factory(settings)
            stack.callback(lambda state=state: state().close())
            apps.append(stack.enter_context(serve(settings, deps_for(settings, state=state), draw_chart=tiny_chart)))
        yield apps[0], apps[1]


def deliver(served: Served, body: str, retry: bool = False) -> Reply:
    return post(served.url, body, {**signed_headers(body), **(RETRY if retry else {})})


def answers_in(slack: SlackStandIn) -> int:
    return len(slack.calls_to("chat.postMessage"))


def test_a_retry_served_by_another_process_is_not_answered_again(
    slack: SlackStandIn, book: Path, database_url: str
) -> None:
    with two_processes(slack, book, database_url) as (first, second):
        body = command_body(slack, "status", trigger_id="501.1.original")
        original = deliver(first, body)
        retry = deliver(second, body, retry=True)
        again = deliver(first, body, retry=True)  # a second retry, back on the first process
        first.drain()
        second.drain()

    # The other process acknowledges the retry as it would any command (an ephemeral "Reading…", no I/O);
    # the first process drops its own repeat in memory, before any database.
    assert original.json()["text"] == READING and retry.json()["text"] == READING
    assert again.status == 200 and again.body == ""
    assert answers_in(slack) == 1
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    store = StateStore.open(database_url)
    try:
        assert [key for key, _, _ in store.answer_claims()] == ["trigger_id:501.1.original"]
    finally:
        store.close()


def test_commands_and_retries_spread_over_two_processes_are_each_answered_once(
    slack: SlackStandIn, book: Path, database_url: str
) -> None:
    with two_processes(slack, book, database_url) as (first, second):
        bodies = [command_body(slack, "status", trigger_id=f"6{n}.1.spread") for n in range(4)]
        for n, body in enumerate(bodies):
            origin, other = (first, second) if n % 2 == 0 else (second, first)
            assert deliver(origin, body).status == 200
            assert deliver(other, body, retry=True).status == 200
        first.drain()
        second.drain()

    assert answers_in(slack) == 4


def test_help_needs_no_claim_and_is_acknowledged_by_whichever_process_gets_it(
    slack: SlackStandIn, book: Path, database_url: str
) -> None:
    with two_processes(slack, book, database_url) as (first, second):
        body = command_body(slack, "help", trigger_id="701.1.help")
        replies = [deliver(first, body), deliver(second, body, retry=True)]
        first.drain()
        second.drain()

    assert all("/microopt status" in reply.body for reply in replies)
    assert answers_in(slack) == 0
    store = StateStore.open(database_url)
    try:
        assert store.answer_claims() == []
    finally:
        store.close()


def test_acknowledgements_never_wait_for_the_database(slack: SlackStandIn, book: Path, database_url: str) -> None:
    holder = StateStore.open(database_url)
    holder.ensure_schema()
    try:
        with two_processes(slack, book, database_url) as (first, _), holder.engine.connect() as blocking:
            # Another session holds a lock that every claim has to wait for.
            if blocking.dialect.name == "postgresql":
                blocking.execute(text("LOCK TABLE microopt_answers IN EXCLUSIVE MODE"))
            else:
                blocking.exec_driver_sql("BEGIN IMMEDIATE")
            body = command_body(slack, "status", trigger_id="801.1.stuck")
            reply = deliver(first, body)
            assert reply.json()["text"] == READING
            assert reply.seconds < 1.5  # the claim is stuck behind the lock; the acknowledgement is not
            assert answers_in(slack) == 0
            blocking.rollback()
            wait_for(lambda: answers_in(slack) == 1)
            first.drain()
    finally:
        holder.close()
    assert answers_in(slack) == 1


def test_an_unreachable_database_means_answering_anyway_and_a_warning(
    slack: SlackStandIn, book: Path, tmp_path: Path, caplog
) -> None:
    # A PostgreSQL URL whose socket directory does not exist: every connection fails at once.
    unreachable = f"postgresql+psycopg://microopt:s3cret-password@/microopt?host={tmp_path / 'no-server'}"
    caplog.set_level(logging.WARNING, logger="microopt")
    with two_processes(slack, book, unreachable) as (first, second):
        body = command_body(slack, "status", trigger_id="901.1.nodb")
        deliver(first, body)
        deliver(second, body, retry=True)
        first.drain()
        second.drain()

    # A duplicate answer beats silence: both processes answered, and each said why in the log.
    assert answers_in(slack) == 2
    warnings = [r for r in caplog.records if "could not claim trigger_id:901.1.nodb" in r.getMessage()]
    assert len(warnings) == 2 and all(r.exc_info for r in warnings)
    assert "s3cret-password" not in caplog.text
