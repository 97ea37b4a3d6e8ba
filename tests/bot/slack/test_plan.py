"""Planning the next test from Slack, end to end: `/microopt plan` through the real app, the *Plan next test*
button opening a modal in the Slack stand-in (`views.open` with the press's trigger ID), a lift chosen in it
(`views.update`), and *Add to sheet* writing the new test's rows through real gspread into the Sheets stand-in —
once, for whoever may act, and one sentence for whoever may not or when the sheet fails."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.models.views import View

from bot.deps import create_deps
from tests.bot.slack.buttons import press_body, send, stored_messages
from tests.bot.slack.harness import (
    BOT_TOKEN,
    CHANNELS,
    ROUTES,
    all_text,
    send_command,
    serve,
    tiny_chart,
    wait_for,
)
from tests.bot.slack.test_buttons import Clock, settings_maker, valid
from tests.bot.sources import conftest as google
from tests.fakes.sheets_api import SheetsStandIn, google_error
from tests.fakes.slack_api import SlackStandIn

RESULTS = [
    ["Campaign", "Test", "Variant", "Clicks", "Spend", "Cart views (micro)", "Purchases (macro)", "Planned visitors",
     "Status"],
    ["Spring Sale", "Audience", "A", 2000, 840, 100, 8, 30000, "done"],
    ["Spring Sale", "Audience", "B", 2000, 840, 161, 11, 30000, "done"],
    ["Brand Search", "Keyword", "running shoes", 4000, 2520, 180, 14, 30000, "running"],
    ["Brand Search", "Keyword", "trail running shoes", 4000, 2520, 236, 19, 30000, "running"],
]  # fmt: skip
EMAIL, KEY = google.EMAIL, google.KEY
rsa_key, sheets_api, key_info, key_file = google.rsa_key, google.sheets_api, google.key_info, google.key_file


@pytest.fixture
def slack():
    with SlackStandIn(token=BOT_TOKEN, channels=dict(CHANNELS)) as stand_in:
        yield stand_in


@pytest.fixture
def spreadsheet(sheets_api: SheetsStandIn):
    return sheets_api.add_spreadsheet(
        KEY, {"Results": [list(r) for r in RESULTS], "Channels": ROUTES}, shared_with={EMAIL: "writer"}
    )


@pytest.fixture
def settings(slack, sheets_api, key_file, tmp_path: Path):
    return settings_maker(slack, sheets_api, key_file, tmp_path)


def a_valid_view(view: dict[str, Any]) -> bool:
    """A modal as slack_sdk's own model reads and writes it (its validators run in to_dict)."""
    stored = {k: v for k, v in view.items() if k not in ("id", "hash")}
    return View(**stored).to_dict() == stored and valid(stored["blocks"])


def plan_message(served, slack: SlackStandIn, text: str = "plan spring", channel: str = "C0SPRING") -> dict[str, Any]:
    before = len(stored_messages(slack, channel))
    send_command(served, slack, text, channel_id=channel, channel_name=CHANNELS[channel])
    wait_for(lambda: len(stored_messages(slack, channel)) > before)
    return stored_messages(slack, channel)[-1]


def views_updates(slack: SlackStandIn) -> list[dict[str, Any]]:
    out = []
    for call in slack.calls_to("views.update"):
        params = dict(call.params)
        if isinstance(params.get("view"), str):
            params["view"] = json.loads(params["view"])
        out.append(params)
    return out


def open_modal(served, slack: SlackStandIn, message: dict[str, Any], **who: Any) -> str:
    """Press Plan next test; the modal's ID once the plan (or a sentence) is in it."""
    before = len(slack.calls_to("views.update"))
    reply = send(served, press_body(slack, message, who.pop("channel", "C0SPRING"), "microopt_plan.open", **who))
    assert reply.status == 200 and reply.body == ""
    wait_for(lambda: len(slack.calls_to("views.update")) > before)
    return str(views_updates(slack)[-1]["view_id"])


def view_payload(slack: SlackStandIn, view_id: str, names: tuple[str, str, str], user: str, team: str) -> dict:
    view = slack.view(view_id)
    assert view is not None
    test, control, variant = names
    view["state"] = {
        "values": {
            "plan_test": {"name": {"type": "plain_text_input", "value": test}},
            "plan_control": {"name": {"type": "plain_text_input", "value": control}},
            "plan_variant": {"name": {"type": "plain_text_input", "value": variant}},
        }
    }
    return {
        "user": {"id": user, "username": "dana", "name": "dana", "team_id": team},
        "api_app_id": "A0APP",
        "token": "deprecated-verification-token",
        "team": {"id": team, "domain": "team"},
        "view": view,
    }


def submission(slack: SlackStandIn, view_id: str, names=("Audience 2", "Lookalike", "Interests"), **who: Any) -> str:
    payload = {
        "type": "view_submission",
        "trigger_id": f"{time.monotonic_ns()}.2.submit",
        **view_payload(slack, view_id, names, who.get("user_id", "U0DANA"), who.get("team_id", "T0TEAM")),
    }
    return urlencode({"payload": json.dumps(payload)})


def choose_lift(slack: SlackStandIn, view_id: str, lift: str) -> str:
    payload = {
        "type": "block_actions",
        "trigger_id": f"{time.monotonic_ns()}.2.lift",
        "container": {"type": "view", "view_id": view_id},
        "actions": [
            {
                "type": "static_select",
                "action_id": "microopt_plan.lift",
                "block_id": "plan_controls",
                "selected_option": {
                    "text": {"type": "plain_text", "text": f"+{lift}%"},
                    "value": str(float(lift) / 100),
                },
                "action_ts": f"{time.time():.6f}",
            }
        ],
        **view_payload(slack, view_id, ("Test 2", "A", "B"), "U0DANA", "T0TEAM"),
    }
    return urlencode({"payload": json.dumps(payload)})


def spring_rows(spreadsheet) -> list[list[Any]]:
    return [r for r in spreadsheet.rows_of("Results") if r and r[0] == "Spring Sale"]


def modal_text(slack: SlackStandIn, view_id: str) -> str:
    view = slack.view(view_id)
    assert view is not None
    return all_text({"blocks": view["blocks"]})


def test_the_plan_command_answers_with_the_plan_and_its_button(slack, spreadsheet, settings) -> None:
    deps = create_deps(settings(), clock=Clock())
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = plan_message(served, slack)
        served.drain()

    assert valid(message["blocks"])
    text = all_text(message)
    assert "Next test for Spring Sale" in text
    assert "Test on *Cart views*" in text and "To call a +10% lift" in text
    assert "*Cart views* (micro" in text and "*Purchases* (macro" in text  # side by side
    [button] = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["value"]) == ("microopt_plan.open", "Spring Sale")


def test_the_button_opens_a_modal_with_its_trigger_and_a_lift_chosen_updates_it(slack, spreadsheet, settings) -> None:
    deps = create_deps(settings(), clock=Clock())
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = plan_message(served, slack)
        view_id = open_modal(served, slack, message, trigger_id="7.7.plan")
        [opened] = slack.calls_to("views.open")
        first = modal_text(slack, view_id)
        reply = send(served, choose_lift(slack, view_id, "20"))
        wait_for(lambda: "+20% lift" in modal_text(slack, view_id))
        served.drain()

    assert opened.params["trigger_id"] == "7.7.plan"
    assert reply.status == 200
    [plan_shown, lifted] = views_updates(slack)
    assert plan_shown["view_id"] == lifted["view_id"] == view_id
    assert lifted["hash"]  # the view's hash, so a stale choice never overwrites a later one
    assert a_valid_view(slack.view(view_id))
    assert "+10% lift" in first and "+10% lift" not in modal_text(slack, view_id)
    assert plan_shown["view"]["submit"]["text"] == "Add to sheet"


def test_add_to_sheet_writes_the_rows_once_even_submitted_twice(slack, spreadsheet, settings, sheets_api) -> None:
    deps = create_deps(settings(), clock=Clock())
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = plan_message(served, slack)
        view_id = open_modal(served, slack, message)
        body = submission(slack, view_id)
        replies = [send(served, body), send(served, body, 1), send(served, submission(slack, view_id))]
        wait_for(lambda: "Added" in modal_text(slack, view_id))
        served.drain()

    ack = json.loads(replies[0].body)
    assert ack["response_action"] == "update" and "Adding the test" in all_text(ack["view"])
    rows = spring_rows(spreadsheet)
    added = rows[2:]
    assert [r[:3] for r in added] == [
        ["Spring Sale", "Audience 2", "Lookalike"],
        ["Spring Sale", "Audience 2", "Interests"],
    ]
    assert [r[8] for r in added] == ["running", "running"]
    assert added[0][7] == added[1][7] and int(added[0][7]) > 0  # the plan's visitors per arm
    assert all(cell in ("", None) for r in added for cell in r[3:7])  # the numbers are left to the team
    assert "Added “Audience 2” (Lookalike vs Interests) to Results!A6:I7" in modal_text(slack, view_id)


@pytest.mark.parametrize(
    ("who", "changes", "sentence"),
    [
        ({"team_id": "T0OTHER"}, {}, "Only members of the workspace microopt is installed in"),
        ({"user_id": "U0ANA"}, {"admins_list": "U0DANA"}, "Only MICROOPT_ADMINS act on verdicts here"),
        ({}, {}, "is not routed to this channel"),
    ],
    ids=["other workspace", "not an admin", "unrouted channel"],
)
def test_who_may_not_act_gets_one_sentence_and_nothing_is_written(
    slack, spreadsheet, settings, who, changes, sentence
) -> None:
    deps = create_deps(settings(**changes), clock=Clock())
    channel = "C0RANDOM" if sentence.startswith("is not routed") else "C0SPRING"
    with serve(settings(**changes), deps, draw_chart=tiny_chart) as served:
        message = plan_message(served, slack, channel="C0SPRING")
        view_id = open_modal(served, slack, message, channel=channel, **who)
        opened = modal_text(slack, view_id)
        send(served, submission(slack, view_id, **who))
        wait_for(lambda: len(slack.calls_to("views.update")) >= 2)
        served.drain()

    assert sentence in opened  # the modal says it at once
    assert sentence in modal_text(slack, view_id)  # and a crafted submission gets the same sentence
    assert len(spring_rows(spreadsheet)) == 2


def test_with_the_sheet_failing_the_modal_says_what_to_add_by_hand(slack, spreadsheet, settings, sheets_api) -> None:
    deps = create_deps(settings(), clock=Clock())
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = plan_message(served, slack)
        view_id = open_modal(served, slack, message)
        sheets_api.fail_next("batchUpdate", google_error(503, "The service is currently unavailable.", "UNAVAILABLE"))
        send(served, submission(slack, view_id))
        wait_for(lambda: "Nothing was added" in modal_text(slack, view_id))
        served.drain()

    text = modal_text(slack, view_id)
    assert "add two rows to the campaign's tab" in text and "“Audience 2”" in text and "Planned visitors" in text
    assert len(spring_rows(spreadsheet)) == 2


def test_a_test_already_in_the_sheet_is_not_added_again(slack, spreadsheet, settings) -> None:
    deps = create_deps(settings(), clock=Clock())
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = plan_message(served, slack)
        view_id = open_modal(served, slack, message)
        send(served, submission(slack, view_id, names=("Audience", "A", "B")))
        wait_for(lambda: "already in the sheet" in modal_text(slack, view_id))
        served.drain()

    assert len(spring_rows(spreadsheet)) == 2


def test_names_left_blank_are_refused_in_the_acknowledgement(slack, spreadsheet, settings) -> None:
    deps = create_deps(settings(), clock=Clock())
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = plan_message(served, slack)
        view_id = open_modal(served, slack, message)
        reply = send(served, submission(slack, view_id, names=("", "A", "A")))
        served.drain()

    assert json.loads(reply.body) == {
        "response_action": "errors",
        "errors": {"plan_test": "Give it a name."},
    }
    assert len(spring_rows(spreadsheet)) == 2


def test_status_shows_what_the_macro_metric_later_said_of_the_calls_acted_on(slack, sheets_api, settings) -> None:
    """The proxy check reads the Decisions tab too (deliverable 6): a budget moved on demo requests, which sign-ups
    later confirmed, and the spend acting early saved, as `microopt backtest` counts it."""
    from analysis.backtest import backtest
    from analysis.reading.decisions_tab import acted_calls
    from analysis.reading.workbook import parse_workbook
    from tests.analysis.test_acted_record import decisions, row
    from tests.analysis.test_backtest import HEADER, dated_rows

    daily = [HEADER, *dated_rows(28, (0.0, 0.4), seed=9, traffic=3000)]
    routes = [*ROUTES, ["Summer", "#spring-sale", "", ""]]
    decided = decisions(row("Budget moved"))
    sheets_api.add_spreadsheet(
        KEY, {"Daily": daily, "Channels": routes, "Decisions": decided.rows}, shared_with={EMAIL: "writer"}
    )
    deps = create_deps(settings(), clock=Clock())
    with serve(settings(), deps, draw_chart=tiny_chart) as served:
        message = plan_message(served, slack, text="status summer")
        served.drain()

    from analysis.models import Tab

    expected = backtest(parse_workbook([Tab("Daily", daily)]), source="t", acted=acted_calls([decided])).acted
    assert expected is not None
    [outcome] = expected.outcomes
    assert outcome.outcome == "confirmed" and outcome.spend_saved
    text = all_text(message)
    assert "*Calls acted on from Slack*: 1 call; the macro metric later confirmed 1 of 1, contradicted 0" in text
    from analysis.wording import money

    assert f"Acting on the confirmed ones early saved {money(outcome.spend_saved)}" in text
