"""Who a member is, for the Home tab: their workspace (`users.info`) and the channels they are in
(`users.conversations`), each asked at most once per `ttl` per member.

`users.conversations` with the member's ID answers in one call (a page per 200 channels) what
`conversations.members` would need one call per routed channel for, and it is per member, so a cache per member
bounds the calls to Slack by the people who open the tab, not by the channels of the sheets (Tier 3: about 50
calls a minute). With the bot token it lists the public channels the member is in and the private ones microopt
shares with them (`channels:read`, `groups:read`). `users.info` (`users:read`) says which workspace the member
belongs to: a Slack Connect guest or a member of another workspace is never shown this workspace's tests.

When Slack does not answer, the member's last good answer is kept; with none, `Member.error` says why, and the
Home tab shows nothing but that sentence.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import CONNECTION

logger = logging.getLogger("microopt.slack")

PAGE_SIZE = 200  # users.conversations: Slack suggests no more than 200 a page
MAX_PAGES = 25  # 5,000 channels of one member: past that, the first 5,000
TTL = dt.timedelta(minutes=2)
TYPES = "public_channel,private_channel"


@dataclass(frozen=True)
class Member:
    """A member as Slack told it: their workspaces (their own, and an organisation's others) and their channels;
    `error` (a Slack error code) when Slack could not say."""

    user_id: str
    teams: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    error: str | None = None

    def of(self, team_id: str | None) -> bool:
        return team_id is not None and team_id in self.teams


def _code(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "unknown_error"))
    return CONNECTION if isinstance(error, OSError) else type(error).__name__


def _teams(user: dict[str, Any]) -> frozenset[str]:
    teams = {str(user["team_id"])} if user.get("team_id") else set()
    teams.update(str(team) for team in (user.get("enterprise_user") or {}).get("teams") or ())
    return frozenset(teams)


def ask_member(client: WebClient, user_id: str) -> Member:
    """The member's workspaces and channels, from Slack now."""
    try:
        user = client.users_info(user=user_id).get("user") or {}
        channels: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            args: dict[str, Any] = {"user": user_id, "types": TYPES, "exclude_archived": True, "limit": PAGE_SIZE}
            if cursor:
                args["cursor"] = cursor
            page = client.users_conversations(**args)
            channels.update(str(c["id"]) for c in page.get("channels") or () if c.get("id"))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except (SlackClientError, OSError) as error:
        code = _code(error)
        logger.warning("could not ask Slack about a member's channels: %s", code)
        return Member(user_id, error=code)
    return Member(user_id, _teams(user), frozenset(channels))


class Members:
    """`ask_member`, at most once per `ttl` for each (workspace, member), for every thread of a process."""

    def __init__(
        self,
        client: Callable[[str | None], WebClient],
        clock: Callable[[], dt.datetime],
        ttl: dt.timedelta = TTL,
    ) -> None:
        self._client = client
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._known: dict[tuple[str | None, str], tuple[dt.datetime, Member]] = {}
        self._asking: dict[tuple[str | None, str], threading.Lock] = {}

    def member(self, team_id: str | None, user_id: str) -> Member:
        key = (team_id, user_id)
        with self._lock:
            asking = self._asking.setdefault(key, threading.Lock())
        with asking:  # two opens of one member at once ask Slack once
            now = self._clock()
            with self._lock:
                known = self._known.get(key)
            if known is not None and now - known[0] < self._ttl:
                return known[1]
            found = ask_member(self._client(team_id), user_id)
            if found.error is not None and known is not None and known[1].error is None:
                return known[1]  # Slack did not answer: the last good answer stands
            with self._lock:
                self._known[key] = (now, found)
            return found

    def forget(self, team_id: str | None, user_id: str) -> None:
        with self._lock:
            self._known.pop((team_id, user_id), None)
