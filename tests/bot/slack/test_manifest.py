from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[3]
# Slack's published app-manifest JSON Schema (draft-07, v1.0.0, slackapi/manifest-schema, MIT licence).
SCHEMA = Path(__file__).with_name("manifest.schema.json")


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def schema() -> dict:
    return json.loads(SCHEMA.read_text())


def test_manifest_is_valid_against_slacks_schema() -> None:
    jsonschema.Draft7Validator(schema()).validate(manifest())


def test_manifest_declares_the_command_least_privilege_scopes_and_event_url() -> None:
    data = manifest()
    [command] = data["features"]["slash_commands"]
    assert command["command"] == "/microopt"
    assert "status" in command["usage_hint"] and "schedule" in command["usage_hint"]
    assert command["url"].endswith("/slack/events")
    assert sorted(data["oauth_config"]["scopes"]["bot"]) == [
        "channels:history",  # digests read back their own messages before any re-send (docs/slack.md)
        "channels:read",
        "chat:write",
        "commands",
        "files:write",
        "groups:history",
        "groups:read",
        "users:read",  # the Home tab tells this workspace's members from guests of others
    ]


def test_the_scopes_doctor_checks_are_the_manifests() -> None:
    from bot.slack_api.scopes import OPTIONAL, REQUIRED

    assert sorted(manifest()["oauth_config"]["scopes"]["bot"]) == sorted([*REQUIRED, *OPTIONAL])


def test_uninstalls_come_to_the_same_url_and_installs_come_back_to_the_redirect() -> None:
    data = manifest()
    events = data["settings"]["event_subscriptions"]
    assert events["request_url"] == data["features"]["slash_commands"][0]["url"]
    assert sorted(events["bot_events"]) == ["app_home_opened", "app_uninstalled", "tokens_revoked"]
    assert data["oauth_config"]["redirect_urls"] == ["https://YOUR-HOST/slack/oauth_redirect"]


def test_interactivity_sends_button_presses_to_the_same_url() -> None:
    data = manifest()
    interactivity = data["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"] == data["features"]["slash_commands"][0]["url"]
    assert "chat.update" in (ROOT / "manifest.yml").read_text()  # chat:write's why names it


def test_the_home_tab_is_on_and_the_messages_tab_as_it_was() -> None:
    app_home = manifest()["features"]["app_home"]
    assert app_home["home_tab_enabled"] is True
    assert app_home["messages_tab_enabled"] is True  # MICROOPT_ADMINS' direct messages arrive there
    assert "messages_tab_read_only_enabled" not in app_home


def test_procfile_runs_the_web_and_worker_processes() -> None:
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert lines["web"].strip() == "microopt serve"
    assert lines["worker"].strip() == "microopt scheduler"
