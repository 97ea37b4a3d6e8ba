"""Google's read quota, kept by waiting: at most `per_minute` read requests in any 60 seconds, per process.

Google allows 60 read requests a minute per service account (and per project). A sheet read is two requests
(`bot.sources.google`), so a digest run over 200 linked sheets sends 400: sent as fast as they come they
would be refused with 429 after the first 60, each refusal retried, and the run would end with sheets
unread. Waiting for the quota instead reads every sheet once, at the pace Google takes. The window slides
(the oldest of the last `per_minute` requests decides when the next may go), so a burst of up to
`per_minute` requests goes at once and nothing waits that need not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

logger = logging.getLogger("microopt.sheets")

WINDOW_SECONDS = 60.0


class ReadQuota:
    """Blocks `take()` until one more request fits in the last minute. Thread-safe: waiters go one at a time."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self.waited = 0.0  # seconds spent waiting for the quota, in all

    def take(self) -> None:
        with self._lock:
            while True:
                now = self._clock()
                while self._sent and now - self._sent[0] >= WINDOW_SECONDS:
                    self._sent.popleft()
                if len(self._sent) < self.per_minute:
                    self._sent.append(now)
                    return
                wait = WINDOW_SECONDS - (now - self._sent[0])
                if not self.waited:
                    logger.info("waiting %.1f s for Google's read quota (%d a minute)", wait, self.per_minute)
                self.waited += wait
                self._sleep(wait)
