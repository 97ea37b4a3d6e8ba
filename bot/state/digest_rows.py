"""A digest slot's row as the store returns it, its claim, and the rules about taking one over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.state import tables as t


@dataclass(frozen=True)
class Claim:
    id: int
    channel: str
    target: str
    slot_at: dt.datetime
    kind: str
    attempts: int = 1
    sent: int = 0  # messages known to be in Slack already (a taken-over digest)
    check_first: bool = False  # it may be in Slack: ask Slack's history before sending anything
    channel_id: str | None = None
    message_ts: str | None = None
    previous_error: str | None = None


@dataclass(frozen=True)
class DigestRow:
    id: int
    channel: str
    target: str
    slot_at: dt.datetime
    kind: str
    status: str
    worker: str
    claimed_at: dt.datetime
    finished_at: dt.datetime | None
    attempts: int
    message_ts: str | None
    messages: int
    error: str | None
    lease_until: dt.datetime | None = None
    retry_at: dt.datetime | None = None
    channel_id: str | None = None
    arrival: str | None = None


# Errors after which a message may be in Slack although no answer said so (bot.digests.posting).
UNCERTAIN_ERRORS = frozenset({"slack_5xx", "timeout", "connection_error", "stopped_while_sending", "not_checked"})


def lease_expiry(row: DigestRow, lease: dt.timedelta) -> dt.datetime:
    """When a claimed or sending row's owner stops holding it (rows from before version 5: claimed_at + lease)."""
    return row.lease_until or row.claimed_at + lease


def takeable(row: DigestRow, now: dt.datetime, lease: dt.timedelta, closing: bool = False) -> bool:
    """Whether another process may take this digest over now (`closing`: to end it, its retry time aside)."""
    if row.status in (t.CLAIMED, t.SENDING):
        return lease_expiry(row, lease) <= now
    if row.status == t.UNKNOWN:
        return True
    if row.status == t.FAILED:
        return closing or row.retry_at is None or row.retry_at <= now
    return False


def needs_check(row: DigestRow) -> bool:
    """Whether some of this digest may be in Slack already, so Slack's history must be asked before a re-send."""
    return (
        row.status in (t.SENDING, t.UNKNOWN)
        or row.arrival == t.NOT_KNOWN
        or row.messages > 0
        or (row.error or "") in UNCERTAIN_ERRORS
    )
