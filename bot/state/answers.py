"""The answers to Slack's requests, claimed in `microopt_answers` so that each is given once.

The process that inserts a request's delivery key answers it, and a retry of that request served by any other
process answers nothing, unless the owner's lease ran out (it stopped): then the answer is taken over
(`take_answer`), by the retry or by any web process that finds it (`expired_answers`), and one taken over while
sending asks Slack's history first. `StateStore` has these as its methods (`AnswerClaims` is its mixin).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, delete, select, update

from bot.state import tables as t
from bot.state.engine import upserts
from bot.state.tables import ANSWER_KEY_LENGTH

logger = logging.getLogger("microopt.state")
PRUNE_ANSWERS_EVERY = dt.timedelta(minutes=10)  # how often a process deletes expired answer claims


def stored_answer_key(key: str) -> str:
    """A delivery key as stored: as is when it fits the column, else its SHA-256 (still unique per request)."""
    return key if len(key) <= ANSWER_KEY_LENGTH else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class AnswerClaim:
    key: str  # as stored (`bot.state.store`: the delivery key, or its SHA-256 when longer than the column)
    received_at: dt.datetime  # when the first process claimed it: the command's time
    attempts: int = 1  # 1 for the process that got the request; 2 and up for processes that took it over
    check_first: bool = False  # it may be in Slack already: ask the channel's history before sending
    request: str | None = None  # what it takes to answer again (JSON), for a process taking it over


class AnswerClaims:
    """The answer claims of one store: `StateStore` supplies the engine, the worker and the write lock."""

    engine: Engine
    worker: str
    _answers_pruned_at: dt.datetime | None

    def ensure_schema(self) -> None:
        raise NotImplementedError

    def _writing(self) -> contextlib.AbstractContextManager[Connection]:
        raise NotImplementedError

    def claim_answer(
        self,
        key: str,
        now: dt.datetime,
        keep: dt.timedelta,
        lease: dt.timedelta | None = None,
        request: str | None = None,
    ) -> AnswerClaim | None:
        """Claim the answer to one Slack request (its delivery key); None when a live process already has it.

        With a `lease`, the claim is this process's until then (`renew_answers` extends it); a claim whose
        lease ran out is taken over here (Slack's retry reached another process after the first stopped).
        `request` is what another process would need to answer it in this one's place. Claims older than
        `keep` are deleted now and then (every `PRUNE_ANSWERS_EVERY` per process).
        """
        self.ensure_schema()
        if self._answers_pruned_at is None or now - self._answers_pruned_at >= PRUNE_ANSWERS_EVERY:
            self.prune_answers(now - keep)
            self._answers_pruned_at = now
        stored = stored_answer_key(key)
        values: dict[str, Any] = {"key": stored, "worker": self.worker, "claimed_at": now}
        if lease is not None:
            values.update(status=t.ANSWERING, lease_until=now + lease, attempts=1, request=request)
        with self._writing() as conn:
            dialect = upserts(conn)
            statement = (
                dialect.insert(t.answers)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(t.answers.c.key)
            )
            if conn.execute(statement).scalar() is not None:
                return AnswerClaim(stored, now)
        return self.take_answer(stored, now, lease) if lease is not None else None

    def take_answer(self, stored_key: str, now: dt.datetime, lease: dt.timedelta) -> AnswerClaim | None:
        """Take over an answer whose owner's lease ran out (it stopped); None when it is live, done or gone."""
        with self._writing() as conn:
            row = conn.execute(select(t.answers).where(t.answers.c.key == stored_key)).first()
            if row is None or row.status not in t.OPEN_ANSWERS or row.lease_until is None or row.lease_until > now:
                return None
            taken = conn.execute(
                update(t.answers)
                .where(
                    t.answers.c.key == stored_key,
                    t.answers.c.worker == row.worker,
                    t.answers.c.attempts == row.attempts,
                )
                .values(worker=self.worker, lease_until=now + lease, attempts=row.attempts + 1)
            )
            if taken.rowcount != 1:
                return None
        logger.info("took over the %s answer %s of %s", row.status, stored_key[:24], row.worker)
        return AnswerClaim(
            stored_key,
            row.claimed_at,
            attempts=row.attempts + 1,
            check_first=row.status == t.ANSWER_SENDING,
            request=row.request,
        )

    def expired_answers(self, now: dt.datetime, limit: int = 50) -> list[str]:
        """The keys of answers whose owner stopped holding them before `now`, oldest first."""
        self.ensure_schema()
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(t.answers.c.key)
                    .where(t.answers.c.status.in_(t.OPEN_ANSWERS), t.answers.c.lease_until <= now)
                    .order_by(t.answers.c.claimed_at)
                    .limit(limit)
                ).scalars()
            )

    def renew_answers(self, until: dt.datetime) -> int:
        """The owner's heartbeat: every answer this process is giving stays its own until `until`."""
        self.ensure_schema()
        with self._writing() as conn:
            return conn.execute(
                update(t.answers)
                .where(t.answers.c.worker == self.worker, t.answers.c.status.in_(t.OPEN_ANSWERS))
                .values(lease_until=until)
            ).rowcount

    def answer_sending(self, claim: AnswerClaim) -> bool:
        """Just before the answer's first message goes out; False if the claim is no longer this process's."""
        with self._writing() as conn:
            return (
                conn.execute(
                    update(t.answers).where(*self._answer_held(claim)).values(status=t.ANSWER_SENDING)
                ).rowcount
                == 1
            )

    def finish_answer(self, claim: AnswerClaim, status: str) -> bool:
        """Record how an answer ended (answered or lost) and erase what it took to answer it."""
        with self._writing() as conn:
            return (
                conn.execute(
                    update(t.answers)
                    .where(*self._answer_held(claim))
                    .values(status=status, lease_until=None, request=None)
                ).rowcount
                == 1
            )

    def _answer_held(self, claim: AnswerClaim) -> tuple[ColumnElement[bool], ...]:
        return (
            t.answers.c.key == claim.key,
            t.answers.c.worker == self.worker,
            t.answers.c.status.in_(t.OPEN_ANSWERS),
        )

    def answer_status(self, key: str) -> tuple[str | None, int | None]:
        """(status, attempts) of one answer, by its delivery key; (None, None) when it was never claimed."""
        self.ensure_schema()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.answers.c.status, t.answers.c.attempts).where(t.answers.c.key == stored_answer_key(key))
            ).first()
        return (row.status, row.attempts) if row is not None else (None, None)

    def prune_answers(self, before: dt.datetime) -> int:
        """Delete answer claims made before `before`; how many went."""
        self.ensure_schema()
        with self._writing() as conn:
            return conn.execute(delete(t.answers).where(t.answers.c.claimed_at < before)).rowcount

    def answer_claims(self) -> list[tuple[str, str, dt.datetime]]:
        """(key, worker, claimed_at) of every answer claim, oldest first."""
        self.ensure_schema()
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.answers).order_by(t.answers.c.claimed_at, t.answers.c.key)).all()
        return [(row.key, row.worker, row.claimed_at) for row in rows]
