"""Validated sheet in, one statistical result per test out."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pandas as pd

from analysis.comparison_models import comparisons, ints, optional_floats
from analysis.decision import DecisionSettings, decide_comparisons
from analysis.models import (
    ArmTotals,
    Comparison,
    ComparisonRef,
    Kind,
    PathKind,
    Report,
    SheetData,
    TestResult,
    TestSpec,
    built,
)
from analysis.pace import test_pace
from analysis.paths import KEYS, comparison_paths, rows_as_of, spec_frame
from analysis.proxy import micro_macro_pairs, proxy_records
from analysis.splits import split_p_values
from analysis.stats.bayes import chance_to_beat, shrunk_lifts
from analysis.stats.proportions import compare_proportions
from analysis.verdict import CALLED, SRM_ALPHA, FunnelPair, TestContext, confirm_visitors, decide
from analysis.verdict_words import headline, not_randomised_note, one_look_note, summary, variation_note


def _order(specs: tuple[TestSpec, ...], frame: pd.DataFrame, column: str, values: str) -> pd.Series:
    """Position of each row's variant or metric within its test, for sheet-order output (0 if not listed)."""
    listed: dict[int, tuple[str, ...]] = {}
    positions = []
    for index, name in zip(frame["test_index"].tolist(), frame[column].tolist(), strict=True):
        names = listed.get(index)
        if names is None:
            names = listed[index] = getattr(specs[index], values)
        positions.append(names.index(name) if name in names else 0)
    return pd.Series(np.array(positions, dtype=np.int64), index=frame.index)


def in_sheet_order(specs: tuple[TestSpec, ...], frame: pd.DataFrame) -> pd.DataFrame:
    """Comparisons as the sheet lists them: by test, then variant, then metric."""
    ordered = frame.assign(
        variant_order=_order(specs, frame, "variant", "variants"),
        metric_order=_order(specs, frame, "metric", "metric_names"),
    )
    return ordered.sort_values(["test_index", "variant_order", "metric_order"], kind="stable")


STATUS_ORDER = {"running": 0, "paused": 1, "done": 2}
COUNTS = ("visitors_control", "conversions_control", "visitors", "conversions")


def comparison_table(
    sheet: SheetData,
    as_of: dt.date | None = None,
    settings: DecisionSettings | None = None,
    history: pd.DataFrame | None = None,
    now: dt.datetime | None = None,
    replay: bool = False,
) -> pd.DataFrame:
    """Every test x non-control variant x metric at its latest look, with its statistics and its decision
    over its whole path (analysis.paths), in sheet order."""
    settings = settings or DecisionSettings()
    paths = comparison_paths(sheet, as_of, history, now, replay)
    decided = decide_comparisons(paths, settings)
    table = in_sheet_order(sheet.tests, decided.groupby("path", sort=False).tail(1))
    result = compare_proportions(
        table["visitors_control"],
        table["conversions_control"],
        table["visitors"],
        table["conversions"],
        settings.alpha,
    )
    for name in (
        "control_rate",
        "variant_rate",
        "lift",
        "lift_low",
        "lift_high",
        "p_value",
        "visitors_needed",
    ):
        table[name] = getattr(result, name)
    table["used_fisher"] = result.used_fisher
    table = table.drop(columns=["days"]).merge(test_pace(rows_as_of(sheet.traffic, as_of)), on=KEYS, how="left")
    table["days_to_go"] = np.ceil(table["visitors_to_go"] / table["daily_visitors"])
    table["spend_to_go"] = table["visitors_to_go"] * table["cost_per_visitor"]
    counts = [table[c].to_numpy(dtype=np.float64) for c in COUNTS]
    table["chance_to_beat"] = chance_to_beat(*counts) if len(table) else np.empty(0)
    table["shrunk_lift"] = shrunk_lifts(*counts)
    return table.reset_index(drop=True)


def _runs(test_index: np.ndarray) -> list[tuple[int, int, int]]:
    """(test index, start, end) of each run of equal test indices, in order."""
    if not len(test_index):
        return []
    starts = np.flatnonzero(np.r_[True, test_index[1:] != test_index[:-1]])
    ends = np.r_[starts[1:], len(test_index)]
    return list(zip(test_index[starts].tolist(), starts.tolist(), ends.tolist(), strict=True))


def _comparisons(table: pd.DataFrame) -> dict[int, tuple[Comparison, ...]]:
    """Every comparison, grouped by its test's index (the table is in sheet order: each test's rows adjoin)."""
    items = comparisons(table)
    return {index: tuple(items[start:end]) for index, start, end in _runs(table["test_index"].to_numpy())}


def _ref(c: Comparison | None) -> ComparisonRef | None:
    return None if c is None else _shared_ref(c.variant, c.metric, c.kind)


@cache
def _shared_ref(variant: str, metric: str, kind: Kind) -> ComparisonRef:
    """One frozen reference per comparison a verdict can rest on: a sheet of 60,000 tests has a handful."""
    return ComparisonRef(variant=variant, metric=metric, kind=kind)


def _funnel_pairs(pairs: pd.DataFrame, table: pd.DataFrame) -> dict[int, tuple[FunnelPair, ...]]:
    """The funnel evidence of each test that has a micro call: only a micro call can meet a conflict."""
    grouped: dict[int, list[FunnelPair]] = {}
    called = table.loc[(table["kind"] == "micro") & table["decision"].isin(CALLED), "test_index"].unique()
    pairs = pairs[pairs["test_index"].isin(called)] if not pairs.empty else pairs
    if pairs.empty:
        return {}
    columns = zip(
        pairs["test_index"].tolist(),
        pairs["variant"].astype(str).tolist(),
        pairs["metric_micro"].astype(str).tolist(),
        pairs["metric_macro"].astype(str).tolist(),
        optional_floats(pairs["funnel_control"]),
        optional_floats(pairs["funnel_variant"]),
        optional_floats(pairs["funnel_p_value"]),
        strict=True,
    )
    for index, *fields in columns:
        grouped.setdefault(int(index), []).append(FunnelPair(*fields))
    return {index: tuple(items) for index, items in grouped.items()}


def _arm_totals(specs: tuple[TestSpec, ...], arms: pd.DataFrame) -> list[tuple[ArmTotals, ...]]:
    """Each test's arms in its variants' order (no rows yet: no visitors). Built in the order the arms
    first appear, which is the spec's for nearly every test; a test whose control is not listed first, or
    with a variant that has no rows as of the day asked, is put in the spec's order by name."""
    arms = arms.sort_values("test_index", kind="stable")
    variants = arms["variant"].tolist()
    totals = [
        built(ArmTotals, {"variant": v, "visitors": visitors, "spend": spend})
        for v, visitors, spend in zip(variants, ints(arms["visitors"]), optional_floats(arms["spend"]), strict=True)
    ]
    result: list[tuple[ArmTotals, ...]] = [()] * len(specs)
    for index, start, end in _runs(arms["test_index"].to_numpy()):
        result[index] = tuple(totals[start:end])
    for index, spec in enumerate(specs):
        if tuple(a.variant for a in result[index]) != spec.variants:
            by_name = {a.variant: a for a in result[index]}
            result[index] = tuple(
                by_name.get(v) or built(ArmTotals, {"variant": v, "visitors": 0, "spend": None}) for v in spec.variants
            )
    return result


def _confirm_sizes(table: pd.DataFrame, settings: DecisionSettings) -> dict[int, dict[tuple[str, str], float]]:
    """Per test, by (variant, micro metric), the visitors per arm at which the variant's first macro metric
    would confirm the micro lift: for every micro comparison called better (a verdict resting on it says
    what confirming it takes), sized in one pass over the sheet instead of one call per test."""
    micro = table[(table["kind"] == "micro") & (table["decision"] == "better")]
    macro = table[table["kind"] == "macro"].drop_duplicates(["test_index", "variant"])
    if micro.empty or macro.empty:
        return {}
    pairs = micro[["test_index", "variant", "metric", "lift"]].merge(
        macro[["test_index", "variant", "control_rate", "variant_rate", "planned_visitors"]],
        on=["test_index", "variant"],
    )
    column = {name: pairs[name].to_numpy(dtype=np.float64) for name in ("control_rate", "lift", "variant_rate")}
    planned = np.trunc(pairs["planned_visitors"].to_numpy(dtype=np.float64))  # as the comparison holds it: whole
    sizes = confirm_visitors(column["control_rate"], column["lift"], column["variant_rate"], planned, settings)
    by_test: dict[int, dict[tuple[str, str], float]] = {}
    for index, variant, metric, size in zip(
        pairs["test_index"].tolist(), pairs["variant"].tolist(), pairs["metric"].tolist(), sizes.tolist(), strict=True
    ):
        by_test.setdefault(index, {})[(variant, metric)] = size
    return by_test


def _test_paces(specs: pd.DataFrame, pace: pd.DataFrame) -> tuple[list[int], list[float | None], list[float | None]]:
    """Days, daily visitors and cost per visitor of each test, by its index (0 days, None without)."""
    found = specs[[*KEYS]].merge(pace, on=KEYS, how="left")
    days = found["days"].fillna(0).to_numpy(dtype=np.int64).tolist()
    return days, optional_floats(found["daily_visitors"]), optional_floats(found["cost_per_visitor"])


def analyse(
    sheet: SheetData,
    source: str,
    as_of: dt.date | None = None,
    alpha: float = 0.05,
    minimum_effect: float | None = None,
    settings: DecisionSettings | None = None,
    history: pd.DataFrame | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """Every test of the sheet, decided over its path of looks: its dated days, or for undated tests the
    looks in `history` (recorded by the caller) and today's, `now`. Without a history an undated test rests
    on today's look alone, and says so."""
    settings = settings or DecisionSettings(alpha=alpha)
    if minimum_effect is not None:
        settings = DecisionSettings(**{**settings.__dict__, "minimum_effect": minimum_effect})
    method = settings.method()
    if not sheet.tests:
        return Report(source=source, as_of=as_of, tests=(), problems=sheet.problems, method=method, tabs=sheet.tabs)
    table = comparison_table(sheet, as_of, settings, history, now, replay=as_of is not None)
    specs = spec_frame(sheet.tests)
    traffic = rows_as_of(sheet.traffic, as_of)
    arms = (
        traffic.assign(priced=traffic["spend"].notna())
        .groupby([*KEYS, "variant"], sort=False, as_index=False)
        .agg(visitors=("visitors", "sum"), spend=("spend", "sum"), priced=("priced", "any"))
        .merge(specs, on=KEYS)
    )
    arms["spend"] = arms["spend"].where(arms["priced"])
    srm_by_test = split_p_values(sheet, as_of)
    by_test = _comparisons(table)
    arm_totals = _arm_totals(sheet.tests, arms)
    days_of, daily_visitors, cost_per_visitor = _test_paces(specs, test_pace(traffic))

    pairs = micro_macro_pairs(table)
    broken = frozenset(int(i) for i in np.flatnonzero(srm_by_test < SRM_ALPHA))
    proxies = proxy_records(pairs, broken)
    funnels = _funnel_pairs(pairs, table)

    looks_so_far = table.groupby("test_index")["looks"].max().to_dict()
    to_confirm = _confirm_sizes(table, settings)
    srm_of = optional_floats(pd.Series(srm_by_test))
    results = []
    for index, spec in enumerate(sheet.tests):
        comparisons = by_test.get(index, ())
        days = days_of[index]
        context = TestContext(
            settings=settings,
            days=days,
            daily_visitors=daily_visitors[index],
            cost_per_visitor=cost_per_visitor[index],
            funnels=funnels.get(index, ()),
            proxies=proxies,
            to_confirm=to_confirm.get(index, {}),
        )
        verdict = decide(spec, arm_totals[index], comparisons, srm_of[index], context)
        path: PathKind = "days" if days else ("one_look" if history is None else "looks")
        results.append(
            built(
                TestResult,
                {
                    "campaign": spec.campaign,
                    "test": spec.test,
                    "title": spec.title,
                    "control": spec.control,
                    "traffic_label": spec.traffic_label,
                    "srm_p_value": srm_of[index],
                    "verdict": verdict.code,
                    "headline": headline(spec, verdict),
                    "summary": summary(spec, arm_totals[index], verdict, context)
                    + not_randomised_note(spec, verdict)
                    + variation_note(verdict, comparisons, path)
                    + one_look_note(path, verdict),
                    "best_variant": verdict.best_variant,
                    "arms": arm_totals[index],
                    "comparisons": comparisons,
                    "decision_rule": "sequential"
                    if any(c.decision_rule == "sequential" for c in comparisons)
                    else "fixed_horizon",
                    "days": days or None,
                    "currency": spec.currency,
                    "path": path,
                    "looks": int(looks_so_far.get(index, 1)),
                    "status": spec.status,
                    "reason": verdict.reason,
                    "rests_on": _ref(verdict.rests_on),
                    "to_confirm": _ref(verdict.to_confirm),
                    "called_on": verdict.called_on,
                    "split": spec.split,
                },
            )
        )
    # Running tests first, then paused, then done, each in sheet order.
    results.sort(key=lambda r: STATUS_ORDER[r.status])
    return Report(
        source=source,
        tabs=sheet.tabs,
        as_of=as_of,
        tests=tuple(results),
        problems=sheet.problems,
        proxies=proxies,
        method=method,
    )
