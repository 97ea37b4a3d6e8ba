"""`microopt status --channel C…`: what one Slack channel sees, as its `/microopt status` would show it.

The channel's sheet (its own, linked with `/microopt connect`, else MICROOPT_SHEET), narrowed to the campaigns
its Channels tab routes there, as seen by a member of the workspace. A channel given by name is looked up in
Slack (SLACK_BOT_TOKEN); so are the Channels tab's names, when it writes names rather than IDs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from analysis.models import Report
from bot.channel_sheets import SheetChoice, linked_routes, sheet_for
from bot.deps import Deps
from bot.errors import UserFacingError
from bot.routing import Access, Where, access_for, channel_id_of, names_unavailable, needs_names, parse_channel
from bot.sentences import counted
from bot.service import analysed
from bot.slack_api.directory import ChannelNames

NO_TOKEN = "no Slack token is set (SLACK_BOT_TOKEN)"


@dataclass(frozen=True)
class ChannelView:
    channel_id: str
    choice: SheetChoice
    report: Report  # the tests the channel sees (every problem of its sheet kept)
    access: Access
    sentence: str | None  # why it sees nothing, when it does not

    @property
    def line(self) -> str:
        """Which sheet the channel reads and how much of it it sees, for the terminal."""
        link = self.choice.link
        whose = (
            f"its own sheet (connected by {link.linked_by} on {link.linked_at:%Y-%m-%d})"
            if link is not None
            else "MICROOPT_SHEET"
        )
        routed = f"{counted(len(self.report.tests), 'test')} routed there"
        seen = "every campaign" if self.access.campaigns is None else routed
        return f"Channel {self.channel_id} reads {whose}: {seen}."


def _names(deps: Deps) -> ChannelNames:
    if not deps.settings.slack_bot_token:
        return ChannelNames(error=NO_TOKEN)
    from bot.slack_api.directory import list_channel_names

    return list_channel_names(deps.slack_client())


def channel_view(deps: Deps, channel: str, as_of: dt.date | None = None, record: bool = True) -> ChannelView:
    ref = parse_channel(channel)
    if not ref.channel_id and not ref.name:
        raise UserFacingError(f"“{channel}” is not a channel: give its ID (C0123ABCD) or #name.")
    names: ChannelNames | None = None
    channel_id = ref.channel_id
    if channel_id is None:
        names = _names(deps)
        channel_id = channel_id_of(channel, names.ids)
        if channel_id is None:
            why = f" ({names.error})" if names.error else ""
            raise UserFacingError(
                f"Slack has no channel “{channel}” that microopt can see{why}: give the channel's ID (C0123ABCD)."
            )
    choice = sheet_for(deps, channel_id)
    data, report = analysed(deps, deps.read_tabs(choice.spec), choice.spec, as_of, record)
    routes = linked_routes(data.channels, [channel_id]) if choice.linked else data.channels
    if needs_names(routes) and names is None:
        names = _names(deps)
    names = names or ChannelNames()
    access = access_for(
        routes, Where(channel_id), names=names.ids, home_team=None, open_status=deps.settings.open_status
    )
    seen = report.model_copy(update={"tests": access.tests(report.tests)})
    sentence = None
    if access.reach == "unrouted":
        sentence = f"No campaigns are routed to {channel_id}: add a row to its sheet's Channels tab."
        if names.error is not None:
            sentence += f" ({names_unavailable(names.error)}.)"
    return ChannelView(channel_id, choice, seen, access, sentence)
