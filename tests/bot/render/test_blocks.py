"""Block Kit rendering: pure functions, checked against Slack's limits."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from analysis.models import Problem, TabReading
from bot.render.blocks import (
    MAX_BLOCKS,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    escape,
    header,
    render_help,
    render_sheet_messages,
    render_status_messages,
    split_text,
)
from tests.bot.slack.factories import comparison, report, result


def within_limits(payload: dict) -> None:
    assert payload["text"]
    assert len(payload["blocks"]) <= MAX_BLOCKS
    for block in payload["blocks"]:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER_TEXT
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION_TEXT


def test_a_status_message_is_header_sections_buttons_context_with_a_fallback() -> None:
    [payload] = render_status_messages(report(result()), read_at=dt.datetime(2026, 3, 11, 9, 30, tzinfo=dt.UTC))
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds == ["header", "section", "actions", "context"]
    section = payload["blocks"][1]["text"]["text"]
    assert section.startswith("*Spring Sale · Audience test* — :large_green_circle: *Move budget to B.*")
    assert "• *B* vs A, Cart views (micro): 8.1% vs 5.0% (161/2,000 vs 100/2,000)" in section
    labels = [button["text"]["text"] for button in payload["blocks"][2]["elements"]]
    assert labels == ["Budget moved", "Snooze 1 day", "Snooze 1 week", "Plan next test"]
    footer = payload["blocks"][3]["elements"][0]["text"]
    assert "<https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz012345|Google Sheet>" in footer
    assert "<!date^1773221400^{date_short_pretty} at {time}|2026-03-11 09:30 UTC>" in footer
    assert payload["text"] == "Test verdicts\nSpring Sale · Audience test: Move budget to B."


def test_many_tests_split_across_messages_never_mid_test() -> None:
    tests = [result(f"Campaign {n}") for n in range(80)]
    payloads = render_status_messages(report(*tests))
    assert len(payloads) > 1
    for payload in payloads:
        within_limits(payload)
    titles = [b["text"]["text"].split("*")[1] for p in payloads for b in p["blocks"] if b["type"] == "section"]
    assert titles == [f"Campaign {n} · Audience test" for n in range(80)]


def test_one_test_too_long_for_a_section_continues_in_the_next_at_a_line_break() -> None:
    many = tuple(comparison(f"variant {k:03d} " + "y" * 60, conversions=100 + k) for k in range(40))
    [payload] = render_status_messages(report(result(comparisons=many)))
    within_limits(payload)
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) > 1
    lines = [line for s in sections for line in s.split("\n")]
    for k in range(40):
        assert sum(f"({100 + k:,}/2,000 vs 100/2,000)" in line for line in lines) == 1


def test_problems_in_status_are_counted_per_kind_with_their_first_cells() -> None:
    problems = (
        *(Problem(cell=f"Results!F{n}", message=f'"1O{n}" is not a number; row left out') for n in range(2, 30)),
        Problem(cell="Results!C9", message="Clicks is empty; row left out"),
    )
    [payload] = render_status_messages(report(result(), problems=problems))
    text = payload["blocks"][-2]["text"]["text"]
    assert text.split("\n") == [
        "*29 cells need a look (28 rows left out)*:",  # F9 and C9 are one row
        "• 28 × not a number, row left out: `Results!F2, F3, F4` …",
        "• 1 × Clicks is empty, row left out: `Results!C9`",
        "`/microopt sheet` lists every one of them.",
    ]


def test_a_few_problems_in_status_are_listed_whole() -> None:
    problems = (Problem(cell="Results!F3", message='"1O2" is not a number'),)
    [payload] = render_status_messages(report(result(), problems=problems))
    assert payload["blocks"][-2]["text"]["text"] == '*1 cell needs a look*:\n• `Results!F3`: "1O2" is not a number'


def test_sheet_messages_list_every_problem() -> None:
    problems = tuple(Problem(cell=f"Results!F{n}", message="x " * 30) for n in range(2, 400))
    payloads = render_sheet_messages(source="/tmp/campaigns.xlsx", last_read=None, problems=problems, tests=3)
    for payload in payloads:
        within_limits(payload)
    text = "\n".join(b["text"]["text"] for p in payloads for b in p["blocks"] if b["type"] == "section")
    assert "Sheet: `campaigns.xlsx` · not read since microopt started" in text
    assert all(f"`Results!F{n}`" in text for n in range(2, 400))


def test_escape_makes_mentions_and_links_inert() -> None:
    assert escape("<!channel> & <@U1|boss>") == "&lt;!channel&gt; &amp; &lt;@U1|boss&gt;"


def test_header_is_clipped_to_150() -> None:
    assert len(header("x" * 400)["text"]["text"]) <= MAX_HEADER_TEXT


def test_help_mentions_every_command() -> None:
    text = render_help()["text"]
    for verb in ("status", "sheet", "schedule", "help"):
        assert f"/microopt {verb}" in text


@given(st.text(alphabet=st.sampled_from("ab 12,.%&<>\n"), max_size=4000), st.integers(min_value=20, max_value=300))
def test_split_text_keeps_every_word_and_respects_the_limit(text: str, limit: int) -> None:
    chunks = split_text(escape(text), limit)
    assert all(len(chunk) <= limit for chunk in chunks)
    assert "".join(escape(text).split()) == "".join("".join(chunks).split())
    for chunk in chunks:  # no entity cut in two
        assert not chunk.rstrip().endswith(("&", "&a", "&am", "&amp", "&l", "&lt", "&g", "&gt"))


def test_a_comparison_on_fractional_conversions_is_marked_and_shows_them_as_credited() -> None:
    fractional = comparison("B", "Purchases", "macro").model_copy(
        update={"variant_conversions": 87.5, "control_conversions": 61.5, "fractional": True}
    )
    [payload] = render_status_messages(report(result(comparisons=(comparison("B"), fractional))))
    lines = payload["blocks"][1]["text"]["text"].split("\n")
    purchases = next(line for line in lines if "Purchases (macro)" in line)
    carts = next(line for line in lines if "Cart views (micro)" in line)
    assert "(87.5/2,000 vs 61.5/2,000)" in purchases and "_fractional conversions (attribution)_" in purchases
    assert "fractional" not in carts


def test_the_sheet_messages_say_how_each_tab_was_read() -> None:
    reading = TabReading(tab="Ads", layout="Google Ads export", summary="Ads: Google Ads export · variant = Ad group")
    payloads = render_sheet_messages(source="/tmp/campaigns.xlsx", last_read=None, problems=(), tests=1, tabs=[reading])
    text = "\n".join(b["text"]["text"] for p in payloads for b in p["blocks"] if b["type"] == "section")
    assert "*How each tab was read*:\n• Ads: Google Ads export · variant = Ad group" in text


def section_texts(payloads: list[dict]) -> list[str]:
    return [b["text"]["text"] for p in payloads for b in p["blocks"] if b["type"] == "section"]


def unread(tab: str, summary: str) -> TabReading:
    return TabReading(tab=tab, layout="not read", read=False, summary=summary)


def test_status_with_nothing_tested_says_each_tabs_sentence_escaped() -> None:
    empty = report().model_copy(
        update={"tabs": (unread("Ads", "Tab Ads has <Ad set>: no traffic column"), unread("Notes", "Notes is empty"))}
    )
    [payload] = render_status_messages(empty)
    within_limits(payload)
    assert section_texts([payload])[0].split("\n") == [
        ":warning: *Nothing was tested*",
        "• Tab Ads has &lt;Ad set&gt;: no traffic column",
        "• Notes is empty",
    ]
    one = report().model_copy(update={"tabs": (unread("Notes", "Notes is empty"),)})
    assert section_texts(render_status_messages(one))[0] == ":warning: Notes is empty"


def test_status_puts_problems_first_when_they_left_rows_out_of_a_tested_tab() -> None:
    problems = tuple(Problem(cell=f"Results!F{n}", message='"x" is not a number; row left out') for n in range(2, 9))
    tested = TabReading(tab="Results", layout="hand-made layout", summary="Results: hand-made layout")
    first = report(result(), problems=problems).model_copy(update={"tabs": (tested,)})
    texts = section_texts(render_status_messages(first))
    assert texts[0].startswith("*7 cells need a look (7 rows left out)*:") and "Move budget" in texts[1]
    elsewhere = first.model_copy(update={"tabs": ()})
    texts = section_texts(render_status_messages(elsewhere))
    assert "Move budget" in texts[0] and texts[1].startswith("*7 cells need a look")


def test_the_sheet_messages_count_problems_per_kind_then_list_every_one() -> None:
    problems = tuple(Problem(cell=f"Results!F{n}", message=f'"1O{n}" is not a number') for n in range(2, 12))
    text = "\n".join(section_texts(render_sheet_messages(source="x.xlsx", last_read=None, problems=problems, tests=1)))
    assert (
        '• 10 × not a number: `Results!F2, F3, F4` …\nEvery one of them:\n• `Results!F2`: "1O2" is not a number' in text
    )
    assert '• `Results!F11`: "1O11" is not a number' in text
    assert "1 test found." in text


def test_the_sheet_messages_say_which_tabs_were_not_tested_and_why() -> None:
    read = TabReading(tab="Meta", layout="Meta export", summary="Meta: Meta export · variant = Ad set name")
    tabs = [read, unread("Ads", "Tab Ads has Ad set, Impressions: no traffic column")]
    payloads = render_sheet_messages(source="x.xlsx", last_read=None, problems=(), tests=1, tabs=tabs)
    text = "\n".join(section_texts(payloads))
    assert "*How each tab was read*:\n• Meta: Meta export · variant = Ad set name\n*Not tested*:\n• Tab Ads has" in text
    assert "1 tab read, 1 not tested." in payloads[0]["text"]
    nothing = render_sheet_messages(source="x.xlsx", last_read=None, problems=(), tests=0, tabs=tabs[1:])
    assert "*Nothing was tested from*:\n• Tab Ads has" in "\n".join(section_texts(nothing))


def test_a_clipped_header_never_ends_on_a_separator() -> None:
    text = header("Black Friday · " + "x" * 200)["text"]["text"]
    assert text == "Black Friday…"
