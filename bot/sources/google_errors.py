"""What went wrong talking to Google, as one sentence the team can act on.

Every failure of a read or a write ends here after the last try: not shared (naming the service account's
email to share with), not found, API disabled, key refused, rate limited, timed out, unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import requests
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from gspread.exceptions import APIError

from bot.errors import SheetUnavailable
from bot.sources.google_http import error_text, status_of

Action = Literal["read", "write"]


@dataclass(frozen=True)
class Context:
    """What the sentence may name: the sheet's key, the account, the endpoint, the limits in force."""

    key: str
    email: str
    endpoint: str
    attempts: int
    timeout: float
    action: Action = "read"
    editor: bool = False  # write-back is on, so the account needs Editor access
    named_by: str = "MICROOPT_SHEET"  # what named the sheet: the setting, or a channel's link

    @property
    def check(self) -> str:
        return f"check {self.named_by}"

    @property
    def role(self) -> str:
        return "an Editor (microopt writes its Verdicts tab)" if self.editor else "a Viewer"

    @property
    def tries(self) -> str:
        return "1 try" if self.attempts == 1 else f"{self.attempts} tries"


def _api_disabled(error: APIError) -> bool:
    text = error_text(error)
    return "SERVICE_DISABLED" in text or "has not been used in project" in text or "it is disabled" in text


def _activation_url(error: APIError) -> str:
    for detail in error.error.get("details", []) or []:
        metadata = detail.get("metadata", {}) if isinstance(detail, dict) else {}
        if isinstance(metadata, dict) and metadata.get("activationUrl"):
            return str(metadata["activationUrl"])
    return "https://console.cloud.google.com/apis/library/sheets.googleapis.com"


def _api_sentence(error: APIError, ctx: Context) -> str:
    status = status_of(error)
    if status == 404:
        if error.code == -1:  # not Google's JSON: the endpoint itself is wrong
            return (
                f"The Sheets endpoint {ctx.endpoint} answered 404 with a page that is not Google's: "
                "check MICROOPT_SHEETS_ENDPOINT (leave it unset for Google itself)."
            )
        return (
            f"No Google Sheet has the key {ctx.key}: {ctx.check} (copy the sheet's URL from the "
            "browser's address bar), or whether the sheet was deleted."
        )
    if status == 403 and _api_disabled(error):
        return (
            "The Google Sheets API is turned off in the service account's Google Cloud project: enable it at "
            f"{_activation_url(error)}, wait a minute, and try again."
        )
    if status == 403 and ctx.action == "write":
        return (
            f"microopt can read the sheet {ctx.key} but may not write its Verdicts tab: share the sheet with "
            f"{ctx.email} as an Editor, or turn MICROOPT_WRITE_VERDICTS off."
        )
    if status == 403:
        return (
            f"The Google Sheet {ctx.key} is not shared with microopt's service account: open the sheet, "
            f"click Share, and add {ctx.email} as {ctx.role}."
        )
    if status == 401:
        return (
            f"Google did not accept the sign-in of {ctx.email} (HTTP 401): create a new JSON key for the service "
            "account and update GOOGLE_APPLICATION_CREDENTIALS (or MICROOPT_GOOGLE_CREDENTIALS)."
        )
    if status == 429 or "RATE_LIMIT" in error_text(error) or "RESOURCE_EXHAUSTED" in error_text(error):
        return (
            f"Google Sheets is rate-limiting microopt (HTTP {status}, {ctx.tries}): wait a minute and ask again; "
            "if it keeps happening, raise MICROOPT_SHEET_CACHE_SECONDS so the sheet is read less often."
        )
    if status >= 500 or status == 408:
        return (
            f"Google Sheets kept failing (HTTP {status}, {ctx.tries}): Google is probably having trouble; "
            "try again in a few minutes."
        )
    message = str(error.error.get("message", "")).strip().rstrip(".")[:200]
    return (
        f"Google Sheets refused to {ctx.action} the sheet {ctx.key} (HTTP {status}"
        + (f": {message}" if message else "")
        + f"): {ctx.check} and the sheet's tabs."
    )


def _refresh_sentence(error: RefreshError, ctx: Context) -> str:
    reason = str(error.args[0]).strip().rstrip(".")[:160] if error.args else "refused"
    lowered = reason.lower()
    if "short-lived" in lowered or "iat" in lowered or "reasonable timeframe" in lowered:
        return (
            f"Google refused the service account's sign-in because this host's clock is off ({reason}): "
            "set the clock right (turn on NTP) and try again."
        )
    if error.retryable:
        return (
            f"Google's sign-in service kept failing ({reason}, {ctx.tries}): Google is probably having trouble; "
            "try again in a few minutes."
        )
    return (
        f"Google refused the key of {ctx.email} ({reason}): the key was deleted, disabled or has expired, "
        "or the service account is gone; create a new JSON key and update GOOGLE_APPLICATION_CREDENTIALS "
        "(or MICROOPT_GOOGLE_CREDENTIALS)."
    )


def sentence(error: BaseException, ctx: Context) -> str:
    """The one sentence for `error`, raised after the last try of a request about `ctx.key`."""
    if isinstance(error, APIError):
        return _api_sentence(error, ctx)
    if isinstance(error, RefreshError):
        return _refresh_sentence(error, ctx)
    cause = error.__cause__ if isinstance(error, TransportError) else error
    timed_out = isinstance(cause, requests.exceptions.Timeout)
    if isinstance(error, TransportError):
        what = "did not answer in time" if timed_out else "could not be reached"
        return (
            f"Google's sign-in service {what} ({ctx.tries}): check this host's network and proxy settings, "
            "and the token_uri in the service account's key."
        )
    if timed_out:
        return (
            f"Google Sheets did not answer within {ctx.timeout:g} s ({ctx.tries}): check this host's network "
            "or MICROOPT_SHEETS_ENDPOINT, or raise MICROOPT_SHEETS_TIMEOUT."
        )
    if isinstance(error, requests.exceptions.RequestException):
        return (
            f"Could not reach Google Sheets at {ctx.endpoint} ({ctx.tries}): check this host's network and "
            "proxy settings, or MICROOPT_SHEETS_ENDPOINT."
        )
    if isinstance(error, GoogleAuthError):
        return (
            f"Google could not sign in as {ctx.email} ({type(error).__name__}): create a new JSON key for the "
            "service account and update GOOGLE_APPLICATION_CREDENTIALS."
        )
    return f"microopt could not {ctx.action} the Google Sheet {ctx.key} ({type(error).__name__}); see the log."


def unavailable(error: BaseException, ctx: Context) -> SheetUnavailable:
    return SheetUnavailable(sentence(error, ctx))
