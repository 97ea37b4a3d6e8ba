"""Which channel reads which sheet (`/microopt connect`): plain functions over a `StateStore`.

A channel has at most one link; connecting it again replaces the link. Every change is kept in
`microopt_sheet_link_changes` with who made it and when.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from bot.state import link_tables as lt
from bot.state.store import StateStore


@dataclass(frozen=True)
class SheetLink:
    channel: str
    team_id: str | None
    sheet: str  # the spreadsheet key
    linked_by: str
    linked_at: dt.datetime


def _link(row: object) -> SheetLink:
    return SheetLink(**row._mapping)  # type: ignore[attr-defined]  # a SQLAlchemy Row


def link_of(store: StateStore, channel: str) -> SheetLink | None:
    store.ensure_schema()
    with store.engine.connect() as conn:
        row = conn.execute(select(lt.sheet_links).where(lt.sheet_links.c.channel == channel)).first()
    return _link(row) if row is not None else None


def all_links(store: StateStore) -> list[SheetLink]:
    store.ensure_schema()
    with store.engine.connect() as conn:
        rows = conn.execute(select(lt.sheet_links).order_by(lt.sheet_links.c.sheet, lt.sheet_links.c.channel)).all()
    return [_link(row) for row in rows]


def link_channel(
    store: StateStore, channel: str, team_id: str | None, sheet: str, by: str, now: dt.datetime
) -> SheetLink | None:
    """Link `channel` to `sheet` (replacing its link, if any); the link it had before, or None."""
    store.ensure_schema()
    with store.writing() as conn:
        old = conn.execute(select(lt.sheet_links).where(lt.sheet_links.c.channel == channel)).first()
        conn.execute(delete(lt.sheet_links).where(lt.sheet_links.c.channel == channel))
        conn.execute(
            insert(lt.sheet_links).values(
                channel=channel, team_id=team_id, sheet=sheet, linked_by=by or "unknown", linked_at=now
            )
        )
        _record(conn, channel, team_id, lt.CONNECT, sheet, by, now)
    return _link(old) if old is not None else None


def unlink_channel(store: StateStore, channel: str, by: str, now: dt.datetime) -> SheetLink | None:
    """Remove `channel`'s link; the link removed, or None when it had none."""
    store.ensure_schema()
    with store.writing() as conn:
        old = conn.execute(select(lt.sheet_links).where(lt.sheet_links.c.channel == channel)).first()
        if old is None:
            return None
        conn.execute(delete(lt.sheet_links).where(lt.sheet_links.c.channel == channel))
        _record(conn, channel, old.team_id, lt.DISCONNECT, old.sheet, by, now)
    return _link(old)


def unlink_team(store: StateStore, team_id: str, now: dt.datetime) -> list[SheetLink]:
    """Remove every link made in the workspace `team_id` (it uninstalled microopt); the links removed."""
    store.ensure_schema()
    with store.writing() as conn:
        rows = conn.execute(select(lt.sheet_links).where(lt.sheet_links.c.team_id == team_id)).all()
        conn.execute(delete(lt.sheet_links).where(lt.sheet_links.c.team_id == team_id))
        for row in rows:
            _record(conn, row.channel, team_id, lt.UNINSTALLED, row.sheet, "slack", now)
    return [_link(row) for row in rows]


def _record(
    conn: object, channel: str, team_id: str | None, action: str, sheet: str | None, by: str, now: dt.datetime
) -> None:
    conn.execute(  # type: ignore[attr-defined]  # a SQLAlchemy Connection
        insert(lt.sheet_link_changes).values(
            channel=channel, team_id=team_id, action=action, sheet=sheet, changed_by=by or "unknown", changed_at=now
        )
    )


@dataclass(frozen=True)
class LinkChange:
    channel: str
    action: str
    changed_by: str
    changed_at: dt.datetime


def link_changes(store: StateStore, channel: str) -> list[LinkChange]:
    """Every change of `channel`'s link, oldest first."""
    store.ensure_schema()
    table = lt.sheet_link_changes
    query = (
        select(table.c.channel, table.c.action, table.c.changed_by, table.c.changed_at)
        .where(table.c.channel == channel)
        .order_by(table.c.changed_at, table.c.id)
    )
    with store.engine.connect() as conn:
        return [LinkChange(**row._mapping) for row in conn.execute(query).all()]
