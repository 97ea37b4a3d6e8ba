"""The scheduler only wires a one-minute trigger to `post_digests`; checked by its next fire times."""

from __future__ import annotations

import datetime as dt
import itertools
import subprocess
import sys
from dataclasses import replace

from bot.scheduler import JOB_ID, create_scheduler, run_due_digests
from bot.slack.decisions.sheet_rows import JOB_ID as DECISIONS_JOB
from bot.slack.decisions.sheet_rows import run_owed_writes
from tests.bot.digests.conftest import World

UTC = dt.UTC


def test_the_digest_job_fires_a_few_seconds_past_every_minute(world: World):
    scheduler = create_scheduler(world.deps, background=True, start_now=False)
    assert sorted(j.id for j in scheduler.get_jobs()) == sorted([JOB_ID, DECISIONS_JOB])
    job = scheduler.get_job(JOB_ID)
    assert job.id == JOB_ID and job.func is run_due_digests and job.args == (world.deps,)
    assert job.max_instances == 1 and job.coalesce
    trigger = job.trigger
    first = trigger.get_next_fire_time(None, dt.datetime(2026, 3, 2, 8, 59, 30, tzinfo=UTC))
    second = trigger.get_next_fire_time(first, first)
    assert (first, second) == (
        dt.datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC),
        dt.datetime(2026, 3, 2, 9, 1, 5, tzinfo=UTC),
    )
    # on a clock change the UTC tick keeps its pace
    dst = dt.datetime(2026, 3, 29, 0, 59, 30, tzinfo=UTC)
    fires = [trigger.get_next_fire_time(None, dst + dt.timedelta(minutes=i)) for i in range(3)]
    assert [b - a for a, b in itertools.pairwise(fires)] == [dt.timedelta(minutes=1)] * 2


def test_the_decisions_job_writes_what_the_sheet_is_owed_every_minute_between_digest_ticks(world: World):
    scheduler = create_scheduler(world.deps, background=True, start_now=False)
    job = scheduler.get_job(DECISIONS_JOB)
    assert job.func is run_owed_writes and job.args == (world.deps,) and job.max_instances == 1
    first = job.trigger.get_next_fire_time(None, dt.datetime(2026, 3, 2, 8, 59, 30, tzinfo=UTC))
    assert first == dt.datetime(2026, 3, 2, 8, 59, 35, tzinfo=UTC)
    run_owed_writes(world.deps)  # a local sheet owes nothing; never raises


def test_a_started_scheduler_runs_a_first_catch_up_at_once(world: World):
    scheduler = create_scheduler(world.deps, background=True)
    job = scheduler.get_job(JOB_ID)
    assert job.next_run_time is not None
    assert abs(job.next_run_time - dt.datetime.now(UTC)) < dt.timedelta(seconds=5)


def test_the_job_posts_what_is_due_at_the_clock_time_and_never_raises(world: World):
    world.run(dt.datetime(2026, 3, 2, 8, tzinfo=UTC))
    run_due_digests(replace(world.deps, clock=lambda: dt.datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)))
    assert len(world.posts("#spring-sale")) == 1

    def broken() -> dt.datetime:
        raise RuntimeError("clock failure")

    run_due_digests(replace(world.deps, clock=broken))  # logged, not raised


def test_web_processes_do_not_load_the_scheduler():
    code = "import sys, bot.wsgi, bot.slack.app, bot.cli; assert 'bot.scheduler' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=".")
