"""Per-channel records beside the schedules: who changed a channel's digests, and moving a channel's
history from its name to its ID.

Plain functions over a `StateStore`. Channels are keyed by Slack channel ID; databases written before
that (schema 3 and older) keyed Channels-tab rows by name, and `rekey_channels` carries their digests and
verdict history over to the ID the name resolves to, so no slot is posted twice and no change is lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.orm import aliased

from bot.state import tables as t
from bot.state.store import StateStore

SET, OFF, SHEET = "set", "off", "sheet"


@dataclass(frozen=True)
class ScheduleChange:
    channel: str
    changed_by: str
    action: str
    spec: str | None
    timezone: str | None
    changed_at: dt.datetime


def record_schedule_change(
    store: StateStore,
    channel: str,
    changed_by: str,
    action: str,
    spec: str | None,
    timezone: str | None,
    now: dt.datetime,
) -> None:
    store.ensure_schema()
    with store.writing() as conn:
        conn.execute(
            insert(t.schedule_changes).values(
                channel=channel,
                changed_by=changed_by or "unknown",
                action=action,
                spec=spec,
                timezone=timezone,
                changed_at=now,
            )
        )


def last_schedule_change(store: StateStore, channel: str) -> ScheduleChange | None:
    store.ensure_schema()
    table = t.schedule_changes
    query = (
        select(table.c.channel, table.c.changed_by, table.c.action, table.c.spec, table.c.timezone, table.c.changed_at)
        .where(table.c.channel == channel)
        .order_by(table.c.changed_at.desc(), table.c.id.desc())
        .limit(1)
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return ScheduleChange(**row._mapping) if row is not None else None


def rekey_channels(store: StateStore, renames: Mapping[str, str]) -> None:
    """Move a channel's sheet schedule (with its `since`), digests and verdict history from an old key (its
    name) to a new one (its ID); what the new key already holds stays, so no claim is ever duplicated."""
    if not renames:
        return
    store.ensure_schema()
    newer = aliased(t.digests)
    sheet_row = aliased(t.schedules)
    with store.writing() as conn:
        for old, new in renames.items():
            held = exists().where(and_(sheet_row.c.channel == new, sheet_row.c.source == t.SHEET))
            conn.execute(
                update(t.schedules)
                .where(t.schedules.c.channel == old, t.schedules.c.source == t.SHEET, ~held)
                .values(channel=new)
            )
            taken = exists().where(
                and_(newer.c.channel == new, newer.c.slot_at == t.digests.c.slot_at, newer.c.kind == t.digests.c.kind)
            )
            conn.execute(update(t.digests).where(t.digests.c.channel == old, ~taken).values(channel=new))
            conn.execute(update(t.verdicts).where(t.verdicts.c.channel == old).values(channel=new))
            conn.execute(update(t.schedule_changes).where(t.schedule_changes.c.channel == old).values(channel=new))
