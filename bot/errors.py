"""Every failure a user can meet, each with one sentence that says what to do.

`UserFacingError` is the only exception the CLI and Slack show to people; anything else is a bug,
logged with its traceback and shown as a short apology.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose message is one sentence a user can act on."""


class SheetUnavailable(UserFacingError):
    """The sheet could not be read (missing file, not shared, quota, timeout…)."""


class ConfigurationError(UserFacingError):
    """A setting is missing or malformed."""


class DatabaseUnavailable(UserFacingError):
    """The state database (DATABASE_URL) stopped answering."""


class NoDatabase(UserFacingError):
    """microopt was started without a state database; callers that can do without one catch exactly this."""


class NoSlackClient(UserFacingError):
    """microopt was started without a Slack Web client to post with."""


class SlackTokenRefused(ConfigurationError):
    """Slack refused the bot token (`invalid_auth`, `not_authed`, revoked…): nothing can be posted until it is fixed."""


class SlackUnreachable(UserFacingError):
    """Slack could not be reached at all (no answer, refused connection, DNS): not a wrong token."""


# The error code the channel directory records when Slack could not be reached at all (not a scope or install
# problem: nothing to reinstall). Here, not in bot/slack_api, so routing can test for it without importing slack_sdk.
CONNECTION = "connection_error"
