"""Digest schedules: what people type (`weekdays 09:00`, `mon 08:30`, cron) → a timezone-aware trigger.

A schedule is an APScheduler `CronTrigger` in the channel's timezone (`Schedule.trigger`). On clock
changes that trigger fires twice at a repeated time (01:30 on the night clocks go back) and skips a day
whose fire time falls in a gap at midnight (Santiago, Cairo…). So the digest *slots* come from its
wall-clock twin (`Schedule.wall`, the same fields evaluated on local wall-clock time, which has no gaps
and no repeats), each mapped to the first real instant with that wall-clock time, or for a time that does
not exist, the instant the clocks jumped past it (02:30 → 03:30). One slot per wall-clock fire time:
a daily digest never fires twice and never skips a day.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot.errors import UserFacingError
from bot.sentences import shorten

EXAMPLES = (
    "`weekdays 09:00`, `mon 08:30`, `daily 17:00`, `mon,wed,fri 9:30am Europe/London`, or cron such as `0 9 * * 1-5`"
)
MIN_GAP = dt.timedelta(minutes=59)
MAX_SCHEDULE_CHARS = 200
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_WORDS = {
    **{name: name for name in DAYS},
    "monday": "mon",
    "tuesday": "tue",
    "tues": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "thur": "thu",
    "thurs": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
DAY_SETS = {
    "daily": "*",
    "everyday": "*",
    "day": "*",
    "days": "*",
    "weekday": "mon-fri",
    "weekdays": "mon-fri",
    "workdays": "mon-fri",
    "weekend": "sat,sun",
    "weekends": "sat,sun",
}
FILLER = {"every", "each", "at", "on", "and"}
TIME = re.compile(r"^(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<half>am|pm)?$")
CRON_FIELD = re.compile(r"^[\d*/,\-a-z?]+$")
CRON_NUMBERS = re.compile(r"^[\d*/,\-]+$")
TIMEZONE = re.compile(r"^[A-Za-z][A-Za-z_]*(/[A-Za-z0-9_+\-]+)+$")


class ScheduleError(UserFacingError):
    """A schedule that cannot be understood; the message shows valid examples."""


@dataclass(frozen=True)
class Schedule:
    spec: str
    timezone: str
    trigger: CronTrigger  # in the channel's timezone
    wall: CronTrigger  # the same fields on wall-clock time (computed as UTC): slots come from this one
    description: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def bad_schedule(text: str, why: str = "") -> ScheduleError:
    reason = f" ({shorten(why)})" if why else ""
    return ScheduleError(
        f"“{shorten(text)}” is not a schedule I understand{reason}. Try {EXAMPLES}; `off` stops digests."
    )


def check_timezone(name: str) -> str:
    try:
        if len(name) > 64:
            raise ValueError("too long")
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ScheduleError(
            f"“{shorten(name)}” is not a timezone I know: use a name such as Europe/London, America/New_York or UTC."
        ) from error
    return name


def _looks_like_timezone(token: str) -> bool:
    return bool(TIMEZONE.match(token)) or token.upper() in {"UTC", "GMT"}


def _time(token: str, text: str) -> tuple[int, int]:
    match = TIME.match(token)
    if not match:
        raise bad_schedule(text)
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise bad_schedule(text, f"{token} is not a time")
        hour = hour % 12 + (12 if match["half"] == "pm" else 0)
    elif match["minute"] is None:
        raise bad_schedule(text, f"write the time as {token}:00")
    if hour > 23 or minute > 59:
        raise bad_schedule(text, f"{token} is not a time")
    return hour, minute


def _days(tokens: Sequence[str], text: str) -> str:
    if not tokens:
        return "*"
    parts: list[str] = []
    for token in tokens:
        for piece in filter(None, token.split(",")):
            word = piece.rstrip("s") if piece.rstrip("s") in DAY_WORDS else piece
            if piece in DAY_SETS:
                parts.append(DAY_SETS[piece])
            elif word in DAY_WORDS:
                parts.append(DAY_WORDS[word])
            elif "-" in piece and all(p in DAY_WORDS for p in piece.split("-", 1)):
                first, last = (DAY_WORDS[p] for p in piece.split("-", 1))
                parts.append(_day_range(first, last))
            else:
                raise bad_schedule(text, f"“{piece}” is not a day")
    return "*" if "*" in parts else ",".join(parts)


def _day_range(first: str, last: str) -> str:
    """`fri-mon` wraps round the week; APScheduler ranges do not, so spell it out."""
    i, j = DAYS.index(first), DAYS.index(last)
    return f"{first}-{last}" if i <= j else ",".join(DAYS[i:] + DAYS[: j + 1])


def _cron_day_of_week(field: str) -> str:
    """Cron counts days from Sunday (0 or 7); APScheduler 3 from Monday. Translate numbers to names."""
    if field == "*":
        return field
    out: list[str] = []
    for part in field.split(","):
        body, _, step = part.partition("/")
        if not re.fullmatch(r"[\d\-*]+", body):
            out.append(part)  # names (mon-fri) mean the same in both
            continue
        # Bounds are checked on the numbers as typed, before any range is built: `0-99999999` costs nothing.
        if body == "*":
            low, high = 0, 6
        elif "-" in body:
            first, _, last = body.partition("-")
            if not (first.isdigit() and last.isdigit()):
                raise ValueError(f"day of week {body} is not a range")
            low, high = int(first), int(last)
        elif body.isdigit():
            low = int(body)
            high = low if not step else 6
        else:
            raise ValueError(f"day of week {body} is not a day")
        if high > 7 or low > high:
            raise ValueError(f"day of week {body} is out of range (0-7)")
        if step and not (step.isdigit() and 0 < int(step) <= 7):
            raise ValueError(f"step {step} is not between 1 and 7")
        numbers = list(range(low, high + 1))[:: int(step) if step else 1]
        out.extend(DAYS[(n - 1) % 7] for n in numbers)
    return ",".join(dict.fromkeys(out))


def _cron(tokens: list[str], text: str) -> dict[str, str]:
    minute, hour, day, month, day_of_week = tokens
    try:
        _check_cron_numbers((minute, hour, day, month), text)
        fields = {
            "minute": minute,
            "hour": hour,
            "day": day.replace("?", "*"),
            "month": month,
            "day_of_week": _cron_day_of_week(day_of_week.replace("?", "*")),
        }
        CronTrigger(**fields, timezone=dt.UTC)
    except (ValueError, TypeError, OverflowError) as error:
        raise bad_schedule(text, str(error).rstrip(".")) from error
    return fields


_CRON_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12))


def _check_cron_numbers(fields: Sequence[str], text: str) -> None:
    """Every number in minute, hour, day and month is in range before APScheduler sees it."""
    for field, (low, high), name in zip(fields, _CRON_LIMITS, ("minute", "hour", "day", "month"), strict=True):
        for number in re.findall(r"\d+", field):
            if len(number) > 3 or not 0 <= int(number) <= max(high, 60):
                raise ValueError(f"{name} {number} is out of range ({low}-{high})")


def _describe_time(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


@functools.lru_cache(maxsize=1024)
def parse_schedule(text: str, timezone: str = "UTC") -> Schedule:
    """`weekdays 09:00`, `mon 08:30`, `daily 17:00`, `mon,wed 9am Europe/Paris`, or five cron fields.

    Cached: every run parses every channel's schedule, and a `Schedule` is immutable.
    """
    if len(text) > MAX_SCHEDULE_CHARS:
        raise ScheduleError(f"That schedule is longer than {MAX_SCHEDULE_CHARS} characters. Try {EXAMPLES}.")
    spec = " ".join(text.split())
    if not spec:
        raise bad_schedule(text)
    tokens = spec.split(" ")
    if _looks_like_timezone(tokens[-1]) and len(tokens) > 1:
        timezone = tokens.pop()
        spec = " ".join(tokens)
    zone = ZoneInfo(check_timezone(timezone))
    lowered = [token.lower() for token in tokens]
    if (
        len(lowered) == 5
        and all(CRON_FIELD.match(token) for token in lowered)
        and all(CRON_NUMBERS.match(token) for token in lowered[:2])
    ):
        fields = _cron(lowered, spec)
        description = f"cron `{' '.join(lowered)}`"
    else:
        words = [w for w in lowered if w not in FILLER]
        # "9:30 am" → "9:30am"
        if len(words) >= 2 and words[-1] in {"am", "pm"}:
            words = [*words[:-2], words[-2] + words[-1]]
        if not words:
            raise bad_schedule(spec)
        hour, minute = _time(words[-1], spec)
        day_of_week = _days(words[:-1], spec)
        fields = {"day_of_week": day_of_week, "hour": str(hour), "minute": str(minute)}
        days = {"*": "every day", "mon-fri": "weekdays", "sat,sun": "weekends"}.get(day_of_week, day_of_week)
        description = f"{days} at {_describe_time(hour, minute)}"
    try:
        trigger = CronTrigger(**fields, timezone=zone)
        wall = CronTrigger(**fields, timezone=dt.UTC)
    except (ValueError, TypeError) as error:
        raise bad_schedule(spec, str(error).rstrip(".")) from error
    _check_frequency(wall, spec)
    return Schedule(spec, zone.key, trigger, wall, f"{description} ({zone.key})")


def _check_frequency(trigger: CronTrigger, text: str) -> None:
    """A digest at most once an hour: `* 9 * * *` (every minute from 9 to 10) is a typo, not a plan."""
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday
    previous: dt.datetime | None = None
    times = []
    now = start
    for _ in range(30):
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        times.append(fire)
        previous, now = fire, fire
    if not times:
        raise bad_schedule(text, "it never fires")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    if gaps and min(gaps) < MIN_GAP:
        raise ScheduleError(
            f"“{text}” would post a digest more than once an hour; digests can be at most hourly. Try {EXAMPLES}."
        )


# -- slots ------------------------------------------------------------------------------------------
def _instant(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first instant the clocks in `zone` show `wall` or, if they skip it, the instant they jump past it.

    `fold=0` gives the earlier of a repeated time and, for a skipped one, the offset in force before the
    jump, which lands just as far past the jump (02:30 in a 02:00→03:00 gap becomes 03:30).
    """
    return wall.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)


def slots_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Slots in [start, end], in UTC: one per wall-clock fire time, none repeated, none skipped."""
    zone = schedule.zone
    margin = dt.timedelta(hours=3)  # wider than any clock change
    wall_start = start.astimezone(zone).replace(tzinfo=dt.UTC) - margin
    wall_end = end.astimezone(zone).replace(tzinfo=dt.UTC) + margin
    out: list[dt.datetime] = []
    previous: dt.datetime | None = None
    now = wall_start
    while True:
        fire = schedule.wall.get_next_fire_time(previous, now)
        if fire is None or fire > wall_end:
            return out
        slot = _instant(fire.replace(tzinfo=None), zone)
        if start <= slot <= end and (not out or slot > out[-1]):
            out.append(slot)
        previous, now = fire, fire


def next_slot(schedule: Schedule, after: dt.datetime) -> dt.datetime | None:
    """The first slot strictly after `after`."""
    found = slots_between(schedule, after + dt.timedelta(seconds=1), after + dt.timedelta(days=400))
    return found[0] if found else None


def due_slot(schedule: Schedule, now: dt.datetime, grace: dt.timedelta) -> dt.datetime | None:
    """The latest slot at or before `now` still worth posting: within `grace` and on the same local day. Older
    missed slots are not posted: one digest catches up. A schedule first seen inside a slot's window (set at
    09:20 for `weekdays 09:00`, or a scheduler's first run after 09:00) posts that slot, not tomorrow's."""
    found = slots_between(schedule, now - grace, now)
    if not found:
        return None
    slot = found[-1]
    zone = schedule.zone
    if slot.astimezone(zone).date() != now.astimezone(zone).date():
        return None
    return slot
