"""Buttons on verdicts (`block_actions` whose action starts with `microopt.`): acknowledged at once, acted on after.

The acknowledgement is an empty 200 on the request thread, before any database or sheet I/O; the press itself
(who may press, the decision, the message, the sheet) is a lazy listener on the app's answer pool
(`bot.slack.decisions.presses`). Slack's retries of a press are dropped by `bot.slack.retries` in this process
and, across processes, find the decision already standing. A press in the Home tab has no message to update and no
`response_url`: the presser's tab is published again, showing the decision, with any sentence at its top.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.deps import Deps
from bot.slack.decisions.presses import Press, Presses
from bot.slack.home import HomeNotes, HomeTab
from bot.slack.installs import SlackWorkspaces

ACTION = re.compile(r"^microopt\.")


def register(app: App, deps: Deps, workspaces: SlackWorkspaces | None = None, home: HomeTab | None = None) -> None:
    workspaces = workspaces or SlackWorkspaces.single(app, deps)
    presses = Presses(deps, workspaces.home_team, workspaces.names, home.member_of if home else None)

    def acknowledge(ack: Ack) -> None:
        ack()

    def act(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        press = Press.from_body(body)
        if press is None or not press.home or home is None:
            presses.handle(press, client, respond)
            return
        notes = HomeNotes()
        presses.handle(press, client, notes)

        def publish(sentences: list[str]) -> None:
            home.publish(client, press.user_team, press.user_id, notices=sentences)

        publish(notes.then(lambda sentence: publish([sentence])))

    app.action(ACTION)(ack=acknowledge, lazy=[act])
