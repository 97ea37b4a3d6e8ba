"""The decision's range over time: the same rule as the verdict, so each path ends on the verdict's range exactly."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from analysis.decision import DecisionSettings
from analysis.models import Tab
from analysis.paths import current_totals, empty_history
from analysis.range_paths import decision_ranges, range_paths
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from tests.analysis.test_paths import UNDATED, dated_sheet

SETTINGS = DecisionSettings()


def same(a: float | None, b: float) -> bool:
    return (a is None and math.isnan(b)) or a == b


def test_every_dated_path_ends_on_the_verdicts_range_exactly() -> None:
    sheet = parse_workbook(dated_sheet(8, 30, (0.0, 0.4), seed=5))
    report = analyse(sheet, "t", settings=SETTINGS)
    paths = {(p.campaign, p.variant, p.metric): p for p in range_paths(decision_ranges(sheet, SETTINGS), 0.1)}
    called = 0
    for test in report.tests:
        for c in test.comparisons:
            path = paths[(test.campaign, c.variant, c.metric)]
            low, high = path.decision_range
            assert same(c.decision_ci[0], low) and same(c.decision_ci[1], high)
            assert path.at == tuple(float(d) for d in range(1, 31))
            if c.call is not None:
                called += 1
                assert path.call == c.call and path.call_index is not None
                # the call is on its day, and the range narrowed toward it from the first look that could call
                assert path.at[path.call_index] == (pd.Timestamp(c.called_on) - pd.Timestamp("2026-03-01")).days + 1
                first = next(i for i, v in enumerate(path.low) if not math.isnan(v))
                assert path.high[path.call_index] - path.low[path.call_index] <= path.high[first] - path.low[first]
    assert called >= 4


def test_undated_paths_are_the_recorded_reads_and_end_on_the_verdicts_range() -> None:
    def sheet_of(b: int) -> object:
        rows = [UNDATED, ["Spring", "T", "A", 4000 * b, 200 * b], ["Spring", "T", "B", 4000 * b, 260 * b]]
        return parse_workbook([Tab("Results", rows)])

    history = empty_history()
    now = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    for read in range(1, 6):
        sheet = sheet_of(read)
        current = current_totals(sheet)
        look = current[["campaign", "test", "variant", "metric", "visitors_control", "conversions_control",
                        "visitors", "conversions"]].assign(looked_at=pd.Timestamp(now))  # fmt: skip
        if read < 5:
            history = pd.concat([history, look], ignore_index=True) if len(history) else look
            now += dt.timedelta(days=1)
    report = analyse(sheet, "t", settings=SETTINGS, history=history, now=now)
    [path] = range_paths(decision_ranges(sheet, SETTINGS, history, now), 0.1)
    [c] = report.tests[0].comparisons
    assert not path.dated and path.at == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert same(c.decision_ci[0], path.decision_range[0]) and same(c.decision_ci[1], path.decision_range[1])


def test_a_few_tests_decided_alone_are_decided_as_with_the_whole_sheet() -> None:
    sheet = parse_workbook(dated_sheet(6, 20, (0.0, 0.5), seed=9))
    whole = {(p.campaign, p.variant, p.metric): p for p in range_paths(decision_ranges(sheet, SETTINGS), 0.1)}
    some = range_paths(decision_ranges(sheet, SETTINGS, tests=[("S1", "T"), ("S4", "T")]), 0.1)
    assert {p.campaign for p in some} == {"S1", "S4"}
    for path in some:
        alone = whole[(path.campaign, path.variant, path.metric)]
        for name in ("at", "low", "high", "lift"):  # NaN where a look is too early for a range
            assert np.array_equal(getattr(path, name), getattr(alone, name), equal_nan=True)
        assert (path.call, path.call_index, path.dated) == (alone.call, alone.call_index, alone.dated)
