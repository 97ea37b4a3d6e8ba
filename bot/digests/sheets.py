"""The sheets of one digest run: MICROOPT_SHEET and every sheet linked to a channel (`bot.channel_sheets`).

Each sheet is read at most once per run and analysed once, whichever channels and threads ask for it; its
reads wait for Google's per-minute quota in the process's shared client (`bot.sources.quota`), so a run over
hundreds of linked sheets reads each once, at the pace Google takes. A sheet's Channels tab routes only to
the channels that read it. Channel names are asked of Slack once per run, and only when a sheet names a
channel. A sheet that cannot be read costs its own channels' digests (their slots stay unclaimed and the next
run tries again), never another sheet's; why is kept for `/microopt sheet` under that sheet's own key.

The Channels tabs' schedules are mirrored into the database from the sheets whose sync is due: the oldest
first, at most `sync_budget` sheets a run (a quarter of a minute's read quota), so hundreds of sheets are
synced over a few runs instead of one long one; the rows of sheets not synced this run are kept as they are.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Generic, TypeVar

from analysis.models import SheetData
from bot.channel_sheets import SheetGroup, group_of, routes_of, sheet_groups, synced_key
from bot.deps import Deps
from bot.digests.notes import names_wait, sheet_unread
from bot.digests.record import sheet_error_key
from bot.digests.routing import Routing, decisions_standing
from bot.errors import UserFacingError
from bot.routing import needs_names
from bot.schedules.by_channel import SheetSchedule, renamed_keys, sheet_schedules
from bot.sentences import counted
from bot.service import full_report, load_sheet
from bot.slack_api.directory import ChannelNames, list_channel_names
from bot.sources.cache import source_key
from bot.state.channels import rekey_channels
from bot.state.store import StateStore
from bot.state.tables import SHEET

logger = logging.getLogger("microopt.digests")
T = TypeVar("T")


class Once(Generic[T]):
    """Each key's value made once, by the first thread to ask; the others wait for it (an error is shared too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[Hashable, Future[T]] = {}

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            future = self._made.get(key)
            mine = future is None
            if future is None:
                future = self._made[key] = Future()
        if mine:
            try:
                future.set_result(make())
            except BaseException as error:
                future.set_exception(error)
        return future.result()


class RunSheets:
    """What one run knows of its sheets: each read, analysed and routed once, shared by the run's threads."""

    def __init__(self, deps: Deps, store: StateStore, now: dt.datetime) -> None:
        self.deps = deps
        self.store = store
        self.now = now
        self.groups = sheet_groups(deps)
        self.read_any = False
        self._reads: Once[SheetData | None] = Once()
        self._routings: Once[Routing | None] = Once()
        self._names: Once[ChannelNames] = Once()
        self._problems: dict[str, str] = {}

    # -- which sheet -------------------------------------------------------------------------------
    def group_of(self, channel_id: str) -> SheetGroup:
        return group_of(self.groups, channel_id)

    @property
    def problem(self) -> str | None:
        """Why some channels got no digest from this run: the first sheet's sentence, and how many others."""
        problems = list(dict.fromkeys(self._problems.values()))
        if not problems:
            return None
        more = len(problems) - 1
        return problems[0] + (f" ({counted(more, 'more sheet')} could not be used either.)" if more else "")

    # -- reading -----------------------------------------------------------------------------------
    def data(self, group: SheetGroup) -> SheetData | None:
        """The group's sheet, read once per run; None when it could not be read (saying why, for its channels)."""
        return self._reads.get(source_key(group.spec), lambda: self._read(group))

    def _read(self, group: SheetGroup) -> SheetData | None:
        self.read_any = True
        key = sheet_error_key(group)
        try:
            data = load_sheet(self.deps, group.spec)
        except UserFacingError as error:
            logger.warning("digests could not read a sheet: %s", error)
            self._fail(group, sheet_unread(self.now, str(error)))
            return None
        except Exception:
            logger.exception("digests could not read a sheet")
            self._fail(group, sheet_unread(self.now, None))
            return None
        if self.store.get_meta(key):
            self.store.set_meta(key, "")
        return data

    def note(self, sentence: str) -> None:
        """Something else that cost channels their digest this run (a workspace microopt left)."""
        self._problems[sentence] = sentence

    def _fail(self, group: SheetGroup, sentence: str) -> None:
        self._problems[group.spec] = sentence
        self.store.set_meta(sheet_error_key(group), sentence)

    def names(self, data: SheetData, team: str | None = None) -> ChannelNames:
        """The Channels tab's names resolved to IDs in `team`'s workspace: asked of Slack once per run and workspace,
        only when a sheet names a channel."""
        if not needs_names(data.channels):
            return ChannelNames()
        return self._names.get(team, lambda: list_channel_names(self.deps.slack_client_for(team)))

    def routing(self, group: SheetGroup) -> Routing | None:
        """Which running tests of the group's sheet go to which of its channels; None when its channels get no
        digest this run (the sheet was not read, or the channel names it gives could not be looked up)."""
        return self._routings.get(group.spec, lambda: self._routing(group))

    def served(self, group: SheetGroup) -> bool:
        """With installs in many workspaces and no SLACK_BOT_TOKEN, MICROOPT_SHEET belongs to no workspace: its
        channels get no digest (each workspace reads only the sheets linked in its own channels)."""
        settings = self.deps.settings
        return group.linked or not settings.oauth or bool(settings.slack_bot_token)

    def _routing(self, group: SheetGroup) -> Routing | None:
        if not self.served(group):
            return None
        data = self.data(group)
        if data is None:
            return None
        names = self.names(data, group.team_id)
        if names.error is not None:
            # Not claimed: a digest now would miss the campaigns of every row named by name.
            self._fail(group, names_wait(names.error))
            return None
        report = full_report(self.deps, data, group.spec)  # the same as status: it also refreshes the Verdicts tab
        routed = replace(data, channels=routes_of(group, data.channels, names.ids))
        return Routing(report, routed, names, decisions_standing(self.deps, self.store, self.now, group.spec))

    # -- schedules from the Channels tabs ------------------------------------------------------------
    def due(self) -> list[SheetGroup]:
        """The sheets to sync this run: the oldest `sync_budget` of those due."""
        return self.stale()[: self.sync_budget]

    def stale(self) -> list[SheetGroup]:
        """The groups whose Channels tab was not mirrored within MICROOPT_SCHEDULE_SYNC_MINUTES, oldest first."""
        interval = dt.timedelta(minutes=self.deps.settings.schedule_sync_minutes)
        stale: list[tuple[dt.datetime, int, SheetGroup]] = []
        for index, group in enumerate(self.groups):
            value = self.store.get_meta(synced_key(group.spec))
            synced = dt.datetime.fromisoformat(value) if value else None
            if synced is None or self.now - synced >= interval:
                stale.append((synced or dt.datetime.min.replace(tzinfo=dt.UTC), index, group))
        return [group for _, _, group in sorted(stale, key=lambda found: (found[0], found[1]))]

    @property
    def sync_budget(self) -> int:
        """Sheets synced per run: a quarter of a minute's read quota (two requests a sheet)."""
        return max(1, self.deps.settings.sheets_reads_per_minute // 8)

    def sync(self, groups: Sequence[SheetGroup]) -> None:
        """Mirror the Channels tabs of `groups`' sheets into the database, keyed by channel ID. Not for a sheet
        whose names cannot be looked up: its rows named by name would look removed, and come back later with
        their schedule restarted."""
        wanted: list[SheetSchedule] = []
        synced: list[SheetGroup] = []
        for group in groups:
            if not self.served(group):
                continue
            data = self.data(group)
            if data is None:
                continue
            names = self.names(data, group.team_id)
            if names.error is not None:
                continue
            routes = routes_of(group, data.channels, names.ids)
            wanted.extend(sheet_schedules(routes, self.deps.settings.timezone, names.ids))
            synced.append(group)
        if not synced:
            return
        keep = [
            SheetSchedule(row.channel, row.target, row.spec, row.timezone, row.channel_name)
            for row in self.store.schedules()
            if row.source == SHEET and row.spec is not None and self.group_of(row.channel) not in synced
        ]
        keyed_by_name = {row.channel for row in self.store.schedules() if row.source == SHEET}
        rekey_channels(self.store, {old: new for old, new in renamed_keys(wanted).items() if old in keyed_by_name})
        self.store.sync_sheet_schedules([*wanted, *keep], self.now)
        for group in synced:
            self.store.set_meta(synced_key(group.spec), self.now.isoformat())
