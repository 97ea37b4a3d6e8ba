"""A Sheets API stand-in per test, a freshly generated service-account key pointing at it, and settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tenacity import wait_fixed

from bot.settings import Settings
from bot.sources.google import GoogleSheets
from tests.fakes.sheets_api import SheetsStandIn, new_rsa_key, service_account_info

EMAIL = "microopt-reader@spring-team.iam.gserviceaccount.com"
KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-Spring"


@pytest.fixture(scope="session")
def rsa_key():
    return new_rsa_key()


@pytest.fixture
def sheets_api(rsa_key) -> Iterator[SheetsStandIn]:
    with SheetsStandIn(public_key=rsa_key.public_key()) as stand_in:
        yield stand_in


@pytest.fixture
def key_info(rsa_key, sheets_api) -> dict[str, str]:
    return service_account_info(rsa_key, token_uri=sheets_api.token_uri, email=EMAIL)


@pytest.fixture
def key_file(tmp_path: Path, key_info) -> Path:
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(key_info))
    return path


@pytest.fixture
def make_settings(sheets_api, key_file) -> Callable[..., Settings]:
    def make(**values: Any) -> Settings:
        defaults: dict[str, Any] = {
            "sheet": KEY,
            "sheets_endpoint": sheets_api.base,
            "google_credentials_file": key_file,
            "google_credentials_json": None,
            "sheets_timeout_seconds": 2.0,
            "sheets_attempts": 3,
            "sheet_cache_seconds": 60.0,
            "write_verdicts": False,
            "min_days": 1,  # the sheet plumbing is checked on verdicts called from single totals
        }
        return Settings(_env_file=None, **{**defaults, **values})  # type: ignore[call-arg]

    return make


class Sleeps(list[float]):
    """Stands in for time.sleep: records each backoff instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def google(make_settings, sleeps) -> Callable[..., GoogleSheets]:
    """A GoogleSheets whose retries do not wait (the backoff is still computed, with jitter, and recorded)."""

    def make(**values: Any) -> GoogleSheets:
        return GoogleSheets(make_settings(**values), sleep=sleeps)

    return make


@pytest.fixture
def no_wait():
    return wait_fixed(0)
