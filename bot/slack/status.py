"""`/microopt status`'s answer: the tests a channel may see and asked for, their messages and (lazy) charts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial

from analysis.models import Report, TestResult
from bot.decided import Standing
from bot.render.blocks import COMMAND, escape, render_notice, render_status_posts
from bot.render.chart import chart_filename, path_words
from bot.routing import Access, same_campaign
from bot.sentences import no_match
from bot.service import campaigns, narrow
from bot.slack.command_answer import Answer, Chart, DrawChart, Post, ReadPaths, SlashCommand

# Past this many tests in one answer, charts would bury the verdicts: the first ones get charts.
MAX_CHARTS = 12
CHARTS_CAPPED = (
    f"Charts are shown for the first {MAX_CHARTS} tests only: ask `{COMMAND} status <campaign>` for the others'."
)


def _names(campaigns: Sequence[str]) -> str:
    return ", ".join(f"“{escape(name)}”" for name in campaigns)


def select_tests(report: Report, command: SlashCommand, access: Access) -> tuple[Report, str | None]:
    """The tests this channel may see and asked for, and a note (mrkdwn) when the choice needs explaining.

    A query narrows within what `access` allows; it never reaches campaigns routed elsewhere. When nothing in
    the sheet was tested, no note: the answer says why, per tab.
    """
    if not report.tests:
        return report, None
    visible = report.model_copy(update={"tests": access.tests(report.tests)})
    query = command.argument
    if query:
        found = narrow(visible, query)
        if found.tests:
            return found, None
        where = "here" if access.campaigns is not None else "in the sheet"
        return found, no_match(query, campaigns(visible), where, escape)
    if access.reach == "open" or access.campaigns is None:
        return visible, None
    missing = tuple(name for name in access.campaigns if not any(same_campaign(t.campaign, name) for t in report.tests))
    note = (
        f"The Channels tab routes {_names(missing)} here, but no Results tab has "
        f"{'that campaign' if len(missing) == 1 else 'those campaigns'}: check the spelling in both tabs."
        if missing
        else None
    )
    return visible, note


def chart_alt_text(test: TestResult) -> str:
    parts = [
        f"{c.variant} vs {test.control} on {c.metric}: "
        + (f"{c.lift * 100:+.0f}%" if c.lift is not None else "no lift (no control conversions)")
        for c in test.comparisons
    ]
    return f"Lift over {test.control} with 95% ranges. " + "; ".join(parts)


def chart_for(test: TestResult, draw_chart: DrawChart, paths: ReadPaths | None = None) -> Chart:
    title = f"{test.title}: lift vs {test.control}"
    if paths is None:
        return Chart(chart_filename(test), title, chart_alt_text(test), partial(draw_chart, test))

    def words() -> str:
        path = paths.of(test)
        return path_words(path, test.control) if path is not None else ""

    return Chart(chart_filename(test), title, chart_alt_text(test), lambda: draw_chart(test, paths.of(test)), words)


def status_answer(
    report: Report,
    note: str | None,
    read_at: dt.datetime,
    draw_chart: DrawChart | None,
    standing: Standing | None = None,
    paths: ReadPaths | None = None,
) -> Answer:
    """The status messages, each with (lazy) charts of its tests, the first `MAX_CHARTS` tests charted; a test's
    buttons, or what was decided about it (`standing`)."""
    drawable = [t for t in report.tests if t.comparisons] if draw_chart else []
    charted = {id(t) for t in drawable[:MAX_CHARTS]}
    posts = [
        Post(payload, tuple(chart_for(t, draw_chart, paths) for t in tests if id(t) in charted and draw_chart))
        for payload, tests in render_status_posts(report, note=note, read_at=read_at, standing=standing)
    ]
    if len(drawable) > MAX_CHARTS:
        posts.append(Post(render_notice(CHARTS_CAPPED)))
    return Answer(posts=tuple(posts))
