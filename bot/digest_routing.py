"""Which running tests go to which channel for one run, and the digest of one channel."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from analysis.models import Report, SheetData, TestResult
from bot.digest_record import label
from bot.render.digest import Digest, render_digest
from bot.routing import Where, access_for
from bot.slack_api.directory import ChannelNames
from bot.state.store import StateStore


class Routing:
    """Which running tests go to which channel, for one run: `bot.routing.access_for` with digests' policy.

    A digest goes only where the Channels tab sends it: a channel with no row gets no tests (status may
    fall back to every campaign; a digest never does).
    """

    def __init__(self, report: Report, data: SheetData, names: ChannelNames) -> None:
        # Paused and done tests leave digests; they stay in status, backtest and the track record.
        self.tests = [t for t in report.tests if t.status == "running"]
        self.routes = data.channels
        self.names = names.ids

    def tests_for(self, channel_id: str | None, name: str | None) -> list[TestResult]:
        where = Where(channel_id, name)
        access = access_for(self.routes, where, names=self.names, home_team=None, fallback_to_all=False)
        return list(access.tests(self.tests))


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
    )
