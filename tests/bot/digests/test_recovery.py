"""Digests exactly once when Slack's answers lie by omission, when a channel fails for a while, when a slot's
window closes, and when the database goes away: `post_digests` with an injected clock against SQLite and a
real PostgreSQL, a real slack_sdk client and the loopback stand-in's fault modes."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy.exc import OperationalError

from bot.digests.run import post_channel_digest
from bot.errors import DatabaseUnavailable
from bot.slack_api.client import create_web_client
from bot.state.store import StateStore
from tests.bot.digests.conftest import World, settings_for, trouble_notes
from tests.fakes.slack_api import FAIL, STORE_THEN_500, STORE_THEN_STALL

MONDAY = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
NINE = MONDAY.replace(hour=9)
SPRING = ("C0SPRING", NINE.isoformat(), 0)


def ready(world: World) -> None:
    """The schedules are known from 08:00; the only channel due at 09:00 is #spring-sale (weekdays, London)."""
    world.run(MONDAY.replace(hour=8))


def row(world: World, channel: str = "C0SPRING"):  # type: ignore[no-untyped-def]  # a DigestRow
    (found,) = world.store.digest_rows(channel)
    return found


def test_a_500_after_slack_stored_the_post_is_found_not_posted_again(world: World):
    ready(world)
    world.slack.faults.add(STORE_THEN_500)
    run = world.run(NINE)
    assert [(o.status, o.found) for o in run.outcomes] == [("posted", 1)]
    assert world.copies() == {SPRING: 1}
    assert len(world.posts("#spring-sale")) == 1  # slack_sdk's blind 5xx retry would have made it two
    assert (row(world).status, row(world).arrival) == ("posted", "arrived")


def test_a_timeout_on_a_post_that_arrived_is_recorded_posted(world: World):
    world.deps = replace(world.deps, settings=settings_for(world.slack, MICROOPT_SLACK_TIMEOUT=1))
    world.deps = replace(world.deps, slack_client=lambda: create_web_client(world.deps.settings))
    ready(world)
    world.slack.faults.stall_seconds = 1.5
    world.slack.faults.add(STORE_THEN_STALL)
    run = world.run(NINE)
    assert [(o.status, o.found, o.error) for o in run.outcomes] == [("posted", 1, None)]
    assert world.copies() == {SPRING: 1}
    assert row(world).status == "posted"


def test_a_transient_500_that_stored_nothing_is_sent_again_once(world: World):
    ready(world)
    world.slack.faults.add(FAIL)
    run = world.run(NINE)
    assert [o.status for o in run.outcomes] == ["posted"]
    assert world.copies() == {SPRING: 1}
    assert len(world.posts("#spring-sale")) == 2  # the 500, then the post, after history said it was not there
    assert world.sleeps and all(s < 5 for s in world.sleeps)  # backoff with jitter, not slept in the test


def test_a_failing_channel_is_retried_with_backoff_and_posted_once_it_recovers(world: World):
    ready(world)
    world.slack.faults.fail_channel("C0SPRING", 3600)
    first = world.run(NINE)
    (failed,) = first.outcomes
    assert (failed.status, failed.error) == ("failed", "slack_5xx")
    assert failed.retry_at is not None and NINE < failed.retry_at <= NINE + dt.timedelta(seconds=31)
    assert not first.ok
    # Before its retry time nothing is sent; the run says the digest waits.
    early = world.run(NINE + dt.timedelta(seconds=5))
    assert early.outcomes == [] and [r.channel for r in early.waiting] == ["C0SPRING"] and not early.ok
    delays = []
    now = NINE
    for _ in range(4):  # still failing: each retry waits longer, at most 2 minutes
        now = row(world).retry_at
        world.run(now)
        delays.append((row(world).retry_at - now).total_seconds())
    assert delays[0] <= delays[-1] <= 120 and delays[0] >= 60 * 0.75  # 30 s, 60 s, then 120 s at most
    assert any("did not get its digest of Mon 2 Mar 09:00 UTC yet" in n for n in trouble_notes(world.deps))
    world.slack.faults.recover("C0SPRING")
    back = world.run(row(world).retry_at)
    assert [o.status for o in back.outcomes] == ["posted"] and back.ok
    assert world.copies() == {SPRING: 1}
    assert (row(world).status, row(world).attempts) == ("posted", 6)
    assert not any("spring-sale" in n for n in trouble_notes(world.deps))


def test_a_slot_still_failing_when_its_window_closes_is_missed_with_why(world: World):
    ready(world)
    world.slack.faults.fail_channel("C0SPRING", 3600)
    world.run(NINE)
    # The grace period is 12 hours; at 21:01 the 09:00 slot's window has closed.
    closed = world.run(NINE + dt.timedelta(hours=12, minutes=1))
    assert [(o.status, o.error, o.arrival) for o in closed.outcomes] == [("missed", "slack_5xx", "not_arrived")]
    assert not closed.ok
    assert row(world).status == "missed"
    (note,) = [n for n in trouble_notes(world.deps) if "spring-sale" in n]
    assert note == (
        "#spring-sale missed its digest of Mon 2 Mar 09:00 UTC: Slack answered with server errors; it did not arrive."
    )
    assert world.run(NINE + dt.timedelta(hours=12, minutes=2)).outcomes == []  # missed is final


def test_a_failed_hourly_slot_is_replaced_by_the_next_one(world: World):
    world.sheet.channels = [["Spring Sale", "#spring-sale", "0 * * * *", "UTC"]]
    world.run(MONDAY.replace(hour=8, minute=30))
    world.slack.faults.fail_channel("C0SPRING", 3600)
    world.run(NINE)
    world.slack.faults.recover("C0SPRING")
    ten = world.run(NINE.replace(hour=10))
    assert sorted((o.slot_at.hour, o.status, o.error) for o in ten.outcomes) == [
        (9, "missed", "slack_5xx"),
        (10, "posted", None),
    ]
    assert world.copies() == {  # 08:00 was posted by the first run, which saw the schedule inside its window
        ("C0SPRING", NINE.replace(hour=8).isoformat(), 0): 1,
        ("C0SPRING", NINE.replace(hour=10).isoformat(), 0): 1,
    }
    assert not any("spring-sale" in n for n in trouble_notes(world.deps))  # a later digest arrived


def test_without_history_scopes_an_unsure_post_is_not_known_yet_then_found(world: World):
    ready(world)
    world.slack.scopes -= {"channels:history", "groups:history"}
    world.slack.faults.add(STORE_THEN_500)
    run = world.run(NINE)
    assert [(o.status, o.error) for o in run.outcomes] == [("unknown", "missing_scope")]
    assert not run.ok and len(world.posts()) == 1  # nothing re-sent blind
    (note,) = [n for n in trouble_notes(world.deps) if "spring-sale" in n]
    assert "whether it arrived is not known yet" in note and "channels:history" in note
    world.slack.scopes |= {"channels:history", "groups:history"}
    later = world.run(NINE.replace(minute=1))
    assert [(o.status, o.found) for o in later.outcomes] == [("posted", 1)]
    assert world.copies() == {SPRING: 1}


def test_a_run_stopped_just_before_midnight_is_finished_after_it(world: World, database_url: str):
    world.sheet.channels = [["Spring Sale", "#spring-sale", "daily 23:59", "UTC"]]
    world.run(MONDAY.replace(hour=12))
    slot = MONDAY.replace(hour=23, minute=59)
    crashed = StateStore.open(database_url, worker="crashed-process")
    try:
        claim = crashed.claim("C0SPRING", "C0SPRING", slot, slot, dt.timedelta(seconds=45))
        assert claim is not None and crashed.mark_sending(claim, slot)
    finally:
        crashed.close()
    after = world.run(slot + dt.timedelta(minutes=1, seconds=30))  # Tuesday 00:00:30: the slot's day is over
    assert [(o.slot_at, o.status) for o in after.outcomes] == [(slot, "posted")]
    assert world.copies() == {("C0SPRING", slot.isoformat(), 0): 1}


def test_a_forced_digest_whose_answer_never_came_is_settled_by_the_next_run(world: World):
    world.slack.scopes -= {"channels:history"}
    world.slack.faults.add(STORE_THEN_500)
    forced = post_channel_digest(world.deps, "#spring-sale", NINE, pacer=world.pacer, sleep=world.sleeps.append)
    assert [o.status for o in forced.outcomes] == ["unknown"]
    world.slack.scopes |= {"channels:history"}
    settled = world.run(NINE.replace(minute=5))
    assert [(o.status, o.found) for o in settled.outcomes if o.kind == "forced"] == [("posted", 1)]
    assert len([p for p in world.posts() if p["metadata"]["event_payload"]["kind"] == "forced"]) == 1


def test_a_database_that_stops_answering_is_one_sentence_without_its_password(world: World):
    class Down:
        def __getattr__(self, name: str) -> object:
            def fail(*args: object, **kwargs: object) -> object:
                raise OperationalError("SELECT 1", {}, Exception("connection refused"))

            return fail

    settings = settings_for(world.slack, DATABASE_URL="postgresql://bot:s3cret@db.example.com:5432/microopt")
    deps = replace(world.deps, settings=settings, state=lambda: Down())  # type: ignore[arg-type, return-value]
    with pytest.raises(DatabaseUnavailable) as caught:
        world.deps = deps
        world.run(NINE)
    sentence = str(caught.value)
    assert "db.example.com" in sentence and "s3cret" not in sentence
    assert sentence.count(". ") == 0 and sentence.endswith(".")
