"""The path chart in a status answer, end to end: the decision's range over time drawn for the comparison the verdict
rests on, ending on the range the verdict states, and said in the chart's alt text."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

from analysis.range_paths import RangePath
from bot.sources import read_tabs
from bot.sources.cache import SheetCache
from tests.analysis.test_paths import dated_sheet
from tests.bot.slack.harness import NOW, TINY_PNG, deps_for, send_command, serve, settings_for, write_book
from tests.fakes.slack_api import SlackStandIn

ROUTES = [["Campaign", "Channel"], ["*", "#spring-sale"]]


def test_a_status_chart_draws_the_verdicts_range_over_time_and_says_it(slack: SlackStandIn, tmp_path: Path) -> None:
    rows = dated_sheet(2, 20, (0.5, 0.5), seed=3)[0].rows
    settings = settings_for(slack, write_book(tmp_path / "dated.xlsx", rows, ROUTES), min_days=3)
    drawn: list[tuple[object, RangePath | None]] = []
    lock = threading.Lock()

    def recording_chart(test, path=None) -> bytes:
        with lock:
            drawn.append((test, path))
        return TINY_PNG

    with serve(settings, deps_for(settings), draw_chart=recording_chart) as served:
        send_command(served, slack, "status")
        served.drain()

    assert len(drawn) == 2
    for test, path in drawn:
        assert path is not None and path.dated and path.at == tuple(float(d) for d in range(1, 21))
        ref = test.rests_on or test.to_confirm
        comparison = next(c for c in test.comparisons if (c.variant, c.metric) == (path.variant, path.metric))
        if ref is not None:
            assert (ref.variant, ref.metric) == (path.variant, path.metric)
        assert comparison.decision_ci == path.decision_range
    alts = [call.params.get("alt_txt", "") for call in slack.calls_to("files.getUploadURLExternal")]
    assert len(alts) == 2
    assert all("Decision range of B vs A on" in alt and "minimum effect ±10%" in alt for alt in alts)
    assert all(len(alt) <= 1000 for alt in alts)


def test_answers_on_the_same_read_compute_the_range_over_time_once(
    slack: SlackStandIn, tmp_path: Path, monkeypatch
) -> None:
    """A burst of status commands on one sheet read shares one computation of the ranges (it used to be one per
    answer, seconds of CPU that put the charts behind their verdicts)."""
    import bot.slack.answers as answers

    computed: list[int] = []
    real = answers.decision_paths

    def counted(*args, **kwargs):
        computed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(answers, "decision_paths", counted)
    rows = dated_sheet(2, 20, (0.5, 0.5), seed=3)[0].rows
    settings = settings_for(slack, write_book(tmp_path / "dated.xlsx", rows, ROUTES), min_days=3)
    drawn: list[RangePath | None] = []

    def recording_chart(test, path=None) -> bytes:
        drawn.append(path)
        return TINY_PNG

    # One read for the burst, as `microopt serve` shares it (bot.deps.create_deps: SheetCache).
    cached = SheetCache(partial(read_tabs, settings=settings), ttl_seconds=60, clock=lambda: NOW)
    with serve(settings, deps_for(settings, read=cached.read), draw_chart=recording_chart) as served:
        for n in range(4):
            send_command(served, slack, "status", response=f"r{n}", trigger_id=f"1.2.{n}")
        served.drain()

    assert len(slack.calls_to("files.getUploadURLExternal")) == 8  # 2 charts in each of 4 answers
    assert computed == [1]
    assert drawn and all(path is not None for path in drawn)
