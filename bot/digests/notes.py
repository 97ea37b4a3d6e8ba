"""The words for digests, written once: what `/microopt sheet` lists (`trouble_sentences` of the record that
`bot.digests.record` reads), what `microopt digest` prints, and why a run could not post.

Every digest slot ends posted, skipped or missed; until then one may be waiting for a retry (`failed`) or
not known to have arrived (`unknown`). Each of those is one sentence: where, which slot, why, and what is
known about it in Slack ("it arrived", "it did not arrive", "not known yet").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from bot.digests.record import DigestTrouble, label
from bot.routing import names_unavailable
from bot.schedules.by_channel import ChannelSchedule
from bot.schedules.slots import EXAMPLES
from bot.sentences import schedule_origin
from bot.state.digest_rows import DigestRow
from bot.state.tables import ARRIVED, FAILED, MISSED, NOT_ARRIVED, NOT_KNOWN, POSTED, SCHEDULED, SKIPPED, UNKNOWN

UNCHECKED = "Digest delivery could not be checked: the database did not answer."
ADVICE = {
    "not_in_channel": "the bot is not in the channel: invite it with `/invite @microopt`",
    "channel_not_found": "Slack does not know the channel (renamed, deleted or private): fix the Channels tab "
    "or invite the bot",
    "is_archived": "the channel is archived: unarchive it or remove it from the Channels tab",
    "restricted_action": "the workspace does not let the bot post there",
    "ratelimited": "Slack kept rate-limiting the bot",
    "stopped_while_sending": "microopt stopped while posting it",
    "stopped_before_sending": "microopt stopped before posting it",
    "invalid_auth": "the bot token was refused: check SLACK_BOT_TOKEN",
    "not_authed": "no bot token was sent: set SLACK_BOT_TOKEN",
    "slack_5xx": "Slack answered with server errors",
    "timeout": "Slack did not answer in time",
    "connection_error": "Slack could not be reached",
    "missing_scope": "the bot may not read the channel's history to check: add the channels:history, "
    "groups:history, channels:read and groups:read scopes (manifest.yml) and reinstall the app",
    "not_checked": "Slack's history could not be read to check",
    "superseded": "a later digest of the channel was due, and it says everything this one would have",
}
KNOWN = {
    ARRIVED: "it arrived",
    NOT_ARRIVED: "it did not arrive",
    NOT_KNOWN: "whether it arrived is not known yet",
}


def advice(code: str | None) -> str:
    if code is None:
        return "it failed"
    return ADVICE.get(code, f"Slack answered `{code}`")


def when(moment: dt.datetime) -> str:
    return f"{moment:%a %-d %b %H:%M} UTC"


def known(row: DigestRow) -> str:
    """What is known about the digest in Slack."""
    if row.arrival == NOT_ARRIVED and row.messages:
        return f"{row.messages} of its messages arrived, the rest did not"
    return KNOWN.get(row.arrival or (NOT_KNOWN if row.status == UNKNOWN else NOT_ARRIVED), KNOWN[NOT_KNOWN])


def row_sentence(row: DigestRow, where: str) -> str:
    """One digest that is not (yet) in its channel, as a sentence."""
    what = "digest" if row.kind == SCHEDULED else "requested digest"
    slot = when(row.slot_at)
    if row.status == MISSED:
        return f"{where} missed its {what} of {slot}: {advice(row.error)}; {known(row)}."
    if row.status == UNKNOWN:
        return (
            f"{where} may not have got its {what} of {slot} ({advice(row.error)}): {known(row)}; "
            "microopt asks Slack again on its next run."
        )
    retry = (
        f" microopt tries again from {row.retry_at:%H:%M} UTC until the digest's window closes." if row.retry_at else ""
    )
    return f"{where} did not get its {what} of {slot} yet: {advice(row.error)}.{retry}"


class Told(Protocol):
    """What `microopt digest` prints of one outcome: bot.digests.outcomes.Outcome, which imports this module."""

    @property
    def label(self) -> str: ...
    @property
    def slot_at(self) -> dt.datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def messages(self) -> int: ...
    @property
    def error(self) -> str | None: ...
    @property
    def arrival(self) -> str | None: ...
    @property
    def retry_at(self) -> dt.datetime | None: ...
    @property
    def found(self) -> int: ...
    @property
    def kind(self) -> str: ...


def outcome_line(outcome: Told) -> str:
    """One line per channel for `microopt digest`."""
    where, slot = outcome.label, when(outcome.slot_at)
    what = "digest" if outcome.kind == SCHEDULED else "requested digest"
    if outcome.status == "posted" and outcome.found:
        return f"{where}: posted ({outcome.found} of its {outcome.messages} messages were already in Slack)"
    if outcome.status == FAILED:
        retry = f"; tries again from {outcome.retry_at:%H:%M:%S} UTC" if outcome.retry_at else ""
        return f"{where}: failed ({advice(outcome.error)}){retry}"
    if outcome.status == UNKNOWN:
        return (
            f"{where}: not known yet whether its {what} of {slot} arrived ({advice(outcome.error)}); "
            "the next run asks Slack"
        )
    if outcome.status == MISSED:
        said = KNOWN.get(outcome.arrival or "", KNOWN[NOT_KNOWN])
        return f"{where}: missed its {what} of {slot}: {advice(outcome.error)}; {said}"
    error = f" ({outcome.error})" if outcome.error else ""
    return f"{where}: {outcome.status}{error}"


def waiting_line(row: DigestRow) -> str:
    retry = f"{row.retry_at:%H:%M:%S} UTC" if row.retry_at else "the next run"
    return f"{row.target}: failed ({advice(row.error)}); tries again from {retry}"


def sheet_unread(now: dt.datetime, error: str | None) -> str:
    """Why a run posted nothing: the sheet did not read (`error` its sentence; None: a bug, logged)."""
    if error is None:
        return f"Digests could not read the sheet ({when(now)}) because of an unexpected error."
    return f"Digests could not read the sheet ({when(now)}): {error}"


def names_wait(error: str) -> str:
    return f"Digests wait: {names_unavailable(error)}."


def no_such_channel(channel: str, error: str | None) -> str:
    """Why a channel asked for by name got no digest: Slack's list of channels lacks it, or (`error`) the
    list could not be had at all, which says nothing about the channel."""
    if error is not None:
        return (
            f"microopt could not look up “{channel}” in Slack ({advice(error)}): nothing was posted; "
            "run again when Slack answers, or give the channel's ID (C0123ABCD)."
        )
    return (
        f"Slack has no channel “{channel}” that microopt can see: give its ID (C0123ABCD), or invite microopt "
        "if it is private."
    )


def already_posting(where: str) -> str:
    return f"A digest for {where} is already being posted."


def run_summary(problem: str | None, statuses: Sequence[str], waiting: int) -> str:
    """The last line of `microopt digest` and of the scheduler's log."""
    if problem:
        return problem
    if not statuses:
        return "No digests are due." + (f" {waiting} wait to be tried again." if waiting else "")
    order = (POSTED, SKIPPED, FAILED, UNKNOWN, MISSED, "taken", "preview")
    parts = [f"{statuses.count(s)} {s}" for s in order if s in statuses]
    return f"Digests for {len(statuses)} channel{'s' if len(statuses) != 1 else ''}: " + ", ".join(parts)


def broken_schedule(found: ChannelSchedule) -> str:
    where = label(found.target, found.channel_name)
    origin = schedule_origin(found.source)
    return (
        f"The digest schedule for {where} {origin} (“{found.spec}”, {found.timezone}) does not work, "
        f"so no digests go there: use e.g. {EXAMPLES}."
    )


def trouble_sentences(trouble: DigestTrouble) -> list[str]:
    """Recent digest trouble, one sentence each: a sheet that could not be read, channels whose digest failed,
    was missed or may not have arrived, schedules that do not parse."""
    if trouble.unchecked:
        return [UNCHECKED]
    return [
        *([trouble.sheet_error] if trouble.sheet_error else []),
        *(row_sentence(u.row, u.where) for u in trouble.undelivered),
        *(broken_schedule(found) for found in trouble.broken_schedules),
    ]
