"""Replay every day of a dated sheet through the same decision rule as `status`.

Vectorised over comparisons and days at once: one grid of every comparison at the end of every day of
its test (cumulative counts), one call of `decide_comparisons` on the whole grid, then the first call of
each comparison.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from analysis.decision import DecisionSettings, decide_comparisons
from analysis.models import (
    ActedCall,
    ActedOutcome,
    ActedRecord,
    Backtest,
    BacktestComparison,
    BacktestTest,
    SheetData,
)
from analysis.paths import daily_paths, numbered
from analysis.report import in_sheet_order

CALLED = ("better", "worse")

COMPARISON = ["test_index", "variant", "metric"]


def daily_comparisons(sheet: SheetData) -> pd.DataFrame:
    """Every comparison of every dated test at the end of every day of its test (analysis.paths), numbered
    as `decide_comparisons` reads paths and families."""
    table = daily_paths(sheet)
    return table if table.empty else numbered(table)


def _first_calls(decided: pd.DataFrame) -> pd.DataFrame:
    """The look at which each comparison was first called (better, worse or no difference)."""
    first = decided[decided["call"].notna()].groupby(COMPARISON, sort=False).head(1)
    first = first[[*COMPARISON, "date", "call", "days", "spend_to_date", "visitors", "visitors_control"]].copy()
    rows = decided.loc[first.index]
    first["lift_at_call"] = (rows["conversions"] / rows["visitors"]) / (
        rows["conversions_control"] / rows["visitors_control"]
    ) - 1
    return first.rename(columns={"date": "first_call_date", "days": "days_to_call", "spend_to_date": "spend_to_call"})


def replay(sheet: SheetData, settings: DecisionSettings | None = None) -> pd.DataFrame:
    """One row per comparison of a dated test: its first call (if any) and its state on the last day."""
    settings = settings or DecisionSettings()
    table = daily_comparisons(sheet)
    if table.empty:
        return table
    decided = decide_comparisons(table, settings)
    last = decided.groupby(COMPARISON, sort=False).tail(1)
    last = last[[*COMPARISON, "campaign", "test", "kind", "days", "spend_to_date", "decision"]].rename(
        columns={"days": "days_run", "spend_to_date": "spend_total", "decision": "final_decision"}
    )
    result = last.merge(_first_calls(decided), on=COMPARISON, how="left")

    directional = result["call"].isin(CALLED)
    macro_calls = result.loc[(result["kind"] == "macro") & directional]
    macro_first = macro_calls.sort_values("first_call_date").groupby(["test_index", "variant"]).head(1)
    macro_first = macro_first[["test_index", "variant", "call"]].rename(columns={"call": "macro_call"})
    result = result.merge(macro_first, on=["test_index", "variant"], how="left")
    confirmed = (result["call"] == result["macro_call"]).astype(object)
    unknown = (result["kind"] != "micro") | ~result["call"].isin(CALLED) | result["macro_call"].isna()
    result["confirmed_by_macro"] = confirmed.where(~unknown, None)
    return in_sheet_order(sheet.tests, result).reset_index(drop=True)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _optional(value: Any) -> float | None:
    return None if _missing(value) else float(value)


def _date(value: Any) -> dt.date | None:
    return None if _missing(value) else pd.Timestamp(value).date()


def _tests(result: pd.DataFrame, currencies: dict[tuple[str, str], str]) -> tuple[BacktestTest, ...]:
    """First micro call against first macro call, per test, from the replayed comparisons."""
    keys = ["test_index", "campaign", "test"]
    runs = result.groupby(keys, sort=False).agg(days_run=("days_run", "max"), spend_total=("spend_total", "max"))
    called = result[result["call"].isin(CALLED)].sort_values("first_call_date", kind="stable")
    first = called.groupby([*keys, "kind"], sort=False).head(1).set_index([*keys, "kind"])
    micro = first.xs("micro", level="kind").reindex(runs.index) if "micro" in first.index.unique("kind") else None
    macro = first.xs("macro", level="kind").reindex(runs.index) if "macro" in first.index.unique("kind") else None
    empty = pd.DataFrame(index=runs.index, columns=["first_call_date", "days_to_call", "spend_to_call"], dtype=float)
    micro = empty if micro is None else micro
    macro = empty if macro is None else macro
    macro_called = macro["days_to_call"].notna()
    end_days = macro["days_to_call"].where(macro_called, runs["days_run"])
    end_spend = macro["spend_to_call"].where(macro_called, runs["spend_total"])
    frame = pd.DataFrame(
        {
            "micro_call_date": micro["first_call_date"],
            "macro_call_date": macro["first_call_date"],
            "days_sooner": end_days - micro["days_to_call"],
            "spend_sooner": end_spend - micro["spend_to_call"],
            "macro_called": macro_called,
            "days_run": runs["days_run"],
        }
    ).reset_index()
    return tuple(
        BacktestTest(
            campaign=r["campaign"],
            test=r["test"],
            micro_call_date=_date(r["micro_call_date"]),
            macro_call_date=_date(r["macro_call_date"]),
            days_sooner=None if pd.isna(r["days_sooner"]) else int(r["days_sooner"]),
            spend_sooner=_optional(r["spend_sooner"]),
            macro_called=bool(r["macro_called"]),
            days_run=int(r["days_run"]),
            currency=currencies.get((r["campaign"], r["test"]), "$"),
        )
        for r in frame.to_dict("records")
    )


def backtest(
    sheet: SheetData, source: str, settings: DecisionSettings | None = None, acted: Sequence[ActedCall] = ()
) -> Backtest:
    """Every dated test replayed day by day; with `acted` (the Decisions tab's calls), what became of them."""
    settings = settings or DecisionSettings()
    result = replay(sheet, settings)
    currencies = {(spec.campaign, spec.test): spec.currency for spec in sheet.tests}
    comparisons = tuple(
        BacktestComparison(
            campaign=r["campaign"],
            test=r["test"],
            variant=r["variant"],
            metric=r["metric"],
            kind=r["kind"],
            first_call_date=_date(r["first_call_date"]),
            call=None if pd.isna(r["call"]) else r["call"],
            days_to_call=None if pd.isna(r["days_to_call"]) else int(r["days_to_call"]),
            spend_to_call=_optional(r["spend_to_call"]),
            visitors_to_call=None if pd.isna(r["visitors"]) else int(min(r["visitors"], r["visitors_control"])),
            lift_at_call=_optional(r["lift_at_call"]),
            days_run=int(r["days_run"]),
            spend_total=_optional(r["spend_total"]),
            final_decision=r["final_decision"],
            confirmed_by_macro=r["confirmed_by_macro"],
            currency=currencies.get((r["campaign"], r["test"]), "$"),
        )
        for r in result.to_dict("records")
    )
    method = settings.method()
    tests = _tests(result, currencies) if len(result) else ()
    replayed = Backtest(source=source, comparisons=comparisons, tests=tests, method=method)
    return replayed.model_copy(update={"acted": acted_record(replayed, acted)}) if acted else replayed


Outcome = Literal["confirmed", "contradicted", "open"]


def _macro_outcome(call: ActedCall, macros: list[BacktestComparison]) -> tuple[Outcome, BacktestComparison | None]:
    """Whether the macro metric's own calls agree with an acted-on call: budget moved to a variant is confirmed
    when the macro metric called that variant better (or, moved back to the control, the others worse), and
    contradicted when it called it worse or no different; a stopped test is confirmed by no difference."""
    called = sorted((c for c in macros if c.call is not None), key=lambda c: c.first_call_date or dt.date.max)
    if call.decision == "stopped":
        agreeing = [c for c in called if c.call == "no_difference"]
        against = [c for c in called if c.call in CALLED]
    elif call.variant is not None and any(c.variant == call.variant for c in macros):
        mine = [c for c in called if c.variant == call.variant]
        agreeing = [c for c in mine if c.call == "better"]
        against = [c for c in mine if c.call != "better"]
    else:  # budget moved back to the control: the variants were worse
        agreeing = [c for c in called if c.call == "worse"]
        against = [c for c in called if c.call != "worse"]
    if against:
        return "contradicted", against[0]
    if agreeing:
        return "confirmed", agreeing[0]
    return "open", None


def acted_record(replayed: Backtest, calls: Sequence[ActedCall]) -> ActedRecord:
    """What the macro metric later said of each call the team acted on, and the spend acting early saved: for a
    confirmed or open call, the replay's spend between the test's first micro call and its first macro call
    (or its last day), as `BacktestTest.spend_sooner` counts it."""
    tests = {(t.campaign, t.test): t for t in replayed.tests}
    outcomes = []
    for call in calls:
        test = tests.get((call.campaign, call.test))
        if test is None:
            outcomes.append(ActedOutcome(call=call, outcome="not_replayed"))
            continue
        macros = [
            c for c in replayed.comparisons if (c.campaign, c.test) == (call.campaign, call.test) and c.kind == "macro"
        ]
        outcome, deciding = _macro_outcome(call, macros)
        outcomes.append(
            ActedOutcome(
                call=call,
                outcome=outcome,
                macro_metric=deciding.metric if deciding else (macros[0].metric if macros else None),
                macro_call_date=deciding.first_call_date if deciding else None,
                spend_saved=test.spend_sooner if outcome != "contradicted" else None,
                currency=test.currency,
            )
        )
    return ActedRecord(outcomes=tuple(outcomes))
