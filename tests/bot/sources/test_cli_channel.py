"""`microopt status --channel C…`: what one channel sees, its own Google Sheet (linked in the state database,
read from the stand-in) or MICROOPT_SHEET narrowed by its Channels tab; the command run in this process."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.state.links import link_channel
from bot.state.store import StateStore
from tests.bot.slack.harness import write_book
from tests.bot.sources.conftest import EMAIL, KEY

GOOGLE_RESULTS = [
    ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)"],
    ["Acme Boots", "Audience", "A", 2000, 100],
    ["Acme Boots", "Audience", "B", 2000, 161],
]


@pytest.fixture
def env(monkeypatch, tmp_path: Path, sheets_api, key_file) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith(("MICROOPT_", "GOOGLE_", "SLACK_", "DATABASE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    sheets_api.add_spreadsheet(KEY, {"Results": GOOGLE_RESULTS}, shared_with={EMAIL: "reader"})
    database = f"sqlite:///{tmp_path / 'state.db'}"
    store = StateStore.open(database)
    link_channel(store, "C0ACME01", "T0TEAM", KEY, "U0LINKER", dt.datetime(2026, 3, 11, 9, tzinfo=dt.UTC))
    store.close()
    return {
        "MICROOPT_SHEET": str(write_book(tmp_path / "agency.xlsx")),
        "DATABASE_URL": database,
        "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
        "MICROOPT_SHEETS_ENDPOINT": sheets_api.base,
        "MICROOPT_MIN_DAYS": "1",
    }


def status(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, ["status", *args], env=env)


def test_a_linked_channel_sees_its_own_google_sheet(env) -> None:
    result = status(env, "--channel", "C0ACME01")

    assert result.exit_code == 0, result.stderr
    first, *rest = result.stdout.splitlines()
    assert first == "Channel C0ACME01 reads its own sheet (connected by U0LINKER on 2026-03-11): every campaign."
    text = "\n".join(rest)
    assert "Acme Boots · Audience test" in text and "Spring Sale" not in text


def test_a_channel_of_the_default_sheet_sees_what_its_channels_tab_routes_there(env) -> None:
    result = status(env, "--channel", "C0SEARCH", "--format", "json")

    assert result.exit_code == 0, result.stderr
    assert [t["campaign"] for t in json.loads(result.stdout)["tests"]] == ["Brand Search"]
    assert result.stderr.strip() == "Channel C0SEARCH reads MICROOPT_SHEET: 1 test routed there."


def test_a_channel_nothing_is_routed_to_is_one_sentence_and_exit_1(env) -> None:
    result = status(env, "--channel", "C0RANDOM01")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "No campaigns are routed to C0RANDOM01: add a row to its sheet's Channels tab." in result.stderr


def test_a_channel_by_name_without_a_slack_token_asks_for_its_id(env) -> None:
    result = status(env, "--channel", "#spring-sale")

    assert result.exit_code == 1
    assert "Slack has no channel “#spring-sale” that microopt can see (no Slack token is set" in result.stderr


def test_channel_and_sheet_together_are_refused(env) -> None:
    result = status(env, "--channel", "C0ACME01", "--sheet", "other.csv")

    assert result.exit_code == 2
    assert "--channel reads the channel's own sheet: leave out --sheet." in result.output
