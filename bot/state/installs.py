"""Each workspace's installation of microopt, and the OAuth states of installs under way: slack_sdk's own
SQLAlchemy stores, in the state database beside microopt's tables (`slack_installations`, `slack_bots`,
`slack_oauth_states`), their tables made under the same lock as microopt's (`StateStore.ensure_tables`).

slack_sdk keeps a workspace's bot token, its refresh token and when it expires (token rotation), and deletes
them when the workspace uninstalls the app; microopt reads them for every request (bolt's authorize) and for
every digest (`bot.workspaces`).
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.state.store import StateStore

STATE_SECONDS = 600  # how long an install may take, from the install page to Slack's redirect


def installation_store(store: StateStore, client_id: str) -> SQLAlchemyInstallationStore:
    installs = SQLAlchemyInstallationStore(client_id=client_id, engine=store.engine)
    store.ensure_tables(installs.metadata)
    return installs


def oauth_state_store(store: StateStore, seconds: int = STATE_SECONDS) -> SQLAlchemyOAuthStateStore:
    states = SQLAlchemyOAuthStateStore(expiration_seconds=seconds, engine=store.engine)
    store.ensure_tables(states.metadata)
    return states
