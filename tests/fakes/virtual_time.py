"""A clock that moves only when someone sleeps on it, for pacing tested without waiting (Google's read quota)."""

from __future__ import annotations

import threading


class VirtualTime:
    """Seconds since the start, advanced by `sleep` (thread-safe); call it for the time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def most_in_a_minute(times: list[float]) -> int:
    """The most of `times` that fall in any 60 seconds."""
    times = sorted(times)
    return max((sum(1 for t in times[i:] if t < start + 60) for i, start in enumerate(times)), default=0)
