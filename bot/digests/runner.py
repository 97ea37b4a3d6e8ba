"""The posting half of a run: claim a slot, post its digest (or find it in Slack's history), record how it
ended; channels run concurrently and the first database failure stops the others from starting."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from bot.deps import Deps
from bot.digests.outcomes import Outcome
from bot.digests.pacing import ChannelPacer
from bot.digests.planning import Job
from bot.digests.posting import TAKEN, Delivery, Poster
from bot.digests.recovery import LeaseKeeper, RunClock, find_parts, retry_delay
from bot.digests.routing import Routing, channel_digest
from bot.errors import SlackTokenRefused
from bot.render.digest import Digest
from bot.slack_api.history import LookupFailed
from bot.state.digest_rows import Claim, DigestRow
from bot.state.engine import NOT_ANSWERING
from bot.state.store import StateStore
from bot.state.tables import (
    ARRIVED,
    CLAIMED,
    FAILED,
    MISSED,
    NOT_ARRIVED,
    NOT_KNOWN,
    POSTED,
    SCHEDULED,
    SKIPPED,
    UNKNOWN,
)

logger = logging.getLogger("microopt.digests")


@dataclass
class Runner:
    """What every posting thread of one run shares."""

    deps: Deps
    store: StateStore
    now: dt.datetime
    clock: RunClock
    lease: dt.timedelta
    poster: Poster
    skip_empty: bool
    stop: threading.Event = field(default_factory=threading.Event)

    def outcome(
        self,
        claim: Claim,
        status: str,
        digest: Digest | None = None,
        *,
        messages: int = 0,
        error: str | None = None,
        arrival: str | None = None,
        retry_at: dt.datetime | None = None,
        found: int = 0,
    ) -> Outcome:
        new = digest.new if digest is not None else 0
        return Outcome(
            claim.channel,
            claim.target,
            claim.slot_at,
            status,
            messages,
            new,
            error,
            digest,
            arrival,
            retry_at,
            found,
            claim.kind,
        )

    def deliver(self, claim: Claim, digest: Digest) -> Outcome:
        store, now = self.store, self.now
        if digest.empty and self.skip_empty and not claim.check_first:
            store.finish(claim, SKIPPED, now)
            return self.outcome(claim, SKIPPED, digest)
        if not store.mark_sending(claim, now):
            return self.outcome(claim, TAKEN, digest)
        done: Delivery = self.poster.deliver(claim, digest.messages)
        if done.status == TAKEN:
            return self.outcome(claim, TAKEN, digest, messages=done.sent)
        retry_at = None
        if done.status == FAILED and claim.kind == SCHEDULED:
            # counted from the run's tick (its injected `now`), so the backoff is the same however long the run took
            retry_at = self.now + retry_delay(claim.attempts, self.deps.settings.digest_retry_seconds)
        if done.status == FAILED:
            logger.warning("the digest for %s was not posted: %s", claim.target, done.error)
        elif done.status == UNKNOWN:
            logger.warning(
                "the digest for %s may not have arrived (%s); the next run asks Slack", claim.target, done.error
            )
        store.finish(
            claim,
            done.status,
            now,
            message_ts=done.first_ts,
            messages=done.sent,
            error=done.error,
            said=digest.said if done.status == POSTED else (),
            channel_id=done.channel_id,
            arrival=done.arrival,
            retry_at=retry_at,
        )
        return self.outcome(
            claim,
            done.status,
            digest,
            messages=done.sent,
            error=done.error,
            arrival=done.arrival,
            retry_at=retry_at,
            found=done.found,
        )

    def post(self, job: Job, routing: Routing) -> Outcome | None:
        if self.stop.is_set():
            return None
        found = job.found
        claim = self.store.claim(found.channel, found.target, job.slot, self.clock(), self.lease, SCHEDULED)
        if claim is None:
            return Outcome(found.channel, found.target, job.slot, TAKEN)
        digest = channel_digest(
            self.store, routing, found.channel, found.target, found.channel_id, found.channel_name, found.timezone
        )
        return self.deliver(claim, digest)

    def close(self, row: DigestRow) -> Outcome | None:
        """End a slot whose window closed: posted if Slack has all of it, else missed, saying what is known."""
        if self.stop.is_set():
            return None
        claim = self.store.claim(row.channel, row.target, row.slot_at, self.clock(), self.lease, row.kind, closing=True)
        if claim is None:
            return None
        why = row.error or ("stopped_before_sending" if row.status == CLAIMED else "stopped_while_sending")
        if not claim.check_first:
            self.store.finish(claim, MISSED, self.now, error=why, arrival=NOT_ARRIVED)
            return self.outcome(claim, MISSED, error=why, arrival=NOT_ARRIVED)
        try:
            channel_id = self.poster.channel_ids.resolve(row.target, row.channel_id)
            found = find_parts(self.poster.read_client, channel_id, claim)
        except LookupFailed as failed:
            code = failed.code if failed.code != "not_checked" else why
            self.store.finish(claim, MISSED, self.now, error=code, arrival=NOT_KNOWN, messages=row.messages)
            return self.outcome(claim, MISSED, error=code, arrival=NOT_KNOWN, messages=row.messages)
        first = found.parts[min(found.parts)] if found.parts else None
        count = len(found.parts)
        if found.complete or (found.of is None and found.parts):
            self.store.finish(
                claim, POSTED, self.now, message_ts=first, messages=count, channel_id=channel_id, arrival=ARRIVED
            )
            return self.outcome(claim, POSTED, arrival=ARRIVED, messages=count, found=count)
        self.store.finish(
            claim,
            MISSED,
            self.now,
            message_ts=first,
            messages=count,
            error=why,
            channel_id=channel_id,
            arrival=NOT_ARRIVED,
        )
        return self.outcome(claim, MISSED, error=why, arrival=NOT_ARRIVED, messages=count)


def in_threads(runner: Runner, tasks: Sequence[Callable[[], Outcome | None]]) -> list[Outcome]:
    """Run the tasks concurrently; the first database failure, or a token Slack refuses, stops the others from
    starting a channel (what was claimed and not posted is taken over by a later run, once its lease lapses)."""
    if not tasks:
        return []
    failure: list[BaseException] = []

    def guarded(task: Callable[[], Outcome | None]) -> Outcome | None:
        try:
            return task()
        except (*NOT_ANSWERING, SlackTokenRefused) as error:
            runner.stop.set()
            failure.append(error)
            return None

    workers = min(runner.deps.settings.digest_concurrency, len(tasks))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="digest") as pool:
        futures: list[Future[Outcome | None]] = [pool.submit(guarded, task) for task in tasks]
        outcomes = [f.result() for f in futures]
    if failure:
        raise failure[0]
    return [o for o in outcomes if o is not None]


def make_runner(
    deps: Deps,
    store: StateStore,
    now: dt.datetime,
    pacer: ChannelPacer,
    skip_empty: bool,
    sleep: Callable[[float], None] | None,
) -> Runner:
    clock = RunClock(now)
    lease = dt.timedelta(seconds=deps.settings.digest_lease_seconds)
    keeper = LeaseKeeper(store, clock, lease)
    poster = Poster(deps.slack_client(), pacer, store, keeper, deps.settings.digest_retry_seconds, sleep or time.sleep)
    return Runner(deps, store, now, clock, lease, poster, skip_empty)
