"""`/microopt connect` and `/microopt disconnect` end to end: signed requests through the real app, gspread
against the Sheets stand-in, the links in a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.state.history import read_looks
from bot.state.links import link_changes
from tests.bot.slack.clients import EMAIL, Clients, deployment, serving, sheet_url
from tests.bot.slack.harness import CHANNELS, NOW, posted_messages, write_book
from tests.fakes.slack_api import SlackStandIn

CLIENT_CHANNELS = {**CHANNELS, "C0ACME": "acme-results", "C0BETA": "beta-results"}


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(channels=dict(CLIENT_CHANNELS)) as stand_in:
        yield stand_in


@pytest.fixture
def clients(tmp_path: Path, rsa_key, slack: SlackStandIn, database_url: str) -> Iterator[Clients]:
    """The agency's own sheet (a local book, MICROOPT_SHEET) and the Google Sheets of two clients."""
    book = write_book(tmp_path / "agency.xlsx")
    with deployment(tmp_path, rsa_key, slack, database_url, sheet=str(book)) as world:
        world.add_sheet("acme", ("Acme Boots", "Acme Socks"))
        world.add_sheet("beta", ("Beta Hats",), shared=False)
        with serving(world):
            yield world


def test_connect_reads_the_sheet_links_the_channel_and_announces_what_it_found(clients: Clients) -> None:
    acme = clients.keys["acme"]

    said = clients.ask(f"connect {sheet_url(acme)}", "C0ACME")

    assert said.startswith("<@U0ASKER> connected #acme-results to a Google Sheet of its own.")
    assert "It has 2 tests in 2 campaigns, all shown here: “Acme Boots”, “Acme Socks”." in said
    [announcement] = posted_messages(clients.slack)
    assert announcement["channel"] == "C0ACME"  # in the channel, for everyone there
    assert acme not in said and EMAIL not in said  # the channel never reads the key or the account
    link = clients.link("C0ACME")
    assert link is not None and (link.sheet, link.linked_by, link.linked_at, link.team_id) == (
        acme,
        "U0ASKER",
        NOW,
        "T0TEAM",
    )

    status = clients.ask("status", "C0ACME")
    assert "Acme Boots" in status and "Acme Socks" in status
    assert "Spring Sale" not in status  # the agency's own sheet is not this channel's any more

    shown = clients.ask("connect", "C0ACME")
    assert f"#acme-results reads <https://docs.google.com/spreadsheets/d/{acme}|Google Sheet>" in shown
    assert "connected by <@U0ASKER> on 11 Mar 2026" in shown


def test_a_sheet_not_shared_is_answered_with_the_address_to_share_it_with_and_not_linked(clients: Clients) -> None:
    beta = clients.keys["beta"]

    said = clients.ask(f"connect {beta}", "C0BETA")

    assert said.startswith("This channel is not connected: microopt could not read that sheet.")
    assert f"add {EMAIL} as a Viewer" in said
    assert posted_messages(clients.slack) == []  # nothing in the channel: the asker alone read it
    assert clients.link("C0BETA") is None
    assert "No campaigns are routed to #beta-results" in clients.ask("status", "C0BETA")


@pytest.mark.parametrize(
    "typed",
    ["/etc/passwd", "agency.xlsx", "https://example.com/spreadsheets/d/x", "<https://evil.example|sheet>"],
)
def test_anything_but_a_google_sheet_is_refused_without_reading_it(clients: Clients, typed: str) -> None:
    calls = len(clients.sheets.calls)

    said = clients.ask(f"connect {typed}", "C0ACME")

    assert "is not a Google Sheet: paste the sheet's address from your browser" in said
    assert len(clients.sheets.calls) == calls
    assert clients.link("C0ACME") is None and posted_messages(clients.slack) == []


def test_a_link_slack_wrapped_in_angle_brackets_is_understood(clients: Clients) -> None:
    acme = clients.keys["acme"]

    said = clients.ask(f"connect <{sheet_url(acme)}|the Acme sheet>", "C0ACME")

    assert said.startswith("<@U0ASKER> connected #acme-results")
    assert clients.link("C0ACME") is not None


def test_a_guest_from_another_organisation_may_not_connect_nor_disconnect(clients: Clients) -> None:
    acme = clients.keys["acme"]
    clients.ask(f"connect {acme}", "C0ACME")
    reads = len(clients.sheets.calls_to("batchGet"))

    said = clients.ask(f"connect {acme}", "C0SPRING", team_id="T0OTHER", user_id="U0GUEST")
    assert said.startswith("A channel is connected to a sheet by people of the workspace microopt is installed in")
    assert clients.link("C0SPRING") is None
    said = clients.ask("disconnect", "C0ACME", team_id="T0OTHER", user_id="U0GUEST")
    assert said.startswith("A channel is connected to a sheet by people of the workspace")
    assert clients.link("C0ACME") is not None
    assert len(clients.sheets.calls_to("batchGet")) == reads  # refused before any read


def test_when_admins_are_set_only_they_connect(tmp_path: Path, rsa_key, slack: SlackStandIn, database_url) -> None:
    with deployment(tmp_path, rsa_key, slack, database_url, admins_list="U0ADMIN") as world:
        acme = world.add_sheet("acme", ("Acme Boots",))
        with serving(world):
            refused = world.ask(f"connect {acme}", "C0ACME", user_id="U0MEMBER")
            assert refused.startswith("Only the people in MICROOPT_ADMINS connect a channel to a sheet")
            assert world.link("C0ACME") is None
            done = world.ask(f"connect {acme}", "C0ACME", user_id="U0ADMIN")
            assert done.startswith("<@U0ADMIN> connected #acme-results")
            refused = world.ask("disconnect", "C0ACME", user_id="U0MEMBER")
            assert refused.startswith("Only the people in MICROOPT_ADMINS")
            assert world.link("C0ACME") is not None


def test_disconnect_is_announced_and_the_channel_reads_the_default_sheet_again(clients: Clients) -> None:
    acme = clients.keys["acme"]
    clients.ask(f"connect {acme}", "C0SPRING")
    assert "Spring Sale" not in clients.ask("status", "C0SPRING")

    said = clients.ask("disconnect", "C0SPRING")

    assert said.startswith(
        "<@U0ASKER> disconnected #spring-sale from its sheet: it reads the sheet microopt was set up with "
        "(MICROOPT_SHEET) again."
    )
    assert posted_messages(clients.slack)[-1]["channel"] == "C0SPRING"
    assert clients.link("C0SPRING") is None
    assert "Spring Sale" in clients.ask("status", "C0SPRING")
    assert clients.ask("disconnect", "C0SPRING").startswith("#spring-sale is not connected to a sheet of its own")
    assert clients.deps is not None
    changes = link_changes(clients.deps.state(), "C0SPRING")
    assert [(c.action, c.changed_by, c.changed_at) for c in changes] == [
        ("connect", "U0ASKER", NOW),
        ("disconnect", "U0ASKER", NOW),
    ]


def test_a_sheet_whose_channels_tab_routes_elsewhere_says_so(clients: Clients) -> None:
    key = clients.add_sheet("gamma", ("Gamma Gloves",), channels=[["Gamma Gloves", "#somewhere-else", "", ""]])

    said = clients.ask(f"connect {key}", "C0BETA")

    assert "It has 1 test in 1 campaign, but its Channels tab routes none of them to #beta-results" in said
    assert "No campaigns are routed to #beta-results. Add a row to its sheet's Channels tab." in clients.ask(
        "status", "C0BETA"
    )


def test_a_sheet_with_nothing_to_test_is_linked_and_says_why(clients: Clients) -> None:
    key = "Empty0123456789abcdefghijklmnopqrstuvwxyzAB"
    clients.sheets.add_spreadsheet(key, {"Notes": [["Just", "notes"]]}, shared_with={EMAIL: "reader"})

    said = clients.ask(f"connect {key}", "C0BETA")

    assert "connected #beta-results to a Google Sheet of its own. It has no tests yet:" in said
    assert clients.link("C0BETA") is not None


def test_a_key_no_sheet_has_names_the_link_not_the_setting(clients: Clients) -> None:
    said = clients.ask("connect Gone0123456789abcdefghijklmnopqrstuvwxyzABCD", "C0BETA")

    assert "No Google Sheet has the key Gone0123456789abcdefghijklmnopqrstuvwxyzABCD: check the link given to " in said
    assert "MICROOPT_SHEET" not in said
    assert clients.link("C0BETA") is None


def test_the_sheet_command_names_the_channels_own_sheet(clients: Clients) -> None:
    acme = clients.keys["acme"]
    clients.ask(f"connect {acme}", "C0ACME")

    linked = clients.ask("sheet", "C0ACME")
    default = clients.ask("sheet", "C0SPRING")

    assert f"<https://docs.google.com/spreadsheets/d/{acme}|Google Sheet>" in linked and "2 tests found" in linked
    assert "`agency.xlsx`" in default and acme not in default


def test_each_sheet_keeps_its_own_record_of_looks(clients: Clients) -> None:
    acme = clients.keys["acme"]
    clients.ask(f"connect {sheet_url(acme)}", "C0ACME")
    clients.ask("status", "C0ACME")
    clients.ask("status", "C0SPRING")

    assert clients.deps is not None
    store = clients.deps.state()
    assert set(read_looks(store, acme)["campaign"]) == {"Acme Boots", "Acme Socks"}
    assert "Acme Boots" not in set(read_looks(store, clients.settings.sheet)["campaign"])
    assert "Spring Sale" in set(read_looks(store, clients.settings.sheet)["campaign"])


def test_a_channel_linked_to_the_default_sheet_shares_its_record(
    tmp_path: Path, rsa_key, slack: SlackStandIn, database_url: str
) -> None:
    """The same sheet named by its URL in MICROOPT_SHEET and by its key in a link is one sheet: one record."""
    from tests.bot.slack.clients import sheet_key

    key = sheet_key("agency")
    with deployment(tmp_path, rsa_key, slack, database_url, sheet=sheet_url(key)) as world:
        world.add_sheet("agency", ("Spring Sale",))
        with serving(world):
            world.ask(f"connect {key}", "C0ACME")
            world.ask("status", "C0ACME")
            assert world.deps is not None
            # the connect's read recorded two looks; the status's saw the same totals, which add none
            assert len(read_looks(world.deps.state(), sheet_url(key))) == 2
            assert read_looks(world.deps.state(), key).empty


def test_with_one_bot_token_an_uninstall_removes_the_workspaces_links(clients: Clients) -> None:
    import json

    from tests.bot.slack.harness import post, signed_headers

    clients.ask(f"connect {clients.keys['acme']}", "C0ACME")
    body = json.dumps(
        {
            "team_id": "T0TEAM",
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": "Ev1",
            "event_time": 1773221400,
            "event": {"type": "app_uninstalled"},
        }
    )
    assert clients.served is not None
    reply = post(clients.served.url, body, {**signed_headers(body), "Content-Type": "application/json"})

    assert reply.status == 200
    assert clients.link("C0ACME") is None
