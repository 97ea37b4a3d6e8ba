"""Acting on a verdict from Slack, end to end: a status answer posted into the Slack stand-in, a signed
`block_actions` press of one of its buttons through the real app, the decision in the state database, its row
written by real gspread into the Sheets stand-in, and the message updated in place with `chat.update`."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.deps import Deps, create_deps
from bot.digests.run import post_channel_digest
from bot.settings import Settings
from bot.slack.decisions.sheet_rows import write_owed
from bot.slack_api.client import create_web_client
from bot.state.decisions import owed_rows, standing_decisions
from bot.state.history import source_id
from tests.bot.slack.buttons import button, press_body, send, stored_messages, updates
from tests.bot.slack.harness import (
    BOT_TOKEN,
    CHANNELS,
    NOW,
    ROUTES,
    SIGNING_SECRET,
    all_text,
    send_command,
    serve,
    settings_for,
    tiny_chart,
    wait_for,
    write_book,
)
from tests.bot.sources import conftest as google
from tests.fakes.sheets_api import SheetsStandIn, google_error
from tests.fakes.slack_api import SlackStandIn

RESULTS = [
    ["Campaign", "Test", "Variant", "Clicks", "Spend", "Cart views (micro)", "Purchases (macro)", "Status"],
    ["Spring Sale", "Audience", "A", 2000, 840, 100, 8, "running"],
    ["Spring Sale", "Audience", "B", 2000, 840, 161, 11, "running"],
    ["Spring Sale", "Ad copy", "Free shipping", 3100, 1302, 118, 9, "running"],
    ["Spring Sale", "Ad copy", "20% off", 3050, 1281, 127, 10, "running"],
    ["Brand Search", "Keyword", "running shoes", 4000, 2520, 180, 14, "running"],
    ["Brand Search", "Keyword", "trail running shoes", 4000, 2520, 236, 19, "running"],
]
AUDIENCE = "Spring Sale · Audience test"
EMAIL, KEY = google.EMAIL, google.KEY
# The Sheets stand-in and a service-account key pointing at it, as the source tests have them.
rsa_key, sheets_api, key_info, key_file = google.rsa_key, google.sheets_api, google.key_info, google.key_file


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def slack():
    with SlackStandIn(token=BOT_TOKEN, channels=dict(CHANNELS)) as stand_in:
        yield stand_in


@pytest.fixture
def spreadsheet(sheets_api: SheetsStandIn):
    return sheets_api.add_spreadsheet(
        KEY, {"Results": [list(r) for r in RESULTS], "Channels": ROUTES}, shared_with={EMAIL: "writer"}
    )


def settings_maker(slack: SlackStandIn, sheets_api: SheetsStandIn, key_file: Path, tmp_path: Path) -> Any:
    """Settings for the real app reading the Sheets stand-in's sheet as the service account, state in SQLite."""

    def make(**changes: Any) -> Settings:
        values: dict[str, Any] = {
            "sheet": KEY,
            "sheets_endpoint": sheets_api.base,
            "google_credentials_file": key_file,
            "google_credentials_json": None,
            "sheets_attempts": 1,
            "sheets_timeout_seconds": 5.0,
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.api_url,
            "database_url": f"sqlite:///{tmp_path / 'state.db'}",
            "min_days": 1,  # verdicts called from the sheet's single totals, as the Slack harness has them
        }
        values.update(changes)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def settings(slack, sheets_api, key_file, tmp_path: Path):
    return settings_maker(slack, sheets_api, key_file, tmp_path)


def status_message(served, slack: SlackStandIn, channel: str = "C0SPRING") -> dict[str, Any]:
    """Ask for status in `channel`; the message the stand-in holds, with its buttons."""
    before = len(stored_messages(slack, channel))
    send_command(served, slack, "status", channel_id=channel, channel_name=CHANNELS[channel])
    wait_for(lambda: len(stored_messages(slack, channel)) > before)
    return stored_messages(slack, channel)[-1]


def decisions_rows(spreadsheet) -> list[list[Any]]:
    tab = spreadsheet.sheet("Decisions")
    return [] if tab is None else tab.rows


def recorded(deps: Deps, sheet: str = KEY):
    return standing_decisions(deps.state(), source_id(sheet), NOW).decisions


def valid(blocks: list[dict[str, Any]]) -> bool:
    """Block Kit as slack_sdk's own models read and write it (their validators run in to_dict)."""
    return all(Block.parse(block).to_dict() == block for block in blocks)  # type: ignore[union-attr]


def test_budget_moved_records_one_decision_writes_one_row_and_updates_the_message(slack, spreadsheet, settings) -> None:
    deps = create_deps(settings(), clock=Clock())
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack)
        assert valid(message["blocks"])
        reply = send(served, press_body(slack, message, "C0SPRING", "microopt.moved", title=AUDIENCE))
        wait_for(lambda: decisions_rows(spreadsheet))
        served.drain()

    assert reply.status == 200 and reply.body == ""
    header, row = decisions_rows(spreadsheet)
    assert header[:5] == ["Decided at", "Campaign", "Test", "Decision", "By"]
    assert row[:7] == ["2026-03-11 09:30 UTC", "Spring Sale", "Audience", "Budget moved", "@dana", "Move budget to B.",
                       "B"]  # fmt: skip
    assert row[8] == "+61%" and row[10] == "B 161 of 2,000 vs A 100 of 2,000"
    assert [r[7] for r in spreadsheet.rows_of("Results")[1:]] == ["done", "done", *["running"] * 4]

    decision = recorded(deps)[("Spring Sale", "Audience")]
    assert (decision.action, decision.user_id, decision.shown.variant, decision.sheet) == (
        "moved",
        "U0DANA",
        "B",
        "written",
    )
    assert decision.shown.variant_conversions == 161 and decision.shown.control_visitors == 2000

    [update] = updates(slack)
    assert (update["channel"], update["ts"]) == ("C0SPRING", message["ts"])
    assert valid(update["blocks"])
    line = next(b for b in update["blocks"] if "Budget moved" in all_text({"blocks": [b]}))
    assert line["text"]["text"] == (
        ":white_check_mark: *Budget moved* by <@U0DANA> "
        "<!date^1773221400^{date_short_pretty} at {time}|11 Mar 2026 09:30 UTC> — Audience B"
    )
    assert line["accessory"]["action_id"] == "microopt.undo"
    # the other tests keep their buttons; the message in Slack is the updated one
    assert sum(b["type"] == "actions" for b in update["blocks"]) == 1
    assert slack.message("C0SPRING", message["ts"])["blocks"] == update["blocks"]
    assert slack.responses == []  # nothing ephemeral: the message says it all


def test_a_double_click_and_a_retried_delivery_still_give_one_decision(slack, spreadsheet, settings) -> None:
    deps = create_deps(settings(), clock=Clock())
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack)
        first = press_body(slack, message, "C0SPRING", "microopt.moved", title=AUDIENCE, trigger_id="1.2.first")
        second = press_body(slack, message, "C0SPRING", "microopt.moved", title=AUDIENCE, trigger_id="1.2.second")
        with ThreadPoolExecutor(4) as pool:
            replies = list(pool.map(lambda args: send(served, *args), [(first,), (second,), (first, 1), (second, 2)]))
        served.drain()

    assert [r.status for r in replies] == [200] * 4
    assert len(decisions_rows(spreadsheet)) == 2  # the header and one row
    assert len(recorded(deps)) == 1
    assert len(updates(slack)) == 1
    assert slack.responses == []  # the same person twice: nothing to tell them


def test_two_web_processes_pressed_at_once_give_one_decision(slack, spreadsheet, settings) -> None:
    one, two = create_deps(settings(), clock=Clock()), create_deps(settings(), clock=Clock())
    with serve(settings(), one, draw_chart=tiny_chart) as a, serve(settings(), two, draw_chart=tiny_chart) as b:
        message = status_message(a, slack)
        bodies = [
            press_body(slack, message, "C0SPRING", "microopt.moved", title=AUDIENCE, user_id=user, user_name=name)
            for user, name in (("U0DANA", "dana"), ("U0ANA", "ana"))
        ]
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda pair: send(*pair), [(a, bodies[0]), (b, bodies[1])]))
        a.drain()
        b.drain()

    assert len(decisions_rows(spreadsheet)) == 2
    assert len(recorded(one)) == 1 and len(updates(slack)) == 1
    [(_, told)] = slack.responses  # the one who came second learns who was first
    assert all_text(told).startswith("Already decided: :white_check_mark: *Budget moved* by <@U0")


@pytest.mark.parametrize(
    ("press", "changes", "sentence"),
    [
        (
            {"team_id": "T0OTHER", "user_id": "U0GUEST"},
            {},
            "Only members of the workspace microopt is installed in can act on its verdicts",
        ),
        ({"user_id": "U0INTERN"}, {"admins_list": "U0DANA,U0ANA"}, "Only MICROOPT_ADMINS act on verdicts here: ask"),
        ({"channel": "C0SEARCH"}, {}, "“Spring Sale” is not routed to this channel"),
    ],
    ids=["another workspace", "not an admin", "channel not routed"],
)
def test_a_refused_press_gets_one_sentence_and_writes_nothing(
    slack, spreadsheet, settings, press, changes, sentence
) -> None:
    deps = create_deps(settings(**changes), clock=Clock())
    with serve(settings(**changes), deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack)
        channel = press.pop("channel", "C0SPRING")
        send(served, press_body(slack, message, channel, "microopt.moved", title=AUDIENCE, **press))
        served.drain()

    [(name, told)] = slack.responses
    assert name == "press" and told["response_type"] == "ephemeral" and told["replace_original"] is False
    assert all_text(told).startswith(sentence)
    assert decisions_rows(spreadsheet) == [] and recorded(deps) == {}
    assert updates(slack) == []
    assert [r[7] for r in spreadsheet.rows_of("Results")[1:]] == ["running"] * 6


def test_an_admin_may_press_when_admins_are_set(slack, spreadsheet, settings) -> None:
    deps = create_deps(settings(admins_list="U0DANA"), clock=Clock())
    with serve(settings(admins_list="U0DANA"), deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack)
        send(served, press_body(slack, message, "C0SPRING", "microopt.moved", title=AUDIENCE))
        served.drain()
    assert len(recorded(deps)) == 1 and len(updates(slack)) == 1


def test_with_the_sheet_failing_the_decision_is_kept_said_so_and_written_later(
    slack, sheets_api, spreadsheet, settings
) -> None:
    clock = Clock()
    deps = create_deps(settings(), clock=clock)
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack)
        sheets_api.fail_next("batchUpdate", google_error(503, "The service is currently unavailable.", "UNAVAILABLE"))
        send(served, press_body(slack, message, "C0SPRING", "microopt.moved", title=AUDIENCE))
        served.drain()

    assert decisions_rows(spreadsheet) == []
    decision = recorded(deps)[("Spring Sale", "Audience")]
    assert decision.sheet == "pending" and "HTTP 503" in (decision.sheet_error or "")
    first, second = updates(slack)
    assert "Not in the sheet's Decisions tab yet" not in json.dumps(first["blocks"])
    assert "Not in the sheet's Decisions tab yet" in json.dumps(second["blocks"])
    [(_, told)] = slack.responses
    assert all_text(told).startswith("The decision is kept, and goes to the sheet's Decisions tab as soon as")

    # too early for its retry: nothing is tried
    assert write_owed(deps, NOW + dt.timedelta(seconds=30), client=deps.slack_client).written == []
    # the scheduler's next minute, the sheet answering again
    done = write_owed(deps, NOW + dt.timedelta(minutes=2), client=lambda: create_web_client(settings()))
    assert len(done.written) == 1
    assert decisions_rows(spreadsheet)[1][3] == "Budget moved"
    assert owed_rows(deps.state(), source_id(KEY)) == []
    tidied = updates(slack)[-1]
    assert len(updates(slack)) == 3 and "Not in the sheet's Decisions tab yet" not in json.dumps(tidied["blocks"])
    assert "Budget moved" in json.dumps(tidied["blocks"])


def test_with_the_sheet_unreadable_the_message_itself_routes_the_press(
    slack, sheets_api, spreadsheet, settings
) -> None:
    """A process that never read the sheet (a cold cache) and cannot now: the press rests on the message
    microopt posted in that channel; the decision waits for the sheet."""
    first = create_deps(settings(), clock=Clock())
    with serve(settings(), first, draw_chart=tiny_chart) as served:
        message = status_message(served, slack)
    sheets_api.api_disabled = True
    cold = create_deps(settings(), clock=Clock())
    with serve(settings(), cold, draw_chart=tiny_chart) as served:
        send(served, press_body(slack, message, "C0SPRING", "microopt.moved", title=AUDIENCE))
        # a button naming a test the pressed message does not show is refused: microopt never put it there
        _, element = button(message, "microopt.moved", AUDIENCE)
        forged = json.loads(element["value"]) | {"c": "Brand Search", "t": "Keyword"}
        send(served, press_body(slack, message, "C0SPRING", "microopt.snooze_day", value=json.dumps(forged)))
        served.drain()

    decisions = recorded(cold)
    assert (
        list(decisions) == [("Spring Sale", "Audience")] and decisions[("Spring Sale", "Audience")].sheet == "pending"
    )
    told = [all_text(p) for _, p in slack.responses]
    assert any(t.startswith("The decision is kept") for t in told)
    assert any(t.startswith("“Brand Search” is not routed to this channel") for t in told)


def test_undo_puts_the_buttons_back_and_the_sheet_as_it_was_and_only_for_five_minutes(
    slack, spreadsheet, settings
) -> None:
    clock = Clock()
    deps = create_deps(settings(), clock=clock)
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack)
        send(served, press_body(slack, message, "C0SPRING", "microopt.moved", title=AUDIENCE))
        wait_for(lambda: len(decisions_rows(spreadsheet)) == 2)
        served.drain()
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        clock.now = NOW + dt.timedelta(minutes=2)
        decided = slack.message("C0SPRING", message["ts"])
        send(served, press_body(slack, decided, "C0SPRING", "microopt.undo", user_id="U0ANA", user_name="ana"))
        served.drain()

    assert recorded(deps) == {}
    restored = slack.message("C0SPRING", message["ts"])
    assert restored["blocks"] == message["blocks"]  # the buttons as they were
    last = decisions_rows(spreadsheet)[-1]
    assert last[:5] == ["2026-03-11 09:32 UTC", "Spring Sale", "Audience", "Undone: Budget moved", "@ana"]
    assert [r[7] for r in spreadsheet.rows_of("Results")[1:]] == ["running"] * 6

    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        clock.now = NOW + dt.timedelta(minutes=10)
        send(served, press_body(slack, restored, "C0SPRING", "microopt.moved", title=AUDIENCE))
        wait_for(lambda: len(updates(slack)) == 3)
        clock.now = NOW + dt.timedelta(minutes=16)
        late = slack.message("C0SPRING", message["ts"])
        send(served, press_body(slack, late, "C0SPRING", "microopt.undo"))
        served.drain()
    [(_, told)] = slack.responses
    assert all_text(told).startswith("A decision can be undone for 5 minutes, and this one is older")
    assert ("Spring Sale", "Audience") in recorded(deps)


def test_keep_running_and_snooze_are_recorded_and_acknowledged_in_the_message(slack, spreadsheet, settings) -> None:
    deps = create_deps(settings(), clock=Clock())
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack)
        send(served, press_body(slack, message, "C0SPRING", "microopt.kept", title="Spring Sale · Ad copy test"))
        wait_for(lambda: updates(slack))
        now = slack.message("C0SPRING", message["ts"])
        send(served, press_body(slack, now, "C0SPRING", "microopt.snooze_week", title=AUDIENCE))
        served.drain()

    decisions = recorded(deps)
    assert decisions[("Spring Sale", "Ad copy")].action == "kept"
    assert decisions[("Spring Sale", "Audience")].until == NOW + dt.timedelta(weeks=1)
    text = json.dumps(slack.message("C0SPRING", message["ts"])["blocks"], ensure_ascii=False)
    assert "*Keep running* — acknowledged by <@U0DANA>" in text and "*Snoozed* by <@U0DANA>" in text
    assert [r[3] for r in decisions_rows(spreadsheet)[1:]] == ["Keep running", "Snoozed until 2026-03-18 09:30 UTC"]
    assert [r[7] for r in spreadsheet.rows_of("Results")[1:]] == ["running"] * 6  # neither is done


def test_later_status_digests_and_sheet_answers_follow_what_was_decided(slack, spreadsheet, settings) -> None:
    clock = Clock()
    deps = create_deps(settings(), clock=clock)
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack)
        send(served, press_body(slack, message, "C0SPRING", "microopt.moved", title=AUDIENCE))
        wait_for(lambda: updates(slack))
        now = slack.message("C0SPRING", message["ts"])
        send(served, press_body(slack, now, "C0SPRING", "microopt.snooze_week", title="Spring Sale · Ad copy test"))
        served.drain()

    clock.now = NOW + dt.timedelta(minutes=10)  # past the sheet cache: the sheet is read again
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        again = status_message(served, slack)
        send_command(served, slack, "sheet", response="s1")
        wait_for(lambda: slack.responses)
        served.drain()
    text = all_text(again)
    assert "*Paused or done* (not in digests):\n• Spring Sale · Audience test (done)" in text  # the sheet's Status
    snoozed = next(b for b in again["blocks"] if "*Snoozed*" in all_text({"blocks": [b]}))
    assert "accessory" not in snoozed  # past the five minutes of Undo
    assert sum(b["type"] == "actions" for b in again["blocks"]) == 0  # Spring Sale has nothing left to act on
    [(_, sheet)] = slack.responses
    assert "*Snoozed*: digests leave these verdicts out until then" in all_text(sheet)
    assert "• Spring Sale · Ad copy test — Keep running. until <!date^" in all_text(sheet)

    run = post_channel_digest(deps, "C0SPRING", clock.now)
    assert [o.status for o in run.outcomes] == ["posted"]
    digest = slack.stored["C0SPRING"][-1]
    assert digest["text"] == "microopt digest · #spring-sale: nothing to repeat (1 test done or snoozed from Slack)."


def test_without_a_status_column_microopt_alone_keeps_the_test_done(slack: SlackStandIn, tmp_path: Path) -> None:
    """A local workbook: nothing is written to it; status shows the decision where the buttons were, and the
    test leaves digests."""
    settings = settings_for(slack, write_book(tmp_path / "book.xlsx"), database_url=f"sqlite:///{tmp_path / 's.db'}")
    clock = Clock()
    deps = create_deps(settings, clock=clock)
    with serve(settings, deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack)
        send(served, press_body(slack, message, "C0SPRING", "microopt.moved", title=AUDIENCE))
        wait_for(lambda: updates(slack))
        clock.now = NOW + dt.timedelta(minutes=10)
        again = status_message(served, slack)
        served.drain()

    decision = recorded(deps, settings.sheet)[("Spring Sale", "Audience")]
    assert decision.sheet == "local"
    blocks = again["blocks"]
    at = next(i for i, b in enumerate(blocks) if b["type"] == "section" and f"*{AUDIENCE}*" in b["text"]["text"])
    assert blocks[at + 1]["text"]["text"].startswith(":white_check_mark: *Budget moved* by <@U0DANA>")
    assert valid(blocks)
    run = post_channel_digest(deps, "C0SPRING", clock.now)
    assert [o.status for o in run.outcomes] == ["posted"]
    digest = all_text(slack.stored["C0SPRING"][-1])
    assert "Audience" not in digest and "Ad copy" in digest


def test_a_burst_past_one_request_is_written_whole_in_requests_of_fifty(
    slack, sheets_api, spreadsheet, settings
) -> None:
    from bot.decided import VerdictShown
    from bot.state.decisions import record_decision

    deps = create_deps(settings(), clock=Clock())
    for i in range(60):
        shown = VerdictShown(campaign="Spring Sale", test=f"Test {i}", verdict="keep_running", signature="k")
        record_decision(
            deps.state(),
            source=source_id(KEY),
            shown=shown,
            choice="kept",
            user_id="U0DANA",
            user_name="dana",
            team_id="T0TEAM",
            channel_id="C0SPRING",
            message_ts=None,
            now=NOW,
            to_sheet=True,
        )
    done = write_owed(deps, NOW)
    assert len(done.written) == 60 and done.failed == []
    assert len(decisions_rows(spreadsheet)) == 61
    assert len(sheets_api.calls_to("batchUpdate")) == 2


def test_a_press_in_a_channel_with_its_own_sheet_decides_and_writes_in_that_sheet(
    slack, spreadsheet, sheets_api: SheetsStandIn, settings
) -> None:
    from bot.state.links import link_channel

    client_key = "Client" + KEY[6:]
    client_sheet = sheets_api.add_spreadsheet(
        client_key,
        {"Results": [RESULTS[0], *[["Acme Boots", *row[1:]] for row in RESULTS[1:3]]]},
        shared_with={EMAIL: "writer"},
    )
    deps = create_deps(settings(), clock=Clock())
    link_channel(deps.state(), "C0SUMMER", "T0TEAM", client_key, "U0ANA", NOW)
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack, "C0SUMMER")
        assert "Acme Boots · Audience test" in all_text(message) and "Spring Sale" not in all_text(message)
        send(served, press_body(slack, message, "C0SUMMER", "microopt.moved", title="Acme Boots · Audience test"))
        wait_for(lambda: decisions_rows(client_sheet))
        served.drain()

    [_, row] = decisions_rows(client_sheet)
    assert row[1:4] == ["Acme Boots", "Audience", "Budget moved"]
    assert [r[7] for r in client_sheet.rows_of("Results")[1:]] == ["done", "done"]
    assert decisions_rows(spreadsheet) == []  # the agency's own sheet is not touched
    assert set(recorded(deps, client_key)) == {("Acme Boots", "Audience")}
    assert recorded(deps) == {}


def test_the_schedulers_job_writes_what_a_linked_sheet_is_owed(slack, spreadsheet, sheets_api, settings) -> None:
    from bot.slack.decisions.sheet_rows import run_owed_writes
    from bot.state.links import link_channel

    client_key = "Client" + KEY[6:]
    client_sheet = sheets_api.add_spreadsheet(
        client_key,
        {"Results": [RESULTS[0], *[["Acme Boots", *row[1:]] for row in RESULTS[1:3]]]},
        shared_with={EMAIL: "reader"},  # readable, not writable yet
    )
    deps = create_deps(settings(), clock=Clock())
    link_channel(deps.state(), "C0SUMMER", "T0TEAM", client_key, "U0ANA", NOW)
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = status_message(served, slack, "C0SUMMER")
        send(served, press_body(slack, message, "C0SUMMER", "microopt.moved", title="Acme Boots · Audience test"))
        wait_for(lambda: owed_rows(deps.state(), source_id(client_key)))
        served.drain()
    assert decisions_rows(client_sheet) == []

    client_sheet.shared_with[EMAIL] = "writer"
    later = replace(deps, clock=lambda: NOW + dt.timedelta(hours=1))
    run_owed_writes(later)

    assert [row[1:4] for row in decisions_rows(client_sheet)[1:]] == [["Acme Boots", "Audience", "Budget moved"]]
    assert owed_rows(deps.state(), source_id(client_key)) == []
