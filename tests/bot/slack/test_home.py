"""The Home tab, end to end: a signed `app_home_opened` event through the real app, the member's channels asked of
the Slack stand-in (`users.info`, `users.conversations`), the sheet read by real gspread from the Sheets stand-in,
and the view published with `views.publish`; a press from the Home tab recorded once and the tab published again."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.models.views import View

from bot.deps import create_deps
from bot.render.home import NO_CHANNELS
from bot.slack.home import FOREIGN_HOME
from bot.state.links import link_channel
from tests.bot.slack import test_buttons as buttons_tests
from tests.bot.slack.buttons import send
from tests.bot.slack.harness import NOW, post, serve, signed_headers, tiny_chart, wait_for
from tests.bot.slack.test_buttons import EMAIL, KEY, Clock, decisions_rows, recorded, valid

# The Slack and Sheets stand-ins, the service-account key and the settings, as the button tests have them.
rsa_key, sheets_api, key_info, key_file = (
    buttons_tests.rsa_key,
    buttons_tests.sheets_api,
    buttons_tests.key_info,
    buttons_tests.key_file,
)
slack, spreadsheet, settings = buttons_tests.slack, buttons_tests.spreadsheet, buttons_tests.settings


class Ticking(Clock):
    """A clock a millisecond later at every look: a sheet read, a press and a write each have their own moment."""

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now


AUDIENCE = "Spring Sale · Audience test"
KEYWORD = "Brand Search · Keyword test"


def opened(user: str, team: str = "T0TEAM", view_hash: str | None = None) -> str:
    event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
    if view_hash is not None:
        event["view"] = {"id": "V0", "type": "home", "hash": view_hash}
    return json.dumps(
        {
            "token": "deprecated",
            "team_id": team,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": f"Ev{user}{time.monotonic_ns()}",
            "event_time": int(NOW.timestamp()),
            "event": {**event, "event_ts": f"{time.time():.6f}"},
        }
    )


def open_home(served, user: str, team: str = "T0TEAM", view_hash: str | None = None) -> int:
    """Open the Home tab and wait for the lazy listener (the app's one answer worker) to have run."""
    body = opened(user, team, view_hash)
    status = post(served.url, body, {**signed_headers(body), "Content-Type": "application/json"}).status
    served.answers.submit(lambda: None).result()
    return status


def home_of(settings, deps):
    return serve(settings, deps, workers=1, draw_chart=tiny_chart)


def texts(view: dict[str, Any]) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                out.append(value) if key == "text" and isinstance(value, str) else walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(view.get("blocks", []))
    return "\n".join(out)


def home_press(view: dict[str, Any], action_id: str, title: str, user: str = "U0DANA", team: str = "T0TEAM") -> str:
    """The signed body Slack sends for a press of `action_id` under `title` in a published Home view."""
    last = ""
    for block in view["blocks"]:
        if block["type"] == "section":
            last = block["text"]["text"]
            accessory = block.get("accessory")
            if accessory and accessory["action_id"] == action_id and f"*{title}*" in last:
                element, block_id = accessory, block["block_id"]
                break
        if block["type"] == "actions" and f"*{title}*" in last:
            element = next((e for e in block["elements"] if e["action_id"] == action_id), None)
            if element is not None:
                block_id = block["block_id"]
                break
    else:
        raise AssertionError(f"no {action_id} under {title} in the Home view")
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "dana", "name": "dana", "team_id": team},
        "api_app_id": "A0APP",
        "token": "deprecated",
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": f"{time.monotonic_ns()}.home",
        "team": {"id": team, "domain": "team"},
        "is_enterprise_install": False,
        "view": view,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": element["text"],
                **({"value": element["value"]} if "value" in element else {}),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def test_opening_the_home_tab_publishes_the_tests_of_the_members_channels_only(slack, spreadsheet, settings) -> None:
    slack.members = {"C0SPRING": {"U0DANA"}, "C0SEARCH": {"U0SAM"}}
    deps = create_deps(settings(), clock=Clock())
    with home_of(settings(), deps) as served:
        assert open_home(served, "U0DANA") == 200
        served.drain()

    view = slack.views["U0DANA"]
    assert len(view["blocks"]) <= 100 and valid(view["blocks"])
    View(type="home", blocks=view["blocks"]).validate_json()
    words = texts(view)
    assert "Needs action (1)" in words and f"*{AUDIENCE}* · <#C0SPRING>" in words
    assert "_Decision range of B vs A on cart views: " in words  # the path chart's words: no image in a Home tab
    assert "Running (1)" in words and "Spring Sale · Ad copy test" in words
    assert "Brand Search" not in words  # routed to #search-team, where Dana is not
    [publish] = slack.calls_to("views.publish")
    assert publish.params["user_id"] == "U0DANA"
    asked = {c.params["user"] for c in slack.calls_to("users.conversations")}
    assert asked == {"U0DANA"}


def test_the_same_view_is_not_published_twice_and_slack_is_asked_once_per_member(slack, spreadsheet, settings) -> None:
    slack.members = {"C0SPRING": {"U0DANA"}}
    deps = create_deps(settings(), clock=Clock())
    with home_of(settings(), deps) as served:
        open_home(served, "U0DANA")
        shown = slack.views["U0DANA"]["hash"]
        open_home(served, "U0DANA", view_hash=shown)  # the tab shows what microopt published: unchanged
        open_home(served, "U0DANA", view_hash="changed-elsewhere")  # something else was shown: again
        served.drain()

    assert len(slack.calls_to("views.publish")) == 2
    assert len(slack.calls_to("users.conversations")) == 1  # cached for two minutes


def test_a_press_from_the_home_tab_records_one_decision_and_publishes_the_tab_again(
    slack, spreadsheet, settings
) -> None:
    slack.members = {"C0SPRING": {"U0DANA"}}
    deps = create_deps(settings(), clock=Ticking())
    with home_of(settings(), deps) as served:
        open_home(served, "U0DANA")
        view = slack.views["U0DANA"]
        body = home_press(view, "microopt.moved", AUDIENCE)
        replies = [send(served, body), send(served, body), send(served, body, retry=1)]
        wait_for(lambda: decisions_rows(spreadsheet))
        served.drain()

    assert [r.status for r in replies] == [200] * 3 and all(r.body == "" for r in replies)
    decision = recorded(deps)[("Spring Sale", "Audience")]
    assert (decision.action, decision.user_id, decision.channel_id, decision.message_ts) == (
        "moved",
        "U0DANA",
        "C0SPRING",
        None,
    )
    assert len(recorded(deps)) == 1 and len(decisions_rows(spreadsheet)) == 2  # the header and one row
    assert slack.calls_to("chat.update") == [] and slack.responses == []
    after = slack.views["U0DANA"]
    words = texts(after)
    assert valid(after["blocks"])
    assert "Needs action" not in words and "Done this month (1)" in words
    assert ":white_check_mark: *Budget moved* by <@U0DANA>" in words
    undo = next(b for b in after["blocks"] if (b.get("accessory") or {}).get("action_id") == "microopt.undo")
    assert undo["block_id"].startswith("microopt.home.C0SPRING.")


def test_a_press_from_the_home_tab_of_someone_who_left_the_channel_is_refused_in_one_sentence(
    slack, spreadsheet, settings
) -> None:
    slack.members = {"C0SPRING": {"U0DANA"}}
    deps = create_deps(settings(), clock=Clock())
    with home_of(settings(), deps) as served:
        open_home(served, "U0DANA")
        view = slack.views["U0DANA"]
        # Sam never was in #spring-sale: a Home view of Dana's pressed by Sam (or by Dana after leaving) is refused
        send(served, home_press(view, "microopt.moved", AUDIENCE, user="U0SAM"))
        wait_for(lambda: "U0SAM" in slack.views)
        served.drain()

    assert recorded(deps) == {} and decisions_rows(spreadsheet) == []
    words = texts(slack.views["U0SAM"])
    assert "You are not a member of <#C0SPRING>, where that test is routed" in words
    assert NO_CHANNELS.split(":")[0].split(".")[0] in words


def test_a_member_of_another_workspace_sees_nothing_of_this_ones_tests(slack, spreadsheet, settings) -> None:
    slack.members = {"C0SPRING": {"U0DANA", "U0GUEST"}}
    slack.user_teams = {"U0GUEST": "T0ELSEWHERE"}  # a Slack Connect guest in a shared #spring-sale
    deps = create_deps(settings(), clock=Clock())
    with home_of(settings(), deps) as served:
        open_home(served, "U0GUEST")
        served.drain()

    view = slack.views["U0GUEST"]
    words = texts(view)
    assert FOREIGN_HOME in words
    assert "Spring Sale" not in words and "Brand Search" not in words
    assert not any(b["type"] == "actions" for b in view["blocks"])


def test_a_sheet_that_cannot_be_read_is_one_sentence_and_the_rest_still_shows(slack, spreadsheet, settings) -> None:
    slack.members = {"C0SPRING": {"U0DANA"}, "C0SEARCH": {"U0DANA"}}
    deps = create_deps(settings(), clock=Clock())
    link_channel(deps.state(), "C0SEARCH", "T0TEAM", "1NotSharedWithMicroopt0000000000000000000000", "U0ADMIN", NOW)
    with home_of(settings(), deps) as served:
        open_home(served, "U0DANA")
        served.drain()

    words = texts(slack.views["U0DANA"])
    assert "missing here, because it could not be read" in words
    assert AUDIENCE in words  # #spring-sale's sheet still shows


def test_five_hundred_tests_fit_in_one_view_of_at_most_100_blocks(slack, sheets_api, settings) -> None:
    header = ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)", "Purchases (macro)"]
    rows: list[list[Any]] = [header]
    for n in range(500):
        lift = 60 if n % 3 == 0 else 2  # a third call for a budget move, the rest keep running
        rows.append([f"Campaign {n // 10:02d}", f"Test {n}", "A", 2000, 100, 8])
        rows.append([f"Campaign {n // 10:02d}", f"Test {n}", "B", 2000, 100 + lift, 9])
    routes = [["Campaign", "Channel"], ["*", "#spring-sale"]]
    sheets_api.add_spreadsheet(KEY, {"Results": rows, "Channels": routes}, shared_with={EMAIL: "reader"})
    slack.members = {"C0SPRING": {"U0DANA"}}
    deps = create_deps(settings(), clock=Clock())
    with home_of(settings(), deps) as served:
        open_home(served, "U0DANA")
        served.drain()

    view = slack.views["U0DANA"]
    assert len(view["blocks"]) <= 100 and valid(view["blocks"])
    View(type="home", blocks=view["blocks"]).validate_json()
    words = texts(view)
    assert "Needs action (167)" in words and "Running (333)" in words
    assert "more needing action: ask `/microopt status <campaign>` in its channel" in words
    assert "more running" in words or "Running (333)" in words
