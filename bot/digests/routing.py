"""Which running tests go to which channel for one run, and the digest of one channel."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from analysis.models import Report, SheetData, TestResult
from bot.decided import Standing
from bot.deps import Deps
from bot.digests.record import label
from bot.render.actions import signature
from bot.render.digest import Digest, render_digest
from bot.routing import Access, Where, access_for
from bot.slack_api.directory import ChannelNames
from bot.state.decisions import standing_decisions
from bot.state.history import source_id
from bot.state.store import StateStore


class Routing:
    """Which running tests go to which channel, for one run: `bot.routing.access_for` with digests' policy.

    A digest goes only where the Channels tab sends it: a channel with no row gets no tests (status may
    fall back to every campaign; a digest never does).
    """

    def __init__(self, report: Report, data: SheetData, names: ChannelNames, standing: Standing | None = None) -> None:
        # Paused and done tests leave digests; they stay in status, backtest and the track record. So do tests
        # marked done from Slack, and verdicts snoozed there until the snooze ends (`standing`).
        running = [t for t in report.tests if t.status == "running"]
        self.tests = [
            t for t in running if not (standing and standing.hides(t.campaign, t.test, signature(t), t.status))
        ]
        self.decided = len(running) - len(self.tests)
        self._running = running
        self.routes = data.channels
        self.names = names.ids

    def _access(self, channel_id: str | None, name: str | None) -> Access:
        where = Where(channel_id, name)
        return access_for(self.routes, where, names=self.names, home_team=None, fallback_to_all=False)

    def tests_for(self, channel_id: str | None, name: str | None) -> list[TestResult]:
        return list(self._access(channel_id, name).tests(self.tests))

    def decided_for(self, channel_id: str | None, name: str | None) -> int:
        """How many of the channel's running tests were left out: done or snoozed from Slack."""
        if not self.decided:
            return 0
        access = self._access(channel_id, name)
        return len(access.tests(self._running)) - len(access.tests(self.tests))


def decisions_standing(deps: Deps, store: StateStore, now: dt.datetime, spec: str) -> Standing:
    """The decisions taken from Slack about the sheet `spec`'s tests that keep them out of digests (done, or
    snoozed) at `now`."""
    return standing_decisions(store, source_id(spec), now, deps.last_read(spec))


def channel_digest(
    store: StateStore,
    routing: Routing,
    channel: str,
    target: str,
    channel_id: str | None,
    name: str | None,
    timezone: str,
) -> Digest:
    previous = store.last_said(channel)
    last = store.last_posted(channel)
    tests = routing.tests_for(channel_id, name)
    return render_digest(
        label(target, name),
        tests,
        previous,
        last.finished_at if last else None,
        ZoneInfo(timezone),
        decided=routing.decided_for(channel_id, name),
    )
