"""`/microopt connect [<Google Sheet URL or key>]` and `/microopt disconnect`: a channel's own sheet.

Connecting first reads the sheet: the channel is linked only once microopt could read it, and the answer says
what it found (or, ephemerally, the service account's address to share the sheet with). Who may connect or
disconnect: MICROOPT_ADMINS when set, else members of the workspace microopt is installed in, never a guest
from another organisation. Every change is announced in the channel and recorded with who and when
(`bot.state.links`); the next digest run reads the channel's schedule from its new sheet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from analysis.models import ChannelRoute, Report, SheetData
from bot.channel_sheets import linked_routes, schedules_changed, sheet_for, sheet_key, spec_of
from bot.deps import Deps
from bot.errors import UserFacingError
from bot.render.blocks import COMMAND, escape, sheet_link
from bot.render.untested import untested_sentences
from bot.routing import Access, Where
from bot.sentences import counted, mention, shorten
from bot.service import campaigns
from bot.state.links import link_channel, unlink_channel

logger = logging.getLogger("microopt.slack")

CONNECT = f"`{COMMAND} connect <Google Sheet URL>`"
NOT_AN_ADMIN = (
    "Only the people in MICROOPT_ADMINS connect a channel to a sheet; ask one of them, or ask whoever runs microopt."
)
NOT_OF_THIS_WORKSPACE = (
    "A channel is connected to a sheet by people of the workspace microopt is installed in; ask one of them here."
)
DEFAULT_SHEET = "the sheet microopt was set up with (MICROOPT_SHEET)"


def not_a_sheet(text: str) -> str:
    return (
        f"“{escape(shorten(text))}” is not a Google Sheet: paste the sheet's address from your browser "
        "(https://docs.google.com/spreadsheets/d/…) or its key, e.g. " + CONNECT + "."
    )


def unreadable(sentence: str) -> str:
    return f"This channel is not connected: microopt could not read that sheet. {escape(sentence)}"


@dataclass(frozen=True)
class ConnectRequest:
    """`/microopt connect …` or `/microopt disconnect` as Slack sent it."""

    channel_id: str
    channel_name: str
    user_id: str
    text: str = ""
    team_id: str | None = None
    foreign: bool = False  # the asker is of another workspace or organisation than the installing one

    @property
    def where(self) -> str:
        name = self.channel_name.lstrip("#")
        return f"#{escape(name)}" if name and name not in ("directmessage", "privategroup") else "this channel"

    @property
    def by(self) -> str:
        return mention(self.user_id) or "Someone"


@dataclass(frozen=True)
class ConnectReply:
    text: str  # mrkdwn, escaped
    public: bool = False  # announced in the channel; else for the asker only


# Reads and analyses a sheet (shared with status: `bot.slack.shared_reads.SharedReports`); raises UserFacingError.
ReadSheet = Callable[[str], tuple[SheetData, Report]]
# Which campaigns a channel sees of a sheet's routes (names resolved in the installing workspace).
SeeRoutes = Callable[[tuple[ChannelRoute, ...], Where, str | None], Access]


def may_change(deps: Deps, request: ConnectRequest) -> str | None:
    """Why `request` may not connect or disconnect this channel, or None when it may."""
    if request.foreign:
        return NOT_OF_THIS_WORKSPACE
    admins = deps.settings.admins
    if admins and request.user_id not in admins:
        return NOT_AN_ADMIN
    return None


def show_link(deps: Deps, request: ConnectRequest) -> ConnectReply:
    choice = sheet_for(deps, request.channel_id)
    if choice.link is None:
        return ConnectReply(
            f"{request.where} reads {DEFAULT_SHEET}. Connect it to a sheet of its own with {CONNECT}; "
            "the sheet must be shared with microopt's service account (the answer says which address)."
        )
    link = choice.link
    who = mention(link.linked_by)
    by = f" by {who}" if who else ""
    return ConnectReply(
        f"{request.where} reads {sheet_link(link.sheet)}, connected{by} on {link.linked_at:%-d %b %Y}. "
        f"`{COMMAND} disconnect` goes back to {DEFAULT_SHEET}."
    )


def connect_channel(deps: Deps, request: ConnectRequest, read: ReadSheet, see: SeeRoutes) -> ConnectReply:
    """Read the sheet, then link the channel to it and announce what it found; or say why not (for the asker)."""
    refusal = may_change(deps, request)
    if refusal:
        return ConnectReply(refusal)
    key = sheet_key(request.text)
    if key is None:
        return ConnectReply(not_a_sheet(request.text))
    store = deps.state()  # no database: NoDatabase's sentence, before the sheet is read
    try:
        data, report = read(spec_of(deps, key))
    except UserFacingError as error:
        logger.info("connect in %s: the sheet could not be read (%s)", request.channel_id, error)
        return ConnectReply(unreadable(str(error)))
    was = sheet_for(deps, request.channel_id)
    before = link_channel(store, request.channel_id, request.team_id, key, request.user_id, deps.clock())
    schedules_changed(store, was.spec)
    schedules_changed(store, spec_of(deps, key))
    logger.info("channel %s connected to a sheet by %s", request.channel_id, request.user_id or "someone")
    routes = linked_routes(data.channels, [request.channel_id])
    access = see(routes, Where(request.channel_id, request.channel_name, request.team_id), request.team_id)
    again = " (it read another sheet before)" if before is not None and before.sheet != key else ""
    return ConnectReply(
        f"{request.by} connected {request.where} to a Google Sheet of its own{again}. "
        + found_sentence(report, access, request.where),
        public=True,
    )


def found_sentence(report: Report, access: Access, where: str) -> str:
    """What the channel will see of the sheet it was just connected to."""
    if not report.tests:
        return "It has no tests yet: " + " ".join(escape(s) for s in untested_sentences(report)[:2])
    everything = campaigns(report)
    total = f"It has {counted(len(report.tests), 'test')} in {counted(len(everything), 'campaign')}"
    shown = campaigns(report.model_copy(update={"tests": access.tests(report.tests)}))
    if not shown:
        return (
            f"{total}, but its Channels tab routes none of them to {where}: add a row with this channel to the tab "
            "(or remove the tab to show every campaign here)."
        )
    names = ", ".join(f"“{escape(name)}”" for name in shown[:10]) + (" …" if len(shown) > 10 else "")
    routed = f"{len(shown)} of them routed here by its Channels tab"
    which = "all shown here" if len(shown) == len(everything) else routed
    return f"{total}, {which}: {names}. `{COMMAND} status` shows the verdicts."


def disconnect_channel(deps: Deps, request: ConnectRequest) -> ConnectReply:
    refusal = may_change(deps, request)
    if refusal:
        return ConnectReply(refusal)
    store = deps.state()
    removed = unlink_channel(store, request.channel_id, request.user_id, deps.clock())
    if removed is None:
        return ConnectReply(f"{request.where} is not connected to a sheet of its own: it reads {DEFAULT_SHEET}.")
    schedules_changed(store, spec_of(deps, removed.sheet))
    schedules_changed(store, deps.settings.sheet)
    logger.info("channel %s disconnected from its sheet by %s", request.channel_id, request.user_id or "someone")
    return ConnectReply(
        f"{request.by} disconnected {request.where} from its sheet: it reads {DEFAULT_SHEET} again.", public=True
    )
