"""The comparison table (analysis.report.comparison_table) as `Comparison` models, built column by column.

A large sheet has hundreds of thousands of comparisons: each column is converted once, as a whole, and the
models are built without a second validation (analysis.models.built): a row-by-row `to_dict("records")` and
one validation per model cost ten times more.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.models import CallRecord, Comparison, built

COUNTS = ("visitors_control", "conversions_control", "visitors", "conversions")


def optional_floats(values: pd.Series) -> list[float | None]:
    """Each value as a float, None where it is NaN or infinite."""
    numbers = values.to_numpy(dtype=np.float64)
    boxed = numbers.astype(object)
    boxed[~np.isfinite(numbers)] = None
    floats: list[float | None] = boxed.tolist()
    return floats


def optional_ints(values: pd.Series) -> list[int | None]:
    """Each value truncated to an int, None where it is NaN or infinite."""
    numbers = values.to_numpy(dtype=np.float64)
    finite = np.isfinite(numbers)
    boxed = np.where(finite, numbers, 0).astype(np.int64).astype(object)
    boxed[~finite] = None
    whole: list[int | None] = boxed.tolist()
    return whole


def ints(values: pd.Series) -> list[int]:
    ints_: list[int] = values.to_numpy(dtype=np.float64).astype(np.int64).tolist()
    return ints_


def conversion_counts(values: pd.Series) -> list[int | float]:
    """Counts as the sheet gave them: whole ones as ints, attribution's fractions (`61.5`) as they are."""
    numbers = values.to_numpy(dtype=np.float64)
    whole = numbers == np.floor(numbers)
    if whole.all():
        return list(ints(values))
    boxed = numbers.astype(object)
    boxed[whole] = numbers[whole].astype(np.int64).astype(object)
    mixed: list[int | float] = boxed.tolist()
    return mixed


def fractional(table: pd.DataFrame) -> list[bool]:
    """Whether a comparison rests on fractional conversions (attribution models), either arm."""
    flags: list[bool] = (
        (table["conversions_control"] % 1 != 0).to_numpy() | (table["conversions"] % 1 != 0).to_numpy()
    ).tolist()
    return flags


def dispersions(table: pd.DataFrame) -> dict[str, list[Any]]:
    """The latest look's phi and its degrees of freedom, None where one period shows no variation."""
    if "dispersion" not in table:
        return {"dispersion": [None] * len(table), "dispersion_df": [None] * len(table)}
    estimated = table["dispersion_df"].to_numpy(dtype=np.float64) >= 1
    return {
        "dispersion": optional_floats(table["dispersion"].where(estimated)),
        "dispersion_df": optional_ints(table["dispersion_df"].where(estimated)),
    }


def when(value: Any) -> dt.datetime | dt.date | None:
    """A look's time: the day of a dated look, the moment of a recorded one."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    return stamp.to_pydatetime() if stamp.tzinfo is not None else stamp.date()


def _calls(table: pd.DataFrame) -> list[CallRecord | None]:
    """The call of each comparison, with the numbers it was made on (None while open)."""
    calls: list[CallRecord | None] = [None] * len(table)
    called = table["call"].notna().to_numpy()
    if not called.any():
        return calls
    made = table[called]
    nc, xc, nv, xv = (
        ints(made[f"call_{name}"]) if name.startswith("visitors") else conversion_counts(made[f"call_{name}"])
        for name in COUNTS
    )
    moments = made["called_at"].tolist() if "called_at" in made else [None] * len(made)
    for i, call, moment, looks, *counts in zip(
        np.flatnonzero(called).tolist(), made["call"], moments, ints(made["call_looks"]), nc, xc, nv, xv, strict=True
    ):
        control_visitors, control_conversions, variant_visitors, variant_conversions = counts
        calls[i] = built(
            CallRecord,
            {
                "call": call,
                "called_on": when(moment),
                "looks": looks,
                "control_visitors": control_visitors,
                "control_conversions": control_conversions,
                "variant_visitors": variant_visitors,
                "variant_conversions": variant_conversions,
                "lift": _lift(*counts),
            },
        )
    return calls


def _lift(nc: int, xc: float, nv: int, xv: float) -> float | None:
    return (xv / nv) / (xc / nc) - 1 if nv and nc and xc else None


def comparisons(table: pd.DataFrame) -> list[Comparison]:
    """One `Comparison` per row of the comparison table, in its order."""
    if table.empty:
        return []
    calls = _calls(table)
    columns: dict[str, list[Any]] = {
        "variant": table["variant"].tolist(),
        "metric": table["metric"].tolist(),
        "kind": table["kind"].tolist(),
        "control_visitors": ints(table["visitors_control"]),
        "control_conversions": conversion_counts(table["conversions_control"]),
        "variant_visitors": ints(table["visitors"]),
        "variant_conversions": conversion_counts(table["conversions"]),
        "control_rate": table["control_rate"].to_numpy(dtype=np.float64).tolist(),
        "variant_rate": table["variant_rate"].to_numpy(dtype=np.float64).tolist(),
        "lift": optional_floats(table["lift"]),
        "lift_ci": list(zip(optional_floats(table["lift_low"]), optional_floats(table["lift_high"]), strict=True)),
        "p_value": table["p_value"].to_numpy(dtype=np.float64).tolist(),
        "test_used": np.where(table["used_fisher"].to_numpy(dtype=bool), "fisher", "z").tolist(),
        "significant": table["significant"].to_numpy(dtype=bool).tolist(),
        "visitors_needed": optional_ints(table["visitors_needed"]),
        "decision": table["decision"].tolist(),
        "decision_rule": table["decision_rule"].tolist(),
        "decision_p_value": optional_floats(table["decision_p_value"]),
        "adjusted_p_value": optional_floats(table["adjusted_p_value"]),
        "decision_ci": list(
            zip(optional_floats(table["decision_low"]), optional_floats(table["decision_high"]), strict=True)
        ),
        "planned_visitors": optional_ints(table["planned_visitors"]),
        "information_fraction": optional_floats(table["information_fraction"]),
        "chance_to_beat": optional_floats(table["chance_to_beat"]),
        "shrunk_lift": optional_floats(table["shrunk_lift"]),
        "visitors_to_go": optional_ints(table["visitors_to_go"]),
        "days_to_go": optional_ints(table["days_to_go"]),
        "spend_to_go": optional_floats(table["spend_to_go"]),
        "call": [c.call if c else None for c in calls],
        "called_on": [c.called_on if c else None for c in calls],
        "looks": [c.looks if c else looks for c, looks in zip(calls, ints(table["looks"]), strict=True)],
        "at_call": calls,
        "fractional": fractional(table),
        "plan_reached": (
            table["plan_reached"].to_numpy(dtype=bool).tolist() if "plan_reached" in table else [False] * len(table)
        ),
        "evidence": optional_floats(table["evidence"]) if "evidence" in table else [None] * len(table),
        **dispersions(table),
    }
    names = list(columns)
    return [built(Comparison, dict(zip(names, values, strict=True))) for values in zip(*columns.values(), strict=True)]
