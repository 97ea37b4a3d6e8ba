"""Which slots a run posts: due and not yet claimed, or taken back up (failed, unknown, left by a stopped
run); which unfinished ones end because their window closed; which wait for their retry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.digests.recovery import window_open
from bot.schedules.by_channel import ChannelSchedule, effective_schedules
from bot.schedules.slots import due_slot
from bot.state.digest_rows import DigestRow, takeable
from bot.state.store import StateStore
from bot.state.tables import CLAIMED, SCHEDULED


@dataclass(frozen=True)
class Job:
    """A slot to post now: a fresh one (`row` None) or one taken back up (failed, unknown, left by a stopped run)."""

    found: ChannelSchedule
    slot: dt.datetime
    row: DigestRow | None = None


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    closing: list[DigestRow] = field(default_factory=list)  # window closed: end them (posted if they arrived)
    waiting: list[DigestRow] = field(default_factory=list)


def plan_run(store: StateStore, now: dt.datetime, grace: dt.timedelta, lease: dt.timedelta) -> Plan:
    """Which slots to post now, which unfinished ones to end, which wait for a retry."""
    schedules = effective_schedules(store.schedules())
    by_channel = {s.channel: s for s in schedules}
    since = now - grace - dt.timedelta(days=1)
    plan = Plan()
    taken_up: set[tuple[str, dt.datetime]] = set()
    for row in store.open_digests(since):
        found = by_channel.get(row.channel)
        if row.status in (CLAIMED, "sending") and not takeable(row, now, lease):
            taken_up.add((row.channel, row.slot_at))  # its owner is alive and working on it
        elif not window_open(row, found, now, grace):
            plan.closing.append(row)
        elif found is not None and row.kind == SCHEDULED and takeable(row, now, lease):
            plan.jobs.append(Job(found, row.slot_at, row))
            taken_up.add((row.channel, row.slot_at))
        else:
            plan.waiting.append(row)
            taken_up.add((row.channel, row.slot_at))
    candidates = []
    for found in schedules:
        if found.schedule is None:
            continue
        slot = due_slot(found.schedule, now, grace)
        if slot is not None and (found.channel, slot) not in taken_up:
            candidates.append((found, slot))
    if candidates:
        states = store.slot_states([c.channel for c, _ in candidates], since)
        plan.jobs.extend(Job(found, slot) for found, slot in candidates if (found.channel, slot) not in states)
    return plan
