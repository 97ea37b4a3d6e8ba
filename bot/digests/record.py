"""What the digest record says went wrong lately, as data: `read_trouble(deps)`; `bot.digests.notes` words it.

Only a database that does not answer is reported as such (`DigestTrouble.unchecked`); any other error is a
bug and reaches the caller with its traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace

from bot.channel_sheets import SheetGroup
from bot.deps import Deps
from bot.errors import NoDatabase
from bot.schedules.by_channel import ChannelSchedule, effective_schedules
from bot.state.digest_rows import DigestRow
from bot.state.engine import NOT_ANSWERING
from bot.state.history import source_id
from bot.state.tables import FAILED, MISSED, UNKNOWN

logger = logging.getLogger("microopt.digests")

SHEET_ERROR = "digest_sheet_error"  # the meta key of the last run's sheet trouble (a sentence), "" once it reads
NOTES_WINDOW = dt.timedelta(days=7)


def label(target: str, name: str | None) -> str:
    """How people know a channel (`#spring-sale`); its ID when no name is known."""
    return f"#{name}" if name else target


@dataclass(frozen=True)
class Undelivered:
    """A digest that is not (yet) in its channel: failed (tried again), unknown (arrival not known) or missed."""

    row: DigestRow
    where: str


@dataclass(frozen=True)
class DigestTrouble:
    sheet_error: str | None = None
    undelivered: tuple[Undelivered, ...] = ()
    broken_schedules: tuple[ChannelSchedule, ...] = ()
    unchecked: bool = False  # the database did not answer


def sheet_error_key(group: SheetGroup) -> str:
    """Where a run keeps why it could not read `group`'s sheet: MICROOPT_SHEET's under SHEET_ERROR, as ever."""
    return f"{SHEET_ERROR}:{source_id(group.spec)}" if group.linked else SHEET_ERROR


def trouble_of(trouble: DigestTrouble, group: SheetGroup) -> DigestTrouble:
    """The trouble of the channels that read `group`'s sheet: one client's channels never hear of another's."""
    return replace(
        trouble,
        undelivered=tuple(u for u in trouble.undelivered if group.reads(u.row.channel)),
        broken_schedules=tuple(s for s in trouble.broken_schedules if group.reads(s.channel)),
    )


def read_trouble(deps: Deps, error_key: str = SHEET_ERROR) -> DigestTrouble:
    """The last week's digests that did not arrive, schedules that do not parse, and a sheet digests could not
    read (kept under `error_key`); nothing without a database (no digests run without one)."""
    try:
        store = deps.state()
        sheet_error = store.get_meta(error_key) or None
        schedules = effective_schedules(store.schedules())
        rows = store.problem_digests(deps.clock() - NOTES_WINDOW)
    except NoDatabase:
        return DigestTrouble()
    except NOT_ANSWERING:
        logger.warning("could not read the digest record", exc_info=True)
        return DigestTrouble(unchecked=True)
    names = {s.channel: label(s.target, s.channel_name) for s in schedules}
    return DigestTrouble(
        sheet_error=sheet_error,
        undelivered=tuple(
            Undelivered(row, names.get(row.channel, row.target))
            for row in rows
            if row.status in (FAILED, UNKNOWN, MISSED)
        ),
        broken_schedules=tuple(s for s in schedules if s.problem),
    )
