"""Reading and writing microopt's shared state: plain functions over one SQLAlchemy engine.

Exactly-once posting rests on `claim`: inserting the (channel, slot, kind) row is atomic on SQLite and
PostgreSQL alike, so of any number of processes exactly one wins a slot. The owner renews a short lease
while it works (`renew_leases`, `hold`); a claim whose lease ran out (the process stopped) is taken over by
the next run. One taken over while it was sending keeps `arrival = not_known`, and the new owner asks
Slack's history what arrived before it sends anything (bot.digests.recovery), so nothing is posted twice.

`claim_answer` (bot.state.answers) does the same for the answers to Slack's requests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, MetaData, delete, func, insert, select, text, update

from bot.said import SaidVerdict, VerdictRecord
from bot.schedules.by_channel import ScheduleRow, SheetSchedule
from bot.state import tables as t
from bot.state.answers import AnswerClaims
from bot.state.digest_rows import Claim, DigestRow, needs_check, takeable
from bot.state.engine import create_state_engine, redacted, upserts
from bot.state.schema import upgrade_schema

logger = logging.getLogger("microopt.state")
SCHEMA_LOCK = 7_310_624  # PostgreSQL advisory lock key: one process creates the tables at a time


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class StateStore(AnswerClaims):
    def __init__(self, engine: Engine, worker: str | None = None) -> None:
        self.engine = engine
        self.worker = worker or worker_name()
        self._schema_ready = False
        # SQLite has one writer at a time and its busy handler sleeps in growing steps; queueing this
        # process's writers on a lock instead keeps many posting threads fast. PostgreSQL needs no lock.
        self._write_lock: threading.Lock | None = threading.Lock() if engine.dialect.name == "sqlite" else None
        self._answers_pruned_at: dt.datetime | None = None

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._write_lock or nullcontext(), self.engine.begin() as conn:
            yield conn

    def writing(self) -> contextlib.AbstractContextManager[Connection]:
        """One write transaction (queued behind this process's other writers on SQLite)."""
        return self._writing()

    @classmethod
    def open(cls, url: str, worker: str | None = None) -> StateStore:
        store = cls(create_state_engine(url), worker)
        logger.debug("state store at %s", redacted(url))
        return store

    def close(self) -> None:
        self.engine.dispose()

    # -- schema -----------------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create missing tables (idempotent, safe when several processes start at once)."""
        if self._schema_ready:
            return
        with self._writing() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            else:
                # pysqlite starts no transaction for DDL: take SQLite's write lock before looking, so that of
                # two processes starting at once one creates the tables and the other then finds them.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            upgrade_schema(conn)
        self._schema_ready = True

    def ensure_tables(self, tables: MetaData) -> None:
        """Create another library's tables in this database (slack_sdk's installation stores), under the same lock
        as microopt's schema, so that processes starting at once do not race to make them."""
        with self._writing() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            tables.create_all(conn, checkfirst=True)

    def schema_version(self) -> int:
        value = self.get_meta("schema_version")
        return int(value) if value else 0

    # -- meta -------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        self.ensure_schema()
        with self.engine.connect() as conn:
            return conn.execute(select(t.meta.c.value).where(t.meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        self.ensure_schema()
        with self._writing() as conn:
            self._upsert(conn, t.meta, {"key": key, "value": value}, ["key"])

    def _upsert(self, conn: Any, table: Any, values: dict[str, Any], keys: Sequence[str]) -> None:
        dialect = upserts(conn)
        statement = dialect.insert(table).values(**values)
        changes = {k: statement.excluded[k] for k in values if k not in keys}
        conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changes))

    # -- schedules --------------------------------------------------------------------------------
    def schedules(self) -> list[ScheduleRow]:
        self.ensure_schema()
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.schedules).order_by(t.schedules.c.channel, t.schedules.c.source)).all()
        return [ScheduleRow(**row._mapping) for row in rows]

    def sync_sheet_schedules(self, wanted: Iterable[SheetSchedule], now: dt.datetime) -> None:
        """Make the `sheet` rows equal to the Channels tab; `since` moves only when a schedule changes."""
        self.ensure_schema()
        wanted_by_channel = {w.channel: w for w in wanted}
        with self._writing() as conn:
            current = {
                row.channel: row
                for row in conn.execute(select(t.schedules).where(t.schedules.c.source == t.SHEET)).all()
            }
            gone = set(current) - set(wanted_by_channel)
            if gone:
                conn.execute(
                    delete(t.schedules).where(t.schedules.c.source == t.SHEET, t.schedules.c.channel.in_(gone))
                )
            for channel, want in wanted_by_channel.items():
                old = current.get(channel)
                same = (old.spec, old.timezone, old.target, old.channel_name) if old is not None else None
                if same == (want.spec, want.timezone, want.target, want.channel_name):
                    continue
                changed = old is None or (old.spec, old.timezone) != (want.spec, want.timezone)
                self._upsert(
                    conn,
                    t.schedules,
                    {
                        "channel": channel,
                        "source": t.SHEET,
                        "channel_name": want.channel_name,
                        "target": want.target,
                        "spec": want.spec,
                        "timezone": want.timezone,
                        "since": now if changed or old is None else old.since,
                        "updated_at": now,
                    },
                    ["channel", "source"],
                )
            self._upsert(conn, t.meta, {"key": "sheet_synced_at", "value": now.isoformat()}, ["key"])

    def sheet_synced_at(self) -> dt.datetime | None:
        value = self.get_meta("sheet_synced_at")
        return dt.datetime.fromisoformat(value) if value else None

    def set_slack_schedule(
        self,
        channel_id: str,
        channel_name: str,
        spec: str | None,
        timezone: str,
        now: dt.datetime,
    ) -> None:
        """What `/microopt schedule` sets for a channel; `spec=None` turns its digests off."""
        self.ensure_schema()
        with self._writing() as conn:
            old = conn.execute(
                select(t.schedules).where(t.schedules.c.channel == channel_id, t.schedules.c.source == t.SLACK)
            ).first()
            unchanged = old is not None and (old.spec, old.timezone) == (spec, timezone)
            self._upsert(
                conn,
                t.schedules,
                {
                    "channel": channel_id,
                    "source": t.SLACK,
                    "channel_name": channel_name.lstrip("#") or None,
                    "target": channel_id,
                    "spec": spec,
                    "timezone": timezone,
                    "since": old.since if unchanged and old is not None else now,
                    "updated_at": now,
                },
                ["channel", "source"],
            )

    def clear_slack_schedule(self, channel_id: str) -> bool:
        self.ensure_schema()
        with self._writing() as conn:
            result = conn.execute(
                delete(t.schedules).where(t.schedules.c.channel == channel_id, t.schedules.c.source == t.SLACK)
            )
        return bool(result.rowcount)

    # -- claims -----------------------------------------------------------------------------------
    def claim(
        self,
        channel: str,
        target: str,
        slot_at: dt.datetime,
        now: dt.datetime,
        lease: dt.timedelta,
        kind: str = t.SCHEDULED,
        closing: bool = False,
    ) -> Claim | None:
        """Claim one slot for this process; None when another process holds it, it waits for a retry, or it is done.

        A row is taken over when its owner's lease ran out (a stopped process), when it is `unknown` (nobody
        knows yet whether it arrived) or when it `failed` and its `retry_at` has come. A taken-over row that may
        already be in Slack keeps `arrival = not_known` until Slack's history has been asked (`Claim.check_first`).
        """
        self.ensure_schema()
        values = {
            "channel": channel,
            "target": target,
            "slot_at": slot_at,
            "kind": kind,
            "status": t.CLAIMED,
            "worker": self.worker,
            "claimed_at": now,
            "lease_until": now + lease,
            "attempts": 1,
            "messages": 0,
        }
        with self._writing() as conn:
            dialect = upserts(conn)
            statement = (
                dialect.insert(t.digests)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["channel", "slot_at", "kind"])
                .returning(t.digests.c.id)
            )
            new_id = conn.execute(statement).scalar()
            if new_id is not None:
                return Claim(new_id, channel, target, slot_at, kind)
            row = conn.execute(
                select(t.digests).where(
                    t.digests.c.channel == channel, t.digests.c.slot_at == slot_at, t.digests.c.kind == kind
                )
            ).first()
            if row is None or not takeable(DigestRow(**row._mapping), now, lease, closing):
                return None
            uncertain = needs_check(DigestRow(**row._mapping))
            taken = conn.execute(
                update(t.digests)
                .where(
                    t.digests.c.id == row.id,
                    t.digests.c.status == row.status,
                    t.digests.c.worker == row.worker,
                    t.digests.c.attempts == row.attempts,
                )
                .values(
                    status=t.CLAIMED,
                    worker=self.worker,
                    claimed_at=now,
                    lease_until=now + lease,
                    retry_at=None,
                    attempts=row.attempts + 1,
                    arrival=t.NOT_KNOWN if uncertain else row.arrival,
                )
            )
            if taken.rowcount != 1:
                return None
            logger.info("took over the %s digest of %s for %s", row.status, row.worker, channel)
            return Claim(
                row.id,
                channel,
                row.target,
                slot_at,
                kind,
                attempts=row.attempts + 1,
                sent=row.messages,
                check_first=uncertain,
                channel_id=row.channel_id,
                message_ts=row.message_ts,
                previous_error=row.error,
            )

    def release(self, claim: Claim) -> None:
        """Give a claim back (nothing was sent), so a later run may take it."""
        with self._writing() as conn:
            conn.execute(
                delete(t.digests).where(
                    t.digests.c.id == claim.id, t.digests.c.status == t.CLAIMED, t.digests.c.worker == self.worker
                )
            )

    def mark_sending(self, claim: Claim, now: dt.datetime) -> bool:
        """Just before the first message goes out; False if the claim is no longer ours."""
        with self._writing() as conn:
            result = conn.execute(
                update(t.digests)
                .where(t.digests.c.id == claim.id, t.digests.c.status == t.CLAIMED, t.digests.c.worker == self.worker)
                .values(status=t.SENDING, claimed_at=now)
            )
        return result.rowcount == 1

    def renew_leases(self, until: dt.datetime) -> int:
        """The owner's heartbeat: every claim this process holds stays its own until `until`."""
        with self._writing() as conn:
            return conn.execute(
                update(t.digests)
                .where(t.digests.c.worker == self.worker, t.digests.c.status.in_((t.CLAIMED, t.SENDING)))
                .values(lease_until=until)
            ).rowcount

    def _held(self, claim: Claim) -> tuple[ColumnElement[bool], ...]:
        """Where `claim` is still this process's and still open: what hold and finish may change."""
        return (
            t.digests.c.id == claim.id,
            t.digests.c.worker == self.worker,
            t.digests.c.status.in_((t.CLAIMED, t.SENDING)),
        )

    def hold(self, claim: Claim, until: dt.datetime, **progress: Any) -> bool:
        """Renew one claim (and record progress: messages, message_ts, channel_id, arrival); False if lost."""
        with self._writing() as conn:
            result = conn.execute(update(t.digests).where(*self._held(claim)).values(lease_until=until, **progress))
        return result.rowcount == 1

    def finish(
        self,
        claim: Claim,
        status: str,
        now: dt.datetime,
        *,
        message_ts: str | None = None,
        messages: int = 0,
        error: str | None = None,
        said: Sequence[VerdictRecord] = (),
        channel_id: str | None = None,
        arrival: str | None = None,
        retry_at: dt.datetime | None = None,
    ) -> bool:
        """Record how the digest ended (or, for `failed`, when to try again) and, when posted, every verdict it
        reported. False, recording nothing, when the claim is no longer this process's."""
        values: dict[str, Any] = {
            "status": status,
            "finished_at": now,
            "message_ts": message_ts,
            "messages": messages,
            "error": error,
            "lease_until": None,
            "retry_at": retry_at,
            "arrival": arrival,
        }
        if channel_id is not None:
            values["channel_id"] = channel_id
        with self._writing() as conn:
            done = conn.execute(update(t.digests).where(*self._held(claim)).values(**values))
            if done.rowcount != 1:
                return False
            if said:
                conn.execute(
                    insert(t.verdicts),
                    [
                        {
                            "digest_id": claim.id,
                            "channel": claim.channel,
                            "campaign": v.campaign,
                            "test": v.test,
                            "verdict": v.verdict,
                            "best_variant": v.best_variant,
                            "signature": v.signature,
                            "headline": v.headline,
                            "changed": v.changed,
                            "said_at": now,
                        }
                        for v in said
                    ],
                )
        return True

    def open_digests(self, since: dt.datetime) -> list[DigestRow]:
        """Digests with a slot since `since` that are not over yet (claimed, sending, failed, unknown)."""
        self.ensure_schema()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.digests)
                .where(t.digests.c.slot_at >= since, t.digests.c.status.in_(t.OPEN_STATUSES))
                .order_by(t.digests.c.slot_at, t.digests.c.id)
            ).all()
        return [DigestRow(**row._mapping) for row in rows]

    # -- reading the record -----------------------------------------------------------------------
    def digest_rows(self, channel: str | None = None) -> list[DigestRow]:
        self.ensure_schema()
        query = select(t.digests).order_by(t.digests.c.slot_at, t.digests.c.id)
        if channel is not None:
            query = query.where(t.digests.c.channel == channel)
        with self.engine.connect() as conn:
            return [DigestRow(**row._mapping) for row in conn.execute(query).all()]

    def slot_states(
        self, channels: Iterable[str], since: dt.datetime
    ) -> dict[tuple[str, dt.datetime], tuple[str, dt.datetime]]:
        """(channel, slot) → (status, claimed_at) of scheduled digests with a slot since `since`."""
        self.ensure_schema()
        names = list(set(channels))
        if not names:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.digests.c.channel, t.digests.c.slot_at, t.digests.c.status, t.digests.c.claimed_at).where(
                    t.digests.c.kind == t.SCHEDULED, t.digests.c.slot_at >= since, t.digests.c.channel.in_(names)
                )
            ).all()
        return {(row.channel, row.slot_at): (row.status, row.claimed_at) for row in rows}

    def last_said(self, channel: str) -> dict[tuple[str, str], SaidVerdict]:
        """The latest verdict this channel was told for each test."""
        self.ensure_schema()
        latest = (
            select(
                t.verdicts.c.campaign,
                t.verdicts.c.test,
                func.max(t.verdicts.c.id).label("id"),
            )
            .where(t.verdicts.c.channel == channel)
            .group_by(t.verdicts.c.campaign, t.verdicts.c.test)
            .subquery()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.verdicts).join(latest, t.verdicts.c.id == latest.c.id)).all()
        return {(row.campaign, row.test): _said(row) for row in rows}

    def last_posted(self, channel: str) -> DigestRow | None:
        self.ensure_schema()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.digests)
                .where(t.digests.c.channel == channel, t.digests.c.status == t.POSTED)
                .order_by(t.digests.c.finished_at.desc(), t.digests.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else DigestRow(**row._mapping)

    def verdict_history(self, campaign: str, test: str, channel: str | None = None) -> list[SaidVerdict]:
        """What was said about one test, when and where, oldest first."""
        self.ensure_schema()
        query = (
            select(t.verdicts)
            .where(t.verdicts.c.campaign == campaign, t.verdicts.c.test == test)
            .order_by(t.verdicts.c.said_at, t.verdicts.c.id)
        )
        if channel is not None:
            query = query.where(t.verdicts.c.channel == channel)
        with self.engine.connect() as conn:
            return [_said(row) for row in conn.execute(query).all()]

    def problem_digests(self, since: dt.datetime) -> list[DigestRow]:
        """Digests that failed (and wait for a retry), may not have arrived, or were missed since `since`, newest
        first, one per channel."""
        self.ensure_schema()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.digests)
                .where(
                    t.digests.c.claimed_at >= since,
                    t.digests.c.status.in_((t.FAILED, t.UNKNOWN, t.MISSED)),
                )
                .order_by(t.digests.c.claimed_at.desc(), t.digests.c.id.desc())
            ).all()
            latest_ok = dict(
                conn.execute(
                    select(t.digests.c.channel, func.max(t.digests.c.slot_at))
                    .where(t.digests.c.status == t.POSTED)
                    .group_by(t.digests.c.channel)
                ).all()
            )
        seen: set[str] = set()
        out = []
        for row in rows:
            if row.channel in seen:
                continue
            seen.add(row.channel)
            posted_later = latest_ok.get(row.channel)
            if posted_later is not None and posted_later.replace(tzinfo=dt.UTC) > row.slot_at:
                continue  # a later digest reached the channel: the problem is over
            out.append(DigestRow(**row._mapping))
        return out


def _said(row: Any) -> SaidVerdict:
    return SaidVerdict(
        campaign=row.campaign,
        test=row.test,
        verdict=row.verdict,
        best_variant=row.best_variant,
        signature=row.signature,
        headline=row.headline,
        changed=row.changed,
        channel=row.channel,
        said_at=row.said_at,
    )
