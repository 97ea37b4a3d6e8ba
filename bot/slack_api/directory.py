"""Channel names → channel IDs, from Slack (`conversations.list`), so everything is keyed by ID.

The Channels tab may name a channel (`#spring-sale`); a name is only what a channel is called today, and
a request's `channel_name` can be anything in another workspace. So names are resolved here, once per
`ttl`, against the installing workspace's own list: public channels (`channels:read`) and the private
channels microopt was invited to (`groups:read`, optional: without it only public names resolve).
When Slack cannot be asked, the last good list is kept; with none, names resolve to nothing and
`ChannelNames.error` says why, so nothing is ever matched by name alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import CONNECTION

logger = logging.getLogger("microopt.slack")

PAGE_SIZE = 1000  # Slack's maximum for conversations.list
MAX_PAGES = 50  # 50,000 channels: past that, a workspace should write IDs in the sheet
TTL = dt.timedelta(minutes=2)
_NO_NAMES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class ChannelNames:
    """Lower-case channel name (no `#`) → channel ID; `error` says why names could not be looked up."""

    ids: Mapping[str, str] = field(default_factory=lambda: _NO_NAMES)
    error: str | None = None
    joined: frozenset[str] = frozenset()  # the IDs of the channels microopt is a member of (it posts there)


NO_SLACK = ChannelNames(error="no Slack client is configured")
UNREACHABLE = "Slack could not be reached"


def _error(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "unknown_error"))
    return CONNECTION if isinstance(error, OSError) else type(error).__name__


def _pages(client: WebClient, types: str, joined: set[str] | None = None) -> dict[str, str]:
    ids: dict[str, str] = {}
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        args: dict[str, Any] = {"types": types, "exclude_archived": True, "limit": PAGE_SIZE}
        if cursor:
            args["cursor"] = cursor
        page = client.conversations_list(**args)
        for channel in page.get("channels") or []:
            name, channel_id = channel.get("name"), channel.get("id")
            if name and channel_id:
                ids.setdefault(str(name).lower(), str(channel_id))
                if joined is not None and channel.get("is_member"):
                    joined.add(str(channel_id))
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    else:
        logger.warning("conversations.list has more than %d pages; names past them do not resolve", MAX_PAGES)
    return ids


def list_channel_names(client: WebClient) -> ChannelNames:
    """Every channel name microopt can see, once: public and, when `groups:read` is granted, private ones."""
    joined: set[str] = set()
    try:
        ids = _pages(client, "public_channel", joined)
    except (SlackClientError, OSError) as error:
        code = _error(error)
        logger.warning("could not list Slack channels: %s", UNREACHABLE if code == CONNECTION else code)
        return ChannelNames(error=code)
    try:
        for name, channel_id in _pages(client, "private_channel", joined).items():
            ids.setdefault(name, channel_id)
    except (SlackClientError, OSError) as error:
        # Without groups:read, private channels must be written as IDs; public names still resolve.
        logger.info("private channel names do not resolve: %s", _error(error))
    return ChannelNames(MappingProxyType(ids), joined=frozenset(joined))


class ChannelDirectory:
    """`list_channel_names`, asked at most once per `ttl` for every thread of a process."""

    def __init__(
        self,
        client: Callable[[], WebClient] | None,
        clock: Callable[[], dt.datetime],
        ttl: dt.timedelta = TTL,
    ) -> None:
        self._client = client
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._known: ChannelNames | None = None
        self._asked_at: dt.datetime | None = None

    def names(self) -> ChannelNames:
        if self._client is None:
            return NO_SLACK
        with self._lock:
            now = self._clock()
            if self._known is not None and self._asked_at is not None and now - self._asked_at < self._ttl:
                return self._known
            found = list_channel_names(self._client())
            self._asked_at = now
            if found.error is None or self._known is None or self._known.error is not None:
                self._known = found
            return self._known
