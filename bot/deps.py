"""What the services need from the outside world, built once by the entry point and injected."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from analysis.models import Tab
from bot.settings import Settings
from bot.sources import read_tabs


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def never_read(spec: str) -> dt.datetime | None:
    return None


@dataclass
class Deps:
    settings: Settings
    read_tabs: Callable[[str], list[Tab]]
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    last_read: Callable[[str], dt.datetime | None] = field(default=never_read)


def create_deps(settings: Settings, clock: Callable[[], dt.datetime] = utc_now) -> Deps:
    return Deps(settings=settings, read_tabs=partial(read_tabs, settings=settings), clock=clock)
