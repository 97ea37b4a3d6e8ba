"""`/microopt schedule [<when> | off | sheet]`: show, set or stop a channel's digests from Slack.

Who may change them (MICROOPT_ADMINS, else members of the installing workspace), every change announced
in the channel and recorded with who and when (`bot.state.channels`). Parsing and slots are pure, in
`bot.schedules.slots`; this module is the Slack side of them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.deps import Deps
from bot.errors import UserFacingError
from bot.render.blocks import escape
from bot.schedules.by_channel import ChannelSchedule, schedule_for
from bot.schedules.slots import EXAMPLES, next_slot, parse_schedule
from bot.sentences import START_DIGESTS, digest_interval, mention, schedule_origin, shorten
from bot.state.channels import OFF, SET, SHEET, ScheduleChange, last_schedule_change, record_schedule_change

logger = logging.getLogger("microopt.schedules")


def echo(text: str) -> str:
    """What someone typed, quoted in a reply: short, and inert in mrkdwn (no pings, no disguised links)."""
    return escape(shorten(text))


def _when(moment: dt.datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a %-d %b}, {local:%H:%M}"


def _show(found: ChannelSchedule | None, channel_name: str, now: dt.datetime, change: ScheduleChange | None) -> str:
    where = f"#{echo(channel_name.lstrip('#'))}" if channel_name else "this channel"
    by = ""
    if change is not None and found is not None and found.source == "slack":
        who = _by(change.changed_by).strip()
        by = (f" by {who}" if who else "") + f" on {change.changed_at:%a %-d %b}"
    if found is None or (found.spec is None and found.problem is None):
        off = f" (turned off here{by})" if found is not None else ""
        return f"No digests are scheduled for {where}{off}. Start them with {START_DIGESTS} (or {EXAMPLES})."
    origin = schedule_origin(found.source, by)
    if found.schedule is None:
        return f"The schedule for {where} ({origin}) does not work: {escape(found.problem)}"
    upcoming = next_slot(found.schedule, now)
    after = f" Next digest: {_when(upcoming, found.schedule.zone)}." if upcoming else ""
    return (
        f"{digest_interval(where, found.schedule.description)}, {origin}.{after} "
        "Change it with `/microopt schedule mon 08:30`, stop it with `/microopt schedule off`."
    )


@dataclass(frozen=True)
class ScheduleRequest:
    """`/microopt schedule …` as Slack sent it: the channel by ID (its name only for wording), who asked,
    and whether they are of another workspace or organisation than the installing one."""

    channel_id: str
    channel_name: str
    text: str
    user_id: str = ""
    foreign: bool = False

    @property
    def where(self) -> str:
        return f"#{echo(self.channel_name.lstrip('#'))}" if self.channel_name else "this channel"


def handle_schedule_command(deps: Deps, request: ScheduleRequest) -> str:
    """`/microopt schedule [<when> | off | sheet]`: set, stop, or show this channel's digest schedule.

    Returns the reply (mrkdwn); never raises: a database failure becomes one sentence, traceback logged.
    """
    try:
        return _schedule_command(deps, request)
    except UserFacingError as error:
        return escape(str(error))
    except SQLAlchemyError:
        logger.exception("/microopt schedule failed")
        return "microopt could not reach its database to read or change the schedule; try again in a minute."
    except Exception:
        logger.exception("/microopt schedule failed")
        return "microopt could not finish `/microopt schedule` this time; try again in a minute."


NOT_AN_ADMIN = (
    "Only the people in MICROOPT_ADMINS change digest schedules; ask one of them, or ask whoever runs microopt."
)
NOT_OF_THIS_WORKSPACE = (
    "Digest schedules are changed by people of the workspace microopt is installed in; ask one of them here."
)


def _by(user_id: str) -> str:
    who = mention(user_id)
    return f"{who} " if who else ""


def _may_change(deps: Deps, request: ScheduleRequest) -> str | None:
    """Why `request` may not change this channel's schedule, or None when it may."""
    admins = deps.settings.admins
    if admins:
        return None if request.user_id in admins else NOT_AN_ADMIN
    return NOT_OF_THIS_WORKSPACE if request.foreign else None


def _schedule_command(deps: Deps, request: ScheduleRequest) -> str:
    store = deps.state()
    now = deps.clock()
    words = " ".join(request.text.split())
    lowered = words.lower()
    where, channel_id, user_id = request.where, request.channel_id, request.user_id
    current = schedule_for(store.schedules(), channel_id)
    if lowered in {"", "show", "status"}:
        return _show(current, request.channel_name, now, last_schedule_change(store, channel_id))
    if lowered in {"help", "?"}:
        return (
            f"`/microopt schedule <when>` sets when {where} gets its digest: {EXAMPLES}; a timezone name at the "
            "end sets the timezone. `/microopt schedule off` stops digests here, `/microopt schedule sheet` "
            "goes back to the Channels tab, `/microopt schedule` shows the schedule."
        )
    refusal = _may_change(deps, request)
    if refusal:
        return refusal
    if lowered in {"off", "stop", "none", "never"}:
        timezone = current.timezone if current else deps.settings.timezone
        store.set_slack_schedule(channel_id, request.channel_name, None, timezone, now)
        record_schedule_change(store, channel_id, user_id, OFF, None, timezone, now)
        logger.info("digests for %s turned off by %s", channel_id, user_id or "someone")
        again = f"Turn them back on with {START_DIGESTS}."
        if _by(user_id):
            return f"{_by(user_id)}turned digests off for {where}. {again}"
        return f"Digests for {where} are off. {again}"
    if lowered in {"sheet", "reset", "default"}:
        store.clear_slack_schedule(channel_id)
        record_schedule_change(store, channel_id, user_id, SHEET, None, None, now)
        logger.info("digests for %s back to the sheet, by %s", channel_id, user_id or "someone")
        said = f"{_by(user_id)}put digests back on the Channels tab. " if _by(user_id) else ""
        return said + _show(schedule_for(store.schedules(), channel_id), request.channel_name, now, None)
    default_timezone = current.timezone if current else deps.settings.timezone
    try:
        schedule = parse_schedule(words, default_timezone)
    except UserFacingError as error:
        return escape(str(error))
    store.set_slack_schedule(channel_id, request.channel_name, schedule.spec, schedule.timezone, now)
    record_schedule_change(store, channel_id, user_id, SET, schedule.spec, schedule.timezone, now)
    logger.info("digests for %s set to %r by %s", channel_id, schedule.spec, user_id or "someone")
    upcoming = next_slot(schedule, now)
    after = f" First one: {_when(upcoming, schedule.zone)}." if upcoming else ""
    if _by(user_id):
        return f"{_by(user_id)}set digests for {where} to {schedule.description}.{after}"
    return f"{digest_interval(where, schedule.description)}.{after}"
