"""Sheet reads shared across commands: cached for a while, and one read in flight per sheet.

Google allows about 60 reads a minute per service account. A digest run and a burst of `/microopt status`
commands would each read the sheet; with this in front, reads of one sheet happen at most once per
`MICROOPT_SHEET_CACHE_SECONDS`, and commands arriving while a read is running wait for that read instead
of starting their own. A failed read is shared with whoever waited on it, then forgotten (not cached).
Applies to local files and Google Sheets alike; time comes from the injected clock.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from analysis.models import Tab
from bot.sources import google_key


def source_key(spec: str) -> str:
    """One cache entry per sheet, whether it is named by URL or by key."""
    return google_key(spec) or spec.strip()


@dataclass(frozen=True)
class _Entry:
    tabs: list[Tab]
    read_at: dt.datetime


class SheetCache:
    """Wraps a reader `spec -> tabs`. The returned tabs are shared between callers: treat them as read-only."""

    def __init__(
        self,
        read: Callable[[str], list[Tab]],
        ttl_seconds: float,
        clock: Callable[[], dt.datetime],
        key: Callable[[str], str] = source_key,
    ) -> None:
        self._read = read
        self._ttl = ttl_seconds
        self._clock = clock
        self._key = key
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._flights: dict[str, Future[list[Tab]]] = {}
        self.reads = 0  # how many times the underlying reader ran

    def _fresh(self, entry: _Entry | None) -> bool:
        if entry is None:
            return False
        age = (self._clock() - entry.read_at).total_seconds()
        return 0 <= age < self._ttl

    def read(self, spec: str) -> list[Tab]:
        key = self._key(spec)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._fresh(entry):
                return entry.tabs
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = Future()
                self.reads += 1
        if not leader:
            return flight.result()
        try:
            tabs = self._read(spec)
        except BaseException as error:
            with self._lock:
                del self._flights[key]
            flight.set_exception(error)
            raise
        with self._lock:
            self._entries[key] = _Entry(tabs, self._clock())
            del self._flights[key]
        flight.set_result(tabs)
        return tabs

    def last_read(self, spec: str) -> dt.datetime | None:
        """When the sheet was last read successfully (None if never, in this process)."""
        with self._lock:
            entry = self._entries.get(self._key(spec))
        return entry.read_at if entry else None
