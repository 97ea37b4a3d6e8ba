"""Channel digests: find the channels due now, read the sheet once, analyse once, post to each channel.

`post_digests(deps, now)` is the whole scheduled job; the scheduler only calls it every minute, and the
tests call it directly with an injected clock. Every slot (channel, scheduled time) is claimed in the
database just before it is posted (`bot.state.store`), so no slot is posted twice by two processes, a
restart or a retry, and a run that stops leaves the channels it had not reached unclaimed. A run renews
its claims while it works (`LeaseKeeper`); the next run takes over those of a run that stopped, asks
Slack's history what had arrived, and sends only the rest (`bot.digest_posting`, `bot.digest_recovery`).
A slot whose posts failed is tried again with backoff until its window closes, and only then ends
`missed`, with why (`bot.digest_notes` words it). Posting runs channels concurrently, at most one message
per second per channel, and honours Slack's `Retry-After`; one channel failing does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy.exc import InterfaceError, OperationalError

from analysis.models import Report, SheetData, TestResult
from bot.deps import Deps
from bot.digest_notes import already_posting, names_wait, no_such_channel, run_summary, sheet_unread
from bot.digest_posting import TAKEN, Delivery, Poster
from bot.digest_record import SHEET_ERROR, label
from bot.digest_recovery import LeaseKeeper, LookupFailed, RunClock, find_parts, retry_delay, window_open
from bot.errors import DatabaseUnavailable, UserFacingError
from bot.render.digest import Digest, render_digest
from bot.routing import Where, access_for, channel_id_of, needs_names, parse_channel
from bot.schedules import (
    ChannelSchedule,
    due_slot,
    effective_schedules,
    renamed_keys,
    schedule_for,
    sheet_schedules,
)
from bot.service import full_report, load_sheet
from bot.slack_api.directory import ChannelNames, list_channel_names
from bot.state.channels import rekey_channels
from bot.state.engine import unavailable_sentence
from bot.state.store import Claim, DigestRow, StateStore, takeable
from bot.state.tables import (
    ARRIVED,
    CLAIMED,
    FAILED,
    FORCED,
    MISSED,
    NOT_ARRIVED,
    NOT_KNOWN,
    POSTED,
    SCHEDULED,
    SHEET,
    SKIPPED,
    UNKNOWN,
)

logger = logging.getLogger("microopt.digests")

__all__ = ["ChannelPacer", "DigestRun", "Outcome", "post_channel_digest", "post_digests"]
TROUBLE = (FAILED, UNKNOWN, MISSED)  # a run with one of these exits non-zero (`microopt digest`)


# -- pacing -----------------------------------------------------------------------------------------
class ChannelPacer:
    """At most one message per `interval` seconds per channel, for every thread of this process."""

    def __init__(
        self,
        interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        """Before a post: sleep until the channel's last post is `interval` old."""
        with self._lock:
            now = self._monotonic()
            start = max(now, self._next.get(channel, now))
            self._next[channel] = start + self.interval
        if start > now:
            self._sleep(start - now)

    def posted(self, channel: str) -> None:
        """After a post (retries included): Slack counts the interval from when it accepted the message."""
        with self._lock:
            self._next[channel] = max(self._next.get(channel, 0.0), self._monotonic() + self.interval)


PACER = ChannelPacer()


# -- results ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    channel: str
    target: str
    slot_at: dt.datetime
    # posted | failed (tried again later) | unknown (not known yet whether it arrived) | missed (its window
    # closed) | skipped | taken (another process had it) | preview (dry run)
    status: str
    messages: int = 0
    new: int = 0
    error: str | None = None
    digest: Digest | None = None
    arrival: str | None = None
    retry_at: dt.datetime | None = None
    found: int = 0  # messages found in Slack's history rather than sent
    kind: str = SCHEDULED

    @property
    def label(self) -> str:
        """How people know the channel (`#spring-sale`); its ID when the digest does not say."""
        return self.digest.channel if self.digest is not None else self.target


@dataclass
class DigestRun:
    now: dt.datetime
    due: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    sheet_read: bool = False
    problem: str | None = None
    waiting: list[DigestRow] = field(default_factory=list)  # failed digests waiting for their next try

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def trouble(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in TROUBLE]

    @property
    def ok(self) -> bool:
        """Nothing failed, was missed or is not known to have arrived (and the sheet was read)."""
        return self.problem is None and not self.trouble and not self.waiting

    def summary(self) -> str:
        return run_summary(self.problem, [o.status for o in self.outcomes], len(self.waiting))


# -- the job ----------------------------------------------------------------------------------------
def _sync_due(store: StateStore, now: dt.datetime, deps: Deps) -> bool:
    synced = store.sheet_synced_at()
    return synced is None or now - synced >= dt.timedelta(minutes=deps.settings.schedule_sync_minutes)


def _read_sheet(deps: Deps, store: StateStore, now: dt.datetime) -> tuple[SheetData | None, str | None]:
    try:
        data = load_sheet(deps)
    except UserFacingError as error:
        logger.warning("digests could not read the sheet: %s", error)
        sentence = sheet_unread(now, str(error))
        store.set_meta(SHEET_ERROR, sentence)
        return None, sentence
    except Exception:
        logger.exception("digests could not read the sheet")
        sentence = sheet_unread(now, None)
        store.set_meta(SHEET_ERROR, sentence)
        return None, sentence
    if store.get_meta(SHEET_ERROR):
        store.set_meta(SHEET_ERROR, "")
    return data, None


def channel_names(deps: Deps, data: SheetData) -> ChannelNames:
    """The Channels tab's names resolved to IDs, asked of Slack only when a row names a channel."""
    return list_channel_names(_client(deps)) if needs_names(data.channels) else ChannelNames()


def sync_schedules(deps: Deps, data: SheetData, names: ChannelNames, now: dt.datetime | None = None) -> None:
    """Mirror the Channels tab's Schedule/Timezone columns into the database, keyed by channel ID.

    Not while names cannot be looked up: the rows named by name would look removed, and come back later
    with their schedule restarted. A database keyed by names (schema 3) moves its history to the IDs.
    """
    if names.error is not None:
        return
    store = deps.state()
    wanted = sheet_schedules(data.channels, deps.settings.timezone, names.ids)
    keyed_by_name = {row.channel for row in store.schedules() if row.source == SHEET}
    rekey_channels(store, {old: new for old, new in renamed_keys(wanted).items() if old in keyed_by_name})
    store.sync_sheet_schedules(wanted, now or deps.clock())


@dataclass(frozen=True)
class Job:
    """A slot to post now: a fresh one (`row` None) or one taken back up (failed, unknown, left by a stopped run)."""

    found: ChannelSchedule
    slot: dt.datetime
    row: DigestRow | None = None


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    closing: list[DigestRow] = field(default_factory=list)  # window closed: end them (posted if they arrived)
    waiting: list[DigestRow] = field(default_factory=list)


def plan_run(store: StateStore, now: dt.datetime, grace: dt.timedelta, lease: dt.timedelta) -> Plan:
    """Which slots to post now, which unfinished ones to end, which wait for a retry."""
    schedules = effective_schedules(store.schedules())
    by_channel = {s.channel: s for s in schedules}
    since = now - grace - dt.timedelta(days=1)
    plan = Plan()
    taken_up: set[tuple[str, dt.datetime]] = set()
    for row in store.open_digests(since):
        found = by_channel.get(row.channel)
        if row.status in (CLAIMED, "sending") and not takeable(row, now, lease):
            taken_up.add((row.channel, row.slot_at))  # its owner is alive and working on it
        elif not window_open(row, found, now, grace):
            plan.closing.append(row)
        elif found is not None and row.kind == SCHEDULED and takeable(row, now, lease):
            plan.jobs.append(Job(found, row.slot_at, row))
            taken_up.add((row.channel, row.slot_at))
        else:
            plan.waiting.append(row)
            taken_up.add((row.channel, row.slot_at))
    candidates = []
    for found in schedules:
        if found.schedule is None:
            continue
        slot = due_slot(found.schedule, now, grace, found.since)
        if slot is not None and (found.channel, slot) not in taken_up:
            candidates.append((found, slot))
    if candidates:
        states = store.slot_states([c.channel for c, _ in candidates], since)
        plan.jobs.extend(Job(found, slot) for found, slot in candidates if (found.channel, slot) not in states)
    return plan


def due_channels(
    store: StateStore, now: dt.datetime, grace: dt.timedelta, lease: dt.timedelta
) -> list[tuple[ChannelSchedule, dt.datetime]]:
    """Each channel's slot to post now: due and not yet claimed, or taken back up."""
    return [(job.found, job.slot) for job in plan_run(store, now, grace, lease).jobs]


class Routing:
    """Which running tests go to which channel, for one run: `bot.routing.access_for` with digests' policy.

    A digest goes only where the Channels tab sends it: a channel with no row gets no tests (status may
    fall back to every campaign; a digest never does).
    """

    def __init__(self, report: Report, data: SheetData, names: ChannelNames) -> None:
        # Paused and done tests leave digests; they stay in status, backtest and the track record.
        self.tests = [t for t in report.tests if t.status == "running"]
        self.routes = data.channels
        self.names = names.ids

    def tests_for(self, channel_id: str | None, name: str | None) -> list[TestResult]:
        where = Where(channel_id, name)
        access = access_for(self.routes, where, names=self.names, home_team=None, fallback_to_all=False)
        return list(access.tests(self.tests))


def _digest(
    store: StateStore,
    routing: Routing,
    channel: str,
    target: str,
    channel_id: str | None,
    name: str | None,
    timezone: str,
) -> Digest:
    previous = store.last_said(channel)
    last = store.last_posted(channel)
    tests = routing.tests_for(channel_id, name)
    return render_digest(
        label(target, name),
        tests,
        previous,
        last.finished_at if last else None,
        ZoneInfo(timezone),
    )


def _analyse(deps: Deps, data: SheetData) -> Report:
    """The same report as `/microopt status`, so digests also refresh the sheet's Verdicts tab."""
    return full_report(deps, data)


def _client(deps: Deps) -> WebClient:
    return deps.slack_client()


# -- posting --------------------------------------------------------------------------------------------
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
        digest = _digest(
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


def _in_threads(runner: Runner, tasks: Sequence[Callable[[], Outcome | None]]) -> list[Outcome]:
    """Run the tasks concurrently; the first database failure stops the others from starting a channel."""
    if not tasks:
        return []
    failure: list[BaseException] = []

    def guarded(task: Callable[[], Outcome | None]) -> Outcome | None:
        try:
            return task()
        except (OperationalError, InterfaceError) as error:
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


def _runner(
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
    poster = Poster(_client(deps), pacer, store, keeper, deps.settings.digest_retry_seconds, sleep or time.sleep)
    return Runner(deps, store, now, clock, lease, poster, skip_empty)


def _database_guard(deps: Deps) -> DatabaseUnavailable:
    return DatabaseUnavailable(unavailable_sentence(deps.settings.database_url))


def post_digests(
    deps: Deps,
    now: dt.datetime | None = None,
    *,
    dry_run: bool = False,
    pacer: ChannelPacer | None = None,
    refresh_schedules: bool | None = None,
    sleep: Callable[[float], None] | None = None,
) -> DigestRun:
    """Post every digest due at `now` (missed slots within the grace period, failed ones whose retry has come
    and ones a stopped run left included), each slot once, and end the slots whose window closed.

    The sheet is read at most once: to refresh the schedules from the Channels tab when they are older
    than MICROOPT_SCHEDULE_SYNC_MINUTES, and for the digests themselves when any is due. A database that
    stops answering ends the run with DatabaseUnavailable (one sentence; the next run reconciles). `sleep`
    is what waits between tries of one message (tests pass one that does not sleep).
    """
    try:
        return _post_digests(deps, now or deps.clock(), dry_run, pacer or PACER, refresh_schedules, sleep)
    except (OperationalError, InterfaceError) as error:
        raise _database_guard(deps) from error


def _post_digests(
    deps: Deps,
    now: dt.datetime,
    dry_run: bool,
    pacer: ChannelPacer,
    refresh_schedules: bool | None,
    sleep: Callable[[float], None] | None,
) -> DigestRun:
    store = deps.state()
    settings = deps.settings
    grace = dt.timedelta(hours=settings.digest_grace_hours)
    lease = dt.timedelta(seconds=settings.digest_lease_seconds)
    run = DigestRun(now)
    data: SheetData | None = None
    names: ChannelNames | None = None
    if refresh_schedules or (refresh_schedules is None and _sync_due(store, now, deps)):
        data, run.problem = _read_sheet(deps, store, now)
        run.sheet_read = True
        if data is not None:
            names = channel_names(deps, data)
            sync_schedules(deps, data, names, now)
    plan = plan_run(store, now, grace, lease)
    run.due, run.waiting = len(plan.jobs), plan.waiting
    if dry_run:
        plan.closing = []
    if not plan.jobs and not plan.closing:
        return run
    if plan.jobs and data is None and not run.sheet_read:
        data, run.problem = _read_sheet(deps, store, now)
        run.sheet_read = True
    if data is not None and plan.jobs:
        names = names or channel_names(deps, data)
        if names.error is not None:
            # Due slots are not claimed: a digest now would miss the campaigns of every row named by name.
            run.problem = names_wait(names.error)
            store.set_meta(SHEET_ERROR, run.problem)
            data = None
    runner = _runner(deps, store, now, pacer, settings.digest_skip_empty, sleep)
    tasks: list[Callable[[], Outcome | None]] = [partial(runner.close, row) for row in plan.closing]
    if data is not None and names is not None:
        routing = Routing(_analyse(deps, data), data, names)
        if dry_run:
            for job in plan.jobs:
                found = job.found
                digest = _digest(
                    store, routing, found.channel, found.target, found.channel_id, found.channel_name, found.timezone
                )
                run.outcomes.append(
                    Outcome(found.channel, found.target, job.slot, "preview", new=digest.new, digest=digest)
                )
            return run
        tasks.extend(partial(runner.post, job, routing) for job in plan.jobs)
    # else: the sheet could not be read; due slots are not claimed, and the next run tries again
    with runner.poster.keeper:
        run.outcomes.extend(_in_threads(runner, tasks))
    for outcome in run.outcomes:
        logger.info("digest %s for %s (slot %s)", outcome.status, outcome.target, outcome.slot_at.isoformat())
    return run


def post_channel_digest(
    deps: Deps,
    channel: str,
    now: dt.datetime | None = None,
    *,
    dry_run: bool = False,
    pacer: ChannelPacer | None = None,
    sleep: Callable[[float], None] | None = None,
) -> DigestRun:
    """`microopt digest --channel C --force`: this channel's digest now, whatever its schedule."""
    try:
        return _post_channel_digest(deps, channel, now or deps.clock(), dry_run, pacer or PACER, sleep)
    except (OperationalError, InterfaceError) as error:
        raise _database_guard(deps) from error


def _post_channel_digest(
    deps: Deps,
    channel: str,
    now: dt.datetime,
    dry_run: bool,
    pacer: ChannelPacer,
    sleep: Callable[[float], None] | None,
) -> DigestRun:
    store = deps.state()
    ref = parse_channel(channel)
    if not ref.channel_id and not ref.name:
        raise UserFacingError(f"“{channel}” is not a channel: give #name, name or a channel ID such as C0123ABCD.")
    run = DigestRun(now, due=1)
    data, run.problem = _read_sheet(deps, store, now)
    run.sheet_read = True
    if data is None:
        return run
    # A channel asked for by name needs Slack's names even when the sheet writes only IDs.
    names = channel_names(deps, data) if ref.channel_id else list_channel_names(_client(deps))
    key = channel_id_of(channel, names.ids)
    if key is None:
        run.problem = no_such_channel(channel, names.error)
        return run
    if not dry_run:
        sync_schedules(deps, data, names, now)
    known = schedule_for(store.schedules(), key)
    name = known.channel_name if known else ref.name
    timezone = known.timezone if known else deps.settings.timezone
    routing = Routing(_analyse(deps, data), data, names)
    digest = _digest(store, routing, key, key, key, name, timezone)
    if dry_run:
        run.outcomes.append(Outcome(key, key, now, "preview", new=digest.new, digest=digest, kind=FORCED))
        return run
    runner = _runner(deps, store, now, pacer, False, sleep)
    claim = store.claim(key, key, now, now, runner.lease, FORCED)
    if claim is None:
        run.problem = already_posting(label(key, name))
        return run
    with runner.poster.keeper:
        run.outcomes.append(runner.deliver(claim, digest))
    return run
