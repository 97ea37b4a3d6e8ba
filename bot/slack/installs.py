"""Installs in many workspaces: Slack's OAuth v2 install, the clients of each workspace, and what an uninstall
removes.

With SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET set, `microopt serve` offers
`GET /slack/install` (a page with the *Add to Slack* link, the OAuth state kept in the database and signed with
the state secret) and `GET /slack/oauth_redirect` (where Slack sends the browser back: the code is exchanged
with `oauth.v2.access` and the workspace's installation kept by slack_sdk's SQLAlchemy store in the state
database, `bot.state.installs`). bolt then authorizes every request with its workspace's own bot token,
rotating it before it expires. When a workspace uninstalls microopt (`app_uninstalled`) or revokes its bot
token (`tokens_revoked`), its installation and every sheet linked in its channels are removed.

Without them, the one SLACK_BOT_TOKEN serves as before (`SlackWorkspaces.single`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.deps import Deps
from bot.settings import Settings
from bot.slack_api.client import create_web_client
from bot.slack_api.directory import ChannelDirectory, ChannelNames
from bot.slack_api.scopes import OPTIONAL, REQUIRED
from bot.state.links import unlink_team
from bot.workspaces import ROTATE_MINUTES

logger = logging.getLogger("microopt.slack")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# What a request from a workspace microopt is not installed in (any more) gets, instead of bolt's apology.
NOT_INSTALLED = (
    ":warning: microopt is not installed in this workspace (any more): ask a workspace admin to install it again "
    "from its install page (/slack/install on microopt's address)."
)


class SignedStates(OAuthStateStore):
    """OAuth states kept in the database and signed with SLACK_STATE_SECRET: a state that was not made here is
    refused before the database is asked, and one made here is good once, for ten minutes."""

    def __init__(self, inner: OAuthStateStore, secret: str) -> None:
        self._inner = inner
        self._secret = secret.encode()

    @property
    def logger(self) -> logging.Logger:
        return logger

    def _sign(self, state: str) -> str:
        return hmac.new(self._secret, state.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = self._inner.issue(*args, **kwargs)
        return f"{state}.{self._sign(state)}"

    def consume(self, state: str) -> bool:
        raw, _, signature = state.rpartition(".")
        if not raw or not hmac.compare_digest(signature, self._sign(raw)):
            logger.warning("an OAuth redirect came back with a state microopt did not sign")
            return False
        return self._inner.consume(raw)


def authorization_url(settings: Settings) -> str:
    """Slack's install page on the same host as SLACK_API_URL (slack.com, GovSlack's slack-gov.com, a stand-in)."""
    base = settings.slack_api_url.rstrip("/").removesuffix("/api")
    return f"{base}/oauth/v2/authorize"


def oauth_settings(settings: Settings, deps: Deps) -> OAuthSettings:
    from bot.state.installs import installation_store, oauth_state_store  # slack_sdk's stores: only with installs

    store = deps.state()
    installs = installation_store(store, settings.slack_client_id or "")
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=[*REQUIRED, *OPTIONAL],
        installation_store=installs,
        state_store=SignedStates(oauth_state_store(store), settings.slack_state_secret or ""),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        redirect_uri=settings.slack_redirect_uri,
        authorization_url=authorization_url(settings),
        token_rotation_expiration_minutes=ROTATE_MINUTES,
    )
    # bolt's own authorize refreshes rotating tokens with a client of slack.com; this one asks SLACK_API_URL.
    oauth.authorize = InstallationStoreAuthorize(
        logger=logger,
        installation_store=installs,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        token_rotation_expiration_minutes=ROTATE_MINUTES,
        client=create_web_client(settings, token=None),
    )
    return oauth


def home_team_of(client: WebClient) -> Callable[[], str | None]:
    """The workspace the bot token belongs to (`auth.test`), asked once; None (all requests foreign) until
    Slack has answered, so an outage never widens what a channel sees."""
    lock = threading.Lock()
    known: list[str] = []

    def home_team() -> str | None:
        with lock:
            if known:
                return known[0]
            try:
                team = client.auth_test().get("team_id")
            except SlackClientError:
                logger.warning("auth.test failed: every request is treated as from another workspace for now")
                return None
            if team:
                known.append(str(team))
            return str(team) if team else None

    return home_team


class SlackWorkspaces:
    """For one app: each workspace's client, channel names and home (the workspace a request counts as its own)."""

    def __init__(self, app: App, deps: Deps, oauth: bool) -> None:
        self.app = app
        self.deps = deps
        self.oauth = oauth
        self._lock = threading.Lock()
        self._directories: dict[str | None, ChannelDirectory] = {}
        self._single_home = home_team_of(app.client)
        self._default_home = home_team_of(deps.slack_client()) if oauth and deps.settings.slack_bot_token else None

    @classmethod
    def single(cls, app: App, deps: Deps) -> SlackWorkspaces:
        return cls(app, deps, oauth=False)

    def client(self, team_id: str | None) -> WebClient:
        """The client that speaks for `team_id` (the one bot token without installs)."""
        return self.deps.slack_client_for(team_id) if self.oauth else self.app.client

    def names(self, team_id: str | None) -> ChannelNames:
        """`team_id`'s channel names → IDs, asked at most every two minutes per workspace."""
        key = team_id if self.oauth else None
        with self._lock:
            directory = self._directories.get(key)
            if directory is None:
                directory = ChannelDirectory(lambda: self.client(key), self.deps.clock)
                self._directories[key] = directory
        return directory.names()

    def home_team(self, team_id: str | None) -> str | None:
        """The workspace a request from `team_id` counts as its own: with installs, its own (bolt authorized it
        with that workspace's installation); with one bot token, the token's workspace (`auth.test`), None until
        Slack has said, so an outage never widens what a channel sees."""
        return team_id if self.oauth else self._single_home()

    def default_team(self) -> str | None:
        """The workspace MICROOPT_SHEET belongs to: SLACK_BOT_TOKEN's. With installs and no SLACK_BOT_TOKEN, none:
        every workspace reads only the sheets linked in its own channels."""
        if not self.oauth:
            return self._single_home()
        return self._default_home() if self._default_home is not None else None


class Uninstalls:
    """What a workspace leaving removes: its installation (bolt's store) and every sheet linked in its channels."""

    def __init__(self, app: App, deps: Deps) -> None:
        self.app = app
        self.deps = deps

    def workspace_left(self, enterprise_id: str | None, team_id: str | None) -> None:
        if not team_id:
            return
        flow = self.app.oauth_flow
        if flow is not None:
            flow.settings.installation_store.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        removed = unlink_team(self.deps.state(), team_id, self.deps.clock())
        logger.info("workspace %s left: its installation and %d linked channel(s) removed", team_id, len(removed))

    def tokens_revoked(self, event: dict[str, Any], enterprise_id: str | None, team_id: str | None) -> None:
        """The bot's token revoked: the same as an uninstall (microopt holds no user tokens)."""
        if (event.get("tokens") or {}).get("bot"):
            self.workspace_left(enterprise_id, team_id)
