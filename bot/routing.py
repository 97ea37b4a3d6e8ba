"""Which campaigns the Channels tab routes to a Slack channel. Pure: no Slack, no sheet reads.

A Channels-tab cell may name a channel as people write it: `#spring-sale`, `spring-sale`, ` #Spring-Sale `,
a channel ID (`C0123ABCD`), a Slack mention (`<#C0123ABCD|spring-sale>`) or a channel link
(`https://team.slack.com/archives/C0123ABCD`). A campaign of `*` (a row with no campaign) routes every
campaign to that channel. A channel is matched by ID only: a name counts through the ID it has in the
installing workspace (resolved by `bot.slack_api.directory`), never through the name a request carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from analysis.models import ChannelRoute, Problem, TestResult
from bot.errors import CONNECTION
from bot.sentences import shorten

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


# Lower-case channel name → channel ID, from the installing workspace (`bot.slack_api.directory`).
Names = Mapping[str, str]


def channel_id_of(written: str, names: Names) -> str | None:
    """The channel ID a Channels-tab cell means: as written, or its name resolved in `names`."""
    ref = parse_channel(written)
    if ref.channel_id is not None:
        return ref.channel_id
    return names.get(ref.name) if ref.name else None


def channel_matches(written: str, channel_id: str | None, names: Names) -> bool:
    """Does the sheet's `written` channel mean the Slack channel `channel_id`? By ID only, never by name:
    a name counts through the ID it resolves to in the installing workspace."""
    return bool(channel_id) and channel_id_of(written, names) == channel_id


def routes_for_channel(routes: Iterable[ChannelRoute], channel_id: str | None, names: Names) -> list[ChannelRoute]:
    return [route for route in routes if channel_matches(route.channel, channel_id, names)]


def campaigns_for_channel(
    routes: Iterable[ChannelRoute], channel_id: str | None, names: Names
) -> tuple[str, ...] | None:
    """The campaigns routed here, in sheet order; `None` when every campaign is (a `*` row).

    An empty tuple means the Channels tab routes nothing to this channel.
    """
    campaigns: dict[str, None] = {}
    for route in routes_for_channel(routes, channel_id, names):
        if route.campaign.strip() == ALL_CAMPAIGNS:
            return None
        campaigns.setdefault(route.campaign, None)
    return tuple(campaigns)


def needs_names(routes: Iterable[ChannelRoute]) -> bool:
    """Whether any row names a channel rather than giving its ID (only then is Slack asked for names)."""
    return any(parse_channel(route.channel).channel_id is None for route in routes)


def channel_problems(routes: Iterable[ChannelRoute], names: Names, lookup_error: str | None) -> list[Problem]:
    """Rows whose channel name does not resolve, each with its A1 reference: their campaigns reach no
    channel (no status there, no digest) until the cell is fixed. One sentence when names could not be
    looked up at all."""
    routes = list(routes)
    missing = [route for route in routes if channel_id_of(route.channel, names) is None]
    if not missing:
        return []
    if lookup_error is not None:
        return [Problem(cell=missing[0].cell or "Channels", message=names_unavailable(lookup_error))]
    seen: set[str] = set()
    problems = []
    for route in missing:
        written = route.channel.strip()
        if written in seen:
            continue
        seen.add(written)
        problems.append(
            Problem(
                cell=route.cell or "Channels",
                message=(
                    f"Slack has no channel “{shorten(written)}” that microopt can see: check the spelling, or "
                    "invite microopt if it is private, or write the channel ID (C0123ABCD); until then its "
                    "campaigns reach no channel"
                ),
            )
        )
    return problems


def names_unavailable(error: str) -> str:
    if error == CONNECTION:  # not a scope or install problem: nothing to reinstall
        return (
            "microopt could not reach Slack to look up the Channels tab's channel names: until it answers, only "
            "rows with a channel ID (C0123ABCD) reach their channel"
        )
    return (
        f"microopt could not look up the Channels tab's channel names (Slack answered {shorten(error)}): "
        "reinstall the app from manifest.yml, which asks for channels:read, or write channel IDs "
        "(C0123ABCD) in the tab; until then only rows with an ID reach their channel"
    )


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
    names: Names,
    home_team: str | None,
    open_status: bool = False,
    fallback_to_all: bool = True,
) -> Access:
    """What `where` may see under the Channels tab `routes`, channels matched by ID (`names` resolves the
    tab's channel names to IDs in the installing workspace).

    - a routed channel sees its campaigns (a `*` row: all of them), whichever workspace the asker is in:
      the digests posted there show them the same;
    - a channel with no row, asked from the installing workspace (`home_team`, from `auth.test`; None
      when unknown, so every request counts as foreign), sees every campaign when there is no Channels
      tab at all, or when `open_status` (MICROOPT_OPEN_STATUS) is on, and only if the surface asks for it
      with `fallback_to_all` (status does; digests do not, they go only where the tab sends them);
    - else nothing: `foreign` for another workspace or organisation, `unrouted` otherwise.
    """
    routed = campaigns_for_channel(routes, where.channel_id, names)
    if routed is None or routed:
        return Access("routed", routed)
    if where.team_id is not None and where.team_id != home_team:
        return Access("foreign", ())
    if fallback_to_all and (not routes or open_status):
        return Access("open", None)
    return Access("unrouted", ())
