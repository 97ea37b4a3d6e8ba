"""Who sees and changes what (issue 10), end to end: signed requests through the real app, the Slack stand-in."""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc
from pathlib import Path

import pytest

from analysis.models import Tab
from bot.digests.run import post_digests
from bot.errors import UserFacingError
from bot.schedules.slots import ScheduleError, parse_schedule
from bot.slack_api.client import create_web_client
from bot.state.store import StateStore
from tests.bot.slack.harness import (
    NOW,
    RESULTS,
    ROUTES,
    all_text,
    command_body,
    deps_for,
    post,
    posted_messages,
    send_command,
    serve,
    settings_for,
    signed_headers,
    tiny_chart,
    wait_for,
    write_book,
)
from tests.fakes.slack_api import SlackStandIn


def titles(message: dict) -> list[str]:
    return [
        b["text"]["text"].split("*")[1]
        for b in message["blocks"]
        if b["type"] == "section" and "—" in b["text"]["text"]
    ]


def answers_to(slack: SlackStandIn) -> str:
    return "\n".join(all_text(m) for m in posted_messages(slack)) + "\n".join(all_text(p) for _, p in slack.responses)


# -- 1. the Channels tab is the access list --------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"channel_id": "D0DIRECT", "channel_name": "directmessage"}, "No campaigns are routed to this channel."),
        ({"channel_id": "C0RANDOM", "channel_name": "random"}, "No campaigns are routed to #random."),
        # another organisation's channel that happens to carry the routed name
        (
            {"channel_id": "C0THEIRS", "channel_name": "spring-sale", "team_id": "T0OTHER"},
            "No campaigns are routed to this shared channel.",
        ),
        # our own workspace, a channel that carries the routed name but is not the channel named so today
        # (the old #spring-sale after a rename and a new channel, or a forged request): matched by ID only
        (
            {"channel_id": "C0IMPOSTER", "channel_name": "spring-sale"},
            "No campaigns are routed to #spring-sale.",
        ),
    ],
)
def test_unrouted_places_get_one_sentence_and_no_numbers(slack: SlackStandIn, book: Path, fields, sentence) -> None:
    settings = settings_for(slack, book, open_status=False)
    with serve(settings, deps_for(settings)) as served:
        send_command(served, slack, "status", **fields)
        send_command(served, slack, "status spring", **fields)
        wait_for(lambda: len(slack.responses) == 2)
        served.drain()

    assert posted_messages(slack) == []
    for _, payload in slack.responses:
        assert payload["response_type"] == "ephemeral"
        assert all_text(payload).startswith(sentence)
    for secret in ("Spring Sale", "Brand Search", "%", "Move budget"):
        assert secret not in answers_to(slack)


def test_another_workspace_sees_only_what_is_routed_to_its_exact_channel_id(slack: SlackStandIn, book: Path) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0SEARCH", channel_name="search-team", team_id="T0OTHER")
        served.drain()

    [message] = posted_messages(slack)
    assert titles(message) == ["Brand Search · Keyword test"]


def test_a_slack_connect_user_in_a_channel_routed_by_name_sees_what_its_digests_show(
    slack: SlackStandIn, book: Path
) -> None:
    """`#spring-sale` resolves (conversations.list) to C0SPRING; a member of another organisation in that
    shared channel sees its campaigns, which its digests show them anyway, and nothing else."""
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0SPRING", channel_name="spring-sale", team_id="T0OTHER")
        wait_for(lambda: posted_messages(slack))  # answers run concurrently: one at a time keeps their order
        send_command(served, slack, "status brand", channel_id="C0SPRING", channel_name="x", team_id="T0OTHER")
        served.drain()

    first, second = posted_messages(slack)
    assert titles(first) == ["Spring Sale · Audience test", "Spring Sale · Ad copy test"]
    assert "Brand Search" not in all_text(second)
    assert slack.calls_to("conversations.list")  # names were resolved, not trusted from the request


def test_open_status_restores_every_campaign_but_never_for_another_workspace(slack: SlackStandIn, book: Path) -> None:
    settings = settings_for(slack, book, open_status=True)
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0RANDOM", channel_name="random")
        send_command(served, slack, "status", channel_id="C0RANDOM", channel_name="random", team_id="T0OTHER")
        wait_for(lambda: slack.responses)
        served.drain()

    [message] = posted_messages(slack)
    assert len(titles(message)) == 4
    [(_, foreign)] = slack.responses
    assert all_text(foreign).startswith("No campaigns are routed to this shared channel.")


def test_digests_and_status_route_through_the_same_rules(slack: SlackStandIn, book: Path) -> None:
    """A `*` row routes everything to #random for both; a channel with no row gets nothing from either."""
    routes = [*ROUTES, ["", "#random", "", ""]]
    sheet = write_book(book.parent / "star.xlsx", RESULTS, routes)
    settings = settings_for(slack, sheet)
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0RANDOM", channel_name="random")
        served.drain()
    [message] = posted_messages(slack)
    assert len(titles(message)) == 4


# -- 5. bounded, escaped input ----------------------------------------------------------------------
@pytest.fixture
def state(tmp_path: Path):
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    return lambda: store


def test_a_huge_cron_range_is_answered_at_once_without_building_it(slack: SlackStandIn, book: Path, state) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings, state=state)) as served:
        started = time.perf_counter()
        send_command(served, slack, "schedule 0 9 * * 0-99999999")
        wait_for(lambda: posted_messages(slack))
        elapsed = time.perf_counter() - started
        served.drain()

    assert elapsed < 1.0
    text = all_text(posted_messages(slack)[0])
    assert "is not a schedule I understand (day of week 0-99999999 is out of range (0-7))" in text
    assert "database" not in text

    tracemalloc.start()
    for spec in ("0 9 * * 0-99999999", "0 9 * * 1/99999999", "0-99999999 9 * * 1", "0 9 1-999999999 * *"):
        with pytest.raises(ScheduleError):
            parse_schedule(spec)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5_000_000


def test_a_schedule_argument_is_echoed_inert(slack: SlackStandIn, book: Path, state) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings, state=state)) as served:
        send_command(served, slack, "schedule <!channel> 09:00")
        send_command(served, slack, "schedule <https://evil.example|weekdays> 09:00")
        wait_for(lambda: len(posted_messages(slack)) == 2)
        served.drain()

    text = answers_to(slack)
    assert "“&lt;!channel&gt; 09:00” is not a schedule I understand" in text
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "database" not in text


def test_an_argument_over_500_characters_gets_one_sentence(slack: SlackStandIn, book: Path, state) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings, state=state)) as served:
        replies = [send_command(served, slack, f"{verb} " + "x" * 10_000) for verb in ("status", "schedule", "nope")]
        served.drain()

    for reply in replies:
        body = reply.json()
        assert body["response_type"] == "ephemeral"
        assert all_text(body).startswith("That is more than 500 characters")
        assert "xxxxxxxxxx" not in reply.body
    assert posted_messages(slack) == [] and slack.responses == []


def test_a_non_numeric_timestamp_is_a_plain_401(slack: SlackStandIn, book: Path, caplog) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings)) as served:
        body = command_body(slack, "status")
        headers = {**signed_headers(body), "X-Slack-Request-Timestamp": "soon"}
        reply = post(served.url, body, headers)
        served.drain()

    assert reply.status == 401
    assert not [r for r in caplog.records if r.exc_info]
    assert posted_messages(slack) == []


# -- 6. a bad Schedule cell is its own row's problem -----------------------------------------------
def test_a_bad_schedule_cell_costs_only_its_channel(slack: SlackStandIn, book: Path, state) -> None:
    routes = [
        ["Campaign", "Channel", "Schedule", "Timezone"],
        ["Spring Sale", "#spring-sale", "weekdays 09:00", "Europe/London"],
        ["Brand Search", "C0SEARCH", "0 9 * * 8", "Europe/London"],
        ["Summer Launch", "#summer-launch", "weekdays 09:00", "Mars/Olympus"],
    ]
    sheet = write_book(book.parent / "bad-schedule.xlsx", RESULTS, routes)
    settings = settings_for(slack, sheet)
    deps = deps_for(settings, state=state)
    deps.slack_client = lambda: create_web_client(settings)

    post_digests(deps, NOW - dt.timedelta(hours=2))  # the schedules take effect
    run = post_digests(deps, NOW)

    assert [o.label for o in run.outcomes if o.status == "posted"] == ["#spring-sale"]
    assert {m["channel"] for m in posted_messages(slack)} == {"C0SPRING"}

    with serve(settings, deps, draw_chart=tiny_chart) as served:
        send_command(served, slack, "sheet", response="s1")
        send_command(served, slack, "schedule", channel_id="C0SEARCH", channel_name="search-team")
        wait_for(lambda: slack.responses)
        served.drain()
    sheet_text = "\n".join(all_text(p) for name, p in slack.responses if name == "s1")
    assert "Channels!C3" in sheet_text and "0 9 * * 8" in sheet_text
    assert "Channels!D4" in sheet_text and "Mars/Olympus" in sheet_text
    schedule_reply = all_text(posted_messages(slack)[-1])
    assert "does not work" in schedule_reply and "database" not in schedule_reply


# -- 7. nothing lost on response_url ----------------------------------------------------------------
def test_a_long_answer_through_response_url_arrives_whole_in_five_posts(slack: SlackStandIn, write_sheet) -> None:
    rows: list[list[object]] = []
    for n in range(70):
        for variant, views in (("Control", 500), ("Challenger with a long name", 560 + n), ("Third", 470)):
            rows.append([f"Campaign {n:02d}", "Audience", variant, 10_000, views, 40 + n % 7])
    rows += [["Huge", "Keyword", f"keyword number {k:03d} " + "x" * 40, 20_000, 900 + k, 50] for k in range(60)]
    rows += [["Broken", "Audience", "A", 10_000, f"1O{k}", 3] for k in range(40)]
    settings = settings_for(slack, sheet=write_sheet(rows))
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0NOTMEMBER", channel_name="elsewhere", response="p1")
        send_command(served, slack, "sheet", channel_id="C0NOTMEMBER", channel_name="elsewhere", response="p2")
        served.drain()

    status = [p for name, p in slack.responses if name == "p1"]
    sheet = [p for name, p in slack.responses if name == "p2"]
    assert 1 < len(status) <= 5 and 1 <= len(sheet) <= 5
    shown = "\n".join(all_text(p) for p in status)
    for n in range(70):
        assert f"Campaign {n:02d}" in shown
    assert "Huge · Keyword test" in shown
    listed = "\n".join(all_text(p) for p in sheet)
    assert "40 cells need a look" in listed or all(f"1O{k}" in listed for k in range(40))


# -- 8. no identifiers in channels ------------------------------------------------------------------
def test_a_sheet_fault_names_no_service_account_or_key_in_the_channel(slack: SlackStandIn, tmp_path: Path) -> None:
    key = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"
    url = f"https://docs.google.com/spreadsheets/d/{key}/edit"

    def refused(spec: str) -> list[Tab]:
        raise UserFacingError(
            f"The Google Sheet {url} is not shared with microopt@acme-42.iam.gserviceaccount.com: share it (Viewer)."
        )

    settings = settings_for(slack, url)
    with serve(settings, deps_for(settings, refused)) as served:
        send_command(served, slack, "status")
        wait_for(lambda: slack.responses)
        served.drain()

    [message] = posted_messages(slack)
    public = all_text(message)
    assert "is not shared with the service account: share it" in public
    assert key not in public and "iam.gserviceaccount.com" not in public
    [(_, private)] = slack.responses
    assert private["response_type"] == "ephemeral"
    assert "microopt@acme-42.iam.gserviceaccount.com" in all_text(private)


# -- 4. who may change digests ----------------------------------------------------------------------
def test_only_admins_change_schedules_and_every_change_is_announced(slack: SlackStandIn, book: Path, state) -> None:
    settings = settings_for(slack, book, admins_list="U0BOSS, U0LEAD")
    with serve(settings, deps_for(settings, state=state)) as served:
        send_command(served, slack, "schedule mon 08:30", user_id="U0ASKER")
        wait_for(lambda: len(posted_messages(slack)) == 1)
        send_command(served, slack, "schedule mon 08:30", user_id="U0BOSS")
        wait_for(lambda: len(posted_messages(slack)) == 2)
        send_command(served, slack, "schedule", user_id="U0ASKER")  # showing is for everyone
        wait_for(lambda: len(posted_messages(slack)) == 3)
        served.drain()

    refused, changed, shown = (all_text(m) for m in posted_messages(slack))
    assert refused.startswith("Only the people in MICROOPT_ADMINS change digest schedules")
    assert changed.startswith("<@U0BOSS> set digests for #spring-sale to mon at 08:30 (UTC).")
    assert "mon at 08:30" in shown and "set with /microopt schedule" in shown


def test_without_admins_a_member_changes_their_channel_and_it_is_announced(
    slack: SlackStandIn, book: Path, state
) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings, state=state)) as served:
        send_command(served, slack, "schedule off", user_id="U0ASKER")
        served.drain()

    [message] = posted_messages(slack)
    assert message["channel"] == "C0SPRING"
    assert all_text(message).startswith("<@U0ASKER> turned digests off for #spring-sale.")
