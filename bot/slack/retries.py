"""Slack's retries never produce a second answer, however many processes serve Slack.

Slack re-sends a request it thinks went unanswered (header `X-Slack-Retry-Num`, or `retry_attempt` in
Socket Mode, which bolt turns into the same header). Two filters, one cheap and one shared:

- `Deliveries` (in memory, on the acknowledgement's thread): every delivery is remembered by its trigger
  or event ID for an hour; a repeat reaching the same process is acknowledged and dropped.
- `AnswerClaims` (the shared database, on the answer's thread): before the slow part of a command runs,
  its delivery key is claimed in `microopt_answers` (see `bot.state.store.StateStore.claim_answer`). A
  retry that a load balancer sent to another process passes that process's memory, is acknowledged
  again (a second ephemeral "Reading the sheet…", harmless), loses the claim, and answers nothing.

A claim has a lease, renewed while its process lives (`bot.slack.answering.AnswerWatch`): the claim of a
process that stopped runs out, and the answer is taken over, by Slack's retry or by any web process that
looks for it (`AnswerClaims.expired`). No database is touched while acknowledging. If the database cannot
be reached, the command is answered anyway and a warning is logged: a duplicate answer beats silence.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltRequest, BoltResponse

from bot.errors import NoDatabase
from bot.state.answers import AnswerClaim, stored_answer_key

if TYPE_CHECKING:
    from bot.state.store import StateStore

logger = logging.getLogger("microopt.slack")

# Slack retries within minutes; a day of claims is plenty, and older ones are pruned.
ANSWER_CLAIMS_KEPT = dt.timedelta(days=1)
# How long an answer stays its process's without a heartbeat (MICROOPT_ANSWER_LEASE_SECONDS).
ANSWER_LEASE = dt.timedelta(seconds=30)
REQUEST_FIELDS = ("command", "text", "channel_id", "channel_name", "user_id", "team_id", "response_url", "trigger_id")
MAX_KEPT_TEXT = 1_100  # SlashCommand reads no more than this of the text


class Deliveries:
    """The IDs of requests already received, forgotten after `ttl_seconds` or past `max_ids`."""

    def __init__(
        self,
        ttl_seconds: float = 3600,
        max_ids: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_ids = max_ids
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, delivery_id: str) -> bool:
        """True the first time `delivery_id` is seen (and remembers it); False for every repeat."""
        now = self.clock()
        with self._lock:
            while self._seen and (
                len(self._seen) >= self.max_ids or next(iter(self._seen.values())) < now - self.ttl_seconds
            ):
                self._seen.popitem(last=False)
            if delivery_id in self._seen:
                return False
            self._seen[delivery_id] = now
            return True


def delivery_id(body: Mapping[str, Any]) -> str | None:
    """What stays the same across Slack's retries of one request: a trigger ID or an event ID."""
    for key in ("trigger_id", "event_id"):
        if value := body.get(key):
            return f"{key}:{value}"
    return None


def drop_repeats(deliveries: Deliveries) -> Callable[..., BoltResponse | None]:
    """Bolt middleware: acknowledge a repeated delivery with an empty 200 and run no listener."""

    def middleware(request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        key = delivery_id(request.body)
        if key is not None and not deliveries.first_time(key):
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def request_of(body: Mapping[str, Any]) -> dict[str, str]:
    """What another process needs to answer a slash command in this one's place (its response_url included:
    kept in the database only until the command is answered)."""
    kept = {key: str(body[key]) for key in REQUEST_FIELDS if body.get(key) is not None}
    if "text" in kept:
        kept["text"] = kept["text"][:MAX_KEPT_TEXT]
    return kept


class AnswerClaims:
    """Claims each request's answer in the shared state with a lease, so that one live process answers it.

    Every method is safe to call without a database, or with one that fails: an answer that may come twice
    (a retry served elsewhere) or not be taken over (a crash) beats none at all.
    """

    def __init__(
        self,
        state: Callable[[], StateStore],
        clock: Callable[[], dt.datetime],
        lease: dt.timedelta = ANSWER_LEASE,
        keep: dt.timedelta = ANSWER_CLAIMS_KEPT,
    ) -> None:
        self.state = state
        self.clock = clock
        self.lease = lease
        self.keep = keep

    def claim(self, body: Mapping[str, Any]) -> AnswerClaim | None:
        """This process's claim on answering `body`; None when another live process answers it.

        Call it on the answer's thread, never the acknowledgement's: it waits for the database.
        """
        now = self.clock()
        key = delivery_id(body)
        if key is None:
            return AnswerClaim("", now)  # nothing to claim with
        try:
            return self.state().claim_answer(key, now, self.keep, self.lease, json.dumps(request_of(body)))
        except NoDatabase:
            return AnswerClaim(stored_answer_key(key), now)
        except Exception:
            logger.warning(
                "could not claim %s in the shared state; answering anyway, so a retry served by another "
                "process may be answered twice",
                key,
                exc_info=True,
            )
            return AnswerClaim(stored_answer_key(key), now)

    def expired(self) -> list[AnswerClaim]:
        """The answers of stopped processes, taken over by this one (nothing without a database)."""
        try:
            store = self.state()
            now = self.clock()
            taken = [store.take_answer(key, now, self.lease) for key in store.expired_answers(now)]
        except NoDatabase:
            return []
        except Exception:
            logger.warning("could not look for answers left by stopped processes", exc_info=True)
            return []
        return [claim for claim in taken if claim is not None]

    def renew(self) -> None:
        """The heartbeat: every answer this process is giving stays its own for another lease."""
        self._quietly(
            "renew this process's answer claims", lambda store: store.renew_answers(self.clock() + self.lease)
        )

    def sending(self, claim: AnswerClaim) -> None:
        if claim.key:
            self._quietly("mark an answer as sending", lambda store: store.answer_sending(claim))

    def finish(self, claim: AnswerClaim, status: str) -> None:
        if claim.key:
            self._quietly("record an answer as given", lambda store: store.finish_answer(claim, status))

    def _quietly(self, what: str, action: Callable[[StateStore], object]) -> None:
        try:
            action(self.state())
        except NoDatabase:
            return
        except Exception:
            logger.warning("could not %s in the shared state", what, exc_info=True)
