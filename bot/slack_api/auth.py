"""Whether Slack takes the bot token: asked once when a worker starts (`auth.test`), and noticed on every call
of the worker's client after that (`WorkerClient`), so a token revoked while it runs stops it with one
sentence instead of a warning per channel and minute. Slack that cannot be reached is said as such, once."""

from __future__ import annotations

import http.client
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.errors import SlackTokenRefused, SlackUnreachable
from bot.settings import Settings

APPS_PAGE = "https://api.slack.com/apps"
# The errors of any Web API method that mean the token itself is wrong, not the call.
REFUSED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})


def refused_sentence(code: str) -> str:
    return (
        f"Slack refused SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token again from your app's OAuth & "
        f"Permissions page at {APPS_PAGE}, reinstalling the app if it was removed."
    )


def unreachable_sentence(settings: Settings, error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    return (
        f"Slack could not be reached at {settings.slack_api_url} ({type(reason).__name__}): check this machine's "
        "network, proxy and SLACK_API_URL; nothing was posted."
    )


class WorkerClient(WebClient):
    """A Web API client whose every call raises `SlackTokenRefused` when Slack refuses the token, whichever
    method met it, so the caller's handling of a call's own errors (a channel not found) never swallows it."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if code in REFUSED:
                raise SlackTokenRefused(refused_sentence(code)) from error
            raise


def check_token(client: WebClient, settings: Settings) -> None:
    """Ask Slack once (`auth.test`) whether it takes the token: `SlackTokenRefused` or `SlackUnreachable`
    (one sentence each) when it does not answer yes."""
    try:
        client.auth_test()
    except SlackApiError as error:  # a plain client's refusal (a WorkerClient raises SlackTokenRefused itself)
        code = str(error.response.get("error", ""))
        if code in REFUSED:
            raise SlackTokenRefused(refused_sentence(code)) from error
        raise SlackUnreachable(
            f"Slack did not confirm SLACK_BOT_TOKEN (auth.test answered {code or error.response.status_code}): "
            "try again in a minute; nothing was posted."
        ) from error
    except (OSError, http.client.HTTPException) as error:  # refused connections, timeouts, DNS (URLError)
        raise SlackUnreachable(unreachable_sentence(settings, error)) from error
