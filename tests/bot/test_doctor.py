"""`microopt doctor` on a healthy deployment and on five broken ones: the command run in this process, configured
only through the environment, against the Slack stand-in, the Sheets stand-in (real gspread and google-auth)
and a real database, one line per check."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.state.links import link_channel
from bot.state.store import StateStore
from tests.fakes.sheets_api import SheetsStandIn, service_account_info
from tests.fakes.slack_api import ALL_SCOPES, SlackStandIn

EMAIL = "microopt-reader@agency-project.iam.gserviceaccount.com"
AGENCY = "Agency_0123456789abcdefghijklmnopqrstuvwxyzAB"
ACME = "Acme_0123456789abcdefghijklmnopqrstuvwxyzABCD"
RESULTS = [
    ["Campaign", "Test", "Variant", "Clicks", "Purchases (macro)"],
    ["Spring Sale", "Audience", "A", 2000, 40],
    ["Spring Sale", "Audience", "B", 2000, 61],
    ["Brand Search", "Keyword", "shoes", 2000, 40],
    ["Brand Search", "Keyword", "trail shoes", 2000, 52],
]
ROUTES = [
    ["Campaign", "Channel", "Schedule", "Timezone"],
    ["Spring Sale", "#spring-sale", "weekdays 09:00", "Europe/London"],
    ["Brand Search", "C0SEARCH", "", ""],
]


@dataclass
class Deployment:
    slack: SlackStandIn
    sheets: SheetsStandIn
    env: dict[str, str]

    def doctor(self, **env: str | None) -> tuple[int, list[str]]:
        merged = {**self.env, **env}
        result = CliRunner().invoke(app, ["doctor"], env=merged)
        return result.exit_code, result.stdout.splitlines()


def line(lines: list[str], start: str) -> str:
    found = [text for text in lines if text.startswith(start)]
    assert found, f"no line starts {start!r} in:\n" + "\n".join(lines)
    return found[0]


@pytest.fixture
def deployment(monkeypatch, tmp_path: Path, rsa_key) -> Iterator[Deployment]:
    """A healthy deployment: the agency's sheet routes to two channels, a client's channel has its own sheet and a
    schedule set from Slack, every scope granted, every channel joined."""
    for name in list(os.environ):
        if name.startswith(("MICROOPT_", "GOOGLE_", "SLACK_", "DATABASE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env
    channels = {"C0SPRING": "spring-sale", "C0SEARCH": "search-team", "C0ACME01": "acme-results"}
    with SlackStandIn(channels=channels) as slack, SheetsStandIn(public_key=rsa_key.public_key()) as sheets:
        sheets.add_spreadsheet(AGENCY, {"Results": RESULTS, "Channels": ROUTES}, shared_with={EMAIL: "reader"})
        acme = [RESULTS[0], ["Acme Boots", "Audience", "A", 900, 9], ["Acme Boots", "Audience", "B", 900, 15]]
        sheets.add_spreadsheet(ACME, {"Results": acme}, shared_with={EMAIL: "reader"})
        key_file = tmp_path / "key.json"
        key_file.write_text(json.dumps(service_account_info(rsa_key, token_uri=sheets.token_uri, email=EMAIL)))
        database = f"sqlite:///{tmp_path / 'state.db'}"
        store = StateStore.open(database)
        now = dt.datetime.now(dt.UTC)
        link_channel(store, "C0ACME01", "T0TEAM", ACME, "U0ANA", now)
        store.set_slack_schedule("C0ACME01", "acme-results", "daily 17:00", "UTC", now)
        store.close()
        env: dict[str, Any] = {
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
            "SLACK_API_URL": slack.api_url,
            "MICROOPT_SHEET": f"https://docs.google.com/spreadsheets/d/{AGENCY}/edit",
            "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
            "MICROOPT_SHEETS_ENDPOINT": sheets.base,
            "MICROOPT_SHEETS_ATTEMPTS": "1",
            "DATABASE_URL": database,
        }
        yield Deployment(slack, sheets, env)


def test_a_healthy_deployment_passes_every_check_one_line_each(deployment: Deployment) -> None:
    code, lines = deployment.doctor()

    assert code == 0, "\n".join(lines)
    assert not [text for text in lines if text.startswith("FAIL")]
    assert line(lines, "ok    Settings:").endswith(f"MICROOPT_SHEET is the Google Sheet {AGENCY}.")
    assert line(lines, "ok    Serving:") == "ok    Serving: HTTP mode (microopt serve) can start."
    assert line(lines, "ok    Database:").endswith("answers (schema 9); 1 channel with a sheet of its own.")
    assert line(lines, "ok    Slack:") == "ok    Slack: SLACK_BOT_TOKEN is the bot of Team (T0TEAM)."
    assert line(lines, "ok    Slack scopes:") == "ok    Slack scopes: every scope manifest.yml asks for."
    assert line(lines, "ok    Google:").startswith(f"ok    Google: the service account {EMAIL}")
    assert line(lines, "ok    Sheet MICROOPT_SHEET:") == "ok    Sheet MICROOPT_SHEET: read; 2 tests in 2 campaigns."
    assert line(lines, "ok    Sheet of C0ACME01:") == "ok    Sheet of C0ACME01: read; 1 test in 1 campaign."
    assert line(lines, "ok    Channels:").startswith("ok    Channels: 3 channels named by the sheets and links")
    assert "weekdays at 09:00 (Europe/London) from the Channels tab." in line(lines, "ok    Digest #spring-sale")
    assert "every day at 17:00 (UTC) from /microopt schedule." in line(lines, "ok    Digest #acme-results")
    assert lines[-1] == "Every check passed."
    assert deployment.sheets.calls_to("batchUpdate") == []  # it wrote nothing


def test_no_token_says_every_process_needs_it(deployment: Deployment) -> None:
    code, lines = deployment.doctor(SLACK_BOT_TOKEN=None)

    assert code == 1
    assert line(lines, "FAIL  Slack:").startswith(
        "FAIL  Slack: SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…)"
    )
    assert "the web and the worker (digests) alike" in line(lines, "FAIL  Slack:")
    assert line(lines, "warn  Channels:") == "warn  Channels: not checked: Slack did not take the token (above)."
    assert lines[-1] == "1 check failed."


def test_a_token_without_a_scope_names_the_scope_and_what_it_is_for(deployment: Deployment) -> None:
    deployment.slack.scopes = set(ALL_SCOPES) - {"channels:history"}

    code, lines = deployment.doctor()

    assert code == 1
    assert line(lines, "FAIL  Slack scopes:") == (
        "FAIL  Slack scopes: the token lacks channels:history (reading back its own digests before posting one "
        "again): add them under OAuth & Permissions (manifest.yml asks for them) and reinstall the app, then copy "
        "the new Bot User OAuth Token."
    )


def test_a_sheet_not_shared_names_the_address_to_share_it_with(deployment: Deployment) -> None:
    deployment.sheets.spreadsheets[ACME].shared_with.clear()

    code, lines = deployment.doctor()

    assert code == 1
    failed = line(lines, "FAIL  Sheet of C0ACME01:")
    assert f"The Google Sheet {ACME} is not shared with microopt's service account" in failed
    assert f"add {EMAIL} as a Viewer." in failed
    assert line(lines, "ok    Sheet MICROOPT_SHEET:")  # the others are still checked


def test_an_unknown_channel_in_the_channels_tab_is_named_by_its_cell(deployment: Deployment) -> None:
    routes = [*ROUTES, ["Brand Search", "#nosuch", "", ""], ["Spring Sale", "C0GONE999", "", ""]]
    deployment.sheets.spreadsheets[AGENCY].sheet("Channels").rows = routes  # type: ignore[union-attr]

    code, lines = deployment.doctor()

    assert code == 1
    assert line(lines, "FAIL  Channels!B4:").startswith("FAIL  Channels!B4: Slack has no channel “#nosuch”")
    assert line(lines, "FAIL  Channels!B5:").startswith(
        "FAIL  Channels!B5: Slack has no channel C0GONE999 that microopt can see (channel_not_found)"
    )


def test_a_database_that_does_not_answer_is_one_line_and_the_rest_is_still_checked(
    deployment: Deployment, tmp_path: Path
) -> None:
    code, lines = deployment.doctor(DATABASE_URL=f"postgresql://microopt@/microopt?host={tmp_path / 'no-server'}")

    assert code == 1
    assert line(lines, "FAIL  Database:").startswith(
        "FAIL  Database: The database at postgresql+psycopg://microopt@/microopt"
    )
    assert "stopped answering" in line(lines, "FAIL  Database:")
    assert line(lines, "ok    Slack:") and line(lines, "ok    Sheet MICROOPT_SHEET:")
