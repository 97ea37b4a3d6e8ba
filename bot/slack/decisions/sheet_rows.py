"""What the sheet is owed for decisions, written from any process: after each press, and every minute from
the scheduler, until the sheet answers.

Each run claims the owed rows (`bot.state.decisions.claim_writes`, leased), writes them in one request
(`Deps.write_decisions`) and marks them written; when the sheet does not answer they go back with a later try
(1 minute, doubling to an hour) and the sheet's sentence, so nothing is lost. A message that said its decision
was not in the sheet yet is updated once it is.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.channel_sheets import sheet_groups
from bot.deps import Deps
from bot.errors import NoDatabase, NoSlackClient, UserFacingError
from bot.render.actions import block_id, decided_block, replace_block
from bot.sources import google_key
from bot.sources.decisions_tab import SheetEntry
from bot.state.decisions import (
    DECISION,
    UNDO,
    Owed,
    claim_writes,
    find_decision,
    remembered_message,
    write_failed,
    wrote,
)
from bot.state.history import source_id
from bot.state.store import StateStore

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

logger = logging.getLogger("microopt.decisions")

LEASE = dt.timedelta(minutes=2)
BATCH = 50  # rows a request: a burst of presses in a few requests, each well within a Sheets request's size
FIRST_RETRY = dt.timedelta(minutes=1)
LAST_RETRY = dt.timedelta(hours=1)
JOB_ID = "decisions"
JOB_SECOND = 35  # between the digest ticks (second 5), so the two jobs rarely read the sheet at once


@dataclass
class Flushed:
    written: list[Owed] = field(default_factory=list)
    failed: list[Owed] = field(default_factory=list)
    error: str | None = None


def writes_to_sheet(deps: Deps, spec: str) -> bool:
    """Whether decisions owe the sheet `spec` rows: a Google Sheet, and MICROOPT_WRITE_DECISIONS on."""
    return deps.settings.write_decisions and google_key(spec) is not None


def retry_delay(attempts: int) -> dt.timedelta:
    delay: dt.timedelta = FIRST_RETRY * (2 ** max(0, min(attempts, 12)))
    return min(delay, LAST_RETRY)


def write_owed(
    deps: Deps,
    now: dt.datetime | None = None,
    client: Callable[[], WebClient] | None = None,
    spec: str | None = None,
) -> Flushed:
    """Write every row the sheet `spec` (default MICROOPT_SHEET) is owed and due now, `BATCH` rows a request;
    never raises for the sheet (its sentence is kept with the rows, which wait for their next try)."""
    spec = spec or deps.settings.sheet
    if not writes_to_sheet(deps, spec):
        return Flushed()
    now = now or deps.clock()
    store = deps.state()
    done = Flushed()
    while owed := claim_writes(store, source_id(spec), now, LEASE, BATCH):
        entries = [SheetEntry(o.decision, undo=o.kind == UNDO, restore=o.status_cells) for o in owed]
        try:
            cells = deps.write_decisions(spec, entries)
        except UserFacingError as error:
            return _failed(store, done, owed, str(error), now)
        except Exception as error:  # whatever broke, the decisions stay owed and are tried again
            logger.exception("the Decisions tab was not written")
            sentence = f"microopt could not write the Decisions tab ({type(error).__name__})."
            return _failed(store, done, owed, sentence, now)
        for item, written in zip(owed, cells, strict=True):
            wrote(store, item, now, written)
        late = [o for o in owed if o.kind == DECISION and o.attempts > 0]
        if late and client is not None:
            for item in late:
                tidy_message(store, client, item.decision.id, now)
        logger.info("wrote %d row(s) to the Decisions tab", len(owed))
        done.written.extend(owed)
        if len(owed) < BATCH:
            break
    return done


def _failed(store: StateStore, done: Flushed, owed: list[Owed], sentence: str, now: dt.datetime) -> Flushed:
    for item in owed:
        write_failed(store, item, sentence, now + retry_delay(item.attempts))
    logger.warning("%d row(s) for the Decisions tab wait for the sheet: %s", len(owed), sentence)
    return Flushed(written=done.written, failed=owed, error=sentence)


def tidy_message(store: StateStore, client: Callable[[], WebClient], decision_id: int, now: dt.datetime) -> None:
    """The message of a decision written late no longer says it is waiting for the sheet."""
    decision = find_decision(store, decision_id)
    message = remembered_message(store, decision_id)
    if decision is None or decision.undone_at is not None or message is None or decision.message_ts is None:
        return
    written = decided_block(decision, now, sheet_pending=False)
    blocks = replace_block(message.get("blocks", []), block_id(decision.campaign, decision.test), written)
    if blocks is None:
        return
    try:
        client().chat_update(
            channel=decision.channel_id, ts=decision.message_ts, text=str(message.get("text", "")), blocks=blocks
        )
    except (SlackClientError, NoSlackClient) as error:
        logger.info("could not update the message of decision %s: %s", decision_id, error)


class SheetWrites:
    """What the sheet is owed, written by one thread at a time in this process, in one request per round; a
    press never waits for it. A press asks (`request`) and returns; if a round is running, it runs once more
    after, taking the rows owed since. When the sheet does not take a decision's row, whoever asked for that
    decision is told (`on_failure`, with the sheet's sentence), on the writing thread."""

    def __init__(self, deps: Deps, keep: int = 1000) -> None:
        self.deps = deps
        self._running = threading.Lock()
        self._state = threading.Lock()
        self._wanted: set[str] = set()  # the sheets owed a round
        self._keep = keep
        self._told: OrderedDict[int, Callable[[str], None]] = OrderedDict()

    def request(
        self,
        client: Callable[[], WebClient],
        spec: str,
        decision_id: int | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        with self._state:
            self._wanted.add(spec)
            if decision_id is not None and on_failure is not None:
                self._told[decision_id] = on_failure
                while len(self._told) > self._keep:
                    self._told.popitem(last=False)
        while self._running.acquire(blocking=False):
            try:
                while specs := self._take():
                    for wanted in specs:
                        self._round(client, wanted)
            finally:
                self._running.release()
            with self._state:
                if not self._wanted:
                    return

    def _take(self) -> set[str]:
        with self._state:
            wanted, self._wanted = self._wanted, set()
            return wanted

    def _round(self, client: Callable[[], WebClient], spec: str) -> None:
        try:
            flushed = write_owed(self.deps, self.deps.clock(), client=client, spec=spec)
        except Exception:
            logger.exception("writing decisions to the sheet failed; the next press or minute tries again")
            return
        for owed in flushed.written:
            with self._state:
                self._told.pop(owed.decision.id, None)
        for owed in flushed.failed:
            with self._state:
                tell = self._told.pop(owed.decision.id, None)
            if tell is not None and flushed.error is not None:
                try:
                    tell(flushed.error)
                except Exception:
                    logger.warning(
                        "could not say that decision %s waits for the sheet", owed.decision.id, exc_info=True
                    )


def run_owed_writes(deps: Deps) -> None:
    """The scheduler's job, for MICROOPT_SHEET and every linked sheet: never raises, so one bad minute (or sheet)
    does not stop the next."""
    try:
        specs = [group.spec for group in sheet_groups(deps)]
    except NoDatabase:
        return
    except Exception:
        logger.exception("could not read the sheet links; decisions are written to the sheets the next minute")
        return
    for spec in specs:
        try:
            write_owed(deps, deps.clock(), client=deps.slack_client, spec=spec)
        except NoDatabase:
            return
        except Exception:
            logger.exception("writing decisions to a sheet failed; the next minute tries again")


def add_decisions_job(scheduler: BaseScheduler, deps: Deps) -> None:
    """Every minute, what the sheet is owed for decisions (a no-op when nothing is)."""
    from apscheduler.triggers.cron import CronTrigger

    scheduler.add_job(
        run_owed_writes,
        trigger=CronTrigger(second=JOB_SECOND, timezone=dt.UTC),
        args=[deps],
        id=JOB_ID,
        name="write decisions to the sheet",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=50,
        replace_existing=True,
    )
