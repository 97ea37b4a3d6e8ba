"""Decisions taken from Slack, and the rows they owe the sheet: plain functions over a `StateStore`.

One decision per press that means it, however many deliveries: a test's decisions are numbered (`seq`), and a
press takes the next number in the same transaction in which it looks at what stands. Two presses racing
(a double click served by two threads or two processes, Slack's retry) both look, both try the same number,
and the unique constraint lets one in; the other looks again and finds the decision standing, so it records
nothing. A done test stays done until undone; a snooze or a keep-running acknowledgement of the same verdict
repeats nothing while it stands; any other press is a new decision that stands instead.

The sheet is written from an outbox (`microopt_decision_writes`): a process claims owed rows with a lease,
writes them in one request and marks them written; a failure puts them back with a later `retry_at`, so a
sheet that does not answer loses nothing, and a process that stops mid-write leaves its lease to run out.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal, cast

from sqlalchemy import Row, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from analysis.models import Cell
from bot.decided import ACTION_OF, SNOOZES, UNDO_WINDOW, Action, Choice, Decision, Standing, VerdictShown
from bot.state.decision_tables import decision_writes, decisions
from bot.state.store import StateStore

logger = logging.getLogger("microopt.state")

PENDING, WRITING, WRITTEN, DROPPED, LOCAL = "pending", "writing", "written", "dropped", "local"
DECISION, UNDO = "decision", "undo"
# A place in a test's sequence taken by another press at the same moment: look again, this many times.
RACE_TRIES = 5
UndoOutcome = Literal["undone", "already", "too_late", "missing"]
StatusCell = tuple[str, int, int, Cell]  # tab, row, column (zero-based), the value before


@dataclass(frozen=True)
class Recorded:
    decision: Decision
    new: bool  # False: the press found this decision standing (a double click, a retry, another process)


@dataclass(frozen=True)
class Owed:
    """One row the sheet is owed, claimed by this process."""

    write_id: int
    kind: str  # DECISION | UNDO
    decision: Decision
    attempts: int
    # For an undo: the Status cells the decision set to done, with what they held before.
    status_cells: tuple[StatusCell, ...] = ()


def _decision(row: Any, write: Any | None = None) -> Decision:
    state = write.state if write is not None else LOCAL
    cells = _cells(write.status_cells) if write is not None else ()
    return Decision(
        id=row.id,
        action=cast(Action, row.action),
        shown=VerdictShown.model_validate_json(row.shown),
        user_id=row.user_id,
        user_name=row.user_name,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        decided_at=row.decided_at,
        until=row.until,
        undone_at=row.undone_at,
        undone_by=row.undone_by,
        undone_by_name=row.undone_by_name,
        sheet=state,
        sheet_error=write.error if write is not None and state in (PENDING, WRITING) else None,
        status_written_at=write.written_at if write is not None and state == WRITTEN and cells else None,
    )


def _cells(raw: str | None) -> tuple[StatusCell, ...]:
    if not raw:
        return ()
    return tuple((str(tab), int(row), int(column), cast(Cell, value)) for tab, row, column, value in json.loads(raw))


def _repeats(standing: Any, choice: Choice, shown: VerdictShown, now: dt.datetime) -> bool:
    """Whether a press of `choice` on `shown` only repeats the decision standing for its test."""
    if standing.action in ("moved", "stopped"):
        return True  # done is done, until undone
    if standing.choice != choice or standing.signature != shown.signature:
        return False
    return standing.action != "snoozed" or (standing.until is not None and standing.until > now)


def record_decision(
    store: StateStore,
    *,
    source: str,
    shown: VerdictShown,
    choice: Choice,
    user_id: str,
    user_name: str,
    team_id: str | None,
    channel_id: str,
    message_ts: str | None,
    now: dt.datetime,
    to_sheet: bool,
) -> Recorded:
    """Record a press, once: the new decision, or the one already standing that this press repeats.

    `to_sheet`: the sheet is a Google Sheet, so the decision owes it a row (else it stays `local`)."""
    store.ensure_schema()
    action = ACTION_OF[choice]
    until = now + SNOOZES[choice] if choice in SNOOZES else None
    for _ in range(RACE_TRIES):
        try:
            with store.writing() as conn:
                rows = conn.execute(
                    select(decisions)
                    .where(decisions.c.source == source, decisions.c.campaign == shown.campaign)
                    .where(decisions.c.test == shown.test)
                    .order_by(decisions.c.seq.desc())
                    .limit(20)
                ).all()
                standing = next((r for r in rows if r.undone_at is None), None)
                if standing is not None and _repeats(standing, choice, shown, now):
                    return Recorded(_with_write(conn, standing), new=False)
                values = {
                    "source": source,
                    "campaign": shown.campaign,
                    "test": shown.test,
                    "seq": (rows[0].seq + 1) if rows else 1,
                    "action": action,
                    "choice": choice,
                    "until": until,
                    "signature": shown.signature,
                    "shown": shown.to_value(),
                    "user_id": user_id,
                    "user_name": user_name[:200],
                    "team_id": team_id,
                    "channel_id": channel_id,
                    "message_ts": message_ts,
                    "decided_at": now,
                }
                new_id = conn.execute(insert(decisions).values(**values).returning(decisions.c.id)).scalar_one()
                state = PENDING if to_sheet else LOCAL
                conn.execute(insert(decision_writes).values(decision_id=new_id, kind=DECISION, state=state, attempts=0))
                row = SimpleNamespace(id=new_id, undone_at=None, undone_by=None, undone_by_name=None, **values)
                owed = SimpleNamespace(state=state, error=None, status_cells=None, written_at=None)
                return Recorded(_decision(row, owed), new=True)
        except IntegrityError:
            logger.info("another press took the same place for %s · %s; looking again", shown.campaign, shown.test)
    raise RuntimeError(f"could not record a decision for {shown.campaign} · {shown.test} in {RACE_TRIES} tries")


def _with_write(conn: Any, row: Any) -> Decision:
    write = conn.execute(
        select(decision_writes).where(decision_writes.c.decision_id == row.id, decision_writes.c.kind == DECISION)
    ).first()
    return _decision(row, write)


def find_decision(store: StateStore, decision_id: int) -> Decision | None:
    store.ensure_schema()
    with store.engine.connect() as conn:
        row = conn.execute(select(decisions).where(decisions.c.id == decision_id)).first()
        return _with_write(conn, row) if row is not None else None


def decision_source(store: StateStore, decision_id: int) -> str | None:
    store.ensure_schema()
    with store.engine.connect() as conn:
        found = conn.execute(select(decisions.c.source).where(decisions.c.id == decision_id)).scalar()
    return str(found) if found is not None else None


def undo_decision(
    store: StateStore, decision_id: int, user_id: str, now: dt.datetime, user_name: str = ""
) -> tuple[UndoOutcome, Decision | None]:
    """Undo a decision within `UNDO_WINDOW` of it, once; what the sheet was owed for it is dropped if not yet
    written, else the sheet is owed a row saying it was undone (and its Status cells back)."""
    store.ensure_schema()
    with store.writing() as conn:
        row = conn.execute(select(decisions).where(decisions.c.id == decision_id)).first()
        if row is None:
            return "missing", None
        if row.undone_at is not None:
            return "already", _with_write(conn, row)
        if now - row.decided_at > UNDO_WINDOW:
            return "too_late", _with_write(conn, row)
        done = conn.execute(
            update(decisions)
            .where(decisions.c.id == decision_id, decisions.c.undone_at.is_(None))
            .values(undone_at=now, undone_by=user_id, undone_by_name=user_name[:200] or None)
        )
        if done.rowcount != 1:
            return "already", _with_write(conn, row)
        owed = decision_writes.c
        dropped = conn.execute(
            update(decision_writes)
            .where(owed.decision_id == decision_id, owed.kind == DECISION, owed.state == PENDING)
            .values(state=DROPPED, retry_at=None)
        )
        if dropped.rowcount == 0:
            state = conn.execute(
                select(owed.state).where(owed.decision_id == decision_id, owed.kind == DECISION)
            ).scalar()
            if state in (WRITING, WRITTEN):
                conn.execute(
                    insert(decision_writes).values(decision_id=decision_id, kind=UNDO, state=PENDING, attempts=0)
                )
        undone = conn.execute(select(decisions).where(decisions.c.id == decision_id)).one()
        return "undone", _with_write(conn, undone)


def standing_decisions(
    store: StateStore, source: str, now: dt.datetime, read_at: dt.datetime | None = None
) -> Standing:
    """The decision standing for each test of the sheet: its latest one not undone."""
    store.ensure_schema()
    latest = (
        select(decisions.c.campaign, decisions.c.test, func.max(decisions.c.seq).label("seq"))
        .where(decisions.c.source == source, decisions.c.undone_at.is_(None))
        .group_by(decisions.c.campaign, decisions.c.test)
        .subquery()
    )
    owed = aliased(decision_writes)
    query = (
        select(decisions, owed.c.state, owed.c.error, owed.c.status_cells, owed.c.written_at)
        .join(
            latest,
            and_(
                decisions.c.campaign == latest.c.campaign,
                decisions.c.test == latest.c.test,
                decisions.c.seq == latest.c.seq,
            ),
        )
        .outerjoin(owed, and_(owed.c.decision_id == decisions.c.id, owed.c.kind == DECISION))
        .where(decisions.c.source == source)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    found = {(row.campaign, row.test): _decision(row, row if row.state is not None else None) for row in rows}
    return Standing(found, now, read_at)


def remember_message(store: StateStore, decision_id: int, text: str, blocks: Sequence[dict[str, Any]]) -> None:
    """The message as the decision last updated it (fallback text and blocks), so a later update can start there."""
    message = json.dumps({"text": text, "blocks": list(blocks)})
    with store.writing() as conn:
        conn.execute(update(decisions).where(decisions.c.id == decision_id).values(message=message))


def remembered_message(store: StateStore, decision_id: int) -> dict[str, Any] | None:
    store.ensure_schema()
    with store.engine.connect() as conn:
        raw = conn.execute(select(decisions.c.message).where(decisions.c.id == decision_id)).scalar()
    return cast(dict[str, Any], json.loads(raw)) if raw else None


# -- the outbox --------------------------------------------------------------------------------------
def claim_writes(store: StateStore, source: str, now: dt.datetime, lease: dt.timedelta, limit: int = 50) -> list[Owed]:
    """Claim what the sheet is owed and due now (pending and its retry come, or leased by a process whose lease
    ran out), oldest first. An undo waits for its decision's row; it is dropped if that row never will be."""
    store.ensure_schema()
    owed = decision_writes.c
    due = or_(
        and_(owed.state == PENDING, or_(owed.retry_at.is_(None), owed.retry_at <= now)),
        and_(owed.state == WRITING, owed.lease_until < now),
    )
    claimed: list[Owed] = []
    with store.writing() as conn:
        candidates = conn.execute(
            select(decision_writes, decisions)
            .join(decisions, decisions.c.id == owed.decision_id)
            .where(decisions.c.source == source, due)
            .order_by(owed.id)
            .limit(limit)
        ).all()
        for candidate in candidates:
            cells: tuple[StatusCell, ...] = ()
            if candidate.kind == UNDO:
                first = conn.execute(
                    select(owed.state, owed.status_cells).where(
                        owed.decision_id == candidate.decision_id, owed.kind == DECISION
                    )
                ).first()
                if first is None or first.state in (DROPPED, LOCAL):
                    conn.execute(update(decision_writes).where(owed.id == candidate.id).values(state=DROPPED))
                    continue
                if first.state != WRITTEN:
                    continue  # the decision's own row goes first
                cells = _cells(first.status_cells)
            taken = conn.execute(
                update(decision_writes)
                .where(owed.id == candidate.id, owed.state == candidate.state)
                .where(_same(owed.worker, candidate.worker))
                .values(state=WRITING, worker=store.worker, lease_until=now + lease)
            )
            if taken.rowcount != 1:
                continue
            decision = _decision(_decision_part(candidate), None)
            claimed.append(Owed(candidate.id, candidate.kind, decision, candidate.attempts, cells))
    return claimed


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def _decision_part(row: Row[Any]) -> Any:
    """The decisions columns of a joined row (its `id` is the decision's, not the write's)."""
    return SimpleNamespace(**{c.name: row._mapping[c] for c in decisions.c})


def wrote(store: StateStore, owed: Owed, now: dt.datetime, status_cells: Sequence[StatusCell] = ()) -> bool:
    """Mark a claimed row written (with the Status cells it set to done, for a later undo)."""
    values: dict[str, Any] = {"state": WRITTEN, "written_at": now, "lease_until": None, "error": None}
    if owed.kind == DECISION:
        values["status_cells"] = json.dumps([list(cell) for cell in status_cells]) if status_cells else None
    with store.writing() as conn:
        done = conn.execute(
            update(decision_writes)
            .where(decision_writes.c.id == owed.write_id, decision_writes.c.worker == store.worker)
            .where(decision_writes.c.state == WRITING)
            .values(**values)
        )
    return done.rowcount == 1


def write_failed(store: StateStore, owed: Owed, error: str, retry_at: dt.datetime) -> None:
    """Put a claimed row back, to be tried again from `retry_at`, with the sheet's sentence."""
    with store.writing() as conn:
        conn.execute(
            update(decision_writes)
            .where(decision_writes.c.id == owed.write_id, decision_writes.c.worker == store.worker)
            .where(decision_writes.c.state == WRITING)
            .values(
                state=PENDING,
                attempts=owed.attempts + 1,
                retry_at=retry_at,
                error=error[:1000],
                worker=None,
                lease_until=None,
            )
        )


def owed_rows(store: StateStore, source: str) -> list[tuple[Decision, str, str | None]]:
    """Every row the sheet is still owed (decision or undo, pending or being written), with the sheet's last
    sentence: what `/microopt sheet` lists."""
    store.ensure_schema()
    owed = decision_writes.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(decision_writes, decisions)
            .join(decisions, decisions.c.id == owed.decision_id)
            .where(decisions.c.source == source, owed.state.in_((PENDING, WRITING)))
            .order_by(owed.id)
        ).all()
    return [(_decision(_decision_part(row), None), row.kind, row.error) for row in rows]
