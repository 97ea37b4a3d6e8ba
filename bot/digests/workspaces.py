"""One run's posting, per workspace: with installs in many workspaces each channel's digest goes out with its own
workspace's client (the one its sheet's link was made in; MICROOPT_SHEET's channels with SLACK_BOT_TOKEN's), so
a run holds one `Runner` per workspace, all stopping together. With one bot token there is one runner, as ever.
A workspace microopt is no longer installed in gets no digest (said once in the run's problem)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial

from bot.deps import Deps
from bot.digests.runner import Runner
from bot.digests.sheets import RunSheets
from bot.errors import UserFacingError

logger = logging.getLogger("microopt.digests")


class TeamRunners:
    def __init__(self, deps: Deps, sheets: RunSheets, make: Callable[[Deps], Runner]) -> None:
        self.deps = deps
        self.sheets = sheets
        self._make = make
        self._runners: dict[str | None, Runner | None] = {}
        self._stop = threading.Event()
        self.problems: list[str] = []

    @property
    def first(self) -> Runner | None:
        return next((runner for runner in self._runners.values() if runner is not None), None)

    def of(self, channel: str) -> Runner | None:
        """The runner that posts to `channel`; None when its workspace has no client (not installed any more)."""
        team = self.sheets.group_of(channel).team_of(channel) if self.deps.settings.oauth else None
        if team not in self._runners:
            self._runners[team] = self._runner(team)
        return self._runners[team]

    def _runner(self, team: str | None) -> Runner | None:
        deps = self.deps if team is None else replace(self.deps, slack_client=partial(self.deps.slack_client_for, team))
        try:
            runner = self._make(deps)
        except UserFacingError as error:
            logger.warning("no digest for workspace %s: %s", team, error)
            self.problems.append(str(error))
            return None
        runner.stop = self._stop  # a database failure in one workspace's channel stops them all
        return runner

    @contextlib.contextmanager
    def keeping(self) -> Iterator[None]:
        """Every runner's lease keeper renews its claims while the run posts."""
        with contextlib.ExitStack() as stack:
            for runner in self._runners.values():
                if runner is not None:
                    stack.enter_context(runner.poster.keeper)
            yield
