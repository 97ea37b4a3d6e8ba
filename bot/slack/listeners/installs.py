"""A workspace leaving (installs in many workspaces): `app_uninstalled` and `tokens_revoked` remove its installation
and the sheets linked in its channels (`bot.slack.installs.Uninstalls`). bolt lets these two events through without
an installation to authorize them: the workspace's token is already gone."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.slack.installs import Uninstalls


def register(app: App, uninstalls: Uninstalls) -> None:
    @app.event("app_uninstalled")
    def app_uninstalled(ack: Ack, context: BoltContext) -> None:
        ack()
        uninstalls.workspace_left(context.enterprise_id, context.team_id)

    @app.event("tokens_revoked")
    def tokens_revoked(ack: Ack, event: dict[str, Any], context: BoltContext) -> None:
        ack()
        uninstalls.tokens_revoked(event, context.enterprise_id, context.team_id)
