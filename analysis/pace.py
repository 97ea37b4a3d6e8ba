"""How fast each test gathers visitors and what a visitor costs, to turn visitors still needed into days
and money."""

from __future__ import annotations

import pandas as pd

RECENT_DAYS = 7
KEYS = ["campaign", "test"]


def test_pace(traffic: pd.DataFrame) -> pd.DataFrame:
    """One row per test: `days` (dated days seen), `daily_visitors` (visitors per arm per day over the
    last RECENT_DAYS calendar days; NaN when undated) and `cost_per_visitor` (spend over visitors in that
    window when dated, over every row otherwise; NaN without spend)."""
    if traffic.empty:
        return pd.DataFrame(
            {
                "campaign": pd.Series(dtype=object),
                "test": pd.Series(dtype=object),
                "days": pd.Series(dtype="int64"),
                "daily_visitors": pd.Series(dtype="float64"),
                "cost_per_visitor": pd.Series(dtype="float64"),
            }
        )
    frame = traffic[[*KEYS, "variant", "date", "visitors", "spend"]].copy()
    last = frame.groupby(KEYS, sort=False)["date"].transform("max")
    dated = frame["date"].notna()
    recent = ~dated | (frame["date"] > last - pd.Timedelta(days=RECENT_DAYS))
    window = frame[recent].copy()
    window["paid_visitors"] = window["visitors"].where(window["spend"].notna(), 0)
    grouped = window.groupby(KEYS, sort=False)
    pace = grouped.agg(
        visitors=("visitors", "sum"),
        paid_visitors=("paid_visitors", "sum"),
        spend=("spend", "sum"),
        window_days=("date", "nunique"),
        arms=("variant", "nunique"),
    )
    pace["days"] = frame.groupby(KEYS, sort=False)["date"].nunique()
    pace["daily_visitors"] = (pace["visitors"] / (pace["window_days"] * pace["arms"])).where(pace["window_days"] > 0)
    pace["cost_per_visitor"] = (pace["spend"] / pace["paid_visitors"]).where(
        (pace["paid_visitors"] > 0) & (pace["spend"] > 0)
    )
    return pace[["days", "daily_visitors", "cost_per_visitor"]].reset_index()
