"""The service account microopt signs in with, from a key file or from the key's JSON in the environment.

Scopes are the least that work: read-only, or read-write only when the Verdicts tab is written back.
Nothing here logs or repeats the key's contents; sentences name the setting and the file, never the secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account

from bot.errors import SheetUnavailable
from bot.settings import Settings

READ_ONLY_SCOPES = ("https://www.googleapis.com/auth/spreadsheets.readonly",)
READ_WRITE_SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
_NEW_KEY = (
    "create a JSON key for the service account (Google Cloud console → IAM & Admin → Service accounts → "
    "Keys → Add key → JSON)"
)


def scopes_for(settings: Settings) -> tuple[str, ...]:
    return READ_WRITE_SCOPES if settings.write_verdicts else READ_ONLY_SCOPES


def _key_info(settings: Settings) -> tuple[dict[str, Any], str]:
    """The key as a dict, and how to name where it came from in a sentence."""
    if settings.google_credentials_json and settings.google_credentials_json.strip():
        where = "MICROOPT_GOOGLE_CREDENTIALS"
        try:
            info = json.loads(settings.google_credentials_json)
        except ValueError as error:
            raise SheetUnavailable(
                "MICROOPT_GOOGLE_CREDENTIALS is not valid JSON: paste the whole contents of the service "
                "account's JSON key file into it."
            ) from error
    elif settings.google_credentials_file is not None:
        path = Path(settings.google_credentials_file).expanduser()
        where = f"The key file {path} (GOOGLE_APPLICATION_CREDENTIALS)"
        if not path.is_file():
            raise SheetUnavailable(
                f"GOOGLE_APPLICATION_CREDENTIALS points to {path}, which does not exist: set it to the path of "
                "the service account's JSON key file."
            )
        try:
            info = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise SheetUnavailable(
                f"{where} is not a readable JSON key: {_NEW_KEY} and point the setting at it."
            ) from error
    else:
        raise SheetUnavailable(
            "MICROOPT_SHEET is a Google Sheet but no service account is set: set GOOGLE_APPLICATION_CREDENTIALS "
            "to the path of its JSON key file, or MICROOPT_GOOGLE_CREDENTIALS to the key's JSON."
        )
    if not isinstance(info, dict):
        raise SheetUnavailable(f"{where} is not a service-account key: {_NEW_KEY}.")
    return info, where


def load_credentials(settings: Settings) -> service_account.Credentials:
    """Service-account credentials with the least scope microopt needs; one sentence if the key is unusable."""
    info, where = _key_info(settings)
    kind = info.get("type")
    if kind != "service_account":
        found = f"it is a {kind!r} credential" if isinstance(kind, str) else 'it has no "type": "service_account"'
        raise SheetUnavailable(f"{where} is not a service-account key ({found}): {_NEW_KEY}.")
    missing = [name for name in ("client_email", "private_key", "token_uri") if not info.get(name)]
    if missing:
        raise SheetUnavailable(f"{where} is incomplete (no {', '.join(missing)}): {_NEW_KEY}.")
    try:
        make = service_account.Credentials.from_service_account_info
        # google-auth ships no annotations for this constructor.
        credentials = make(info, scopes=list(scopes_for(settings)))  # type: ignore[no-untyped-call]
        return cast(service_account.Credentials, credentials)
    except (ValueError, TypeError, KeyError, IndexError, GoogleAuthError) as error:
        # The message of a key parser error can quote the key; only the error's type reaches the sentence.
        raise SheetUnavailable(
            f"{where} has a private key that cannot be read ({type(error).__name__}): {_NEW_KEY}."
        ) from None
