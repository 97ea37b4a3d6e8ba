"""Slack's retries never produce a second answer, however many processes serve Slack.

Slack re-sends a request it thinks went unanswered (header `X-Slack-Retry-Num`, or `retry_attempt` in
Socket Mode, which bolt turns into the same header). Two filters, one cheap and one shared:

- `Deliveries` (in memory, on the acknowledgement's thread): every delivery is remembered by its trigger
  or event ID for an hour; a repeat reaching the same process is acknowledged and dropped.
- `AnswerClaims` (the shared database, on the answer's thread): before the slow part of a command runs,
  its delivery key is claimed in `microopt_answers` (see `bot.state.store.StateStore.claim_answer`). A
  retry that a load balancer sent to another process passes that process's memory, is acknowledged
  again (a second ephemeral "Reading the sheet…", harmless), loses the claim, and answers nothing.

No database is touched while acknowledging. If the database cannot be reached, the command is answered
anyway and a warning is logged: a duplicate answer beats silence.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltRequest, BoltResponse

from bot.errors import NoDatabase

if TYPE_CHECKING:
    from bot.state.store import StateStore

logger = logging.getLogger("microopt.slack")

# Slack retries within minutes; a day of claims is plenty, and older ones are pruned.
ANSWER_CLAIMS_KEPT = dt.timedelta(days=1)


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


class AnswerClaims:
    """Claims each request's answer in the shared state, so that one process in all answers it."""

    def __init__(
        self,
        state: Callable[[], StateStore],
        clock: Callable[[], dt.datetime],
        keep: dt.timedelta = ANSWER_CLAIMS_KEPT,
    ) -> None:
        self.state = state
        self.clock = clock
        self.keep = keep

    def first_answer(self, body: Mapping[str, Any]) -> bool:
        """True when this process should answer `body`: it won the claim, or there is nothing to claim with.

        Call it on the answer's thread, never the acknowledgement's: it waits for the database.
        """
        key = delivery_id(body)
        if key is None:
            return True
        try:
            return self.state().claim_answer(key, self.clock(), self.keep)
        except NoDatabase:
            return True  # nothing to claim with
        except Exception:  # whatever failed, an answer that may come twice beats none at all
            logger.warning(
                "could not claim %s in the shared state; answering anyway, so a retry served by another "
                "process may be answered twice",
                key,
                exc_info=True,
            )
            return True
