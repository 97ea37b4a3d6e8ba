"""Slack's retries never produce a second answer.

Slack re-sends a request it thinks went unanswered (header `X-Slack-Retry-Num`, or `retry_attempt` in
Socket Mode, which bolt turns into the same header). Every delivery is remembered by its trigger or
event ID for an hour; a repeat is acknowledged and dropped. A retry whose first delivery never reached
this process (say it was lost on the way) is still answered, once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

RETRY_HEADER = "x-slack-retry-num"


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
