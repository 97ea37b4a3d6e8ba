"""Channels by ID (issue 10 §3, §4, §8): the Channels tab's names resolve through conversations.list, and
commands, schedules and digests are matched by channel ID; who changed a schedule is recorded; sheet
faults reach MICROOPT_ADMINS. Signed requests through the real app, against the Slack stand-in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import insert

from analysis.models import Tab
from bot.digests.run import post_digests
from bot.errors import UserFacingError
from bot.slack_api.client import create_web_client
from bot.slack_api.directory import ChannelDirectory, list_channel_names
from bot.state import tables
from bot.state.channels import last_schedule_change
from bot.state.store import StateStore
from tests.bot.slack.harness import (
    NOW,
    RESULTS,
    all_text,
    deps_for,
    posted_messages,
    send_command,
    serve,
    settings_for,
    tiny_chart,
    wait_for,
    write_book,
)
from tests.fakes.slack_api import SlackStandIn


@pytest.fixture
def store(tmp_path: Path):
    opened = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


# -- the directory ------------------------------------------------------------------------------------
def test_names_resolve_across_pages_and_private_channels_need_groups_read() -> None:
    public = {f"C0PUB{n:04d}": f"team-{n}" for n in range(7)}
    with SlackStandIn(channels=dict(public), private={"G0SECRET1": "board"}, page_size=3) as slack:
        client = create_web_client(settings_for(slack, "unused.xlsx"))
        names = list_channel_names(client)
        assert names.error is None
        assert names.ids == {**{v: k for k, v in public.items()}, "board": "G0SECRET1"}
        assert len(slack.calls_to("conversations.list")) == 3 + 1  # three public pages, one private
        assert all(
            c.params.get("exclude_archived") in ("1", "true", True) for c in slack.calls_to("conversations.list")
        )
    without = frozenset({"commands", "chat:write", "channels:read"})
    with SlackStandIn(channels=dict(public), private={"G0SECRET1": "board"}, scopes=without) as slack:
        names = list_channel_names(create_web_client(settings_for(slack, "unused.xlsx")))
        assert names.error is None and "team-0" in names.ids and "board" not in names.ids


def test_the_directory_asks_once_per_ttl_and_keeps_the_last_good_list() -> None:
    clock = [NOW]
    with SlackStandIn() as slack:
        client = create_web_client(settings_for(slack, "unused.xlsx"))
        directory = ChannelDirectory(lambda: client, lambda: clock[0], ttl=dt.timedelta(minutes=2))
        assert directory.names().ids["spring-sale"] == "C0SPRING"
        directory.names()
        assert len(slack.calls_to("conversations.list")) == 2  # public + private, once
        clock[0] += dt.timedelta(minutes=3)
        slack.fail_next("conversations.list", 200, {"ok": False, "error": "ratelimited"})
        assert directory.names().ids["spring-sale"] == "C0SPRING"  # Slack said no: the last list stands


# -- status and schedules by ID --------------------------------------------------------------------------
def test_without_channels_read_named_rows_reach_nothing_and_say_why(book: Path) -> None:
    with SlackStandIn(channels={"C0SPRING": "spring-sale"}, scopes=frozenset({"commands", "chat:write"})) as slack:
        settings = settings_for(slack, book)
        with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
            send_command(served, slack, "status", response="s1")  # #spring-sale is written by name
            send_command(served, slack, "sheet", response="s2")
            wait_for(lambda: len(slack.responses) == 2)
            served.drain()
        assert posted_messages(slack) == []  # no numbers
        answers = dict(slack.responses)
        status, sheet = all_text(answers["s1"]), all_text(answers["s2"])
        assert status.startswith("No campaigns are routed to #spring-sale.")
        assert "missing_scope" in status and "channels:read" in status
        assert "channels:read" in sheet and "Channels!B2" in sheet


def test_a_typo_in_a_channel_name_is_a_problem_with_its_cell(slack: SlackStandIn, tmp_path: Path) -> None:
    routes = [["Campaign", "Channel"], ["Spring Sale", "#spring-sale"], ["Summer Launch", "#Sumer-Launch"]]
    settings = settings_for(slack, write_book(tmp_path / "typo.xlsx", RESULTS, routes))
    with serve(settings, deps_for(settings)) as served:
        send_command(served, slack, "sheet", response="s1")
        wait_for(lambda: slack.responses)
        served.drain()
    listed = all_text(slack.responses[0][1])
    assert "Channels!B3" in listed and "#Sumer-Launch" in listed and "Channels!B2" not in listed


def test_schedules_are_matched_by_channel_id_never_by_name(slack: SlackStandIn, book: Path, store) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings, state=lambda: store)) as served:
        send_command(served, slack, "schedule mon 08:30", user_id="U0ASKER")
        wait_for(lambda: len(posted_messages(slack)) == 1)
        # another channel carrying the name (a forged request, or the old channel after a rename)
        send_command(served, slack, "schedule off", channel_id="C0IMPOSTER", channel_name="spring-sale")
        wait_for(lambda: len(slack.calls_to("chat.postMessage")) == 2)
        # a member of another organisation in our shared #spring-sale
        send_command(served, slack, "schedule off", team_id="T0OTHER", user_id="U0GUEST")
        wait_for(lambda: len(slack.calls_to("chat.postMessage")) == 3)
        send_command(served, slack, "schedule", user_id="U0ASKER")
        wait_for(lambda: len(slack.calls_to("chat.postMessage")) == 4)
        served.drain()

    set_, _, guest, shown = (all_text(m) for m in posted_messages(slack))
    assert set_.startswith("<@U0ASKER> set digests for #spring-sale to mon at 08:30")
    assert guest.startswith("Digest schedules are changed by people of the workspace microopt is installed in")
    assert "mon at 08:30" in shown and f"by <@U0ASKER> on {NOW:%a %-d %b}" in shown
    by_channel = {row.channel: row.spec for row in store.schedules() if row.source == "slack"}
    assert by_channel == {"C0SPRING": "mon 08:30", "C0IMPOSTER": None}
    change = last_schedule_change(store, "C0SPRING")
    assert change is not None and (change.changed_by, change.action, change.changed_at) == ("U0ASKER", "set", NOW)


def test_a_database_keyed_by_names_moves_to_ids_without_posting_a_slot_twice(
    slack: SlackStandIn, book: Path, store
) -> None:
    """Schema 3 keyed Channels-tab rows by name: today's posted digest under "spring-sale" stays posted."""
    slot = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)  # weekdays 09:00 Europe/London, a Monday
    store.ensure_schema()
    with store.writing() as conn:
        conn.execute(
            insert(tables.schedules).values(
                channel="spring-sale",
                source="sheet",
                channel_name="spring-sale",
                target="#spring-sale",
                spec="weekdays 09:00",
                timezone="Europe/London",
                since=slot - dt.timedelta(days=7),
                updated_at=slot - dt.timedelta(days=7),
            )
        )
        conn.execute(
            insert(tables.digests).values(
                channel="spring-sale",
                target="#spring-sale",
                slot_at=slot,
                kind="scheduled",
                status="posted",
                worker="old",
                claimed_at=slot,
                finished_at=slot,
                attempts=1,
                messages=1,
            )
        )
    settings = settings_for(slack, book)
    deps = deps_for(settings, state=lambda: store)
    deps.slack_client = lambda: create_web_client(settings)

    today = post_digests(deps, slot + dt.timedelta(minutes=30), refresh_schedules=True)
    tomorrow = post_digests(deps, slot + dt.timedelta(days=1), refresh_schedules=True)

    assert [o.status for o in today.outcomes] == []  # Monday's slot was posted before the upgrade
    assert [(o.label, o.slot_at, o.status) for o in tomorrow.outcomes] == [("#spring-sale", tomorrow.now, "posted")]
    rows = sorted((r.channel, r.slot_at) for r in store.digest_rows())
    assert rows == [("C0SPRING", slot), ("C0SPRING", slot + dt.timedelta(days=1))]
    spring = [row for row in store.schedules() if row.channel == "C0SPRING"]
    assert [row.since for row in spring] == [slot - dt.timedelta(days=7)]  # the schedule did not restart


# -- sheet faults reach the admins -----------------------------------------------------------------------
def test_a_sheet_fault_reaches_admins_once_in_the_channel_or_by_direct_message(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    def refused(spec: str) -> list[Tab]:
        raise UserFacingError("The Google Sheet is not shared with microopt@acme-42.iam.gserviceaccount.com: share it.")

    slack.members["C0SPRING"] = {"U0ASKER", "U0BOSS"}
    settings = settings_for(slack, str(tmp_path / "x.xlsx"), admins_list="U0BOSS,U0LEAD,U0ASKER")
    with serve(settings, deps_for(settings, refused)) as served:
        send_command(served, slack, "status", user_id="U0ASKER")
        wait_for(lambda: len(slack.calls_to("chat.postEphemeral")) == 2)
        send_command(served, slack, "status", user_id="U0ASKER", response="r2")  # the same fault again
        wait_for(lambda: len(slack.responses) == 2)
        served.drain()

    ephemeral = slack.calls_to("chat.postEphemeral")
    assert [c.params["user"] for c in ephemeral] == ["U0BOSS", "U0LEAD"]  # the asker has it already
    direct = [m for m in posted_messages(slack) if m["channel"] == "U0LEAD"]
    assert len(direct) == 1  # U0LEAD is not in the channel: a direct message instead
    details = all_text(direct[0])
    assert "<@U0ASKER> ran `/microopt status` in #spring-sale" in details
    assert "microopt@acme-42.iam.gserviceaccount.com" in details
    public = [all_text(m) for m in posted_messages(slack) if m["channel"] == "C0SPRING"]
    assert len(public) == 2 and not any("iam.gserviceaccount.com" in text for text in public)
