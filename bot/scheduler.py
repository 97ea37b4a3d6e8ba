"""The scheduler: one APScheduler job that calls `post_digests(deps, now)` every minute, and one that writes what
the sheet is owed for decisions taken from Slack (`bot.slack.decisions.sheet_rows`; nothing when nothing is owed).

Why one minute tick instead of one APScheduler job per channel: the schedules live in the database
(the Channels tab and `/microopt schedule` change them from other processes), each slot is claimed in the
database before it is posted, and a slot missed while no scheduler ran is caught up on the next tick.
So any number of scheduler processes may run, a restart loses nothing, and APScheduler keeps no state of
its own (its in-memory job store is all it needs). The channels' own triggers (`CronTrigger` in each
channel's timezone) decide which slots are due; see `bot.schedules.slots`.

Only `microopt scheduler` and `microopt run` start a scheduler; web processes never do.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.deps import Deps
from bot.digests.run import post_digests
from bot.errors import SlackTokenRefused, UserFacingError
from bot.slack.decisions.sheet_rows import add_decisions_job

logger = logging.getLogger("microopt.scheduler")
JOB_ID = "digests"
TICK_SECOND = 5  # a few seconds past each minute, so a 09:00 slot is seen at 09:00:05


def tick_trigger() -> CronTrigger:
    return CronTrigger(second=TICK_SECOND, timezone=dt.UTC)


# What the entry point does when Slack refuses the token: stop the scheduler and say why (`bot.cli.digest.Stop`).
OnRefused = Callable[[UserFacingError], None]


def run_due_digests(deps: Deps, on_refused: OnRefused | None = None) -> None:
    """The job: never raises, so one bad minute does not stop the next; but a token Slack refuses is not a bad
    minute, and goes to `on_refused` (without one, it is logged as an error)."""
    try:
        run = post_digests(deps, deps.clock())
    except SlackTokenRefused as error:
        if on_refused is None:
            logger.error("%s", error)
        else:
            on_refused(error)
        return
    except UserFacingError as error:  # the database stopped answering: one sentence, and the next minute tries
        logger.warning("%s", error)
        return
    except Exception:
        logger.exception("the digest run failed; the next minute tries again")
        return
    if run.outcomes or run.problem:
        logger.info("%s", run.summary())


def add_digest_job(
    scheduler: BaseScheduler, deps: Deps, start_now: bool = True, on_refused: OnRefused | None = None
) -> None:
    scheduler.add_job(
        run_due_digests,
        trigger=tick_trigger(),
        args=[deps],
        kwargs={"on_refused": on_refused} if on_refused else {},
        id=JOB_ID,
        name="post due digests",
        max_instances=1,  # a slow run (rate limits) is never overlapped by the next minute's
        coalesce=True,
        misfire_grace_time=50,
        replace_existing=True,
        # A first run at start catches up the slots missed while no scheduler was running.
        **({"next_run_time": dt.datetime.now(dt.UTC)} if start_now else {}),
    )


def create_scheduler(
    deps: Deps, *, background: bool = False, start_now: bool = True, on_refused: OnRefused | None = None
) -> BaseScheduler:
    """A scheduler with the digest job added, not started: the entry point starts it."""
    scheduler: BaseScheduler = (
        BackgroundScheduler(timezone=dt.UTC) if background else BlockingScheduler(timezone=dt.UTC)
    )
    add_digest_job(scheduler, deps, start_now=start_now, on_refused=on_refused)
    add_decisions_job(scheduler, deps)
    return scheduler
