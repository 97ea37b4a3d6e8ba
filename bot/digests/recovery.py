"""What microopt asks Slack, and decides, when it does not know whether a digest arrived.

A digest's messages carry their identity in Slack message metadata (event type `microopt_digest`; the
channel key, the slot, the kind, the part and how many parts). Before anything is sent again, and when a
slot left behind by a stopped process is recovered, the channel's history since the slot is read with
`conversations.history(include_all_metadata=true)` (scopes `channels:history` / `groups:history`) and the
digest's parts found there count as posted. History wants a channel ID: the one Slack answered when the
channel was last posted to, the target itself when it is an ID, or `conversations.list` (scopes
`channels:read` / `groups:read`) for a channel named `#name` that was never posted to.

Also here: when a slot's window is open (`window_open`), how long a failed slot waits before its next try
(`retry_delay`), and the heartbeat that keeps a live run's claims its own (`LeaseKeeper`).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.errors import CONNECTION
from bot.routing import parse_channel
from bot.schedules.by_channel import ChannelSchedule
from bot.schedules.slots import due_slot
from bot.slack_api.directory import list_channel_names
from bot.slack_api.history import LookupFailed, matching_payloads
from bot.state.digest_rows import Claim, DigestRow
from bot.state.store import StateStore
from bot.state.tables import CLAIMED, FORCED, SENDING, UNKNOWN

logger = logging.getLogger("microopt.digests")

EVENT_TYPE = "microopt_digest"
# A slot whose run stopped (or whose answer never came) is finished by a later run for this long after its
# owner last held it, even when its window closed meanwhile (a crash just before midnight).
RECOVERY_GRACE = dt.timedelta(minutes=10)
RETRY_CAP = 4  # a failed slot waits retry_seconds, then twice, then four times that, then four times again


def identity(claim: Claim) -> dict[str, Any]:
    """What every message of a digest says about which digest it belongs to."""
    return {"channel": claim.channel, "slot": claim.slot_at.isoformat(), "kind": claim.kind}


def metadata(claim: Claim, part: int, parts: int) -> dict[str, Any]:
    """chat.postMessage `metadata` for one message of a digest."""
    return {"event_type": EVENT_TYPE, "event_payload": {**identity(claim), "part": part, "parts": parts}}


@dataclass(frozen=True)
class Found:
    """The parts of one digest found in the channel's history: part → message ts, and how many it has."""

    parts: dict[int, str]
    of: int | None = None

    @property
    def complete(self) -> bool:
        return self.of is not None and all(part in self.parts for part in range(self.of))


def find_parts(client: WebClient, channel_id: str, claim: Claim) -> Found:
    """The parts of `claim`'s digest already in the channel (raises LookupFailed when history cannot be read)."""
    parts: dict[int, str] = {}
    of: int | None = None
    for payload, ts in matching_payloads(client, channel_id, EVENT_TYPE, identity(claim), claim.slot_at):
        parts.setdefault(int(payload.get("part", 0)), ts)
        if "parts" in payload:
            of = int(payload["parts"])
    return Found(parts, of)


class ChannelIds:
    """A channel's ID for `conversations.history`: known, written as an ID, or looked up once per run by name
    (rows kept from before channels were keyed by ID)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._by_name: dict[str, str] | None = None
        self._lock = threading.Lock()

    def resolve(self, target: str, known: str | None = None) -> str:
        if known:
            return known
        ref = parse_channel(target)
        if ref.channel_id:
            return ref.channel_id
        with self._lock:
            if self._by_name is None:
                self._by_name = self._list()
            found = self._by_name.get(ref.name or "")
        if found is None:
            raise LookupFailed("channel_not_found")
        return found

    def _list(self) -> dict[str, str]:
        found = list_channel_names(self._client)
        if found.error is not None:
            raise LookupFailed("not_checked" if found.error == CONNECTION else found.error)
        return dict(found.ids)


# -- windows, retries, leases -----------------------------------------------------------------------
def window_open(
    row: DigestRow,
    schedule: ChannelSchedule | None,
    now: dt.datetime,
    grace: dt.timedelta,
) -> bool:
    """May this slot still be posted? While it is its channel's due slot; and a slot whose run stopped (or
    whose answer never came) for RECOVERY_GRACE after it was last held, unless a newer slot replaced it.
    A forced digest belongs to the run that asked for it: a later run only finds out whether it arrived."""
    if row.kind == FORCED:
        return False
    due = None
    if schedule is not None and schedule.schedule is not None:
        due = due_slot(schedule.schedule, now, grace)
    if due == row.slot_at:
        return True
    if due is not None and due > row.slot_at:
        return False  # a newer digest of this channel is due: it says everything this one would have
    held = row.lease_until or row.finished_at or row.claimed_at
    return row.status in (CLAIMED, SENDING, UNKNOWN) and now <= held + RECOVERY_GRACE


def retry_delay(attempts: int, retry_seconds: float, rng: Callable[[], float] = random.random) -> dt.timedelta:
    """How long a slot that failed `attempts` times waits: doubling from `retry_seconds`, at most RETRY_CAP
    times that, with jitter (75–100%) so that many failed channels do not come back at the same second."""
    base = retry_seconds * min(2 ** max(attempts - 1, 0), RETRY_CAP)
    return dt.timedelta(seconds=base * (0.75 + 0.25 * rng()))


class RunClock:
    """The run's `now` moved on by the real time elapsed since: leases are counted from it."""

    def __init__(self, now: dt.datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.start = now
        self._monotonic = monotonic
        self._t0 = monotonic()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self._monotonic() - self._t0)


class LeaseKeeper:
    """The owner's heartbeat: while a run works, every claim it holds is renewed each third of the lease."""

    def __init__(self, store: StateStore, clock: RunClock, lease: dt.timedelta) -> None:
        self.store = store
        self.clock = clock
        self.lease = lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="digest-lease", daemon=True)

    def until(self) -> dt.datetime:
        return self.clock() + self.lease

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _beat(self) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                self.store.renew_leases(self.until())
            except Exception:  # the database is away: the claims lapse, and the next run takes them over
                logger.warning("could not renew this run's digest claims", exc_info=True)
