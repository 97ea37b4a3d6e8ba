"""What a digest said about a test: the values digests render (`bot.render.digest`) and the state keeps
(`bot.state.store`), so that neither has to import the other."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class VerdictRecord:
    campaign: str
    test: str
    verdict: str
    best_variant: str | None
    signature: str
    headline: str
    changed: bool = False


@dataclass(frozen=True)
class SaidVerdict(VerdictRecord):
    channel: str = ""
    said_at: dt.datetime | None = None
