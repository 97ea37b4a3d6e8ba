"""Settings, read once from the environment (and `.env`) by the entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EXAMPLE_SHEET = Path(__file__).resolve().parent.parent / "examples" / "campaigns.xlsx"
# What one read of a sheet may take (bot/sources/limits.py), and how many comparisons one analysis may make
# (bot/service.py): chosen so that a web process answering from a sheet of any size and shape stays under
# 1 GB (benchmarks/bench_big_sheet.py measures it).
DEFAULT_MAX_ROWS = 100_000
DEFAULT_MAX_CELLS = 1_000_000
DEFAULT_MAX_COMPARISONS = 60_000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    sheet: str = Field(default=str(EXAMPLE_SHEET), validation_alias="MICROOPT_SHEET")
    # A Setup tab kept in its own CSV (Column, Role, optionally Tab): for a sheet that cannot hold one (a CSV).
    setup: str | None = Field(default=None, validation_alias="MICROOPT_SETUP")
    sheet_cache_seconds: float = Field(default=60.0, ge=0, validation_alias="MICROOPT_SHEET_CACHE_SECONDS")
    sheets_endpoint: str = Field(default="https://sheets.googleapis.com", validation_alias="MICROOPT_SHEETS_ENDPOINT")
    google_credentials_file: Path | None = Field(default=None, validation_alias="GOOGLE_APPLICATION_CREDENTIALS")
    google_credentials_json: str | None = Field(
        default=None, validation_alias="MICROOPT_GOOGLE_CREDENTIALS", repr=False
    )
    sheets_timeout_seconds: float = Field(default=20.0, gt=0, validation_alias="MICROOPT_SHEETS_TIMEOUT")
    sheets_attempts: int = Field(default=4, ge=1, validation_alias="MICROOPT_SHEETS_ATTEMPTS")
    write_verdicts: bool = Field(default=False, validation_alias="MICROOPT_WRITE_VERDICTS")
    max_rows: int = Field(default=DEFAULT_MAX_ROWS, ge=1, validation_alias="MICROOPT_MAX_ROWS")
    max_cells: int = Field(default=DEFAULT_MAX_CELLS, ge=1, validation_alias="MICROOPT_MAX_CELLS")
    max_comparisons: int = Field(default=DEFAULT_MAX_COMPARISONS, ge=1, validation_alias="MICROOPT_MAX_COMPARISONS")
    # Read requests this process sends to Google a minute (bot/sources/quota.py): Google allows 60 per service
    # account; what is left is for the other processes signed in with the same account.
    sheets_reads_per_minute: int = Field(
        default=50, ge=1, le=10_000, validation_alias="MICROOPT_SHEETS_READS_PER_MINUTE"
    )
    # Decisions taken from Slack go to the sheet's Decisions tab and Status cells (docs/slack.md); off: the
    # database alone keeps them, and the sheet is never written for them.
    write_decisions: bool = Field(default=True, validation_alias="MICROOPT_WRITE_DECISIONS")

    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN", repr=False)
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET", repr=False)
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN", repr=False)
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    # Installs in many workspaces (docs/slack.md, Installs in many workspaces): with all three set, `serve` offers
    # Slack's OAuth v2 install and keeps each workspace's token in the database.
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET", repr=False)
    slack_state_secret: str | None = Field(default=None, validation_alias="SLACK_STATE_SECRET", repr=False)
    # Where Slack sends the browser back after an install (`https://HOST/slack/oauth_redirect`); unset, the app's
    # only Redirect URL is used.
    slack_redirect_uri: str | None = Field(default=None, validation_alias="SLACK_REDIRECT_URI")
    slack_timeout_seconds: int = Field(default=10, ge=1, le=120, validation_alias="MICROOPT_SLACK_TIMEOUT")
    port: int = Field(default=3000, validation_alias="PORT")
    # Serving (docs/slack.md): a request body past this is refused unread (413); a command's answer stays its
    # process's this long without a heartbeat, then another process takes it over.
    max_body_kb: int = Field(default=512, ge=16, le=10_240, validation_alias="MICROOPT_MAX_BODY_KB")
    answer_lease_seconds: float = Field(default=30.0, gt=0, le=600, validation_alias="MICROOPT_ANSWER_LEASE_SECONDS")

    database_url: str = Field(default="sqlite:///microopt.db", validation_alias="DATABASE_URL")

    alpha: float = Field(default=0.05, gt=0, lt=1, validation_alias="MICROOPT_ALPHA")

    # Digests (docs/digests.md)
    timezone: str = Field(default="UTC", validation_alias="MICROOPT_TIMEZONE")
    digest_grace_hours: float = Field(default=12.0, ge=0, le=24, validation_alias="MICROOPT_DIGEST_GRACE_HOURS")
    digest_skip_empty: bool = Field(default=False, validation_alias="MICROOPT_DIGEST_SKIP_EMPTY")
    digest_concurrency: int = Field(default=8, ge=1, le=64, validation_alias="MICROOPT_DIGEST_CONCURRENCY")
    # A run renews its claims every third of the lease; a stopped run's claims are taken over once it runs out.
    digest_lease_seconds: float = Field(default=45.0, gt=0, le=600, validation_alias="MICROOPT_DIGEST_LEASE_SECONDS")
    # A failed digest is tried again after this, then twice and four times as long (at most), until its window
    # closes; within one run, a thirtieth of it (1 s) spaces the tries, doubling.
    digest_retry_seconds: float = Field(default=30.0, ge=0, le=600, validation_alias="MICROOPT_DIGEST_RETRY_SECONDS")
    schedule_sync_minutes: float = Field(default=10.0, gt=0, validation_alias="MICROOPT_SCHEDULE_SYNC_MINUTES")

    # Decisions (docs/methodology.md): the smallest relative lift worth acting on; it sizes each test's plan.
    minimum_effect: float = Field(default=0.10, gt=0, lt=10, validation_alias="MICROOPT_MINIMUM_EFFECT")
    # Days (dated) or reads with new figures (undated) before any call; 1 calls a single total, assuming each
    # click converts independently (the verdict says so).
    min_days: int = Field(default=3, ge=1, le=60, validation_alias="MICROOPT_MIN_DAYS")

    # Who sees what (docs/slack.md): every channel sees every campaign, as before the Channels tab was the access list.
    open_status: bool = Field(default=False, validation_alias="MICROOPT_OPEN_STATUS")
    # Slack user IDs, comma-separated: when set, only they change digest schedules with /microopt schedule.
    admins_list: str = Field(default="", validation_alias="MICROOPT_ADMINS")

    @property
    def oauth(self) -> bool:
        """Installs in many workspaces: the OAuth client and the state secret are all set."""
        return bool(self.slack_client_id and self.slack_client_secret and self.slack_state_secret)

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.admins_list.replace(" ", ",").split(",") if part.strip())

    # Money in verdicts: the symbol a tab's Spend cells are typed in, else this one.
    currency: str = Field(default="$", min_length=1, max_length=4, validation_alias="MICROOPT_CURRENCY")
    # Dates: the order of a file's Date column whose every date fits both (`01/12/2026`); README, The sheet.
    date_order: Literal["month-first", "day-first"] = Field(
        default="month-first", validation_alias="MICROOPT_DATE_ORDER"
    )
