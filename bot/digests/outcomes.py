"""What a digest run did, as data: one `Outcome` per channel (a status code, why, what arrived) and the
`DigestRun` around them; `bot.digests.notes` words them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.digests.notes import run_summary
from bot.render.digest import Digest
from bot.state.digest_rows import DigestRow
from bot.state.tables import FAILED, MISSED, SCHEDULED, UNKNOWN

TROUBLE = (FAILED, UNKNOWN, MISSED)  # a run with one of these exits non-zero (`microopt digest`)


@dataclass(frozen=True)
class Outcome:
    channel: str
    target: str
    slot_at: dt.datetime
    # posted | failed (tried again later) | unknown (not known yet whether it arrived) | missed (its window
    # closed) | skipped | taken (another process had it) | preview (dry run)
    status: str
    messages: int = 0
    new: int = 0
    error: str | None = None
    digest: Digest | None = None
    arrival: str | None = None
    retry_at: dt.datetime | None = None
    found: int = 0  # messages found in Slack's history rather than sent
    kind: str = SCHEDULED

    @property
    def label(self) -> str:
        """How people know the channel (`#spring-sale`); its ID when the digest does not say."""
        return self.digest.channel if self.digest is not None else self.target


@dataclass
class DigestRun:
    now: dt.datetime
    due: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    sheet_read: bool = False
    problem: str | None = None
    waiting: list[DigestRow] = field(default_factory=list)  # failed digests waiting for their next try

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def trouble(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in TROUBLE]

    @property
    def ok(self) -> bool:
        """Nothing failed, was missed or is not known to have arrived (and the sheet was read)."""
        return self.problem is None and not self.trouble and not self.waiting

    def summary(self) -> str:
        return run_summary(self.problem, [o.status for o in self.outcomes], len(self.waiting))
