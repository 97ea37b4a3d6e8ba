"""A press of a verdict's button, after its acknowledgement: who may press, one decision, the message updated.

Who may act is the same access list as everything else (docs/slack.md, "Who acts on verdicts"):

1. a member of the workspace microopt is installed in (`auth.test`): Slack Connect guests see what was
   decided, never decide; until Slack has said which workspace that is, nobody acts;
2. one of MICROOPT_ADMINS, when that is set;
3. in a channel the test's campaign is routed to (from the Home tab: the channel the test was shown for there,
   of which the presser must still be a member, `users.conversations`), by `bot.routing.access_for` with
   status's rules, in the sheet that channel reads (its own, `/microopt connect`, or MICROOPT_SHEET; a decision
   is kept, and written, with that sheet). When the sheet cannot be read, the message itself is the evidence:
   microopt posted that test there.

A refused press gets one ephemeral sentence (in the Home tab: a line at its top) and changes nothing. An
accepted one is recorded once (`bot.state.decisions`: a double click, Slack's retry or another process finds
it standing), its message (or the presser's Home tab) is updated in place with who did what and when
(`chat.update`; through `response_url` when the bot cannot), and
what the sheet is owed is written (`bot.slack.decisions.sheet_rows`): if the sheet does not answer, the decision
stands, the message says it is not in the sheet yet, and a later run writes it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from analysis.models import ChannelRoute, Problem, Tab
from analysis.reading.channels import parse_channels
from bot.channel_sheets import SheetChoice, linked_routes, sheet_for
from bot.decided import CHOICES, UNDO_WINDOW, Choice, Decision, VerdictShown
from bot.deps import Deps
from bot.errors import NoDatabase, UserFacingError
from bot.render.actions import ACTION_PREFIX, UNDO, block_id, buttons_for, decided_block, decision_line, replace_block
from bot.render.blocks import COMMAND, escape, render_notice
from bot.render.home import channel_of_block, home_block_id
from bot.routing import Where, access_for, needs_names
from bot.sentences import NO_DATABASE, mention
from bot.slack.decisions.sheet_rows import SheetWrites, writes_to_sheet
from bot.slack_api.directory import ChannelNames
from bot.state.decisions import (
    decision_source,
    find_decision,
    record_decision,
    remember_message,
    undo_decision,
)
from bot.state.history import source_id

logger = logging.getLogger("microopt.slack")

Block = dict[str, Any]
Respond = Callable[..., Any]

# Errors of chat.update meaning "not with the bot token": a message posted through a response_url, or a
# channel the bot is not in. The press's own response_url replaces the message instead.
NOT_UPDATABLE = frozenset(
    {"cant_update_message", "message_not_found", "channel_not_found", "not_in_channel", "is_archived"}
)

FOREIGN = (
    "Only members of the workspace microopt is installed in can act on its verdicts: you see here what they decide."
)
HOME_UNKNOWN = (
    "microopt could not confirm which workspace it is installed in (Slack did not answer): nothing was "
    "recorded; try again in a minute."
)
OLD_BUTTON = f"That button is from an older microopt message: ask `{COMMAND} status` for the verdict as it is now."
GONE = "That decision is no longer on record, so there is nothing to undo."
TOO_LATE = (
    f"A decision can be undone for {int(UNDO_WINDOW.total_seconds() // 60)} minutes, and this one is older: to "
    "reopen the test, set its Status cell in the sheet back to running."
)


def not_admin(admins: frozenset[str]) -> str:
    names = ", ".join(mention(a) or a for a in sorted(admins))
    return f"Only MICROOPT_ADMINS act on verdicts here: ask {names}."


def not_a_member(channel_id: str | None) -> str:
    where = f"<#{channel_id}>" if channel_id else "that test's channel"
    return f"You are not a member of {where}, where that test is routed: join it to act on its verdicts."


def not_routed(campaign: str) -> str:
    return (
        f"“{escape(campaign)}” is not routed to this channel, so it is not acted on here: use a channel the "
        "sheet's Channels tab routes it to."
    )


def already(decision: Decision) -> str:
    return f"Already decided: {decision_line(decision)}."


def sheet_later(sentence: str) -> str:
    return (
        "The decision is kept, and goes to the sheet's Decisions tab as soon as the sheet answers. "
        f"The sheet said: {escape(sentence)}"
    )


@dataclass(frozen=True)
class Press:
    """One press of a microopt button, as the `block_actions` payload gives it."""

    action: str  # a Choice, or "undo"
    value: str
    user_id: str
    user_name: str
    user_team: str | None
    channel_id: str | None
    message_ts: str | None
    text: str
    blocks: tuple[Block, ...] | None
    ephemeral: bool
    home: bool = False  # pressed in the Home tab: no message to update, the tab is published again

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Press | None:
        actions = body.get("actions") or []
        if not actions or not isinstance(actions[0], dict):
            return None
        action_id = str(actions[0].get("action_id", ""))
        if not action_id.startswith(ACTION_PREFIX):
            return None
        user = body.get("user") or {}
        container = body.get("container") or {}
        home = container.get("type") == "view" and (body.get("view") or {}).get("type") == "home"
        message = (body.get("view") if home else body.get("message")) or {}
        blocks = message.get("blocks")
        team = user.get("team_id") or (body.get("team") or {}).get("id")
        value = str(actions[0].get("value") or "") or _first_value(blocks, actions[0].get("block_id"))
        block = str(actions[0].get("block_id") or "")
        return cls(
            action=action_id.removeprefix(ACTION_PREFIX),
            value=value,
            user_id=str(user.get("id", "")),
            user_name=str(user.get("username") or user.get("name") or ""),
            user_team=str(team) if team else None,
            channel_id=channel_of_block(block)
            if home
            else container.get("channel_id") or (body.get("channel") or {}).get("id"),
            message_ts=None if home else container.get("message_ts") or message.get("ts"),
            text="" if home else str(message.get("text", "")),
            blocks=tuple(blocks) if isinstance(blocks, list) else None,
            ephemeral=bool(container.get("is_ephemeral")),
            home=home,
        )

    def shows(self, shown: VerdictShown) -> bool:
        """Whether the pressed message (or Home tab) holds this test's buttons or decision (microopt put it there)."""
        if self.home:
            target = home_block_id(self.channel_id or "", shown.campaign, shown.test)
        else:
            target = block_id(shown.campaign, shown.test)
        return any(block.get("block_id") == target for block in self.blocks or ())


def _first_value(blocks: object, target: object) -> str:
    """The value of the first button of block `target`: where a block's verdict rides for all its buttons."""
    if not isinstance(blocks, list) or not target:
        return ""
    block = next((b for b in blocks if isinstance(b, dict) and b.get("block_id") == target), None)
    elements = block.get("elements") if block else None
    first = elements[0] if isinstance(elements, list) and elements else None
    return str(first.get("value") or "") if isinstance(first, dict) else ""


class Presses:
    """Button presses for one app: its deps, the installing workspace, the channel names of the Channels tab."""

    def __init__(
        self,
        deps: Deps,
        home_team: Callable[[str | None], str | None],
        channel_names: Callable[[str | None], ChannelNames],
        member_of: Callable[[str | None, str, str], bool] | None = None,
    ) -> None:
        self.deps = deps
        # Whether a member (workspace, user) is in a channel now: a press from the Home tab counts only then.
        self.member_of = member_of
        # A presser's workspace → the one counted as the installing one; a workspace → its channel names.
        self.home_team = home_team
        self.channel_names = channel_names
        # What the sheet is owed, written by one thread at a time: a burst of presses is one request or a few.
        self.sheet = SheetWrites(deps)
        # The Channels tab parsed once per sheet read (the reads are shared and cached: `Deps.read_tabs`).
        self._routes_lock = threading.Lock()
        self._routes: tuple[list[Tab], list[ChannelRoute]] | None = None

    # -- the whole press -----------------------------------------------------------------------------
    def handle(self, press: Press | None, client: WebClient, respond: Respond) -> None:
        """Never raises: an unexpected failure becomes one sentence for the presser, the traceback goes to the log."""
        if press is None:
            return
        try:
            if press.action == UNDO:
                self.undo(press, client, respond)
            elif press.action in CHOICES:
                self.decide(press, press.action, client, respond)
        except NoDatabase:
            tell(respond, NO_DATABASE)
        except UserFacingError as error:  # the database did not say which sheet the channel reads
            tell(respond, escape(error))
        except Exception as error:
            reference = secrets.token_hex(3)
            logger.exception("a press of %s failed (reference %s)", press.action, reference)
            tell(
                respond,
                f"microopt could not record that (an unexpected {type(error).__name__}, reference {reference}): "
                "try again in a minute, and if it keeps failing give that reference to whoever runs microopt.",
            )

    def decide(self, press: Press, choice: Choice, client: WebClient, respond: Respond) -> None:
        shown = VerdictShown.from_value(press.value)
        if shown is None:
            tell(respond, OLD_BUTTON)
            return
        chosen = sheet_for(self.deps, press.channel_id)
        refusal = self.refusal(press, shown, chosen)
        if refusal is not None:
            tell(respond, refusal)
            return
        now = self.deps.clock()
        recorded = record_decision(
            self.deps.state(),
            source=source_id(chosen.spec),
            shown=shown,
            choice=choice,
            user_id=press.user_id,
            user_name=press.user_name,
            team_id=press.user_team,
            channel_id=press.channel_id or "",
            message_ts=press.message_ts,
            now=now,
            to_sheet=writes_to_sheet(self.deps, chosen.spec),
        )
        decision = recorded.decision
        if not recorded.new:
            if decision.user_id != press.user_id:
                tell(respond, already(decision))
            return  # a double click or a retry: the first press did the rest
        self.show(press, shown, decided_block(decision, now), client, respond, decision)
        if decision.sheet == "local":
            return

        def waits(sentence: str) -> None:
            self.show(
                press, shown, decided_block(decision, self.deps.clock(), sheet_pending=True), client, respond, decision
            )
            tell(respond, sheet_later(sentence))

        self.sheet.request(lambda: client, chosen.spec, decision.id, waits)

    def undo(self, press: Press, client: WebClient, respond: Respond) -> None:
        try:
            decision_id = int(press.value)
        except ValueError:
            return
        store = self.deps.state()
        found = find_decision(store, decision_id)
        chosen = sheet_for(self.deps, press.channel_id)
        if found is None or decision_source(store, decision_id) != source_id(chosen.spec):
            tell(respond, GONE)
            return
        refusal = self.refusal(press, found.shown, chosen)
        if refusal is not None:
            tell(respond, refusal)
            return
        now = self.deps.clock()
        outcome, decision = undo_decision(store, decision_id, press.user_id, now, press.user_name)
        if outcome == "too_late":
            tell(respond, TOO_LATE)
            return
        if outcome != "undone" or decision is None:
            return  # undone already: a double click or a retry
        self.show(press, decision.shown, buttons_for(decision.shown), client, respond)
        self.sheet.request(lambda: client, chosen.spec)

    # -- who may press ------------------------------------------------------------------------------
    def refusal(self, press: Press, shown: VerdictShown, chosen: SheetChoice) -> str | None:
        """The sentence for a press that may not act on `shown` here (the channel reads `chosen`); None when it may."""
        return self.access_refusal(
            press.user_id, press.user_team, press.channel_id, shown.campaign, chosen, press.shows(shown), press.home
        )

    def access_refusal(
        self,
        user_id: str,
        user_team: str | None,
        channel_id: str | None,
        campaign: str,
        chosen: SheetChoice,
        shown_here: bool = False,
        from_home: bool = False,
    ) -> str | None:
        """Whether `user_id` of `user_team` may act on `campaign` in `channel_id` (which reads `chosen`): the sentence
        that refuses, or None. `shown_here`: microopt itself showed that campaign there (trusted when the sheet
        cannot be read). `from_home`: pressed in the App Home, for the channel the test was shown for there, of
        which the presser must be a member."""
        link = chosen.link
        home = link.team_id if link is not None and link.team_id else self.home_team(user_team)
        if home is None:
            return HOME_UNKNOWN
        if user_team != home:
            return FOREIGN
        admins = self.deps.settings.admins
        if admins and user_id not in admins:
            return not_admin(admins)
        if from_home and (
            not channel_id or self.member_of is None or not self.member_of(user_team, user_id, channel_id)
        ):
            return not_a_member(channel_id)
        routes = self.routes(chosen.spec)
        if routes is not None and link is not None:
            routes = list(linked_routes(routes, [channel_id or ""]))
        if routes is None:
            # The sheet did not answer: microopt itself put this test in this message, in this channel.
            if shown_here:
                logger.info("the sheet could not be read: the press in %s rests on the message", channel_id)
                return None
            return not_routed(campaign)
        names = self.channel_names(home) if needs_names(routes) else ChannelNames()
        access = access_for(
            routes,
            Where(channel_id, None, user_team),
            names=names.ids,
            home_team=home,
            open_status=self.deps.settings.open_status,
            fallback_to_all=True,
        )
        return None if access.allows(campaign) else not_routed(campaign)

    def routes(self, spec: str) -> list[ChannelRoute] | None:
        """The Channels tab's rows of the sheet `spec` (the shared, cached read); None when it cannot be read."""
        try:
            tabs = self.deps.read_tabs(spec)
        except UserFacingError as error:
            logger.info("the sheet could not be read for a press: %s", error)
            return None
        with self._routes_lock:
            if self._routes is not None and self._routes[0] is tabs:
                return self._routes[1]
        problems: list[Problem] = []
        routes = [
            route for tab in tabs if tab.name.strip().lower() == "channels" for route in parse_channels(tab, problems)
        ]
        with self._routes_lock:
            self._routes = (tabs, routes)
        return routes

    # -- the message --------------------------------------------------------------------------------
    def show(
        self,
        press: Press,
        shown: VerdictShown,
        block: Block | None,
        client: WebClient,
        respond: Respond,
        decision: Decision | None = None,
    ) -> None:
        """Replace the test's block in the pressed message (by its buttons, or its decision) and remember it. (A
        Home tab has no message: it is published again after the press.)"""
        if press.home:
            return
        if press.blocks is None:
            if decision is not None:
                tell(respond, decision_line(decision))
            return
        blocks = replace_block(press.blocks, block_id(shown.campaign, shown.test), block)
        if blocks is None:
            return
        updated = update_message(client, respond, press, blocks)
        if decision is not None and updated:
            remember_message(self.deps.state(), decision.id, press.text, blocks)


def update_message(client: WebClient, respond: Respond, press: Press, blocks: list[Block]) -> bool:
    """`chat.update` of the pressed message; its `response_url` when the bot cannot update it."""
    if not press.ephemeral and press.channel_id and press.message_ts:
        try:
            client.chat_update(channel=press.channel_id, ts=press.message_ts, text=press.text, blocks=blocks)
            return True
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if code not in NOT_UPDATABLE:
                logger.warning("chat.update failed in %s: %s", press.channel_id, code)
                return False
    try:
        respond(text=press.text, blocks=blocks, replace_original=True)
        return True
    except Exception:
        logger.warning("could not update the pressed message in %s", press.channel_id, exc_info=True)
        return False


def tell(respond: Respond, sentence: str) -> None:
    """One sentence for the presser alone."""
    try:
        respond(**render_notice(sentence), response_type="ephemeral", replace_original=False)
    except (SlackClientError, OSError):
        logger.warning("could not tell a presser: %s", sentence.split(":", 1)[0])
