"""Which Slack client speaks for each workspace.

With one `SLACK_BOT_TOKEN` (a single install), one client speaks everywhere. With installs in many workspaces
(SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET), each workspace's bot token is in the state
database (`bot.state.installs`), put there by Slack's OAuth v2 install; a rotating token is refreshed here
before it expires (`oauth.v2.access` with its refresh token, as bolt does for requests) and saved back. A
workspace without an installation (it never installed, or uninstalled) has no client: `NotInstalled`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot.errors import UserFacingError
from bot.settings import Settings
from bot.slack_api.client import create_web_client

if TYPE_CHECKING:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    from bot.state.store import StateStore

logger = logging.getLogger("microopt.slack")

# A token expiring within this is refreshed first (bolt's default for requests is the same two hours).
ROTATE_MINUTES = 120


class NotInstalled(UserFacingError):
    """A workspace microopt is not installed in (any more): nothing can be posted there."""


def not_installed(team_id: str | None) -> NotInstalled:
    return NotInstalled(
        f"microopt is not installed in the workspace {team_id or '(unknown)'}: install it again from /slack/install."
    )


class Workspaces:
    """Each workspace's client, built from its installation when asked (tokens rotate, so nothing is kept)."""

    def __init__(
        self,
        settings: Settings,
        state: Callable[[], StateStore],
        default: Callable[[], WebClient],
    ) -> None:
        self.settings = settings
        self._state = state
        self._default = default
        self._lock = threading.Lock()
        self._store: SQLAlchemyInstallationStore | None = None

    def installations(self) -> SQLAlchemyInstallationStore:
        with self._lock:
            if self._store is None:
                from bot.state.installs import installation_store

                self._store = installation_store(self._state(), self.settings.slack_client_id or "")
            return self._store

    def client(self, team_id: str | None) -> WebClient:
        """The client of `team_id`'s installation; the SLACK_BOT_TOKEN client for no workspace (or without
        installs)."""
        if not self.settings.oauth or team_id is None:
            return self._default()
        token = self.bot_token(team_id)
        if token is None:
            raise not_installed(team_id)
        return create_web_client(self.settings, token=token)

    def bot_token(self, team_id: str) -> str | None:
        """The workspace's bot token, refreshed first when it rotates and expires within ROTATE_MINUTES."""
        installs = self.installations()
        installation = installs.find_installation(enterprise_id=None, team_id=team_id)
        if installation is None or not installation.bot_token:
            return None
        if installation.bot_refresh_token:
            from slack_sdk.oauth.token_rotation import TokenRotator

            rotator = TokenRotator(
                client_id=self.settings.slack_client_id or "",
                client_secret=self.settings.slack_client_secret or "",
                client=create_web_client(self.settings, token=""),
            )
            refreshed = rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=ROTATE_MINUTES
            )
            if refreshed is not None:
                installs.save(refreshed)
                logger.info("the bot token of workspace %s was rotated", team_id)
                installation = refreshed
        return installation.bot_token
