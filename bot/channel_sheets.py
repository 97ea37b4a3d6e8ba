"""Which sheet each channel reads: its own, linked with `/microopt connect`, or MICROOPT_SHEET.

A channel linked to a sheet reads that sheet only, and a sheet's Channels tab routes only among the channels
linked to it: a sheet linked by one client can never send its campaigns (nor digests) into another client's
channel. A linked sheet without a Channels tab shows all its campaigns in every channel linked to it (the link
is the route). MICROOPT_SHEET stays the default of every channel not linked to a sheet of its own, with its
Channels tab routing as it always did, except into channels linked elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analysis.models import ChannelRoute
from bot.deps import Deps
from bot.errors import DatabaseUnavailable, NoDatabase
from bot.routing import ALL_CAMPAIGNS, Names, channel_id_of
from bot.sources import google_key
from bot.sources.cache import source_key
from bot.state.engine import NOT_ANSWERING
from bot.state.history import source_id
from bot.state.links import SheetLink, all_links, link_of
from bot.state.store import StateStore

logger = logging.getLogger("microopt.sheets")


@dataclass(frozen=True)
class SheetChoice:
    """The sheet one channel reads: `spec` is what `Deps.read_tabs` reads; `link` is None for MICROOPT_SHEET."""

    spec: str
    link: SheetLink | None = None

    @property
    def linked(self) -> bool:
        return self.link is not None


@dataclass(frozen=True)
class SheetGroup:
    """A sheet in use and the channels that read it: those linked to it, or, for MICROOPT_SHEET (`linked`
    False), every channel except `elsewhere` (the channels linked to a sheet of their own)."""

    spec: str
    channels: frozenset[str] = frozenset()
    linked: bool = True
    elsewhere: frozenset[str] = frozenset()
    team_id: str | None = None  # the workspace its links were made in (the first, when several)
    teams: frozenset[tuple[str, str | None]] = frozenset()  # (channel, the workspace its link was made in)

    def reads(self, channel_id: str) -> bool:
        return channel_id in self.channels if self.linked else channel_id not in self.elsewhere

    def team_of(self, channel_id: str) -> str | None:
        """The workspace `channel_id` was linked in (None for MICROOPT_SHEET's channels: the bot token's)."""
        return next((team for channel, team in self.teams if channel == channel_id), None)


def links_unavailable(deps: Deps) -> DatabaseUnavailable:
    from bot.state.engine import redacted

    return DatabaseUnavailable(
        f"microopt could not check which sheet this channel reads: the database at "
        f"{redacted(deps.settings.database_url)} (DATABASE_URL) did not answer. Try again in a minute."
    )


def sheet_for(deps: Deps, channel_id: str | None) -> SheetChoice:
    """The sheet `channel_id` reads. Without a database there are no links: MICROOPT_SHEET. A database that does
    not answer is `DatabaseUnavailable`, never a silent fallback to another sheet than the channel's own."""
    if not channel_id:
        return SheetChoice(deps.settings.sheet)
    try:
        link = link_of(deps.state(), channel_id)
    except NoDatabase:
        return SheetChoice(deps.settings.sheet)
    except NOT_ANSWERING as error:
        logger.warning("could not read the sheet links", exc_info=True)
        raise links_unavailable(deps) from error
    return SheetChoice(spec_of(deps, link.sheet), link) if link is not None else SheetChoice(deps.settings.sheet)


def spec_of(deps: Deps, key: str) -> str:
    """What to read a linked sheet by: its key, or MICROOPT_SHEET as written when that names the same sheet, so
    that one sheet has one record of looks and calls (`bot.state.history` knows a sheet by how it is named)."""
    return deps.settings.sheet if google_key(deps.settings.sheet) == key else key


def sheet_groups(deps: Deps, links: Iterable[SheetLink] | None = None) -> list[SheetGroup]:
    """Every sheet in use: MICROOPT_SHEET first, then each linked sheet once, in key order."""
    if links is None:
        try:
            links = all_links(deps.state())
        except NoDatabase:
            links = ()
    by_sheet: dict[str, list[SheetLink]] = {}
    for link in links:
        by_sheet.setdefault(link.sheet, []).append(link)
    linked = frozenset(link.channel for group in by_sheet.values() for link in group)
    groups = [SheetGroup(deps.settings.sheet, linked=False, elsewhere=linked)]
    for sheet, group in sorted(by_sheet.items()):
        channels = frozenset(link.channel for link in group)
        teams = frozenset((link.channel, link.team_id) for link in group)
        groups.append(SheetGroup(spec_of(deps, sheet), channels, team_id=group[0].team_id, teams=teams))
    return groups


def group_of(groups: Sequence[SheetGroup], channel_id: str) -> SheetGroup:
    """The group whose sheet `channel_id` reads (the default's when it is linked to none)."""
    return next((g for g in groups[1:] if g.reads(channel_id)), groups[0])


def group_for(deps: Deps, channel_id: str) -> SheetGroup:
    """The sheet `channel_id` reads, with every channel that reads it too."""
    try:
        return group_of(sheet_groups(deps), channel_id)
    except NOT_ANSWERING as error:
        raise links_unavailable(deps) from error


def linked_routes(routes: Sequence[ChannelRoute], channels: Iterable[str]) -> tuple[ChannelRoute, ...]:
    """A linked sheet's routes as its channels see them: its Channels tab, or, without one, every campaign to
    each channel linked to it."""
    if routes:
        return tuple(routes)
    # Written as a mention: an ID however short the workspace's IDs are (`bot.routing.parse_channel`).
    return tuple(ChannelRoute(campaign=ALL_CAMPAIGNS, channel=f"<#{channel}>") for channel in sorted(channels))


def routes_of(group: SheetGroup, routes: Sequence[ChannelRoute], names: Names) -> tuple[ChannelRoute, ...]:
    """The routes of `group`'s sheet that count: a linked sheet's, to its own channels only; MICROOPT_SHEET's,
    to every channel but those linked elsewhere (a row whose name does not resolve is kept: it is a problem
    of its cell, and reaches no channel)."""
    if not group.linked:
        return tuple(route for route in routes if channel_id_of(route.channel, names) not in group.elsewhere)
    own = [route for route in routes if channel_id_of(route.channel, names) in group.channels]
    return tuple(own) if routes else linked_routes((), group.channels)


SYNCED_PREFIX = "schedules_synced_at:"  # + the sheet's source id: when its Channels tab was last mirrored


def synced_key(spec: str) -> str:
    """The meta key of when the digests last mirrored `spec`'s Channels tab into the schedules."""
    return SYNCED_PREFIX + source_id(spec)


def schedules_changed(store: StateStore, spec: str) -> None:
    """The channels that read `spec` changed (one was connected or disconnected): the next digest run mirrors its
    Channels tab again, whatever MICROOPT_SCHEDULE_SYNC_MINUTES says."""
    store.set_meta(synced_key(spec), "")


def sheet_key(text: str) -> str | None:
    """The Google Sheet key in what someone pasted: a URL (Slack wraps it in `<…>` or `<…|label>`) or a bare key;
    None for anything else (a local path is never accepted from Slack)."""
    cleaned = text.strip()
    if cleaned.startswith("<") and cleaned.endswith(">"):
        cleaned = cleaned[1:-1].split("|", 1)[0]
    return google_key(cleaned)


def same_sheet(a: str, b: str) -> bool:
    return source_key(a) == source_key(b)
