"""Channel digests: find the channels due now, read the sheet once, analyse once, post to each channel.

`post_digests(deps, now)` is the whole scheduled job; the scheduler only calls it every minute, and the
tests call it directly with an injected clock. Every slot (channel, scheduled time) is claimed in the
database before anything is posted, so no slot is posted twice by two processes, a restart or a retry
(see `bot.state.store`). Posting runs channels concurrently, at most one message per second per channel,
and honours Slack's `Retry-After`; one channel failing (archived, bot not invited) is recorded, logged and
shown by `delivery_notes`, and the others carry on.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from analysis.models import Report, SheetData, TestResult
from bot.deps import Deps
from bot.errors import UserFacingError
from bot.render.digest import Digest, render_digest
from bot.routing import Where, access_for, channel_id_of, names_unavailable, needs_names, parse_channel
from bot.schedules import (
    ChannelSchedule,
    due_slot,
    effective_schedules,
    renamed_keys,
    sheet_schedules,
    state_of,
)
from bot.service import full_report, load_sheet
from bot.slack.blocks import escape
from bot.slack.directory import ChannelNames, list_channel_names
from bot.state.channels import rekey_channels
from bot.state.store import Claim, StateStore
from bot.state.tables import CLAIMED, FAILED, FORCED, POSTED, SCHEDULED, SENDING, SKIPPED

logger = logging.getLogger("microopt.digests")

SHEET_ERROR = "digest_sheet_error"
NOTES_WINDOW = dt.timedelta(days=7)
ADVICE = {
    "not_in_channel": "the bot is not in the channel: invite it with `/invite @microopt`",
    "channel_not_found": "Slack does not know the channel (renamed, deleted or private): fix the Channels tab "
    "or invite the bot",
    "is_archived": "the channel is archived: unarchive it or remove it from the Channels tab",
    "restricted_action": "the workspace does not let the bot post there",
    "ratelimited": "Slack kept rate-limiting the bot",
    "stopped_while_sending": "microopt stopped while posting it, so it may not have arrived",
    "invalid_auth": "the bot token was refused: check SLACK_BOT_TOKEN",
    "not_authed": "no bot token was sent: set SLACK_BOT_TOKEN",
}


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
    status: str  # posted | failed | skipped | taken (another process had it) | preview (dry run)
    messages: int = 0
    new: int = 0
    error: str | None = None
    digest: Digest | None = None

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

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def summary(self) -> str:
        if self.problem:
            return self.problem
        if not self.outcomes:
            return "No digests are due."
        parts = [f"{self.count(s)} {s}" for s in (POSTED, SKIPPED, FAILED, "taken", "preview") if self.count(s)]
        return f"Digests for {len(self.outcomes)} channel{'s' if len(self.outcomes) != 1 else ''}: " + ", ".join(parts)


# -- the job ----------------------------------------------------------------------------------------
def _sync_due(store: StateStore, now: dt.datetime, deps: Deps) -> bool:
    synced = store.sheet_synced_at()
    return synced is None or now - synced >= dt.timedelta(minutes=deps.settings.schedule_sync_minutes)


def _read_sheet(deps: Deps, store: StateStore, now: dt.datetime) -> tuple[SheetData | None, str | None]:
    try:
        data = load_sheet(deps)
    except UserFacingError as error:
        logger.warning("digests could not read the sheet: %s", error)
        sentence = f"Digests could not read the sheet ({now:%a %-d %b %H:%M} UTC): {error}"
        store.set_meta(SHEET_ERROR, sentence)
        return None, sentence
    except Exception:
        logger.exception("digests could not read the sheet")
        sentence = f"Digests could not read the sheet ({now:%a %-d %b %H:%M} UTC) because of an unexpected error."
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
    store = state_of(deps)
    wanted = sheet_schedules(data.channels, deps.settings.timezone, names.ids)
    rekey_channels(store, renamed_keys(wanted))
    store.sync_sheet_schedules(wanted, now or deps.clock())


def due_channels(
    store: StateStore, now: dt.datetime, grace: dt.timedelta, lease: dt.timedelta
) -> list[tuple[ChannelSchedule, dt.datetime]]:
    """Each channel's latest slot that is due, not yet claimed (or whose claim went stale)."""
    candidates = []
    for found in effective_schedules(store.schedules()):
        if found.schedule is None:
            continue
        slot = due_slot(found.schedule, now, grace, found.since)
        if slot is not None:
            candidates.append((found, slot))
    if not candidates:
        return []
    states = store.slot_states([c.channel for c, _ in candidates], now - grace - dt.timedelta(days=1))
    due = []
    for found, slot in candidates:
        state = states.get((found.channel, slot))
        if state is None or (state[0] in (CLAIMED, SENDING) and state[1] <= now - lease):
            due.append((found, slot))
    return due


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


def _label(target: str, name: str | None) -> str:
    return f"#{name}" if name else target


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
        _label(target, name),
        tests,
        previous,
        last.finished_at if last else None,
        ZoneInfo(timezone),
    )


def _analyse(deps: Deps, data: SheetData) -> Report:
    """The same report as `/microopt status`, so digests also refresh the sheet's Verdicts tab."""
    return full_report(deps, data)


def _client(deps: Deps) -> WebClient:
    if deps.slack_client is not None:
        return deps.slack_client()
    from bot.slack.client import create_web_client

    return create_web_client(deps.settings)


def _send(
    client: WebClient,
    pacer: ChannelPacer,
    store: StateStore,
    claim: Claim,
    digest: Digest,
    now: dt.datetime,
    skip_empty: bool,
) -> Outcome:

    def outcome(status: str, sent: int = 0, error: str | None = None) -> Outcome:
        return Outcome(claim.channel, claim.target, claim.slot_at, status, sent, digest.new, error, digest)

    if digest.empty and skip_empty:
        store.finish(claim, SKIPPED, now)
        return outcome(SKIPPED)
    if not store.mark_sending(claim, now):
        return outcome("taken")
    sent, first_ts = 0, None
    try:
        for payload in digest.messages:
            pacer.wait(claim.target)
            response = client.chat_postMessage(
                channel=claim.target,
                text=payload["text"],
                blocks=payload["blocks"],
                unfurl_links=False,
                unfurl_media=False,
                metadata={
                    "event_type": "microopt_digest",
                    "event_payload": {"channel": claim.channel, "slot": claim.slot_at.isoformat(), "kind": claim.kind},
                },
            )
            pacer.posted(claim.target)
            first_ts = first_ts or response.get("ts")
            sent += 1
    except SlackApiError as error:
        code = str(error.response.get("error") or "slack_error") if error.response is not None else "slack_error"
        logger.warning("the digest for %s was not posted: Slack answered %s", claim.target, code)
        store.finish(claim, FAILED, now, message_ts=first_ts, messages=sent, error=code)
        return outcome(FAILED, sent, code)
    except Exception as error:
        logger.exception("the digest for %s was not posted", claim.target)
        code = type(error).__name__
        store.finish(claim, FAILED, now, message_ts=first_ts, messages=sent, error=code)
        return outcome(FAILED, sent, code)
    store.finish(claim, POSTED, now, message_ts=first_ts, messages=sent, said=digest.said)
    return outcome(POSTED, sent)


def _post_all(
    deps: Deps,
    jobs: Sequence[tuple[Claim, Digest]],
    store: StateStore,
    now: dt.datetime,
    pacer: ChannelPacer,
    skip_empty: bool,
) -> list[Outcome]:
    if not jobs:
        return []
    client = _client(deps)
    workers = min(deps.settings.digest_concurrency, len(jobs))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="digest") as pool:
        return list(pool.map(lambda job: _send(client, pacer, store, job[0], job[1], now, skip_empty), jobs))


def post_digests(
    deps: Deps,
    now: dt.datetime | None = None,
    *,
    dry_run: bool = False,
    pacer: ChannelPacer | None = None,
    refresh_schedules: bool | None = None,
) -> DigestRun:
    """Post every digest due at `now` (missed slots within the grace period included), each slot once.

    The sheet is read at most once: to refresh the schedules from the Channels tab when they are older
    than MICROOPT_SCHEDULE_SYNC_MINUTES, and for the digests themselves when any is due.
    """
    now = now or deps.clock()
    store = state_of(deps)
    settings = deps.settings
    grace = dt.timedelta(hours=settings.digest_grace_hours)
    lease = dt.timedelta(minutes=settings.digest_lease_minutes)
    run = DigestRun(now)
    data: SheetData | None = None
    names: ChannelNames | None = None
    if refresh_schedules or (refresh_schedules is None and _sync_due(store, now, deps)):
        data, run.problem = _read_sheet(deps, store, now)
        run.sheet_read = True
        if data is not None:
            names = channel_names(deps, data)
            sync_schedules(deps, data, names, now)
    due = due_channels(store, now, grace, lease)
    run.due = len(due)
    if not due:
        return run
    if data is None:
        if run.sheet_read:
            return run  # the sheet could not be read: nothing claimed, the next run tries again
        data, run.problem = _read_sheet(deps, store, now)
        run.sheet_read = True
        if data is None:
            return run
    names = names or channel_names(deps, data)
    if names.error is not None:
        # Nothing claimed: a digest now would miss the campaigns of every row named by name.
        run.problem = f"Digests wait: {names_unavailable(names.error)}."
        store.set_meta(SHEET_ERROR, run.problem)
        return run
    routing = Routing(_analyse(deps, data), data, names)
    jobs: list[tuple[Claim, Digest]] = []
    for found, slot in due:
        if dry_run:
            digest = _digest(
                store, routing, found.channel, found.target, found.channel_id, found.channel_name, found.timezone
            )
            run.outcomes.append(Outcome(found.channel, found.target, slot, "preview", new=digest.new, digest=digest))
            continue
        claim = store.claim(found.channel, found.target, slot, now, lease, SCHEDULED)
        if claim is None:
            continue
        digest = _digest(
            store, routing, found.channel, found.target, found.channel_id, found.channel_name, found.timezone
        )
        jobs.append((claim, digest))
    run.outcomes.extend(_post_all(deps, jobs, store, now, pacer or PACER, deps.settings.digest_skip_empty))
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
) -> DigestRun:
    """`microopt digest --channel C --force`: this channel's digest now, whatever its schedule."""
    now = now or deps.clock()
    store = state_of(deps)
    if not parse_channel(channel).channel_id and not parse_channel(channel).name:
        raise UserFacingError(f"“{channel}” is not a channel: give #name, name or a channel ID such as C0123ABCD.")
    run = DigestRun(now, due=1)
    data, run.problem = _read_sheet(deps, store, now)
    run.sheet_read = True
    if data is None:
        return run
    names = list_channel_names(_client(deps)) if not parse_channel(channel).channel_id else channel_names(deps, data)
    key = channel_id_of(channel, names.ids)
    if key is None:
        run.problem = (
            f"Slack has no channel “{channel}” that microopt can see"
            + (f" ({names.error})" if names.error else "")
            + ": give its ID (C0123ABCD), or invite microopt if it is private."
        )
        return run
    if not dry_run:
        sync_schedules(deps, data, names, now)
    known = next((s for s in effective_schedules(store.schedules()) if s.channel == key), None)
    name = known.channel_name if known else parse_channel(channel).name
    timezone = known.timezone if known else deps.settings.timezone
    routing = Routing(_analyse(deps, data), data, names)
    digest = _digest(store, routing, key, key, key, name, timezone)
    if dry_run:
        run.outcomes.append(Outcome(key, key, now, "preview", new=digest.new, digest=digest))
        return run
    claim = store.claim(key, key, now, now, dt.timedelta(minutes=deps.settings.digest_lease_minutes), FORCED)
    if claim is None:
        run.problem = f"A digest for {_label(key, name)} is already being posted."
        return run
    run.outcomes.extend(_post_all(deps, [(claim, digest)], store, now, pacer or PACER, skip_empty=False))
    return run


# -- what `/microopt sheet` shows -------------------------------------------------------------------
def _advice(code: str | None) -> str:
    if code is None:
        return "it failed"
    return ADVICE.get(code, f"Slack answered `{code}`")


def delivery_notes(deps: Deps) -> list[str]:
    """Recent digest trouble, one sentence each: channels that did not get a digest, schedules that do not
    parse, a sheet that could not be read. Never raises."""
    try:
        store = state_of(deps)
        now = deps.clock()
        notes: list[str] = []
        sheet_error = store.get_meta(SHEET_ERROR)
        if sheet_error:
            notes.append(sheet_error)
        schedules = effective_schedules(store.schedules())
        names = {s.channel: _label(s.target, s.channel_name) for s in schedules}
        for row in store.problem_digests(now - NOTES_WINDOW):
            where = names.get(row.channel, row.target)
            when = f"{row.slot_at:%a %-d %b %H:%M} UTC"
            what = "digest" if row.kind == SCHEDULED else "requested digest"
            notes.append(f"{where} did not get its {what} of {when}: {_advice(row.error)}.")
        for found in schedules:
            if found.problem:
                where = _label(found.target, found.channel_name)
                origin = "in the Channels tab" if found.source == "sheet" else "set with /microopt schedule"
                notes.append(
                    f"The digest schedule for {where} {origin} (“{found.spec}”, {found.timezone}) does not work, "
                    "so no digests go there: use e.g. `weekdays 09:00`, `mon 08:30` or cron `0 9 * * 1-5`."
                )
        return [escape(note) for note in notes]
    except Exception:
        logger.exception("could not read the digest record")
        return ["Digest delivery could not be checked: the database did not answer."]
