"""Calls that must not change silently: today's calls against the ones recorded at earlier reads.

A dated test's calls are recomputed from its rows on every read, and an undated test's from its recorded
looks, so a call changes only when the data it rested on changed (a corrected cell, rows removed, totals
pasted over). Each such change is reported as a reopened call, with the numbers before and after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

import pandas as pd

from analysis.models import Comparison, Problem, Report, TestResult
from analysis.verdict_words import when
from analysis.wording import count

COMPARISON = ["campaign", "test", "variant", "metric"]
COUNTS = ["visitors_control", "conversions_control", "visitors", "conversions"]
CALL_COLUMNS = [*COMPARISON, "call", "called_on", *COUNTS]
CALL_WORDS = {"better": "better than", "worse": "worse than", "no_difference": "no different from"}


def _stamp(moment: dt.datetime | dt.date | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment(stamp: object) -> dt.datetime | dt.date | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    return dt.datetime.fromisoformat(stamp) if "T" in stamp else dt.date.fromisoformat(stamp)


def report_calls(report: Report) -> pd.DataFrame:
    """Every comparison of the report with its call (None while open), as `CALL_COLUMNS`."""
    pairs = [(test, c, c.at_call) for test in report.tests for c in test.comparisons]
    columns = {
        "campaign": [test.campaign for test, _, _ in pairs],
        "test": [test.test for test, _, _ in pairs],
        "variant": [c.variant for _, c, _ in pairs],
        "metric": [c.metric for _, c, _ in pairs],
        "call": [at.call if at else None for _, _, at in pairs],
        "called_on": [_stamp(at.called_on) if at else None for _, _, at in pairs],
        "visitors_control": [at.control_visitors if at else 0 for _, _, at in pairs],
        "conversions_control": [at.control_conversions if at else 0 for _, _, at in pairs],
        "visitors": [at.variant_visitors if at else 0 for _, _, at in pairs],
        "conversions": [at.variant_conversions if at else 0 for _, _, at in pairs],
    }
    return pd.DataFrame(columns, columns=CALL_COLUMNS)


def _said(test: TestResult, c: Comparison | None, r: dict[str, Any]) -> str:
    variant, metric, call = str(r["variant"]), str(r["metric"]), str(r["call"])
    moment = _moment(r["called_on"])
    on = f" of {when(moment)}" if moment is not None else ""
    old = f"{count(float(r['conversions']))} vs {count(float(r['conversions_control']))} of " + (
        f"{count(float(r['visitors']))} / {count(float(r['visitors_control']))}"
    )
    text = (
        f"the call{on} ({variant} {CALL_WORDS.get(call, call)} {test.control} on {metric.lower()}, {old}) is reopened"
    )
    if c is None or c.at_call is None:
        return text + ": the numbers it rested on changed, and it is not called on the corrected data yet"
    new = c.at_call
    again = f" of {when(new.called_on)}" if new.called_on is not None else ""
    return (
        f"{text}: the numbers it rested on changed; on the corrected data the call{again} is "
        f"{variant} {CALL_WORDS[new.call]} {test.control} "
        f"({count(new.variant_conversions)} vs {count(new.control_conversions)})"
    )


def reopened(
    recorded: pd.DataFrame, report: Report, restarted: Collection[tuple[str, str]] = ()
) -> tuple[tuple[Problem, ...], pd.DataFrame]:
    """Problems for every recorded call that today's data no longer makes the same way (tests in
    `restarted` already said so), and the calls to record now (every call today's data makes)."""
    today = report_calls(report)
    if recorded.empty:
        return (), today[today["call"].notna()]
    paired = recorded.merge(today, on=COMPARISON, how="inner", suffixes=("", "_now"))
    changed = (paired["call"] != paired["call_now"]) | (
        paired["called_on"].astype(str) != paired["called_on_now"].astype(str)
    )
    for name in COUNTS:  # numbers as numbers: a recorded 50.0 is today's 50
        changed |= paired[name].astype("float64") != paired[f"{name}_now"].astype("float64")
    tests = {(t.campaign, t.test): t for t in report.tests}
    problems = []
    for r in paired[changed].to_dict("records"):
        key = (str(r["campaign"]), str(r["test"]))
        if key in restarted or key not in tests:
            continue
        test = tests[key]
        comparison = next((c for c in test.comparisons if c.variant == r["variant"] and c.metric == r["metric"]), None)
        problems.append(Problem(cell=test.title, message=_said(test, comparison, {str(k): v for k, v in r.items()})))
    made = today[today["call"].notna()]
    return tuple(problems), made


def same_calls(recorded: pd.DataFrame, made: pd.DataFrame) -> bool:
    """Whether the record already holds exactly these calls (nothing to write)."""
    if len(recorded) != len(made):
        return False

    def rows(frame: pd.DataFrame) -> set[tuple[str, ...]]:
        numbers = frame.astype({name: "float64" for name in COUNTS})  # a recorded 50.0 is today's 50
        return {tuple(str(v) for v in r) for r in numbers[CALL_COLUMNS].itertuples(index=False)}

    return rows(recorded) == rows(made)
