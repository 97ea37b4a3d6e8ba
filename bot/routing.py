"""Which campaigns the Channels tab routes to a Slack channel. Pure: no Slack, no sheet reads.

A Channels-tab cell may name a channel as people write it: `#spring-sale`, `spring-sale`, ` #Spring-Sale `,
a channel ID (`C0123ABCD`), a Slack mention (`<#C0123ABCD|spring-sale>`) or a channel link
(`https://team.slack.com/archives/C0123ABCD`). A campaign of `*` (a row with no campaign) routes every
campaign to that channel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from analysis.models import ChannelRoute

ALL_CAMPAIGNS = "*"

_MENTION = re.compile(r"^<#(?P<id>[A-Z0-9]+)(?:\|(?P<name>[^>]*))?>$")
_LINK = re.compile(r"/archives/(?P<id>[A-Z0-9]+)")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


@dataclass(frozen=True)
class ChannelRef:
    """A channel as written in the sheet, reduced to an ID or a lower-case name without `#`."""

    channel_id: str | None
    name: str | None


def parse_channel(written: str) -> ChannelRef:
    text = written.strip()
    if match := _MENTION.match(text):
        return ChannelRef(match["id"], (match["name"] or "").lower() or None)
    if match := _LINK.search(text):
        return ChannelRef(match["id"], None)
    if _CHANNEL_ID.match(text):
        return ChannelRef(text, None)
    name = text.lstrip("#").strip().lower()
    return ChannelRef(None, name or None)


def channel_matches(written: str, channel_id: str, channel_name: str | None) -> bool:
    """Does the sheet's `written` channel mean the Slack channel `channel_id` / `channel_name`?"""
    ref = parse_channel(written)
    if ref.channel_id is not None and ref.channel_id == channel_id:
        return True
    wanted = (channel_name or "").lstrip("#").strip().lower()
    return ref.name is not None and ref.name == wanted


def routes_for_channel(routes: Iterable[ChannelRoute], channel_id: str, channel_name: str | None) -> list[ChannelRoute]:
    return [route for route in routes if channel_matches(route.channel, channel_id, channel_name)]


def campaigns_for_channel(
    routes: Iterable[ChannelRoute], channel_id: str, channel_name: str | None
) -> tuple[str, ...] | None:
    """The campaigns routed here, in sheet order; `None` when every campaign is (a `*` row).

    An empty tuple means the Channels tab routes nothing to this channel.
    """
    campaigns: dict[str, None] = {}
    for route in routes_for_channel(routes, channel_id, channel_name):
        if route.campaign.strip() == ALL_CAMPAIGNS:
            return None
        campaigns.setdefault(route.campaign, None)
    return tuple(campaigns)


def same_campaign(a: str, b: str) -> bool:
    """Campaign names as people type them: case and inner spacing do not matter."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
