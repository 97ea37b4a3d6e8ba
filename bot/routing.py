"""Which campaigns the Channels tab routes to a Slack channel. Pure: no Slack, no sheet reads.

A Channels-tab cell may name a channel as people write it: `#spring-sale`, `spring-sale`, ` #Spring-Sale `,
a channel ID (`C0123ABCD`), a Slack mention (`<#C0123ABCD|spring-sale>`) or a channel link
(`https://team.slack.com/archives/C0123ABCD`). A campaign of `*` (a row with no campaign) routes every
campaign to that channel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from analysis.models import ChannelRoute, TestResult

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


def channel_matches(written: str, channel_id: str | None, channel_name: str | None, *, by_name: bool = True) -> bool:
    """Does the sheet's `written` channel mean the Slack channel `channel_id` / `channel_name`?

    `by_name=False` accepts only a channel ID written in the sheet: what a request from another workspace
    or organisation gets, since a name there may belong to an unrelated channel.
    """
    ref = parse_channel(written)
    if ref.channel_id is not None and channel_id and ref.channel_id == channel_id:
        return True
    if not by_name:
        return False
    wanted = (channel_name or "").lstrip("#").strip().lower()
    return ref.name is not None and bool(wanted) and ref.name == wanted


def routes_for_channel(
    routes: Iterable[ChannelRoute], channel_id: str | None, channel_name: str | None, *, by_name: bool = True
) -> list[ChannelRoute]:
    return [route for route in routes if channel_matches(route.channel, channel_id, channel_name, by_name=by_name)]


def campaigns_for_channel(
    routes: Iterable[ChannelRoute], channel_id: str | None, channel_name: str | None, *, by_name: bool = True
) -> tuple[str, ...] | None:
    """The campaigns routed here, in sheet order; `None` when every campaign is (a `*` row).

    An empty tuple means the Channels tab routes nothing to this channel.
    """
    campaigns: dict[str, None] = {}
    for route in routes_for_channel(routes, channel_id, channel_name, by_name=by_name):
        if route.campaign.strip() == ALL_CAMPAIGNS:
            return None
        campaigns.setdefault(route.campaign, None)
    return tuple(campaigns)


def same_campaign(a: str, b: str) -> bool:
    """Campaign names as people type them: case and inner spacing do not matter."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


# -- access: what one channel may see ---------------------------------------------------------------
# How a channel came to see what it sees (stable codes; `bot.slack.answers` words them):
#   routed   – the Channels tab routes these campaigns here
#   open     – no Channels tab (or MICROOPT_OPEN_STATUS): every campaign, inside the installing workspace
#   unrouted – the Channels tab exists and routes nothing here (a DM, an unlisted channel): nothing
#   foreign  – another workspace or organisation, and no row names this exact channel ID: nothing
Reach = Literal["routed", "open", "unrouted", "foreign"]


@dataclass(frozen=True)
class Where:
    """Who is asking, from where: a Slack channel (ID, name as Slack sent it) and the asker's workspace
    (None for microopt's own scheduled posts, which are always in the installing workspace)."""

    channel_id: str | None
    channel_name: str | None = None
    team_id: str | None = None


@dataclass(frozen=True)
class Access:
    reach: Reach
    campaigns: tuple[str, ...] | None  # None: every campaign; () nothing

    def allows(self, campaign: str) -> bool:
        if self.campaigns is None:
            return True
        return any(same_campaign(campaign, name) for name in self.campaigns)

    def tests(self, tests: Sequence[TestResult]) -> tuple[TestResult, ...]:
        return tuple(t for t in tests if self.allows(t.campaign))


def access_for(
    routes: Sequence[ChannelRoute],
    where: Where,
    *,
    home_team: str | None,
    open_status: bool = False,
    fallback_to_all: bool = True,
) -> Access:
    """What `where` may see under the Channels tab `routes`.

    - a request from another workspace than `home_team` (the bot token's, from `auth.test`; None when
      unknown, so every request counts as foreign) sees only campaigns routed to its exact channel ID:
      never a name, never a fallback;
    - otherwise a routed channel sees its campaigns (a `*` row: all of them);
    - a channel with no row sees every campaign when there is no Channels tab at all, or when
      `open_status` (MICROOPT_OPEN_STATUS) is on, and only if the surface asks for it with
      `fallback_to_all` (status does; digests do not, they go only where the tab sends them);
    - else nothing.
    """
    foreign = where.team_id is not None and where.team_id != home_team
    if foreign:
        exact = campaigns_for_channel(routes, where.channel_id, None, by_name=False)
        return Access("routed", exact) if exact is None or exact else Access("foreign", ())
    routed = campaigns_for_channel(routes, where.channel_id, where.channel_name)
    if routed is None or routed:
        return Access("routed", routed)
    if fallback_to_all and (not routes or open_status):
        return Access("open", None)
    return Access("unrouted", ())
