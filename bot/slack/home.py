"""The Home tab: what a member opening microopt's Home sees, published with `views.publish`.

A member sees the tests of the channels they are in (`bot.slack_api.members`: `users.conversations`, cached per
member), each channel in the sheet it reads (`bot.channel_sheets`: its own linked sheet, or MICROOPT_SHEET), by
the same access rule as `/microopt status` in that channel (`bot.routing.access_for`). Only the workspace's own:
a member of another workspace or organisation (a Slack Connect guest) sees one sentence and no test; a sheet
linked in another workspace, or MICROOPT_SHEET where it does not serve this workspace, is never read for it.

Each sheet is read once through the shared, cached read (`Deps.read_tabs`) and analysed once per read
(`SharedReports`, the same one status answers use), so an open costs at most one Slack call and no sheet read
when the sheets were read in the last minute. A sheet that cannot be read is one sentence; the rest still shows.
A view that says what the member's tab already shows (same content, and the same hash Slack gave it) is not
published again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from analysis.models import ChannelRoute, Report, SheetData
from bot.channel_sheets import SheetGroup, group_of, linked_routes, sheet_groups
from bot.deps import Deps
from bot.errors import NoDatabase, UserFacingError
from bot.render.blocks import escape
from bot.render.chart import path_words, resting_path
from bot.render.home import HomeTest, View, month_start, render_home, standing_decision, view_digest
from bot.render.home import group_of as home_group
from bot.routing import Where, access_for, needs_names
from bot.service import decision_paths
from bot.slack.decisions.notes import standing_for
from bot.slack_api.directory import ChannelNames
from bot.slack_api.members import Member, Members
from bot.state.engine import NOT_ANSWERING

logger = logging.getLogger("microopt.slack")

FOREIGN_HOME = (
    "microopt shows its tests here to members of the workspace it is installed in only: ask in a channel you share "
    "with that team, where its verdicts are posted."
)
HOME_UNKNOWN = (
    "microopt could not confirm which workspace it is installed in (Slack did not answer): open this tab again in "
    "a minute."
)
NO_LINKS = (
    "microopt could not check which sheet your channels read (its database did not answer): open this tab again "
    "in a minute."
)


def member_unknown(code: str) -> str:
    if code == "missing_scope":
        return (
            "microopt needs the users:read scope to show your tests here (it tells members of this workspace from "
            "guests of others): ask whoever runs microopt to reinstall the app from manifest.yml."
        )
    return f"microopt could not ask Slack which channels you are in ({escape(code)}): open this tab again in a minute."


def unreadable(error: object) -> str:
    return (
        ":warning: The tests of one of your channels' sheets are missing here, because it could not be read: "
        f"{escape(error)}"
    )


ReadSheet = Callable[[Deps, str], tuple[SheetData, Report]]
# The decision's range over time in words, for the tests of one sheet read: (campaign, test) → words.
PathWords = Callable[[str, SheetData, Report, Sequence[tuple[str, str]]], dict[tuple[str, str], str]]


@dataclass
class HomeContent:
    """What a member's Home tab shows: tests, sentences above them, the sentence when there are none."""

    tests: list[HomeTest] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    empty: str | None = None
    read_at: dt.datetime | None = None


class HomeTab:
    """The Home tab of one app: who is who (`Members`), the workspaces, the shared reports."""

    def __init__(
        self,
        deps: Deps,
        members: Members,
        read_sheet: ReadSheet,
        home_team: Callable[[str | None], str | None],
        channel_names: Callable[[str | None], ChannelNames],
        default_team: Callable[[], str | None],
        path_words: PathWords | None = None,
    ) -> None:
        self.deps = deps
        self.members = members
        self.read_sheet = read_sheet
        self.home_team = home_team
        self.channel_names = channel_names
        self.default_team = default_team
        self.path_words = path_words
        self._lock = threading.Lock()
        # (workspace, member) → (the digest of the view last published, the hash Slack gave it)
        self._published: dict[tuple[str | None, str], tuple[str, str]] = {}

    # -- who sees what --------------------------------------------------------------------------------
    def member_of(self, team_id: str | None, user_id: str, channel_id: str) -> bool:
        """Whether the member is in `channel_id` now (as Slack said within the cache's two minutes)."""
        member = self.members.member(team_id, user_id)
        return member.error is None and channel_id in member.channels

    def serves_default(self, team_id: str | None) -> bool:
        """Whether MICROOPT_SHEET is this workspace's (with installs in many workspaces, SLACK_BOT_TOKEN's only)."""
        if not self.deps.settings.oauth:
            return True
        default = self.default_team()
        return default is not None and default == team_id

    def sheets_of(self, member: Member, team_id: str | None) -> list[tuple[SheetGroup, list[str]]]:
        """The sheets the member's channels read, each with those channels (only this workspace's)."""
        groups = sheet_groups(self.deps)
        by_spec: dict[str, tuple[SheetGroup, list[str]]] = {}
        for channel in sorted(member.channels):
            group = group_of(groups, channel)
            if group.linked:
                linked_in = group.team_of(channel)
                if linked_in is not None and linked_in != team_id:
                    continue
            elif not self.serves_default(team_id):
                continue
            by_spec.setdefault(group.spec, (group, []))[1].append(channel)
        return list(by_spec.values())

    def content(self, team_id: str | None, user_id: str) -> HomeContent:
        home = self.home_team(team_id)
        if home is None:
            return HomeContent(empty=HOME_UNKNOWN)
        member = self.members.member(team_id, user_id)
        if member.error is not None:
            return HomeContent(empty=member_unknown(member.error))
        if not member.of(home):
            return HomeContent(empty=FOREIGN_HOME)
        try:
            sheets = self.sheets_of(member, team_id)
        except NoDatabase:
            sheets = []
        except (UserFacingError, *NOT_ANSWERING):
            logger.warning("could not read the sheet links for a Home tab", exc_info=True)
            return HomeContent(empty=NO_LINKS)
        content = HomeContent()
        seen: set[tuple[str, str]] = set()
        for group, channels in sheets:
            self.add_sheet(content, group, channels, team_id, home, seen)
        return content

    def add_sheet(
        self,
        content: HomeContent,
        group: SheetGroup,
        channels: list[str],
        team_id: str | None,
        home: str,
        seen: set[tuple[str, str]],
    ) -> None:
        """The tests of one sheet that the member's `channels` see, each for the first channel it is routed to."""
        spec = group.spec
        try:
            data, report = self.read_sheet(self.deps, spec)
        except UserFacingError as error:
            content.notices.append(unreadable(error))
            return
        routes: Sequence[ChannelRoute] = linked_routes(data.channels, channels) if group.linked else data.channels
        names = self.channel_names(home) if needs_names(routes) else ChannelNames()
        accesses = [
            (
                channel,
                access_for(
                    routes,
                    Where(channel, None, team_id),
                    names=names.ids,
                    home_team=home,
                    open_status=self.deps.settings.open_status,
                    fallback_to_all=True,
                ),
            )
            for channel in channels
        ]
        accesses.sort(key=lambda pair: pair[1].reach != "routed")  # a test shows for a channel routed to it first
        read_at = self.deps.last_read(spec) or self.deps.clock()
        standing = standing_for(self.deps, read_at, spec)
        found: list[HomeTest] = []
        for channel, access in accesses:
            for test in access.tests(report.tests):
                key = (test.campaign, test.test)
                if key in seen:
                    continue
                seen.add(key)
                found.append(HomeTest(test, channel, standing_decision(test, standing)))
        asking = [
            (e.test.campaign, e.test.test)
            for e in found
            if home_group(e, month_start(self.deps.clock())) == "needs_action"
        ]
        if asking and self.path_words is not None:
            words = self.path_words(spec, data, report, asking)
            found = [replace(e, path_words=words.get((e.test.campaign, e.test.test))) for e in found]
        content.tests.extend(found)
        content.read_at = min(content.read_at or read_at, read_at)

    # -- the view ---------------------------------------------------------------------------------------
    def view(self, team_id: str | None, user_id: str, notices: Sequence[str] = ()) -> View:
        content = self.content(team_id, user_id)
        return render_home(
            content.tests, self.deps.clock(), [*notices, *content.notices], content.empty, content.read_at
        )

    def publish(
        self,
        client: WebClient,
        team_id: str | None,
        user_id: str,
        shown: str | None = None,
        notices: Sequence[str] = (),
    ) -> bool:
        """Publish the member's Home view; False when it was not (unchanged since the last publish, whose hash
        the tab still shows as `shown`, or Slack refused). Never raises: the traceback goes to the log."""
        try:
            view = self.view(team_id, user_id, notices)
        except Exception:
            logger.exception("could not build a Home tab")
            return False
        digest = view_digest(view)
        key = (team_id, user_id)
        with self._lock:
            last = self._published.get(key)
        if shown is not None and last == (digest, shown):
            return False
        try:
            answer = client.views_publish(user_id=user_id, view=view)
        except SlackApiError as error:
            logger.warning("views.publish failed: %s", error.response.get("error"))
            return False
        except (SlackClientError, OSError) as error:
            logger.warning("views.publish failed: %s", type(error).__name__)
            return False
        published = answer.get("view") or {}
        with self._lock:
            self._published[key] = (digest, str(published.get("hash", "")))
        return True


class HomeNotes:
    """What a press from the Home tab has to say (a refusal, "Already decided", "not in the sheet yet"): a
    `respond` for `bot.slack.decisions.presses` that keeps the sentences until the press is done (then the tab is
    published once, with them on top) and publishes at once what comes after (a sheet that answered late)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sentences: list[str] = []
        self._later: Callable[[str], None] | None = None

    def __call__(self, text: str = "", **_: Any) -> None:
        with self._lock:
            later = self._later
            if later is None:
                self.sentences.append(text)
                return
        later(text)

    def then(self, later: Callable[[str], None]) -> list[str]:
        """The sentences so far; from now on each new one goes to `later`."""
        with self._lock:
            self._later = later
            return list(self.sentences)


class HomePaths:
    """The decision's range over time in words, for the tests that need action in Home tabs: computed once per
    sheet read and set of tests (the last few kept), since every open of every member would otherwise decide them
    again."""

    def __init__(self, deps: Deps, keep: int = 16) -> None:
        self.deps = deps
        self._keep = keep
        self._lock = threading.Lock()
        self._known: OrderedDict[tuple[str, int, tuple[tuple[str, str], ...]], dict[tuple[str, str], str]] = (
            OrderedDict()
        )

    def __call__(
        self, spec: str, data: SheetData, report: Report, tests: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        key = (spec, id(report), tuple(tests))
        with self._lock:
            if key in self._known:
                return self._known[key]
        try:
            paths = decision_paths(self.deps, data, spec, tests)
        except Exception:
            logger.warning("could not compute the decision's range over time for a Home tab", exc_info=True)
            return {}
        words: dict[tuple[str, str], str] = {}
        for test in report.tests:
            if (test.campaign, test.test) in key[2] and (path := resting_path(test, paths)) is not None:
                words[(test.campaign, test.test)] = path_words(path, test.control)
        with self._lock:
            self._known[key] = words
            while len(self._known) > self._keep:
                self._known.popitem(last=False)
        return words
