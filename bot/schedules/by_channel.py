"""Which schedule each channel follows: its Channels-tab row, or a `/microopt schedule` setting that wins
over it; and the Schedule and Timezone cells that do not work, each a problem of its own cell."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analysis.models import ChannelRoute, Problem, Tab
from analysis.reading.cells import a1, normalise_header
from bot.errors import UserFacingError
from bot.routing import Names, channel_id_of, parse_channel
from bot.schedules.slots import Schedule, ScheduleError, bad_schedule, check_timezone, parse_schedule
from bot.sentences import QUOTE_CHARS, shorten

logger = logging.getLogger("microopt.schedules")


@dataclass(frozen=True)
class ChannelSchedule:
    """The schedule in force for one channel, after a Slack override is applied over the sheet."""

    channel: str
    target: str
    source: str
    since: dt.datetime
    channel_id: str | None
    channel_name: str | None
    spec: str | None
    timezone: str
    schedule: Schedule | None
    problem: str | None = None


@dataclass(frozen=True)
class ScheduleRow:
    channel: str
    source: str
    channel_name: str | None
    target: str
    spec: str | None
    timezone: str
    since: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class SheetSchedule:
    """A Channels-tab row reduced to what scheduling needs."""

    channel: str
    target: str
    spec: str
    timezone: str
    channel_name: str | None = None  # the name the Channels tab gave, for messages


def sheet_schedules(routes: Iterable[ChannelRoute], default_timezone: str, names: Names) -> list[SheetSchedule]:
    """One schedule per channel ID from the Channels tab (the first row that gives one). A row whose
    channel name does not resolve in `names` schedules nothing (`bot.routing.unresolved` names it)."""
    found: dict[str, SheetSchedule] = {}
    for route in routes:
        if not route.schedule:
            continue
        channel_id = channel_id_of(route.channel, names)
        if channel_id and channel_id not in found:
            timezone = route.timezone or default_timezone
            name = parse_channel(route.channel).name
            found[channel_id] = SheetSchedule(channel_id, channel_id, route.schedule, timezone, name)
    return list(found.values())


def renamed_keys(wanted: Iterable[SheetSchedule]) -> dict[str, str]:
    """Name → ID for schedules a database of schema 3 or older keyed by the channel's name."""
    return {w.channel_name: w.channel for w in wanted if w.channel_name and w.channel_name != w.channel}


def _parsed(spec: str | None, timezone: str) -> tuple[Schedule | None, str | None]:
    """A schedule, or why not: a bad cell costs its own channel's digests, never the others'."""
    if spec is None:
        return None, None
    try:
        return parse_schedule(spec, timezone), None
    except UserFacingError as error:
        return None, str(error)
    except Exception as error:  # a parser bug must stay one channel's problem too; logged with its traceback
        logger.exception("schedule %r (%s) could not be parsed", spec[:QUOTE_CHARS], timezone[:QUOTE_CHARS])
        return None, str(bad_schedule(spec, type(error).__name__))


def schedule_problems(tabs: Sequence[Tab], default_timezone: str) -> list[Problem]:
    """Schedule and Timezone cells of the Channels tab that do not work, each with its A1 reference.

    Their channel's digest waits until the cell is fixed; every other channel's goes out.
    """
    problems: list[Problem] = []
    for tab in tabs:
        if tab.name.strip().lower() != "channels":
            continue
        header = next((i for i, row in enumerate(tab.rows) if "channel" in [normalise_header(c) for c in row]), None)
        if header is None:
            continue
        names = [normalise_header(c) for c in tab.rows[header]]
        column: dict[str, int] = {n: names.index(n) for n in ("channel", "schedule", "timezone") if n in names}
        if "schedule" not in column:
            continue

        def cell(row: Sequence[object], name: str, column: dict[str, int] = column) -> str:
            index = column.get(name)
            value = row[index] if index is not None and index < len(row) else None
            return "" if value is None else str(value).strip()

        for row_index in range(header + 1, len(tab.rows)):
            row = tab.rows[row_index]
            spec, zone, channel = cell(row, "schedule"), cell(row, "timezone"), cell(row, "channel")
            if not spec or not channel:
                continue
            if zone:
                try:
                    check_timezone(zone)
                except ScheduleError as error:
                    where = a1(tab.name, row_index, column["timezone"])
                    problems.append(Problem(cell=where, message=f"{error} The digest for {shorten(channel)} waits."))
                    continue
            _, problem = _parsed(spec, zone or default_timezone)
            if problem:
                where = a1(tab.name, row_index, column["schedule"])
                problems.append(Problem(cell=where, message=f"{problem} The digest for {shorten(channel)} waits."))
    return problems


def _in_force(row: ScheduleRow, chosen: ScheduleRow) -> ChannelSchedule:
    schedule, problem = _parsed(chosen.spec, chosen.timezone)
    return ChannelSchedule(
        channel=row.channel,
        target=row.target,
        source=chosen.source,
        since=chosen.since,
        channel_id=parse_channel(row.channel).channel_id,
        channel_name=row.channel_name or chosen.channel_name,
        spec=chosen.spec,
        timezone=chosen.timezone,
        schedule=schedule,
        problem=problem,
    )


def effective_schedules(rows: Iterable[ScheduleRow]) -> list[ChannelSchedule]:
    """A `/microopt schedule` setting wins over the Channels tab for its channel (both keyed by channel ID)."""
    rows = list(rows)
    slack = {r.channel: r for r in rows if r.source == "slack"}
    in_sheet = {r.channel for r in rows if r.source == "sheet"}
    from_sheet = [_in_force(row, slack.get(row.channel, row)) for row in rows if row.source == "sheet"]
    return from_sheet + [_in_force(row, row) for row in slack.values() if row.channel not in in_sheet]


def schedule_for(rows: Iterable[ScheduleRow], channel_id: str) -> ChannelSchedule | None:
    """The schedule in force for the channel `channel_id`, if any."""
    return next((found for found in effective_schedules(rows) if found.channel == channel_id), None)
