"""Validated sheet in, one statistical result per test out."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from analysis.models import ArmTotals, Comparison, Report, SheetData, TestResult, TestSpec
from analysis.stats import compare_proportions, srm_p_values
from analysis.verdict import decide

KEYS = ["campaign", "test"]


def rows_as_of(frame: pd.DataFrame, as_of: dt.date | None) -> pd.DataFrame:
    """Dated rows up to and including `as_of`; undated rows always count."""
    if as_of is None:
        return frame
    return frame[frame["date"].isna() | (frame["date"] <= pd.Timestamp(as_of))]


def _spec_frame(specs: tuple[TestSpec, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "campaign": [s.campaign for s in specs],
            "test": [s.test for s in specs],
            "control": [s.control for s in specs],
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


def comparison_table(sheet: SheetData, as_of: dt.date | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Every test x non-control variant x metric, with its statistics, in sheet order."""
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
    table["variant_order"] = _order(sheet.tests, table, "variant", "variants")
    table["metric_order"] = _order(sheet.tests, table, "metric", "metric_names")
    table = table.sort_values(["test_index", "variant_order", "metric_order"], kind="stable")
    result = compare_proportions(
        table["visitors_control"],
        table["conversions_control"],
        table["visitors"],
        table["conversions"],
        alpha,
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
    table["significant"] = table["p_value"] < alpha
    return table.reset_index(drop=True)


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _comparisons(rows: pd.DataFrame) -> tuple[Comparison, ...]:
    return tuple(
        Comparison(
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
            visitors_needed=None if math.isnan(r["visitors_needed"]) else int(r["visitors_needed"]),
        )
        for r in rows.to_dict("records")
    )


def analyse(sheet: SheetData, source: str, as_of: dt.date | None = None, alpha: float = 0.05) -> Report:
    if not sheet.tests:
        return Report(source=source, as_of=as_of, tests=(), problems=sheet.problems)
    table = comparison_table(sheet, as_of, alpha)
    specs = _spec_frame(sheet.tests)
    arms = (
        rows_as_of(sheet.traffic, as_of)
        .groupby([*KEYS, "variant"], sort=False, as_index=False)
        .agg(visitors=("visitors", "sum"), spend=("spend", lambda s: s.sum(min_count=1)))
        .merge(specs, on=KEYS)
    )
    srm = srm_p_values(arms["visitors"].to_numpy(), arms["test_index"].to_numpy())
    srm_by_test = np.ones(len(sheet.tests))
    present = np.unique(arms["test_index"].to_numpy())
    srm_by_test[present] = srm[present] if srm.size else 1.0
    by_test = dict(tuple(table.groupby("test_index", sort=False)))
    arms_by_test = dict(tuple(arms.groupby("test_index", sort=False)))

    results = []
    for index, spec in enumerate(sheet.tests):
        arm_rows = arms_by_test.get(index, arms.iloc[0:0]).set_index("variant")
        arm_totals = tuple(
            ArmTotals(
                variant=v,
                visitors=int(arm_rows["visitors"].get(v, 0)),
                spend=_optional(float(arm_rows["spend"].get(v, np.nan))),
            )
            for v in spec.variants
        )
        comparisons = _comparisons(by_test.get(index, table.iloc[0:0]))
        decision = decide(spec, arm_totals, comparisons, float(srm_by_test[index]))
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
            )
        )
    return Report(source=source, as_of=as_of, tests=tuple(results), problems=sheet.problems)
