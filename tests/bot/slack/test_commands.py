"""`/microopt …` end to end: signed requests over real HTTP into the real bolt app, answers into the stand-in."""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.deps import Deps
from bot.render.blocks import MAX_BLOCKS, MAX_HEADER_TEXT, MAX_SECTION_TEXT
from bot.slack.status import MAX_CHARTS
from bot.sources import read_tabs
from bot.sources.cache import SheetCache
from tests.bot.slack.harness import (
    NOW,
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
)
from tests.fakes.slack_api import SlackStandIn

PNG = b"\x89PNG\r\n\x1a\n"


def titles(message: dict) -> list[str]:
    return [
        b["text"]["text"].split("*")[1]
        for b in message["blocks"]
        if b["type"] == "section" and "—" in b["text"]["text"]
    ]


def test_status_in_a_routed_channel_posts_its_campaigns_with_charts(slack: SlackStandIn, book) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings)) as served:
        reply = send_command(served, slack, "status", channel_id="C0SPRING", channel_name="spring-sale")
        served.drain()

    assert reply.status == 200
    assert reply.json() == {"text": "Reading the sheet…", "response_type": "ephemeral"}
    [message] = posted_messages(slack)
    assert message["channel"] == "C0SPRING"
    assert titles(message) == ["Spring Sale · Audience test", "Spring Sale · Ad copy test"]
    first = message["blocks"][1]["text"]["text"]
    assert first.index("Move budget to B.") < first.index("8.1% vs 5.0%")  # the verdict, then the numbers
    assert message["blocks"][0]["type"] == "header"
    assert message["blocks"][-1]["type"] == "context"
    assert "Spring Sale · Audience test: Move budget to B." in message["text"]

    # One chart per test, through the two-step external upload, shared into the channel.
    urls = slack.calls_to("files.getUploadURLExternal")
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert [c.params["filename"] for c in urls] == ["spring-sale-audience-test.png", "spring-sale-ad-copy-test.png"]
    assert complete.params["channel_id"] == "C0SPRING"
    titles_uploaded = [f["title"] for f in json.loads(complete.params["files"])]
    assert titles_uploaded[0] == "Spring Sale · Audience test: lift vs A"
    assert len(slack.uploads) == 2 and all(png.startswith(PNG) for png in slack.uploads.values())
    assert complete.at > slack.calls_to("chat.postMessage")[0].at  # beside (after) its verdicts


def test_a_burst_of_commands_draws_each_tests_chart_once_per_sheet_read(slack: SlackStandIn, book) -> None:
    """Twelve answers from one (shared) sheet read show the same two tests: two charts drawn, 24 uploaded."""
    drawn: list[str] = []
    lock = threading.Lock()

    def counting_chart(test, path=None) -> bytes:
        with lock:
            drawn.append(test.title)
        time.sleep(0.05)  # long enough for concurrent answers to ask for a chart being drawn
        return tiny_chart(test)

    settings = settings_for(slack, book, open_status=True)
    sheets = SheetCache(lambda spec: read_tabs(spec, settings), ttl_seconds=60, clock=lambda: NOW)
    deps = Deps(settings=settings, read_tabs=sheets.read, last_read=sheets.last_read, clock=lambda: NOW)
    with serve(settings, deps, draw_chart=counting_chart) as served:
        with ThreadPoolExecutor(max_workers=6) as clients:
            list(clients.map(lambda _: send_command(served, slack, "status spring"), range(12)))
        served.drain()
    assert sorted(drawn) == ["Spring Sale · Ad copy test", "Spring Sale · Audience test"]
    assert len(slack.calls_to("files.completeUploadExternal")) == 12
    assert len(slack.uploads) == 24 and len(set(slack.uploads.values())) == 1


def test_status_in_an_unrouted_channel_gives_one_sentence_and_no_numbers(slack: SlackStandIn, book) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings)) as served:
        send_command(served, slack, "status", channel_id="C0RANDOM", channel_name="random")
        wait_for(lambda: slack.responses)
        served.drain()

    assert posted_messages(slack) == []
    [(_, payload)] = slack.responses
    assert payload["response_type"] == "ephemeral"
    assert all_text(payload).startswith("No campaigns are routed to #random. Add a row to the sheet's Channels tab.")
    assert "%" not in all_text(payload) and slack.calls_to("files.getUploadURLExternal") == []


def test_a_sheet_without_a_channels_tab_shows_every_campaign_everywhere(slack: SlackStandIn, write_sheet) -> None:
    rows = [["Spring", "Audience", "A", 2000, 100, 8], ["Spring", "Audience", "B", 2000, 161, 11]]
    settings = settings_for(slack, write_sheet(rows))
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0RANDOM", channel_name="random")
        served.drain()

    [message] = posted_messages(slack)
    assert titles(message) == ["Spring · Audience test"]


def test_channels_written_as_an_id_or_a_bare_name_are_routed(slack: SlackStandIn, book) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0SEARCH", channel_name="search-team")
        send_command(served, slack, "status", channel_id="C0SUMMER", channel_name="summer-launch")
        served.drain()

    by_channel = {m["channel"]: titles(m) for m in posted_messages(slack)}
    assert by_channel == {
        "C0SEARCH": ["Brand Search · Keyword test"],
        "C0SUMMER": ["Summer Launch · Landing page test"],
    }


def test_status_with_a_query_narrows_within_the_channels_campaigns(slack: SlackStandIn, book) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status ad copy", channel_id="C0SPRING", channel_name="spring-sale")
        send_command(served, slack, "status keyword", channel_id="C0SPRING", channel_name="spring-sale")
        served.drain()

    found, missing = sorted(posted_messages(slack), key=lambda m: "No campaign or test" in all_text(m))
    assert titles(found) == ["Spring Sale · Ad copy test"]
    # Brand Search is routed to another channel: a query never reaches it, nor names it.
    assert "No campaign or test matches “keyword”. The campaign here is “Spring Sale”." in all_text(missing)
    assert "Brand Search" not in all_text(missing)


def test_help_is_the_acknowledgement_itself(slack: SlackStandIn, book) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings)) as served:
        reply = send_command(served, slack, "help")
        served.drain()

    body = reply.json()
    assert body["response_type"] == "ephemeral"
    text = all_text(body)
    for usage in ("/microopt status", "/microopt sheet", "/microopt schedule weekdays 09:00", "/microopt schedule off"):
        assert usage in text
    assert slack.calls_to("chat.postMessage") == [] and slack.responses == []


def test_unknown_input_gets_the_help_text(slack: SlackStandIn, book) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings)) as served:
        reply = send_command(served, slack, "frobnicate <!here>")
        served.drain()

    text = all_text(reply.json())
    assert "I don't know `frobnicate &lt;!here&gt;`" in text
    assert "/microopt status" in text
    assert "<!here>" not in text
    assert slack.calls_to("chat.postMessage") == []


def test_a_bad_signature_is_refused_with_401(slack: SlackStandIn, book) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings)) as served:
        body = command_body(slack, "status")
        reply = post(served.url, body, signed_headers(body, secret="0" * 32))
        served.drain()

    assert reply.status == 401
    assert slack.calls_to("chat.postMessage") == []


def test_a_request_older_than_five_minutes_is_refused_with_401(slack: SlackStandIn, book) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings)) as served:
        body = command_body(slack, "status")
        reply = post(served.url, body, signed_headers(body, timestamp=int(time.time()) - 5 * 60 - 30))
        served.drain()

    assert reply.status == 401
    assert slack.calls_to("chat.postMessage") == []


def test_a_slack_retry_never_produces_a_second_answer(slack: SlackStandIn, book) -> None:
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings)) as served:
        body = command_body(slack, "status", trigger_id="77.1.same")
        first = post(served.url, body, signed_headers(body))
        retry = post(
            served.url,
            body,
            {**signed_headers(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        )
        served.drain()

    assert first.status == 200 and retry.status == 200
    assert retry.body == ""
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(slack.calls_to("files.completeUploadExternal")) == 1


def test_a_429_from_chat_post_message_is_retried_after_retry_after(slack: SlackStandIn, book) -> None:
    slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, **{"Retry-After": "1"})
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings)) as served:
        send_command(served, slack, "status")
        served.drain()

    refused, accepted = slack.calls_to("chat.postMessage")
    assert accepted.at - refused.at >= 1.0
    assert refused.params == accepted.params
    assert slack.responses == []  # nothing had to fall back or apologise


def test_a_channel_the_bot_is_not_in_is_answered_through_response_url(slack: SlackStandIn, write_sheet) -> None:
    rows = [["Spring", "Audience", "A", 2000, 100, 8], ["Spring", "Audience", "B", 2000, 161, 11]]
    settings = settings_for(slack, write_sheet(rows))
    with serve(settings, deps_for(settings)) as served:
        send_command(served, slack, "status", channel_id="C0PRIVATE", channel_name="privategroup", response="p1")
        served.drain()

    assert [c.params.get("channel") for c in slack.calls_to("chat.postMessage")] == ["C0PRIVATE"]
    verdicts, tip = (payload for _, payload in slack.responses)
    assert verdicts["response_type"] == "in_channel"
    assert "Test verdicts" in verdicts["text"]
    assert tip["response_type"] == "ephemeral" and "/invite @microopt" in all_text(tip)
    assert slack.calls_to("files.getUploadURLExternal") == []


def test_an_oversized_report_is_split_within_slack_limits(slack: SlackStandIn, write_sheet) -> None:
    rows: list[list[object]] = []
    for n in range(70):
        for variant, views in (("Control", 500), ("Challenger with a long name", 560 + n), ("Third", 470)):
            rows.append([f"Campaign {n:02d} & friends", "Audience", variant, 10_000, views, 40 + n % 7])
    rows += [["Huge", "Keyword", f"keyword number {k:03d} " + "x" * 40, 20_000, 900 + k, 50] for k in range(60)]
    settings = settings_for(slack, sheet=write_sheet(rows))
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0RANDOM", channel_name="random")
        served.drain()

    *messages, capped = posted_messages(slack)
    assert len(messages) > 1
    assert len(slack.uploads) == MAX_CHARTS  # charts for the first tests, then a word about the rest
    assert capped["text"].startswith(f"Charts are shown for the first {MAX_CHARTS} tests only")
    sections = []
    for number, message in enumerate(messages, start=1):
        assert len(message["blocks"]) <= MAX_BLOCKS
        assert len(message["blocks"][0]["text"]["text"]) <= MAX_HEADER_TEXT
        assert message["blocks"][0]["text"]["text"].endswith(f"({number}/{len(messages)})")
        assert message["text"]
        for block in message["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
                sections.append(block["text"]["text"])
    shown = "\n".join(sections)
    for n in range(70):  # every test is there, its numbers whole
        assert f"*Campaign {n:02d} &amp; friends · Audience test*" in shown
        assert f"({560 + n:,}/10,000 vs 500/10,000)" in shown
    for k in range(1, 60):
        assert f"({900 + k:,}/20,000 vs 900/20,000)" in shown


def test_names_from_the_sheet_are_escaped_and_cannot_ping(slack: SlackStandIn, write_sheet) -> None:
    rows = [
        ["<!channel>", "Ad & copy", "A", 2000, 100, 8],
        ["<!channel>", "Ad & copy", "<@U0BOSS> <https://evil.example|click>", 2000, 161, 11],
    ]
    settings = settings_for(slack, sheet=write_sheet(rows))
    with serve(settings, deps_for(settings)) as served:
        send_command(served, slack, "status", channel_id="C0RANDOM", channel_name="random")
        served.drain()

    [message] = posted_messages(slack)
    text = all_text(message)
    assert "&lt;!channel&gt; · Ad &amp; copy test" in text
    assert "&lt;@U0BOSS&gt; &lt;https://evil.example|click&gt;" in text
    for dangerous in ("<!channel>", "<@U0BOSS>", "<https://evil", "& copy"):
        assert dangerous not in text


def test_sheet_failure_becomes_a_sentence_the_channel_can_act_on(slack: SlackStandIn, tmp_path) -> None:
    settings = settings_for(slack, sheet=tmp_path / "gone.xlsx")
    with serve(settings, deps_for(settings)) as served:
        send_command(served, slack, "status")
        served.drain()

    [message] = posted_messages(slack)
    assert message["channel"] == "C0SPRING"
    assert message["text"].startswith(":warning: No sheet at ")
    assert "give MICROOPT_SHEET (or --sheet) a .csv or .xlsx path, or a Google Sheet URL." in message["text"]


def test_an_unexpected_failure_is_one_sentence_with_the_traceback_in_the_log(slack: SlackStandIn, book, caplog) -> None:
    def broken(spec: str):
        raise RuntimeError("internal detail xoxb-secret")

    settings = settings_for(slack, book)
    with caplog.at_level(logging.ERROR, logger="microopt.slack"), serve(settings, deps_for(settings, broken)) as served:
        send_command(served, slack, "status")
        served.drain()

    [message] = posted_messages(slack)
    text = all_text(message)
    assert "microopt could not finish `/microopt status` (an unexpected RuntimeError, reference " in text
    assert "internal detail" not in text and "Traceback" not in text
    [record] = [r for r in caplog.records if r.exc_info]
    assert "reference" in record.getMessage() and record.exc_info[0] is RuntimeError


def test_sheet_command_names_the_sheet_and_its_problem_cells(slack: SlackStandIn, write_sheet) -> None:
    rows = [
        ["Spring", "Audience", "A", 2000, 100, 8],
        ["Spring", "Audience", "B", 2000, 161, 11],
        ["Spring", "Audience", "C", 2000, "1O2", 11],
    ]
    settings = settings_for(slack, sheet=write_sheet(rows))
    with serve(settings, deps_for(settings)) as served:
        ack = send_command(served, slack, "sheet")
        wait_for(lambda: slack.responses)
        served.drain()

    assert ack.json()["text"] == "Reading the sheet…"
    [(_, payload)] = slack.responses
    text = all_text(payload)
    assert payload["response_type"] == "ephemeral"
    assert "Sheet: `Results.csv`" in text
    assert "<!date^" in text  # when it was read, in each reader's time zone
    assert "`Results!E4`: " in text and "1O2" in text
    assert slack.calls_to("chat.postMessage") == []


def test_sheet_command_says_how_each_tab_was_read(slack: SlackStandIn, write_sheet) -> None:
    header = ["Campaign name", "Ad set name", "Link clicks", "Adds to cart", "Purchases", "Amount spent (USD)"]
    rows = [
        ["Autumn", "Lookalike", "3,050", 151, 41, "1,201.10"],
        ["Autumn", "Interests", "3,070", 237, 55, "1,209.45"],
    ]
    settings = settings_for(slack, sheet=write_sheet(rows, header=header, name="Meta.csv"))
    with serve(settings, deps_for(settings)) as served:
        send_command(served, slack, "sheet")
        wait_for(lambda: slack.responses)
        served.drain()

    [(_, payload)] = slack.responses
    text = all_text(payload)
    assert "*How each tab was read*:" in text
    assert (
        "• Meta: Meta export · test = Ad set name" not in text
        and "• Meta: Meta export · variant = Ad set name, traffic = Link clicks, micro = Adds to cart, "
        "macro = Purchases, spend = Amount spent (USD)"
        in text
    )


def test_slow_sheet_reads_never_hold_back_acknowledgements(slack: SlackStandIn, book) -> None:
    """Thirty commands at once while the sheet hangs: every one is acknowledged before any answer,
    and all thirty share one sheet read."""
    sheet_released = threading.Event()
    settings = settings_for(slack, book)

    def slow_read(spec: str):
        sheet_released.wait(timeout=10)
        return read_tabs(spec, settings)

    sheets = SheetCache(slow_read, ttl_seconds=60, clock=lambda: NOW)
    deps = Deps(settings=settings, read_tabs=sheets.read, last_read=sheets.last_read, clock=lambda: NOW)
    with serve(settings, deps, workers=4, draw_chart=tiny_chart) as served:
        with ThreadPoolExecutor(max_workers=30) as senders:
            replies = list(senders.map(lambda _: send_command(served, slack, "status"), range(30)))
        acknowledged_before_release = not sheet_released.is_set()
        sheet_released.set()
        served.drain()

    assert acknowledged_before_release
    assert [r.status for r in replies] == [200] * 30
    assert len(slack.calls_to("chat.postMessage")) == 30
    assert sheets.reads == 1


# -- nothing silent, in Slack too -------------------------------------------------------------------------
def unread_sentences_of(path) -> list[str]:
    """What the analysis says of each tab nothing was tested from."""
    from analysis.reading.workbook import parse_workbook
    from bot.sources.local import read_local

    return [t.summary for t in parse_workbook(read_local(str(path))).tabs if not t.read and t.summary]


def test_status_and_sheet_on_a_sheet_with_nothing_tested_say_why(slack: SlackStandIn, write_sheet) -> None:
    from bot.render.blocks import escape

    path = write_sheet([], header=["Campaign", "Group", "Visits", "Signups"])
    settings = settings_for(slack, sheet=path)
    with serve(settings, deps_for(settings)) as served:
        send_command(served, slack, "status", channel_id="C0SPRING", channel_name="spring-sale")
        send_command(served, slack, "sheet", response="s1")
        wait_for(lambda: slack.responses)
        served.drain()

    from bot.sentences import NO_TESTS

    [message] = posted_messages(slack)
    said = unread_sentences_of(path)
    status_text = all_text(message)
    assert all(escape(sentence) in status_text for sentence in said or [NO_TESTS])
    sheet_text = "\n".join(all_text(p) for name, p in slack.responses if name == "s1")
    assert "0 tests found" in sheet_text
    assert all(escape(sentence) in sheet_text for sentence in said)


def test_a_setup_file_in_the_settings_maps_the_sheet_for_slack(slack: SlackStandIn, write_sheet, tmp_path) -> None:
    rows = [["Spring", "A", 2000, 100], ["Spring", "B", 2000, 161]]
    path = write_sheet(rows, header=["Campaign", "Cohort", "Visits", "Signups"])
    setup = tmp_path / "setup.csv"
    setup.write_text("Column,Role\nCohort,variant\nVisits,traffic\nSignups,macro\n", encoding="utf-8")
    settings = settings_for(slack, sheet=path, setup=str(setup))
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0SPRING", channel_name="spring-sale")
        served.drain()

    [message] = posted_messages(slack)
    assert titles(message) == ["Spring"]
    assert "161/2,000 vs 100/2,000" in all_text(message)


def test_status_counts_the_bad_cells_of_a_tested_tab_before_its_verdicts(slack: SlackStandIn, write_sheet) -> None:
    rows = [["Spring", "Audience", "A", 2000, 100, 8], ["Spring", "Audience", "B", 2000, 161, 11]]
    rows += [["Spring", "Audience", "B", 50, f"1O{n}", 1] for n in range(12)]
    settings = settings_for(slack, sheet=write_sheet(rows))
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0SPRING", channel_name="spring-sale")
        served.drain()

    [message] = posted_messages(slack)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert sections[0].split("\n") == [
        "*12 cells need a look (12 rows left out)*:",
        "• 12 × not a number, row left out: `Results!E4, E5, E6` …",
        "`/microopt sheet` lists every one of them.",
    ]
    assert titles(message) == ["Spring · Audience test"]


def test_a_routed_channel_hears_why_nothing_was_tested_and_an_unrouted_one_hears_nothing_more(
    slack: SlackStandIn, tmp_path
) -> None:
    from analysis.reading.workbook import parse_workbook
    from bot.render.blocks import escape
    from bot.sentences import NO_TESTS
    from bot.sources.local import read_local
    from tests.bot.slack.harness import ROUTES, write_book

    results = [
        ["Campaign", "Cohort", "Visits", "Signups"],
        ["Spring Sale", "A", 2000, 100],
        ["Spring Sale", "B", 2000, 9],
    ]
    book = write_book(tmp_path / "untested.xlsx", results, ROUTES)
    said = [t.summary for t in parse_workbook(read_local(str(book))).tabs if not t.read and t.summary] or [NO_TESTS]
    settings = settings_for(slack, book)
    with serve(settings, deps_for(settings)) as served:
        send_command(served, slack, "status", channel_id="C0SPRING", channel_name="spring-sale")
        send_command(served, slack, "status spring", channel_id="C0SPRING", channel_name="spring-sale")
        send_command(served, slack, "status", channel_id="C0RANDOM", channel_name="random")
        wait_for(lambda: slack.responses)
        served.drain()

    messages = posted_messages(slack)
    assert len(messages) == 2
    for message in messages:
        text = all_text(message)
        assert all(escape(sentence) in text for sentence in said)
        assert "routes" not in text and "No campaign or test matches" not in text
    [(_, refused)] = slack.responses
    assert all_text(refused).startswith("No campaigns are routed to #random.")
    assert "2000" not in all_text(refused) and "2,000" not in all_text(refused)
