"""Each comparison's decision range at every look of its path: what a path chart draws.

The range is the one the verdict rests on (`analysis.decision`): at each look, the always-valid interval of the
lift, intersected over the looks that could make a call, from the same paths (`analysis.paths`: a dated test's
days, an undated test's recorded reads then today's) through the same rule, so a path's last point is the
verdict's `decision_ci` exactly. Once a comparison is called its decision is frozen at the call; the looks after
it are later data (`range_low`, `range_high` go on narrowing) and are drawn as such.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.decision import DecisionSettings, decide_comparisons
from analysis.models import SheetData
from analysis.paths import KEYS, comparison_paths, numbered
from analysis.stats.arrays import FloatArray


@dataclass(frozen=True)
class RangePath:
    """One comparison's looks: where each is (`at`: day of the test, or read number), the decision's range of the
    lift at each (`low`, `high`; NaN where unbounded, and at looks too early for a call, where no range is
    meaningful yet), the lift itself, and the call (its look's index)."""

    campaign: str
    test: str
    variant: str
    metric: str
    kind: str
    dated: bool
    at: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    lift: tuple[float, ...]
    call: str | None
    call_index: int | None
    minimum_effect: float

    @property
    def decision_range(self) -> tuple[float, float]:
        """The range the verdict rests on: at the call once called, else at the latest look."""
        index = self.call_index if self.call_index is not None else len(self.at) - 1
        return self.low[index], self.high[index]


def decision_ranges(
    sheet: SheetData,
    settings: DecisionSettings | None = None,
    history: pd.DataFrame | None = None,
    now: dt.datetime | None = None,
    as_of: dt.date | None = None,
    tests: Iterable[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Every look of every comparison (of `tests` only, when given: each test's paths are decided on their own)
    with `decision_low`/`decision_high` (the verdict's range), `range_low`/`range_high` (the running range, also
    after a call), `lift` and `call`, in path order."""
    settings = settings or DecisionSettings()
    paths = comparison_paths(sheet, as_of, history, now, replay=as_of is not None)
    if tests is not None:
        wanted = pd.DataFrame(list(tests), columns=KEYS, dtype=object).drop_duplicates()
        keep = pd.MultiIndex.from_frame(paths[KEYS].astype(object)).isin(pd.MultiIndex.from_frame(wanted))
        paths = numbered(paths[keep].reset_index(drop=True))
    decided = decide_comparisons(paths, settings)
    nc, xc = decided["visitors_control"].to_numpy(np.float64), decided["conversions_control"].to_numpy(np.float64)
    nv, xv = decided["visitors"].to_numpy(np.float64), decided["conversions"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift: FloatArray = np.where((nc > 0) & (nv > 0) & (xc > 0), (xv / nv) / (xc / nc) - 1, np.nan)
    decided["lift"] = lift
    return decided


def _finite(values: pd.Series) -> tuple[float, ...]:
    numbers = values.to_numpy(dtype=np.float64)
    return tuple(np.where(np.isfinite(numbers), numbers, np.nan).tolist())


def range_paths(decided: pd.DataFrame, minimum_effect: float) -> list[RangePath]:
    """One `RangePath` per comparison of `decision_ranges`' frame. Up to the call each look's range is the
    decision's; after it, the running range (later data)."""
    out: list[RangePath] = []
    for _, looks in decided.groupby("path", sort=False):
        first = looks.iloc[0]
        called = looks["call"].notna().to_numpy()
        call_index = int(np.argmax(called)) if called.any() else None
        dated = bool(first["dated"])
        at = looks["days"] if dated else looks["look"] + 1
        low = looks["decision_low"].where(~called, looks["range_low"])
        high = looks["decision_high"].where(~called, looks["range_high"])
        if call_index is not None:  # the call's own look shows the range that made it
            low.iloc[call_index] = looks["decision_low"].iloc[call_index]
            high.iloc[call_index] = looks["decision_high"].iloc[call_index]
        early = (looks["decision"] == "too_early").to_numpy() & ~called
        low, high = low.where(~early), high.where(~early)
        out.append(
            RangePath(
                campaign=str(first["campaign"]),
                test=str(first["test"]),
                variant=str(first["variant"]),
                metric=str(first["metric"]),
                kind=str(first["kind"]),
                dated=dated,
                at=tuple(float(v) for v in at),
                low=_finite(low),
                high=_finite(high),
                lift=_finite(looks["lift"]),
                call=str(looks["call"].iloc[-1]) if call_index is not None else None,
                call_index=call_index,
                minimum_effect=minimum_effect,
            )
        )
    return out
