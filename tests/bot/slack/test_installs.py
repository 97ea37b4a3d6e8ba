"""Installs in many workspaces, end to end: Slack's OAuth v2 install through the real app (the install page, the
redirect, `oauth.v2.access` at the Slack stand-in, slack_sdk's SQLAlchemy stores in the state database), two
workspaces and three sheets each seen only in its own channels (status and digests, each with its own
workspace's token), token rotation, and an uninstall removing the installation and its links."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from bot.digests.run import ChannelPacer, post_digests
from bot.slack.installs import INSTALL_PATH, REDIRECT_PATH
from bot.state.installs import installation_store
from tests.bot.slack.clients import Clients, deployment, serving, sheet_url
from tests.bot.slack.harness import NOW, post, posted_messages, signed_headers
from tests.fakes.slack_api import SlackStandIn

ALPHA, BRAVO = "T0ALPHA", "T0BRAVO"
CHANNELS = {"C1ALPHA01": "alpha-one", "C1ALPHA02": "alpha-two", "C1ALPHA03": "alpha-lobby", "C2BRAVO01": "bravo"}
STATE_SECRET = "a-state-secret-of-this-deployment"


@dataclass
class Browser:
    """What a person's browser does on the install page: follow its link to Slack, come back with a code."""

    base: str
    cookies: dict[str, str]

    def get(self, path: str, query: str = "") -> tuple[int, str, dict[str, list[str]]]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(f"{self.base}{path}{'?' + query if query else ''}", headers={"Cookie": cookie})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, body, headers = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, body, headers = error.code, error.read().decode(), error.headers
        for value in headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return status, body, {k: headers.get_all(k) or [] for k in headers}


def install(world: Clients, team: str, name: str) -> tuple[int, str]:
    """A person of `team` opens /slack/install, follows the Add to Slack link, presses Allow, and is sent back."""
    assert world.served is not None
    browser = Browser(world.served.url.removesuffix("/slack/events"), {})
    status, page, _ = browser.get(INSTALL_PATH)
    assert status == 200
    authorize = re.search(r'href="([^"]+/oauth/v2/authorize[^"]+)"', page)
    assert authorize is not None, page
    query = parse_qs(urlparse(authorize.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [world.slack.oauth.client_id]
    code = world.slack.oauth.approve(team, name)
    status, body, _ = browser.get(REDIRECT_PATH, f"code={code}&state={query['state'][0]}")
    return status, body


def event(slack: SlackStandIn, team: str, kind: str, **fields: Any) -> str:
    return json.dumps(
        {
            "token": "deprecated",
            "team_id": team,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": f"Ev{team}{kind}",
            "event_time": 1773221400,
            "event": {"type": kind, **fields},
        }
    )


def send_event(world: Clients, body: str) -> int:
    assert world.served is not None
    headers = {**signed_headers(body), "Content-Type": "application/json"}
    return post(world.served.url, body, headers).status


def token_of(call: Any) -> str:
    return str(call.headers.get("authorization", "")).removeprefix("Bearer ")


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(channels=dict(CHANNELS)) as stand_in:
        stand_in.channel_teams = {"C1ALPHA01": ALPHA, "C1ALPHA02": ALPHA, "C1ALPHA03": ALPHA, "C2BRAVO01": BRAVO}
        yield stand_in


@pytest.fixture
def world(tmp_path: Path, rsa_key, slack: SlackStandIn, database_url: str) -> Iterator[Clients]:
    """One deployment, installs on (no SLACK_BOT_TOKEN at all), three client sheets."""
    with deployment(
        tmp_path,
        rsa_key,
        slack,
        database_url,
        slack_bot_token=None,
        slack_client_id=slack.oauth.client_id,
        slack_client_secret=slack.oauth.client_secret,
        slack_state_secret=STATE_SECRET,
    ) as clients:
        clients.add_sheet("alphaone", ("Alpha Boots",))
        # its Channels tab routes to the other workspace's channel too: that row must reach nothing
        clients.add_sheet(
            "alphatwo", ("Alpha Socks", "Alpha Hats"), channels=[["", "C1ALPHA02", "", ""], ["", "C2BRAVO01", "", ""]]
        )
        clients.add_sheet("bravo", ("Bravo Gloves",))
        with serving(clients):
            yield clients


def test_the_oauth_install_keeps_each_workspaces_token_in_the_database(world: Clients) -> None:
    status, page = install(world, ALPHA, "Alpha Agency")

    assert status == 200 and "Thank you" in page
    [exchange] = world.slack.calls_to("oauth.v2.access")
    assert "code-T0ALPHA" in str(exchange.params.get("code"))
    assert world.deps is not None
    found = installation_store(world.deps.state(), world.slack.oauth.client_id).find_installation(
        enterprise_id=None, team_id=ALPHA
    )
    assert found is not None and found.bot_token is not None and found.bot_token in world.slack.tokens


def test_a_redirect_with_a_state_microopt_did_not_sign_installs_nothing(world: Clients) -> None:
    assert world.served is not None
    browser = Browser(world.served.url.removesuffix("/slack/events"), {})
    browser.get(INSTALL_PATH)  # a real state cookie, but another state in the URL
    code = world.slack.oauth.approve(ALPHA, "Alpha Agency")
    forged = "0123.notasignature"
    browser.cookies["slack-app-oauth-state"] = forged
    status, _, _ = browser.get(REDIRECT_PATH, f"code={code}&state={forged}")

    assert status == 401
    assert world.slack.calls_to("oauth.v2.access") == []


def test_two_workspaces_and_three_sheets_each_channel_sees_its_own_in_status_and_digests(world: Clients) -> None:
    install(world, ALPHA, "Alpha Agency")
    install(world, BRAVO, "Bravo Brand")
    keys = world.keys
    assert world.ask(f"connect {sheet_url(keys['alphaone'])}", "C1ALPHA01", team_id=ALPHA).startswith("<@U0ASKER>")
    world.ask(f"connect {keys['alphatwo']}", "C1ALPHA02", team_id=ALPHA)
    world.ask(f"connect {keys['bravo']}", "C2BRAVO01", team_id=BRAVO)
    for channel, team in (("C1ALPHA01", ALPHA), ("C1ALPHA02", ALPHA), ("C2BRAVO01", BRAVO)):
        world.ask("schedule daily 09:00 UTC", channel, team_id=team)

    seen = {
        channel: world.ask("status", channel, team_id=team)
        for channel, team in (("C1ALPHA01", ALPHA), ("C1ALPHA02", ALPHA), ("C2BRAVO01", BRAVO))
    }
    assert "Alpha Boots" in seen["C1ALPHA01"] and "Alpha Socks" not in seen["C1ALPHA01"]
    assert "Alpha Socks" in seen["C1ALPHA02"] and "Alpha Hats" in seen["C1ALPHA02"]
    assert "Bravo Gloves" in seen["C2BRAVO01"] and "Alpha" not in seen["C2BRAVO01"]
    lobby = world.ask("status", "C1ALPHA03", team_id=ALPHA)  # a channel with no sheet of its own
    assert lobby.startswith("No sheet is connected to #alpha-lobby yet")
    # every answer went out with its own workspace's token
    tokens = {team: token for token, team in world.slack.tokens.items()}
    for call in world.slack.calls_to("chat.postMessage"):
        channel = str(call.params["channel"])
        assert token_of(call) == tokens[world.slack.channel_teams[channel]]

    assert world.deps is not None
    before = len(posted_messages(world.slack))
    run = post_digests(world.deps, NOW.replace(hour=9, minute=1) + dt.timedelta(days=1), pacer=ChannelPacer(0))
    assert sorted(o.channel for o in run.outcomes if o.status == "posted") == ["C1ALPHA01", "C1ALPHA02", "C2BRAVO01"]
    digests = world.slack.calls_to("chat.postMessage")[before:]
    text = {str(c.params["channel"]): str(c.params.get("text", "")) for c in digests}
    assert "Alpha Boots" in text["C1ALPHA01"] and "Alpha Socks" not in text["C1ALPHA01"]
    assert "Bravo Gloves" in text["C2BRAVO01"] and "Alpha" not in text["C2BRAVO01"]
    for call in digests:
        assert token_of(call) == tokens[world.slack.channel_teams[str(call.params["channel"])]]


def test_a_rotating_token_is_refreshed_before_it_expires_for_requests_and_digests(world: Clients) -> None:
    world.slack.oauth.rotation = True
    world.slack.oauth.expires_in = 600  # expires within the two hours microopt refreshes ahead
    install(world, BRAVO, "Bravo Brand")
    first = next(token for token, team in world.slack.tokens.items() if team == BRAVO)
    assert first.startswith("xoxe.xoxb-")

    world.ask(f"connect {world.keys['bravo']}", "C2BRAVO01", team_id=BRAVO)

    refreshes = [c for c in world.slack.calls_to("oauth.v2.access") if c.params.get("grant_type") == "refresh_token"]
    assert refreshes, "bolt did not rotate the token before using it"
    second = next(token for token, team in world.slack.tokens.items() if team == BRAVO)
    assert second != first and first not in world.slack.tokens
    [announcement] = world.slack.calls_to("chat.postMessage")
    assert token_of(announcement) == second

    world.ask("schedule daily 09:00 UTC", "C2BRAVO01", team_id=BRAVO)
    assert world.deps is not None
    run = post_digests(world.deps, NOW.replace(hour=9, minute=1) + dt.timedelta(days=1), pacer=ChannelPacer(0))
    assert [o.status for o in run.outcomes] == ["posted"]  # with a token refreshed again, still valid


def test_an_uninstall_removes_the_installation_and_the_workspaces_links(world: Clients) -> None:
    install(world, ALPHA, "Alpha Agency")
    install(world, BRAVO, "Bravo Brand")
    world.ask(f"connect {world.keys['alphaone']}", "C1ALPHA01", team_id=ALPHA)
    world.ask(f"connect {world.keys['bravo']}", "C2BRAVO01", team_id=BRAVO)
    world.ask("schedule daily 09:00 UTC", "C2BRAVO01", team_id=BRAVO)

    world.slack.oauth.uninstall(BRAVO)
    assert send_event(world, event(world.slack, BRAVO, "app_uninstalled")) == 200

    assert world.deps is not None
    store = installation_store(world.deps.state(), world.slack.oauth.client_id)
    assert store.find_installation(enterprise_id=None, team_id=BRAVO) is None
    assert store.find_installation(enterprise_id=None, team_id=ALPHA) is not None
    assert world.link("C2BRAVO01") is None and world.link("C1ALPHA01") is not None
    run = post_digests(world.deps, NOW.replace(hour=9, minute=1) + dt.timedelta(days=1), pacer=ChannelPacer(0))
    assert [o for o in run.outcomes if o.channel == "C2BRAVO01"] == []


def test_revoking_the_bot_token_is_an_uninstall_too(world: Clients) -> None:
    install(world, BRAVO, "Bravo Brand")
    world.ask(f"connect {world.keys['bravo']}", "C2BRAVO01", team_id=BRAVO)

    assert send_event(world, event(world.slack, BRAVO, "tokens_revoked", tokens={"bot": ["UBRAVOBOT"]})) == 200

    assert world.link("C2BRAVO01") is None
    assert world.deps is not None
    store = installation_store(world.deps.state(), world.slack.oauth.client_id)
    assert store.find_installation(enterprise_id=None, team_id=BRAVO) is None


def test_a_workspace_microopt_is_not_installed_in_gets_one_sentence_and_nothing_else(world: Clients) -> None:
    install(world, ALPHA, "Alpha Agency")
    assert world.served is not None
    from tests.bot.slack.harness import send_command

    reply = send_command(
        world.served, world.slack, "status", channel_id="C2BRAVO01", channel_name="bravo", team_id=BRAVO
    )

    assert reply.status == 200 and reply.body == ""  # bolt says it through the command's response_url
    world.served.drain()
    assert posted_messages(world.slack) == []
    [(_, said)] = world.slack.responses
    assert said["text"].startswith(":warning: microopt is not installed in this workspace (any more)")


def test_doctor_checks_every_installed_workspaces_token(world: Clients, monkeypatch) -> None:
    import os

    from typer.testing import CliRunner

    from bot.cli import app

    install(world, ALPHA, "Alpha Agency")
    install(world, BRAVO, "Bravo Brand")
    world.ask(f"connect {world.keys['alphaone']}", "C1ALPHA01", team_id=ALPHA)
    world.slack.oauth.uninstall(BRAVO)  # the app removed, and its event not (yet) received
    for name in list(os.environ):
        if name.startswith(("MICROOPT_", "GOOGLE_", "SLACK_", "DATABASE_")):
            monkeypatch.delenv(name)
    s = world.settings
    env = {
        "SLACK_CLIENT_ID": s.slack_client_id,
        "SLACK_CLIENT_SECRET": s.slack_client_secret,
        "SLACK_STATE_SECRET": s.slack_state_secret,
        "SLACK_SIGNING_SECRET": s.slack_signing_secret,
        "SLACK_API_URL": s.slack_api_url,
        "MICROOPT_SHEET": s.sheet,
        "MICROOPT_SHEETS_ENDPOINT": s.sheets_endpoint,
        "GOOGLE_APPLICATION_CREDENTIALS": str(s.google_credentials_file),
        "DATABASE_URL": s.database_url,
    }

    result = CliRunner().invoke(app, ["doctor"], env=env)

    lines = result.stdout.splitlines()
    assert result.exit_code == 1, result.stdout
    assert "ok    Slack installs: 2 workspaces installed microopt." in lines
    assert "ok    Workspace T0ALPHA: the bot of Alpha Agency answers." in lines
    assert "FAIL  Workspace T0BRAVO: its token does not work (token_revoked): reinstall from /slack/install." in lines
    assert any(line.startswith("ok    Sheet of C1ALPHA01: read") for line in lines)
    assert any(line.startswith("ok    Channels: 1 channel named by the sheets and links") for line in lines)
