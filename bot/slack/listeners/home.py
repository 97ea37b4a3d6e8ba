"""`app_home_opened` (the Home tab): acknowledged at once, the view built and published after
(`bot.slack.home`), as a lazy listener on the app's answer pool. The Messages tab is left alone."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.slack.home import HomeTab


def register(app: App, home: HomeTab) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def publish(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            home.publish(client, context.team_id, str(event["user"]), (event.get("view") or {}).get("hash"))

    app.event("app_home_opened")(ack=acknowledge, lazy=[publish])
