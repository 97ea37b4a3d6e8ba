"""What the team decided about a verdict, as values every layer may use: the verdict a button carried
(`VerdictShown`), a recorded decision (`Decision`), and the rules for when a decision still speaks for a
test (status answers show it instead of buttons; digests leave the test out).

Rendering makes these values, the state keeps them and the Slack surface acts on them, so that none of
them imports another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict, Field, ValidationError

# What a press asks for (a button's action), and what a recorded decision is (stable codes).
Choice = Literal["moved", "stopped", "snooze_day", "snooze_week", "kept"]
Action = Literal["moved", "stopped", "snoozed", "kept"]
CHOICES: tuple[Choice, ...] = ("moved", "stopped", "snooze_day", "snooze_week", "kept")
ACTION_OF: dict[Choice, Action] = {
    "moved": "moved",
    "stopped": "stopped",
    "snooze_day": "snoozed",
    "snooze_week": "snoozed",
    "kept": "kept",
}
SNOOZES: dict[Choice, dt.timedelta] = {"snooze_day": dt.timedelta(days=1), "snooze_week": dt.timedelta(weeks=1)}
# A decision may be undone for this long after it was made.
UNDO_WINDOW = dt.timedelta(minutes=5)
# A button's value may be at most 2,000 characters (Slack); campaign and test names as the state keeps them.
MAX_VALUE = 2000
MAX_NAME = 300


# The keys a button's value is written with (a verdict's numbers in a few hundred characters).
SHORT = {
    "campaign": "c",
    "test": "t",
    "verdict": "v",
    "signature": "s",
    "headline": "h",
    "control": "a",
    "variant": "b",
    "metric": "m",
    "kind": "k",
    "lift": "l",
    "low": "lo",
    "high": "hi",
    "variant_conversions": "bc",
    "variant_visitors": "bv",
    "control_conversions": "ac",
    "control_visitors": "av",
    "p_value": "p",
    "called_on": "d",
}


class VerdictShown(BaseModel):
    """The verdict a message showed, with the numbers it rested on: what a button carries, and what a decision
    records, so the record says what the team saw when it acted (the sheet may have moved on since).

    Written with short keys (`SHORT`): every button's value travels back in each press's copy of the message, so
    its size is paid on every acknowledgement."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        alias_generator=AliasGenerator(
            serialization_alias=lambda name: SHORT[name],
            validation_alias=lambda name: AliasChoices(SHORT[name], name),
        ),
    )

    campaign: str = Field(max_length=MAX_NAME)
    test: str = Field(max_length=MAX_NAME)
    verdict: str = Field(max_length=30)
    signature: str = Field(max_length=1000)
    headline: str = Field(default="", max_length=500)
    control: str = Field(default="", max_length=MAX_NAME)
    variant: str | None = Field(default=None, max_length=MAX_NAME)
    metric: str | None = Field(default=None, max_length=MAX_NAME)
    kind: str | None = Field(default=None, max_length=10)
    lift: float | None = None
    low: float | None = None
    high: float | None = None
    variant_conversions: float | None = None
    variant_visitors: int | None = None
    control_conversions: float | None = None
    control_visitors: int | None = None
    p_value: float | None = None
    called_on: str | None = Field(default=None, max_length=40)

    def to_value(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True, exclude_defaults=True)

    @classmethod
    def from_value(cls, value: str) -> VerdictShown | None:
        """The verdict a button carried; None when the value is not one (an old or foreign button)."""
        if not value or len(value) > MAX_VALUE:
            return None
        try:
            return cls.model_validate_json(value)
        except ValidationError:
            return None


@dataclass(frozen=True)
class Decision:
    """One press recorded: who did what about which verdict, when; whether it was undone; how far its row in
    the sheet's Decisions tab got (`sheet`: pending, writing, written, dropped or local)."""

    id: int
    action: Action
    shown: VerdictShown
    user_id: str
    user_name: str
    channel_id: str
    message_ts: str | None
    decided_at: dt.datetime
    until: dt.datetime | None = None
    undone_at: dt.datetime | None = None
    undone_by: str | None = None
    undone_by_name: str | None = None
    sheet: str = "local"
    sheet_error: str | None = None
    # When the test's Status cells were set to `done` in the sheet (None: not, or not yet).
    status_written_at: dt.datetime | None = None

    @property
    def campaign(self) -> str:
        return self.shown.campaign

    @property
    def test(self) -> str:
        return self.shown.test

    @property
    def done(self) -> bool:
        return self.action in ("moved", "stopped")

    def undoable(self, now: dt.datetime) -> bool:
        return self.undone_at is None and now - self.decided_at <= UNDO_WINDOW

    def still_done(self, status: str, read_at: dt.datetime | None) -> bool:
        """A done decision holds until its Status cells are in the sheet and the sheet was read since: from
        then on the sheet's Status says (set it back to `running` to reopen the test)."""
        if not self.done:
            return False
        if self.status_written_at is None or read_at is None or read_at < self.status_written_at:
            return True
        return status != "running"

    def speaks_for(self, signature: str, status: str, now: dt.datetime, read_at: dt.datetime | None) -> bool:
        """Whether this decision answers the verdict now shown (`signature`): a done test's always, a snooze's
        until it ends, a keep-running acknowledgement's while the verdict is the one acknowledged."""
        if self.done:
            return self.still_done(status, read_at)
        if self.shown.signature != signature:
            return False
        return self.action == "kept" or (self.until is not None and now < self.until)

    def hides_from_digests(self, signature: str, status: str, now: dt.datetime, read_at: dt.datetime | None) -> bool:
        """Done tests leave digests; a snoozed verdict is not repeated until the snooze ends (a new verdict is)."""
        if self.action == "kept":
            return False
        return self.speaks_for(signature, status, now, read_at)


TestKey = tuple[str, str]


@dataclass(frozen=True)
class Standing:
    """The decision standing for each test (campaign, test), as the state read them; empty when unknown."""

    decisions: dict[TestKey, Decision]
    now: dt.datetime
    read_at: dt.datetime | None = None

    def of(self, campaign: str, test: str) -> Decision | None:
        return self.decisions.get((campaign, test))

    def speaking(self, campaign: str, test: str, signature: str, status: str) -> Decision | None:
        decision = self.of(campaign, test)
        if decision is None or not decision.speaks_for(signature, status, self.now, self.read_at):
            return None
        return decision

    def hides(self, campaign: str, test: str, signature: str, status: str) -> bool:
        decision = self.of(campaign, test)
        return decision is not None and decision.hides_from_digests(signature, status, self.now, self.read_at)

    def snoozed(self) -> list[Decision]:
        """Snoozes still in force, soonest to end first."""
        live = [d for d in self.decisions.values() if d.action == "snoozed" and d.until and d.until > self.now]
        return sorted(live, key=lambda d: (d.until or self.now, d.id))


def no_standing(now: dt.datetime) -> Standing:
    return Standing({}, now)
