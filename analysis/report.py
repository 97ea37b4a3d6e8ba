"""Validated sheet in, one statistical result per test out."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.bayes import chance_to_beat, shrunk_lifts
from analysis.decision import DecisionSettings, decide_comparisons
from analysis.models import ArmTotals, Comparison, Report, SheetData, TestResult, TestSpec
from analysis.pace import test_pace
from analysis.proxy import micro_macro_pairs, proxy_records
from analysis.stats import compare_proportions, srm_p_values
from analysis.verdict import SRM_ALPHA, FunnelPair, TestContext, decide

KEYS = ["campaign", "test"]


def rows_as_of(frame: pd.DataFrame, as_of: dt.date | None) -> pd.DataFrame:
    """Dated rows up to and including `as_of`; undated rows always count."""
    if as_of is None:
        return frame
    return frame[frame["date"].isna() | (frame["date"] <= pd.Timestamp(as_of))]


def _spec_frame(specs: tuple[TestSpec, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "campaign": pd.Series([s.campaign for s in specs], dtype=object),
            "test": pd.Series([s.test for s in specs], dtype=object),
            "control": pd.Series([s.control for s in specs], dtype=object),
            "planned": [np.nan if s.planned_visitors is None else float(s.planned_visitors) for s in specs],
            "test_index": np.arange(len(specs)),
        }
    )


def _order(specs: tuple[TestSpec, ...], frame: pd.DataFrame, column: str, values: str) -> pd.Series:
    """Position of each row's variant or metric within its test, for sheet-order output."""
    positions = {
        (i, name): position for i, spec in enumerate(specs) for position, name in enumerate(getattr(spec, values))
    }
    return pd.Series(
        [positions.get((i, n), 0) for i, n in zip(frame["test_index"], frame[column], strict=True)],
        index=frame.index,
    )


def in_sheet_order(specs: tuple[TestSpec, ...], frame: pd.DataFrame) -> pd.DataFrame:
    """Comparisons as the sheet lists them: by test, then variant, then metric."""
    ordered = frame.assign(
        variant_order=_order(specs, frame, "variant", "variants"),
        metric_order=_order(specs, frame, "metric", "metric_names"),
    )
    return ordered.sort_values(["test_index", "variant_order", "metric_order"], kind="stable")


COUNTS = ("visitors_control", "conversions_control", "visitors", "conversions")
DECIDED = (
    "decision_rule",
    "planned_visitors",
    "information_fraction",
    "decision_p_value",
    "adjusted_p_value",
    "decision",
    "decision_low",
    "decision_high",
    "visitors_to_go",
)


def comparison_table(
    sheet: SheetData,
    as_of: dt.date | None = None,
    alpha: float = 0.05,
    settings: DecisionSettings | None = None,
) -> pd.DataFrame:
    """Every test x non-control variant x metric, with its statistics and decision, in sheet order."""
    settings = settings or DecisionSettings(alpha=alpha)
    specs = _spec_frame(sheet.tests)
    totals = (
        rows_as_of(sheet.conversions, as_of)
        .groupby([*KEYS, "variant", "metric", "kind"], sort=False, as_index=False)[["visitors", "conversions"]]
        .sum()
        .merge(specs, on=KEYS)
    )
    is_control = totals["variant"] == totals["control"]
    control = totals[is_control][[*KEYS, "metric", "visitors", "conversions"]]
    table = totals[~is_control].merge(control, on=[*KEYS, "metric"], suffixes=("", "_control"))
    table = in_sheet_order(sheet.tests, table)
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

    table = table.merge(test_pace(rows_as_of(sheet.traffic, as_of)), on=KEYS, how="left")
    table["dated"] = table["days"].fillna(0) > 0
    table["family"] = table["test_index"] * 2 + (table["kind"] == "macro")
    table = decide_comparisons(table, settings)
    table["days_to_go"] = np.ceil(table["visitors_to_go"] / table["daily_visitors"])
    table["spend_to_go"] = table["visitors_to_go"] * table["cost_per_visitor"]
    counts = [table[c].to_numpy(dtype=np.float64) for c in COUNTS]
    table["chance_to_beat"] = chance_to_beat(*counts) if len(table) else np.empty(0)
    table["shrunk_lift"] = shrunk_lifts(*counts)
    return table.reset_index(drop=True)


def _optional(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _optional_int(value: float) -> int | None:
    return int(value) if math.isfinite(value) else None


def _comparisons(table: pd.DataFrame) -> dict[int, tuple[Comparison, ...]]:
    """Every comparison, grouped by its test's index (one pass over the table)."""
    grouped: dict[int, list[Comparison]] = {}
    for r in table.to_dict("records"):
        grouped.setdefault(int(r["test_index"]), []).append(_comparison(r))
    return {index: tuple(items) for index, items in grouped.items()}


def _comparison(r: dict[Any, Any]) -> Comparison:
    return Comparison(
        variant=r["variant"],
        metric=r["metric"],
        kind=r["kind"],
        control_visitors=int(r["visitors_control"]),
        control_conversions=int(r["conversions_control"]),
        variant_visitors=int(r["visitors"]),
        variant_conversions=int(r["conversions"]),
        control_rate=float(r["control_rate"]),
        variant_rate=float(r["variant_rate"]),
        lift=_optional(r["lift"]),
        lift_ci=(_optional(r["lift_low"]), _optional(r["lift_high"])),
        p_value=float(r["p_value"]),
        test_used="fisher" if r["used_fisher"] else "z",
        significant=bool(r["significant"]),
        visitors_needed=_optional_int(r["visitors_needed"]),
        decision=r["decision"],
        decision_rule=r["decision_rule"],
        decision_p_value=_optional(r["decision_p_value"]),
        adjusted_p_value=_optional(r["adjusted_p_value"]),
        decision_ci=(_optional(r["decision_low"]), _optional(r["decision_high"])),
        planned_visitors=_optional_int(r["planned_visitors"]),
        information_fraction=_optional(r["information_fraction"]),
        chance_to_beat=_optional(r["chance_to_beat"]),
        shrunk_lift=_optional(r["shrunk_lift"]),
        visitors_to_go=_optional_int(r["visitors_to_go"]),
        days_to_go=_optional_int(r["days_to_go"]),
        spend_to_go=_optional(r["spend_to_go"]),
    )


def _funnel_pairs(pairs: pd.DataFrame) -> dict[int, tuple[FunnelPair, ...]]:
    grouped: dict[int, list[FunnelPair]] = {}
    for r in pairs.to_dict("records"):
        grouped.setdefault(int(r["test_index"]), []).append(
            FunnelPair(
                variant=str(r["variant"]),
                micro=str(r["metric_micro"]),
                macro=str(r["metric_macro"]),
                control_funnel=_optional(r["funnel_control"]),
                variant_funnel=_optional(r["funnel_variant"]),
                p_value=_optional(r["funnel_p_value"]),
            )
        )
    return {index: tuple(items) for index, items in grouped.items()}


def analyse(
    sheet: SheetData,
    source: str,
    as_of: dt.date | None = None,
    alpha: float = 0.05,
    minimum_effect: float | None = None,
    settings: DecisionSettings | None = None,
) -> Report:
    settings = settings or DecisionSettings(alpha=alpha)
    if minimum_effect is not None:
        settings = DecisionSettings(**{**settings.__dict__, "minimum_effect": minimum_effect})
    method = settings.method()
    if not sheet.tests:
        return Report(source=source, as_of=as_of, tests=(), problems=sheet.problems, method=method)
    table = comparison_table(sheet, as_of, settings.alpha, settings)
    specs = _spec_frame(sheet.tests)
    traffic = rows_as_of(sheet.traffic, as_of)
    arms = (
        traffic.assign(priced=traffic["spend"].notna())
        .groupby([*KEYS, "variant"], sort=False, as_index=False)
        .agg(visitors=("visitors", "sum"), spend=("spend", "sum"), priced=("priced", "any"))
        .merge(specs, on=KEYS)
    )
    arms["spend"] = arms["spend"].where(arms["priced"])
    srm = srm_p_values(arms["visitors"].to_numpy(), arms["test_index"].to_numpy())
    srm_by_test = np.ones(len(sheet.tests))
    present = np.unique(arms["test_index"].to_numpy())
    srm_by_test[present] = srm[present] if srm.size else 1.0
    by_test = _comparisons(table)
    arm_figures = {
        (r["test_index"], r["variant"]): (r["visitors"], r["spend"])
        for r in arms[["test_index", "variant", "visitors", "spend"]].to_dict("records")
    }
    pace = {(r["campaign"], r["test"]): r for r in test_pace(rows_as_of(sheet.traffic, as_of)).to_dict("records")}

    pairs = micro_macro_pairs(table)
    broken = frozenset(int(i) for i in np.flatnonzero(srm_by_test < SRM_ALPHA))
    proxies = proxy_records(pairs, broken)
    funnels = _funnel_pairs(pairs)

    results = []
    for index, spec in enumerate(sheet.tests):
        arm_totals = tuple(
            ArmTotals(
                variant=v,
                visitors=int(arm_figures.get((index, v), (0, np.nan))[0]),
                spend=_optional(float(arm_figures.get((index, v), (0, np.nan))[1])),
            )
            for v in spec.variants
        )
        comparisons = by_test.get(index, ())
        speed = pace.get((spec.campaign, spec.test), {})
        days = int(speed.get("days", 0))
        context = TestContext(
            settings=settings,
            days=days,
            daily_visitors=_optional(float(speed.get("daily_visitors", np.nan))),
            cost_per_visitor=_optional(float(speed.get("cost_per_visitor", np.nan))),
            funnels=funnels.get(index, ()),
            proxies=proxies,
        )
        decision = decide(spec, arm_totals, comparisons, float(srm_by_test[index]), context)
        rules = {c.decision_rule for c in comparisons}
        results.append(
            TestResult(
                campaign=spec.campaign,
                test=spec.test,
                title=spec.title,
                control=spec.control,
                traffic_label=spec.traffic_label,
                srm_p_value=float(srm_by_test[index]),
                verdict=decision.verdict,
                headline=decision.headline,
                summary=decision.summary,
                best_variant=decision.best_variant,
                arms=arm_totals,
                comparisons=comparisons,
                decision_rule="sequential" if "sequential" in rules else "fixed_horizon",
                days=days or None,
                currency=spec.currency,
            )
        )
    return Report(
        source=source,
        as_of=as_of,
        tests=tuple(results),
        problems=sheet.problems,
        proxies=proxies,
        method=method,
    )
