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
from collections.abc import Callable
from functools import partial

from analysis.models import Report, SheetData
from bot.deps import Deps
from bot.digest_notes import already_posting, names_wait, no_such_channel, sheet_unread
from bot.digest_outcomes import DigestRun, Outcome
from bot.digest_pacing import PACER, ChannelPacer
from bot.digest_planning import plan_run
from bot.digest_record import SHEET_ERROR, label
from bot.digest_routing import Routing, channel_digest, decisions_standing
from bot.digest_runner import in_threads, make_runner
from bot.errors import DatabaseUnavailable, UserFacingError
from bot.routing import channel_id_of, needs_names, parse_channel
from bot.schedules_by_channel import renamed_keys, schedule_for, sheet_schedules
from bot.service import full_report, load_sheet
from bot.slack_api.directory import ChannelNames, list_channel_names
from bot.state.channels import rekey_channels
from bot.state.engine import NOT_ANSWERING, unavailable_sentence
from bot.state.store import StateStore
from bot.state.tables import FORCED, SHEET

logger = logging.getLogger("microopt.digests")

__all__ = ["ChannelPacer", "DigestRun", "Outcome", "post_channel_digest", "post_digests"]


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
    return list_channel_names(deps.slack_client()) if needs_names(data.channels) else ChannelNames()


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


def _analyse(deps: Deps, data: SheetData) -> Report:
    """The same report as `/microopt status`, so digests also refresh the sheet's Verdicts tab."""
    return full_report(deps, data)


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
    except NOT_ANSWERING as error:
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
    runner = make_runner(deps, store, now, pacer, settings.digest_skip_empty, sleep)
    tasks: list[Callable[[], Outcome | None]] = [partial(runner.close, row) for row in plan.closing]
    if data is not None and names is not None:
        routing = Routing(_analyse(deps, data), data, names, decisions_standing(deps, store, now))
        if dry_run:
            for job in plan.jobs:
                found = job.found
                digest = channel_digest(
                    store, routing, found.channel, found.target, found.channel_id, found.channel_name, found.timezone
                )
                run.outcomes.append(
                    Outcome(found.channel, found.target, job.slot, "preview", new=digest.new, digest=digest)
                )
            return run
        tasks.extend(partial(runner.post, job, routing) for job in plan.jobs)
    # else: the sheet could not be read; due slots are not claimed, and the next run tries again
    with runner.poster.keeper:
        run.outcomes.extend(in_threads(runner, tasks))
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
    except NOT_ANSWERING as error:
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
    names = channel_names(deps, data) if ref.channel_id else list_channel_names(deps.slack_client())
    key = channel_id_of(channel, names.ids)
    if key is None:
        run.problem = no_such_channel(channel, names.error)
        return run
    if not dry_run:
        sync_schedules(deps, data, names, now)
    known = schedule_for(store.schedules(), key)
    name = known.channel_name if known else ref.name
    timezone = known.timezone if known else deps.settings.timezone
    routing = Routing(_analyse(deps, data), data, names, decisions_standing(deps, store, now))
    digest = channel_digest(store, routing, key, key, key, name, timezone)
    if dry_run:
        run.outcomes.append(Outcome(key, key, now, "preview", new=digest.new, digest=digest, kind=FORCED))
        return run
    runner = make_runner(deps, store, now, pacer, False, sleep)
    claim = store.claim(key, key, now, now, runner.lease, FORCED)
    if claim is None:
        run.problem = already_posting(label(key, name))
        return run
    with runner.poster.keeper:
        run.outcomes.append(runner.deliver(claim, digest))
    return run
