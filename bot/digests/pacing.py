"""How fast digests post: at most one message per second per channel, for every thread of a process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


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
