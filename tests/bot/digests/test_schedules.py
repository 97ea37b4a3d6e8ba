"""`schedule` parsing, the triggers it builds, and the `/microopt schedule` replies."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.schedules.slots import ScheduleError, parse_schedule, slots_between
from tests.bot.digests.conftest import World, schedule_command

UTC = dt.UTC
FRIDAY_NOON = dt.datetime(2026, 3, 6, 12, tzinfo=UTC)


def next_fires(spec: str, timezone: str, start: dt.datetime, count: int = 3) -> list[dt.datetime]:
    trigger = parse_schedule(spec, timezone).trigger
    out: list[dt.datetime] = []
    previous, now = None, start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        out.append(fire.astimezone(UTC))
        previous, now = fire, fire
    return out


@pytest.mark.parametrize(
    ("spec", "timezone", "expected"),
    [
        ("weekdays 09:00", "Europe/London", ["2026-03-09 09:00", "2026-03-10 09:00", "2026-03-11 09:00"]),
        ("mon 08:30", "America/New_York", ["2026-03-09 12:30", "2026-03-16 12:30", "2026-03-23 12:30"]),
        ("daily 17:00", "UTC", ["2026-03-06 17:00", "2026-03-07 17:00", "2026-03-08 17:00"]),
        ("Daily  5pm", "UTC", ["2026-03-06 17:00", "2026-03-07 17:00", "2026-03-08 17:00"]),
        ("every monday at 9:30 am", "UTC", ["2026-03-09 09:30", "2026-03-16 09:30", "2026-03-23 09:30"]),
        ("mon,wed,fri 07:15 Asia/Tokyo", "UTC", ["2026-03-08 22:15", "2026-03-10 22:15", "2026-03-12 22:15"]),
        ("weekends 10:00", "UTC", ["2026-03-07 10:00", "2026-03-08 10:00", "2026-03-14 10:00"]),
        ("fri-mon 10:00", "UTC", ["2026-03-07 10:00", "2026-03-08 10:00", "2026-03-09 10:00"]),
        # cron counts days from Sunday = 0 (APScheduler 3 from Monday = 0: translated)
        ("0 9 * * 1-5", "UTC", ["2026-03-09 09:00", "2026-03-10 09:00", "2026-03-11 09:00"]),
        ("30 8 * * 0", "UTC", ["2026-03-08 08:30", "2026-03-15 08:30", "2026-03-22 08:30"]),
        ("0 9 1 * *", "UTC", ["2026-04-01 09:00", "2026-05-01 09:00", "2026-06-01 09:00"]),
        ("0 */6 * * *", "UTC", ["2026-03-06 12:00", "2026-03-06 18:00", "2026-03-07 00:00"]),
    ],
)
def test_human_forms_and_cron_become_triggers_in_their_timezone(spec: str, timezone: str, expected: list[str]):
    assert [f"{t:%Y-%m-%d %H:%M}" for t in next_fires(spec, timezone, FRIDAY_NOON)] == expected


@pytest.mark.parametrize(
    "spec", ["", "weekdays", "weekdays 9", "tuesday 25:00", "someday 09:00", "0 9 * *", "99 9 * * *", "13pm"]
)
def test_bad_schedules_get_a_reply_with_valid_examples(spec: str):
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(spec)
    assert "`weekdays 09:00`" in str(raised.value) and "`0 9 * * 1-5`" in str(raised.value)


def test_a_schedule_more_often_than_hourly_is_refused():
    with pytest.raises(ScheduleError, match="more than once an hour"):
        parse_schedule("* 9 * * *")


def test_an_unknown_timezone_is_named():
    with pytest.raises(ScheduleError, match="“Mars/Base” is not a timezone"):
        parse_schedule("weekdays 09:00 Mars/Base")


def test_the_trigger_itself_fires_twice_on_a_repeated_hour_and_the_slots_do_not():
    """APScheduler's CronTrigger fires at both 01:30s of 25 October in London; the slots keep the first."""
    fires = next_fires("daily 01:30", "Europe/London", dt.datetime(2026, 10, 24, 12, tzinfo=UTC), 3)
    assert [f"{t:%m-%d %H:%M}" for t in fires] == ["10-25 00:30", "10-25 01:30", "10-26 01:30"]
    schedule = parse_schedule("daily 01:30", "Europe/London")
    slots = slots_between(schedule, dt.datetime(2026, 10, 24, 12, tzinfo=UTC), dt.datetime(2026, 10, 27, tzinfo=UTC))
    assert [f"{t:%m-%d %H:%M}" for t in slots] == ["10-25 00:30", "10-26 01:30"]


def test_a_time_skipped_when_clocks_go_forward_still_fires_that_day():
    """02:30 does not exist in New York on 8 March 2026; the trigger fires at 03:30 EDT instead of never."""
    fires = next_fires("daily 02:30", "America/New_York", dt.datetime(2026, 3, 7, 12, tzinfo=UTC), 3)
    assert [f"{t:%m-%d %H:%M}" for t in fires] == ["03-08 07:30", "03-09 06:30", "03-10 06:30"]


ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Santiago", "UTC"]


@settings(max_examples=40, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    start_day=st.integers(0, 364),
)
def test_a_daily_schedule_has_exactly_one_slot_per_local_day(zone: str, hour: int, minute: int, start_day: int):
    schedule = parse_schedule(f"daily {hour:02d}:{minute:02d}", zone)
    tz = ZoneInfo(zone)
    first = dt.datetime(2026, 1, 1, tzinfo=tz) + dt.timedelta(days=start_day)
    days = 60
    start = first.astimezone(UTC)
    end = (first + dt.timedelta(days=days)).astimezone(UTC) - dt.timedelta(seconds=1)
    local_days = [s.astimezone(tz).date() for s in slots_between(schedule, start, end)]
    assert len(local_days) == len(set(local_days)) == days


# -- /microopt schedule ---------------------------------------------------------------------------------
def test_schedule_command_shows_sets_and_stops(world: World):
    world.run(dt.datetime(2026, 3, 2, 8, tzinfo=UTC))
    deps = replace(world.deps, clock=lambda: dt.datetime(2026, 3, 6, 12, tzinfo=UTC))
    shown = schedule_command(deps, "C0SPRING", "spring-sale", "")
    assert shown.startswith("Digests for #spring-sale: weekdays at 09:00 (Europe/London), set in the Channels tab.")
    assert "Next digest: Mon 9 Mar, 09:00." in shown
    assert schedule_command(deps, "C0SPRING", "spring-sale", "mon 08:30") == (
        "Digests for #spring-sale: mon at 08:30 (Europe/London). First one: Mon 9 Mar, 08:30."
    )
    assert "set with /microopt schedule" in schedule_command(deps, "C0SPRING", "spring-sale", "show")
    assert schedule_command(deps, "C0SPRING", "spring-sale", "off").startswith("Digests for #spring-sale are off")
    assert "No digests are scheduled for #spring-sale (turned off here on Fri 6 Mar)" in schedule_command(
        deps, "C0SPRING", "spring-sale", ""
    )
    bad = schedule_command(deps, "C0SPRING", "spring-sale", "whenever")
    assert bad.startswith("“whenever” is not a schedule I understand") and "`weekdays 09:00`" in bad
    assert "set in the Channels tab" in schedule_command(deps, "C0SPRING", "spring-sale", "sheet")


def test_schedule_command_in_an_unscheduled_channel_explains_how_to_start(world: World):
    reply = schedule_command(world.deps, "C0OTHER", "other", "")
    assert reply.startswith("No digests are scheduled for #other. Start them with `/microopt schedule weekdays 09:00`")


def test_a_fire_time_in_a_gap_at_midnight_still_gives_that_day_its_slot():
    """Santiago jumps from 00:00 to 01:00 on 6 September 2026: APScheduler's trigger skips that day."""
    fires = next_fires("daily 00:00", "America/Santiago", dt.datetime(2026, 9, 5, 12, tzinfo=UTC), 2)
    assert [f"{t:%m-%d}" for t in fires] == ["09-07", "09-08"]
    schedule = parse_schedule("daily 00:00", "America/Santiago")
    slots = slots_between(schedule, dt.datetime(2026, 9, 5, 12, tzinfo=UTC), dt.datetime(2026, 9, 8, tzinfo=UTC))
    assert [f"{t.astimezone(schedule.zone):%m-%d %H:%M}" for t in slots] == ["09-06 01:00", "09-07 00:00"]


def test_a_schedule_cell_with_markup_is_quoted_raw_and_escaped_once_for_slack():
    from analysis.models import Tab
    from bot.render.blocks import problems_text
    from bot.schedules.by_channel import schedule_problems

    channels = Tab(
        name="Channels",
        rows=[["Campaign", "Channel", "Schedule", "Timezone"], ["Spring Sale", "#spring-sale", "<!here> 09:00", "UTC"]],
    )
    problems = schedule_problems([channels], "UTC")
    assert [p.cell for p in problems] == ["Channels!C2"]
    assert "“<!here> 09:00”" in problems[0].message  # the terminal shows what the cell says
    slack = problems_text(problems)
    assert "“&lt;!here&gt; 09:00”" in slack and "&amp;lt;" not in slack and "<!here>" not in slack
