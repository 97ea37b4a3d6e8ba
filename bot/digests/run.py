"""Channel digests: find the channels due now, read each of their sheets once, analyse once, post to each channel.

`post_digests(deps, now)` is the whole scheduled job; the scheduler only calls it every minute, and the
tests call it directly with an injected clock. Every slot (channel, scheduled time) is claimed in the
database just before it is posted (`bot.state.store`), so no slot is posted twice by two processes, a
restart or a retry, and a run that stops leaves the channels it had not reached unclaimed. A run renews
its claims while it works (`LeaseKeeper`); the next run takes over those of a run that stopped, asks
Slack's history what had arrived, and sends only the rest (`bot.digests.posting`, `bot.digests.recovery`).
A slot whose posts failed is tried again with backoff until its window closes, and only then ends
`missed`, with why (`bot.digests.notes` words it). Posting runs channels concurrently, at most one message
per second per channel, and honours Slack's `Retry-After`; one channel failing does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from bot.deps import Deps
from bot.digests.notes import already_posting, no_such_channel
from bot.digests.outcomes import DigestRun, Outcome
from bot.digests.pacing import PACER, ChannelPacer
from bot.digests.planning import Job, plan_run
from bot.digests.record import label
from bot.digests.routing import channel_digest
from bot.digests.runner import Runner, in_threads, make_runner
from bot.digests.sheets import RunSheets
from bot.digests.workspaces import TeamRunners
from bot.errors import DatabaseUnavailable, UserFacingError
from bot.routing import channel_id_of, parse_channel
from bot.schedules.by_channel import schedule_for
from bot.slack_api.directory import list_channel_names
from bot.state.engine import NOT_ANSWERING, unavailable_sentence
from bot.state.store import StateStore
from bot.state.tables import FORCED

logger = logging.getLogger("microopt.digests")

__all__ = ["ChannelPacer", "DigestRun", "Outcome", "post_channel_digest", "post_digests"]


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

    Each sheet (MICROOPT_SHEET and those linked to channels, `bot.digests.sheets`) is read at most once: to
    refresh the schedules from its Channels tab when they are older than MICROOPT_SCHEDULE_SYNC_MINUTES (a few
    sheets a run; every one with `refresh_schedules`, none with False), and for its channels' digests when any
    is due. A database that stops answering ends the run with DatabaseUnavailable (one sentence; the next run
    reconciles). `sleep` is what waits between tries of one message (tests pass one that does not sleep).
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
    sheets = RunSheets(deps, store, now)
    if refresh_schedules:
        sheets.sync(sheets.groups)
    elif refresh_schedules is None:
        sheets.sync(sheets.due())
    plan = plan_run(store, now, grace, lease)
    run.due, run.waiting = len(plan.jobs), plan.waiting
    if dry_run:
        plan.closing = []
    if plan.jobs or plan.closing:
        if dry_run:
            run.outcomes.extend(o for job in plan.jobs if (o := _preview(store, sheets, job)) is not None)
            run.sheet_read, run.problem = sheets.read_any, sheets.problem
            return run
        runners = TeamRunners(
            deps, sheets, lambda team_deps: make_runner(team_deps, store, now, pacer, settings.digest_skip_empty, sleep)
        )
        tasks: list[Callable[[], Outcome | None]] = [
            partial(runner.close, row) for row in plan.closing if (runner := runners.of(row.channel)) is not None
        ]
        # Each job reads its sheet (once per run, within Google's quota) on the posting threads, so the digests
        # of the first sheets go out while later ones wait for the quota; a job whose sheet could not be used
        # is not claimed, and the next run tries again. Each posts with its own workspace's client.
        tasks.extend(
            partial(_post_job, runner, sheets, job)
            for job in plan.jobs
            if (runner := runners.of(job.found.channel)) is not None
        )
        with runners.keeping():
            run.outcomes.extend(in_threads(runners.first, tasks) if runners.first is not None else [])
        for sentence in runners.problems:
            sheets.note(sentence)
    run.sheet_read, run.problem = sheets.read_any, sheets.problem
    for outcome in run.outcomes:
        logger.info("digest %s for %s (slot %s)", outcome.status, outcome.target, outcome.slot_at.isoformat())
    return run


def _post_job(runner: Runner, sheets: RunSheets, job: Job) -> Outcome | None:
    routing = sheets.routing(sheets.group_of(job.found.channel))
    return None if routing is None else runner.post(job, routing)


def _preview(store: StateStore, sheets: RunSheets, job: Job) -> Outcome | None:
    found = job.found
    routing = sheets.routing(sheets.group_of(found.channel))
    if routing is None:
        return None
    digest = channel_digest(
        store, routing, found.channel, found.target, found.channel_id, found.channel_name, found.timezone
    )
    return Outcome(found.channel, found.target, job.slot, "preview", new=digest.new, digest=digest)


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
    key = ref.channel_id
    if key is None:  # a channel asked for by name needs Slack's names, whatever its sheet writes
        names = list_channel_names(deps.slack_client())
        key = channel_id_of(channel, names.ids)
        if key is None:
            run.problem = no_such_channel(channel, names.error)
            return run
    sheets = RunSheets(deps, store, now)
    group = sheets.group_of(key)
    if not dry_run:
        sheets.sync([group])
    routing = sheets.routing(group)
    run.sheet_read, run.problem = sheets.read_any, sheets.problem
    if routing is None:
        return run
    known = schedule_for(store.schedules(), key)
    name = known.channel_name if known else ref.name
    timezone = known.timezone if known else deps.settings.timezone
    digest = channel_digest(store, routing, key, key, key, name, timezone)
    if dry_run:
        run.outcomes.append(Outcome(key, key, now, "preview", new=digest.new, digest=digest, kind=FORCED))
        return run
    team = group.team_of(key) if deps.settings.oauth else None
    team_deps = deps if team is None else replace(deps, slack_client=partial(deps.slack_client_for, team))
    runner = make_runner(team_deps, store, now, pacer, False, sleep)
    claim = store.claim(key, key, now, now, runner.lease, FORCED)
    if claim is None:
        run.problem = already_posting(label(key, name))
        return run
    with runner.poster.keeper:
        run.outcomes.append(runner.deliver(claim, digest))
    return run
