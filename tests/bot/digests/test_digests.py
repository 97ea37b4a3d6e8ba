"""The digest job called directly with an injected clock, against SQLite and a real PostgreSQL server,
posting through a real slack_sdk client to the loopback Slack stand-in."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import replace

import pytest

from bot.digests.run import ChannelPacer, DigestRun, post_channel_digest, post_digests
from bot.errors import SheetUnavailable
from bot.state.store import StateStore
from tests.bot.digests.conftest import (
    B_WINS,
    CLOSE,
    RESULTS_HEADER,
    SEARCH,
    World,
    schedule_command,
    settings_for,
    trouble_notes,
)

UTC = dt.UTC
MONDAY = dt.datetime(2026, 3, 2, tzinfo=UTC)


def at(day: dt.datetime, hour: int, minute: int = 0) -> dt.datetime:
    return day.replace(hour=hour, minute=minute)


def ticks(start: dt.datetime, end: dt.datetime, every: dt.timedelta) -> list[dt.datetime]:
    out, now = [], start
    while now < end:
        out.append(now)
        now += every
    return out


def slots_posted(world: World, channel: str) -> list[dt.datetime]:
    return [r.slot_at for r in world.store.digest_rows(channel) if r.status == "posted"]


def test_a_week_of_ticks_posts_each_slot_once_in_its_timezone(world: World):
    for now in ticks(MONDAY, MONDAY + dt.timedelta(days=7), dt.timedelta(minutes=30)):
        world.run(now)
    # weekdays 09:00 Europe/London (GMT in early March): Monday to Friday at 09:00 UTC
    assert slots_posted(world, "C0SPRING") == [at(MONDAY + dt.timedelta(days=d), 9) for d in range(5)]
    assert len(world.posts("#spring-sale")) == 5
    # daily 17:00 America/New_York: 22:00 UTC, then 21:00 UTC once New York moves its clocks on Sunday 8 March;
    # first seen at Sunday 19:00 in New York, two hours after Sunday's slot: that slot is posted at once
    search = slots_posted(world, "C0SEARCH")
    assert search == [at(MONDAY + dt.timedelta(days=d), 22) for d in range(-1, 6)] + [
        at(MONDAY + dt.timedelta(days=6), 21)
    ]
    assert len(world.posts("C0SEARCH")) == 8
    # one read a day to refresh the schedules (MICROOPT_SCHEDULE_SYNC_MINUTES is a day here) and one per run
    # with digests due; never two in one run
    assert world.sheet.reads == 7 + 12


@pytest.mark.parametrize(
    ("spec", "timezone", "first_day", "expected_utc"),
    [
        # London springs forward on Sunday 29 March 2026 (01:00 GMT → 02:00 BST)
        ("daily 09:00", "Europe/London", dt.datetime(2026, 3, 28, tzinfo=UTC), ["09:00", "08:00", "08:00"]),
        # 01:30 does not exist in London on 29 March: that day's digest comes at 02:30 BST, not never
        ("daily 01:30", "Europe/London", dt.datetime(2026, 3, 28, tzinfo=UTC), ["01:30", "01:30", "00:30"]),
        # London falls back on Sunday 25 October 2026: 01:30 happens twice, the digest once
        ("daily 01:30", "Europe/London", dt.datetime(2026, 10, 24, tzinfo=UTC), ["00:30", "00:30", "01:30"]),
        # New York falls back on Sunday 1 November 2026
        ("daily 01:30", "America/New_York", dt.datetime(2026, 10, 31, tzinfo=UTC), ["05:30", "05:30", "06:30"]),
    ],
)
def test_a_daily_digest_fires_once_a_day_across_a_clock_change(
    world: World, spec: str, timezone: str, first_day: dt.datetime, expected_utc: list[str]
):
    world.sheet.channels = [["Spring Sale", "#spring-sale", spec, timezone]]
    start = first_day - dt.timedelta(hours=2)  # the day before's slot is past its window when first seen
    for now in ticks(start, first_day + dt.timedelta(days=3), dt.timedelta(minutes=15)):
        world.run(now)
    posted = slots_posted(world, "C0SPRING")
    assert [f"{s:%H:%M}" for s in posted] == expected_utc
    assert [s.date() for s in posted] == [(first_day + dt.timedelta(days=d)).date() for d in range(3)]
    assert len(world.posts()) == 3


def test_running_the_job_again_for_the_same_minute_posts_nothing_more(world: World):
    world.run(at(MONDAY, 8))
    first = world.run(at(MONDAY, 9))
    again = world.run(at(MONDAY, 9))
    later = world.run(at(MONDAY, 9, 1))
    assert first.count("posted") == 1
    assert again.outcomes == [] and later.outcomes == []
    assert len(world.posts("#spring-sale")) == 1


LEASE = dt.timedelta(seconds=45)  # MICROOPT_DIGEST_LEASE_SECONDS's default


def test_a_restart_between_claim_and_post_posts_the_slot_once_within_a_minute(world: World, database_url: str):
    world.run(at(MONDAY, 8))
    crashed = StateStore.open(database_url, worker="crashed-process")
    try:
        claim = crashed.claim("C0SPRING", "C0SPRING", at(MONDAY, 9), at(MONDAY, 9), LEASE)
        assert claim is not None  # …and the process stopped here, before sending anything
    finally:
        crashed.close()
    assert world.run(at(MONDAY, 9) + dt.timedelta(seconds=30)).outcomes == []  # the claim is still leased
    assert world.posts() == []
    taken = world.run(at(MONDAY, 9, 1))
    assert [(o.label, o.status) for o in taken.outcomes] == [("#spring-sale", "posted")]
    assert world.run(at(MONDAY, 9, 2)).outcomes == []
    assert len(world.posts("#spring-sale")) == 1
    (row,) = world.store.digest_rows("C0SPRING")
    assert (row.status, row.attempts, row.slot_at) == ("posted", 2, at(MONDAY, 9))


@pytest.mark.parametrize("arrived", [True, False])
def test_a_restart_while_sending_asks_slack_and_posts_only_what_did_not_arrive(
    world: World, database_url: str, arrived: bool
):
    from bot.digests.recovery import metadata
    from bot.slack_api.client import create_web_client

    world.run(at(MONDAY, 8))
    crashed = StateStore.open(database_url, worker="crashed-process")
    try:
        claim = crashed.claim("C0SPRING", "C0SPRING", at(MONDAY, 9), at(MONDAY, 9), LEASE)
        assert claim is not None and crashed.mark_sending(claim, at(MONDAY, 9))
        if arrived:  # its post reached Slack, and the process died before it heard back
            client = create_web_client(world.deps.settings)
            client.chat_postMessage(channel="#spring-sale", text="digest", metadata=metadata(claim, 0, 1))
    finally:
        crashed.close()
    recovered = world.run(at(MONDAY, 9, 1))
    assert [(o.status, o.found) for o in recovered.outcomes] == [("posted", 1 if arrived else 0)]
    world.run(at(MONDAY, 9, 30))
    assert world.copies() == {("C0SPRING", at(MONDAY, 9).isoformat(), 0): 1}
    (row,) = world.store.digest_rows("C0SPRING")
    assert (row.status, row.arrival, row.channel_id) == ("posted", "arrived", "C0SPRING")
    history = world.slack.calls_to("conversations.history")
    assert history and history[0].params["channel"] == "C0SPRING"
    assert history[0].params["include_all_metadata"] in ("1", "true", "True")


def test_two_workers_at_once_post_each_slot_once(world: World, database_url: str):
    world.run(at(MONDAY, 8))
    stores = [StateStore.open(database_url, worker=f"worker-{i}") for i in range(2)]
    try:
        for day in range(5):
            now = at(MONDAY + dt.timedelta(days=day), 9)
            barrier = threading.Barrier(2)
            results: list[DigestRun] = []

            def work(
                store: StateStore,
                now: dt.datetime = now,
                barrier: threading.Barrier = barrier,
                results: list[DigestRun] = results,
            ) -> None:
                barrier.wait()
                results.append(post_digests(world.with_store(store), now, pacer=ChannelPacer(0)))

            threads = [threading.Thread(target=work, args=(s,)) for s in stores]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert sum(r.count("posted") for r in results) == 1
    finally:
        for store in stores:
            store.close()
    assert len(world.posts("#spring-sale")) == 5
    assert Counter(r.status for r in world.store.digest_rows("C0SPRING")) == {"posted": 5}


def test_a_slot_missed_while_down_is_posted_once_on_return_the_same_day_only(world: World):
    world.run(at(MONDAY, 8))  # up, then down from 08:00 to 11:00
    back = world.run(at(MONDAY, 11))
    assert [(o.label, o.slot_at, o.status) for o in back.outcomes] == [("#spring-sale", at(MONDAY, 9), "posted")]
    assert world.run(at(MONDAY, 11, 1)).outcomes == []
    # down all Tuesday: Tuesday's digest is not posted on Wednesday morning…
    wednesday = MONDAY + dt.timedelta(days=2)
    assert [o for o in world.run(at(wednesday, 8)).outcomes if o.target == "C0SPRING"] == []
    # …and Wednesday's is, on time
    assert [o.slot_at for o in world.run(at(wednesday, 9)).outcomes] == [at(wednesday, 9)]
    assert len(world.posts("#spring-sale")) == 2


def test_several_missed_slots_are_caught_up_in_one_digest(world: World):
    world.sheet.channels = [["Spring Sale", "#spring-sale", "0 * * * *", "UTC"]]
    first = world.run(at(MONDAY, 8, 30))  # first seen inside the 08:00 slot's window: it posts that slot
    back = world.run(at(MONDAY, 12, 30))  # 09:00, 10:00, 11:00 and 12:00 were missed
    assert [o.slot_at for o in first.outcomes] == [at(MONDAY, 8)]
    assert [o.slot_at for o in back.outcomes] == [at(MONDAY, 12)]
    assert len(world.posts()) == 2


def test_the_digest_leads_with_what_changed_then_says_nothing_new_in_one_line(world: World):
    world.run(at(MONDAY, 8))
    first = world.run(at(MONDAY, 9)).outcomes[0].digest
    assert first is not None and "first digest" in first.text and "Still running" in first.text
    assert "Brand Search" not in first.text  # routed to another channel

    world.sheet.results[:2] = B_WINS
    tuesday = MONDAY + dt.timedelta(days=1)
    second = world.run(at(tuesday, 9)).outcomes[0].digest
    assert second is not None
    assert "New: B now beats A on purchases. Move budget to B." in second.text
    assert second.lines[0].startswith("microopt digest · #spring-sale — 1 new since Mon 2 Mar")

    wednesday = MONDAY + dt.timedelta(days=2)
    third = world.run(at(wednesday, 9)).outcomes[0].digest
    assert third is not None and third.empty and len(third.lines) == 1
    assert "nothing new since Tue 3 Mar" in third.text
    posted = world.posts("#spring-sale")
    assert len(posted) == 3 and "nothing new" in posted[-1]["text"]

    history = world.store.verdict_history("Spring Sale", "Audience")
    assert [(h.verdict, h.changed, h.said_at) for h in history] == [
        ("keep_running", False, at(MONDAY, 9)),
        ("move_budget", True, at(tuesday, 9)),
        ("move_budget", False, at(wednesday, 9)),
    ]


def test_paused_and_done_tests_leave_digests_but_status_lists_them_last(world: World):
    from bot.service import full_report, load_sheet

    world.sheet.header = [*RESULTS_HEADER, "Status"]
    world.sheet.results = [[*CLOSE[0], "done"], [*CLOSE[1], "Done"], [*SEARCH[0], "paused"], [*SEARCH[1], ""]]
    world.run(at(MONDAY, 8))
    digest = world.run(at(MONDAY, 9)).outcomes[0].digest
    assert digest is not None and digest.tests == 0 and "Spring Sale" not in digest.text
    report = full_report(world.deps, load_sheet(world.deps))
    assert [(t.campaign, t.status) for t in report.tests] == [("Brand Search", "paused"), ("Spring Sale", "done")]


def test_an_empty_digest_can_be_skipped(world: World):
    world.deps = replace(world.deps, settings=settings_for(world.slack, MICROOPT_DIGEST_SKIP_EMPTY=True))
    world.run(at(MONDAY, 8))
    world.run(at(MONDAY, 9))
    skipped = world.run(at(MONDAY + dt.timedelta(days=1), 9))
    assert [o.status for o in skipped.outcomes] == ["skipped"]
    assert len(world.posts("#spring-sale")) == 1
    assert [r.status for r in world.store.digest_rows("C0SPRING")] == ["posted", "skipped"]


def test_one_failing_channel_does_not_stop_the_others_and_is_reported(world: World):
    world.sheet.channels = [
        ["Spring Sale", "C0DELETED", "weekdays 09:00", "UTC"],  # deleted since: Slack no longer knows it
        ["Spring Sale", "#spring-sale", "weekdays 09:00", "UTC"],
        ["Brand Search", "C0SEARCH", "weekdays 09:00", "UTC"],
    ]
    world.run(at(MONDAY, 8))
    run = world.run(at(MONDAY, 9))
    assert sorted((o.label, o.status, o.error) for o in run.outcomes) == [
        ("#spring-sale", "posted", None),
        ("C0DELETED", "failed", "channel_not_found"),
        ("C0SEARCH", "posted", None),
    ]
    notes = trouble_notes(replace(world.deps, clock=lambda: at(MONDAY, 10)))
    assert notes == [
        "C0DELETED did not get its digest of Mon 2 Mar 09:00 UTC yet: Slack does not know the channel "
        "(renamed, deleted or private): fix the Channels tab or invite the bot. microopt tries again from "
        "09:00 UTC until the digest's window closes."
    ]


def test_an_unreadable_sheet_claims_nothing_and_the_next_minute_tries_again(world: World):
    world.run(at(MONDAY, 8))
    world.sheet.fail = SheetUnavailable("The sheet could not be read: share it with the service account.")
    down = world.run(at(MONDAY, 9))
    assert down.problem is not None and "share it" in down.problem
    assert world.store.digest_rows() == []
    assert any("share it" in n for n in trouble_notes(world.deps))
    world.sheet.fail = None
    assert [o.status for o in world.run(at(MONDAY, 9, 1)).outcomes] == ["posted"]
    assert not any("share it" in n for n in trouble_notes(world.deps))


def test_a_schedule_set_in_slack_wins_over_the_sheet_and_off_stops_it(world: World):
    world.run(at(MONDAY, 8))
    world.deps = replace(world.deps, clock=lambda: at(MONDAY, 8, 5))
    reply = schedule_command(world.deps, "C0SPRING", "spring-sale", "daily 10:30")
    assert reply.startswith("Digests for #spring-sale: every day at 10:30 (Europe/London).")
    assert world.run(at(MONDAY, 9)).outcomes == []
    assert [o.slot_at for o in world.run(at(MONDAY, 10, 30)).outcomes] == [at(MONDAY, 10, 30)]
    schedule_command(world.deps, "C0SPRING", "spring-sale", "off")
    assert world.run(at(MONDAY + dt.timedelta(days=1), 10, 30)).outcomes == []
    schedule_command(world.deps, "C0SPRING", "spring-sale", "sheet")
    assert [o.slot_at for o in world.run(at(MONDAY + dt.timedelta(days=1), 9)).outcomes] == [
        at(MONDAY + dt.timedelta(days=1), 9)
    ]


def test_a_channel_outside_the_channels_tab_can_schedule_its_own_digest(world: World):
    world.run(at(MONDAY, 8))
    world.deps = replace(world.deps, clock=lambda: at(MONDAY, 8, 5))
    schedule_command(world.deps, "C0OTHER", "other", "weekdays 12:00 UTC")
    (outcome,) = [o for o in world.run(at(MONDAY, 12)).outcomes if o.target == "C0OTHER"]
    assert outcome.target == "C0OTHER" and outcome.status == "posted"
    assert outcome.digest is not None and "no tests are routed to this channel" in outcome.digest.text


def test_a_forced_digest_posts_now_whatever_the_schedule(world: World):
    run = post_channel_digest(world.deps, "#spring-sale", at(MONDAY, 15), pacer=world.pacer)
    assert [(o.label, o.status) for o in run.outcomes] == [("#spring-sale", "posted")]
    dry = post_channel_digest(world.deps, "spring-sale", at(MONDAY, 15, 1), dry_run=True)
    assert [o.status for o in dry.outcomes] == ["preview"]
    assert len(world.posts()) == 1
    assert [r.kind for r in world.store.digest_rows("C0SPRING")] == ["forced"]


def test_a_dry_run_posts_and_records_nothing(world: World):
    world.run(at(MONDAY, 8))
    run = world.run(at(MONDAY, 9), dry_run=True)
    assert [o.status for o in run.outcomes] == ["preview"]
    assert world.posts() == [] and world.store.digest_rows() == []


def test_retry_after_is_honoured_and_a_channel_gets_at_most_a_message_a_second(world: World):
    world.slack.post_interval_seconds = 1.0
    pacer = ChannelPacer(interval=1.0)
    world.slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, **{"Retry-After": "1"})
    first = post_channel_digest(world.deps, "#spring-sale", at(MONDAY, 15), pacer=pacer)
    second = post_channel_digest(world.deps, "#spring-sale", at(MONDAY, 15) + dt.timedelta(seconds=1), pacer=pacer)
    assert [o.status for o in first.outcomes + second.outcomes] == ["posted", "posted"]
    calls = world.slack.calls_to("chat.postMessage")
    assert len(calls) == 3  # the scripted 429, its retry, the second digest
    assert calls[2].at - calls[1].at >= 0.95
    assert world.slack.rate_limited == 0


def test_the_pacer_spaces_messages_per_channel_only():
    slept: list[float] = []
    now = [100.0]
    pacer = ChannelPacer(1.0, monotonic=lambda: now[0], sleep=slept.append)
    pacer.wait("#a")
    pacer.wait("#b")
    pacer.wait("#a")
    pacer.wait("#a")
    assert slept == [1.0, 2.0]
    now[0] = 105.0  # a slow post, accepted (after retries) at 105.0: the next one waits a second from then
    pacer.posted("#b")
    pacer.wait("#b")
    assert slept == [1.0, 2.0, 1.0]


def test_a_schedule_first_seen_inside_its_slots_window_posts_that_slot(world: World):
    """A first scheduler run (or a new Channels-tab row) at 09:20 for `weekdays 09:00`: today's digest now, not
    tomorrow's; the same for a schedule set with /microopt schedule after its time of day."""
    first = world.run(at(MONDAY, 9, 20))
    assert [(o.target, o.slot_at, o.status) for o in first.outcomes] == [("C0SPRING", at(MONDAY, 9), "posted")]
    assert world.run(at(MONDAY, 9, 21)).outcomes == []  # once

    world.deps = replace(world.deps, clock=lambda: at(MONDAY, 10, 45))
    schedule_command(world.deps, "C0OTHER", "other", "daily 10:30 UTC")
    (set_late,) = world.run(at(MONDAY, 10, 46)).outcomes
    assert (set_late.target, set_late.slot_at, set_late.status) == ("C0OTHER", at(MONDAY, 10, 30), "posted")


def test_a_schedule_first_seen_after_its_slots_window_waits_for_the_next_slot(world: World):
    late = world.run(at(MONDAY, 21, 30))  # 12.5 hours after 09:00: past MICROOPT_DIGEST_GRACE_HOURS (12)
    assert [o for o in late.outcomes if o.target == "C0SPRING"] == []
    tuesday = world.run(at(MONDAY + dt.timedelta(days=1), 9))
    assert [(o.target, o.slot_at) for o in tuesday.outcomes] == [("C0SPRING", at(MONDAY + dt.timedelta(days=1), 9))]
