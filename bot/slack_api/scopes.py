"""The bot scopes microopt needs (manifest.yml asks for exactly these) and which of them a token has.

Slack says a token's scopes in the `x-oauth-scopes` header of every Web API answer (`auth.test` included), so
`microopt doctor` checks them without a call of its own.
"""

from __future__ import annotations

from collections.abc import Mapping

# scope → what microopt does with it, in the words a missing-scope sentence uses
REQUIRED: Mapping[str, str] = {
    "commands": "the /microopt command",
    "chat:write": "posting verdicts and digests",
    "files:write": "uploading charts",
    "channels:read": "resolving the Channels tab's channel names",
    "channels:history": "reading back its own digests before posting one again",
    "groups:history": "the same in private channels",
}
OPTIONAL: Mapping[str, str] = {
    "groups:read": "resolving private channels' names (else write their IDs in the Channels tab)",
    "users:read": "the Home tab (telling members of this workspace from guests of others)",
}


def granted(headers: Mapping[str, object]) -> frozenset[str] | None:
    """The scopes a Web API answer says the token has; None when it does not say."""
    for name, value in headers.items():
        if name.lower() == "x-oauth-scopes":
            text = ",".join(value) if isinstance(value, list) else str(value)
            return frozenset(part.strip() for part in text.split(",") if part.strip())
    return None
