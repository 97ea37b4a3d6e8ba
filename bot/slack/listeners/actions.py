"""Buttons on verdicts (`block_actions` whose action starts with `microopt.`): acknowledged at once, acted on after.

The acknowledgement is an empty 200 on the request thread, before any database or sheet I/O; the press itself
(who may press, the decision, the message, the sheet) is a lazy listener on the app's answer pool
(`bot.slack.presses`). Slack's retries of a press are dropped by `bot.slack.retries` in this process and, across
processes, find the decision already standing.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.deps import Deps
from bot.slack.listeners.commands import home_team_of
from bot.slack.presses import Press, Presses
from bot.slack_api.directory import ChannelDirectory

ACTION = re.compile(r"^microopt\.")


def register(app: App, deps: Deps) -> None:
    directory = ChannelDirectory(lambda: app.client, deps.clock)
    presses = Presses(deps, home_team_of(app.client), directory.names)

    def acknowledge(ack: Ack) -> None:
        ack()

    def act(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        presses.handle(Press.from_body(body), client, respond)

    app.action(ACTION)(ack=acknowledge, lazy=[act])
