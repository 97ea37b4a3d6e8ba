"""Every comparison's path of looks, the input of the decision rule.

- A dated test's path is in the sheet: its cumulative counts at the end of each of its days.
- An undated test's path is the looks microopt recorded of its running totals (`history`, read from the
  state database by the caller), followed by today's totals. Without a history it is today's one look.

Running totals that went down since the last recorded look (a reset, a smaller export pasted over a
bigger one) start that test's history again, with a problem that names the test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.models import Problem, SheetData, TestSpec, title_of
from analysis.wording import count

KEYS = ["campaign", "test"]
COMPARISON = ["test_index", "variant", "metric"]
ARM = ["test_index", "variant", "metric", "kind"]
COUNTS = ["visitors_control", "conversions_control", "visitors", "conversions"]
# What a recorded look keeps per comparison (and what `history` must hold).
HISTORY_COLUMNS = ["campaign", "test", "variant", "metric", "looked_at", *COUNTS]


def spec_frame(specs: tuple[TestSpec, ...]) -> pd.DataFrame:
    """One row per test: its keys, control, planned visitors (NaN without) and position in the sheet."""
    return pd.DataFrame(
        {
            "campaign": pd.Series([s.campaign for s in specs], dtype=object),
            "test": pd.Series([s.test for s in specs], dtype=object),
            "control": pd.Series([s.control for s in specs], dtype=object),
            "planned": [np.nan if s.planned_visitors is None else float(s.planned_visitors) for s in specs],
            "test_index": np.arange(len(specs)),
        }
    )


def rows_as_of(frame: pd.DataFrame, as_of: dt.date | None) -> pd.DataFrame:
    """Dated rows up to and including `as_of`; undated rows always count."""
    if as_of is None:
        return frame
    return frame[frame["date"].isna() | (frame["date"] <= pd.Timestamp(as_of))]


def empty_history() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in HISTORY_COLUMNS[:4]})
    frame["looked_at"] = pd.Series(dtype="datetime64[us, UTC]")
    for name in COUNTS:
        frame[name] = pd.Series(dtype="float64")
    return frame


def _against_control(totals: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each non-control arm beside its control, per metric (and per `keys`, e.g. the day)."""
    is_control = totals["variant"] == totals["control"]
    control = totals.loc[is_control, ["test_index", "metric", *keys, "visitors", "conversions"]]
    return totals[~is_control].merge(control, on=["test_index", "metric", *keys], suffixes=("", "_control"))


def current_totals(sheet: SheetData, as_of: dt.date | None = None) -> pd.DataFrame:
    """Every comparison's totals over the rows up to `as_of`, with `dated` (the test has Date rows)."""
    specs = spec_frame(sheet.tests)
    conversions = rows_as_of(sheet.conversions, as_of)
    totals = (
        conversions.groupby([*KEYS, "variant", "metric", "kind"], sort=False, as_index=False)[
            ["visitors", "conversions"]
        ]
        .sum()
        .merge(specs, on=KEYS)
    )
    dated_tests = conversions.loc[conversions["date"].notna(), KEYS].drop_duplicates().assign(dated=True)
    table = _against_control(totals, []).merge(dated_tests, on=KEYS, how="left")
    table["dated"] = table["dated"].fillna(False).astype(bool)
    return table


def _test_days(sheet: SheetData, specs: pd.DataFrame, as_of: dt.date | None) -> pd.DataFrame:
    """Each dated test's days in order, with the day number and the test's cumulative spend (all arms)."""
    traffic = rows_as_of(sheet.traffic, as_of)
    traffic = traffic[traffic["date"].notna()].merge(specs[[*KEYS, "test_index"]])
    traffic = traffic.assign(priced=traffic["spend"].notna())
    days = (
        traffic.groupby(["test_index", "date"], as_index=False)
        .agg(spend=("spend", "sum"), priced=("priced", "any"))
        .sort_values(["test_index", "date"])
    )
    days["spend"] = days["spend"].where(days["priced"])
    days["days"] = days.groupby("test_index").cumcount() + 1
    days["spend_to_date"] = days.groupby("test_index")["spend"].cumsum()
    return days.drop(columns=["spend", "priced"])


def daily_paths(sheet: SheetData, as_of: dt.date | None = None) -> pd.DataFrame:
    """Every comparison of every dated test at the end of every day of its test up to `as_of`: cumulative
    counts, `days`, `date` (also as `looked_at`) and `spend_to_date`, one family per test, kind and day."""
    specs = spec_frame(sheet.tests)
    conversions = rows_as_of(sheet.conversions, as_of)
    conversions = conversions[conversions["date"].notna()].merge(specs, on=KEYS)
    daily = conversions.groupby([*ARM, "date"], as_index=False)[["visitors", "conversions"]].sum()
    days = _test_days(sheet, specs, as_of)
    grid = daily[ARM].drop_duplicates().merge(days, on="test_index")
    grid = grid.merge(daily, on=[*ARM, "date"], how="left").sort_values([*ARM, "date"], kind="stable")
    grid[["visitors", "conversions"]] = grid[["visitors", "conversions"]].fillna(0)
    grid[["visitors", "conversions"]] = grid.groupby(ARM, sort=False)[["visitors", "conversions"]].cumsum()
    grid = grid.merge(specs[["test_index", "control", "planned"]], on="test_index")
    table = _against_control(grid, ["date"]).sort_values([*COMPARISON, "date"], kind="stable")
    table = table.merge(specs[["test_index", *KEYS]], on="test_index").reset_index(drop=True)
    table["dated"] = True
    table["looked_at"] = table["date"]
    table["look"] = table["days"]
    return table


@dataclass(frozen=True)
class Reconciled:
    """The recorded looks that still hold; the tests whose history starts again, and a problem for each."""

    history: pd.DataFrame
    restarted: frozenset[tuple[str, str]] = frozenset()
    problems: tuple[Problem, ...] = ()


def reconcile(history: pd.DataFrame, current: pd.DataFrame) -> Reconciled:
    """Drop the looks of every test whose running totals went down since its last look (its history starts
    again from today), with a problem that names it."""
    if history.empty or current.empty:
        return Reconciled(history)
    last = history.sort_values("looked_at", kind="stable").groupby([*KEYS, "variant", "metric"]).tail(1)
    paired = current.merge(last, on=[*KEYS, "variant", "metric"], suffixes=("", "_last"))
    went_down = np.zeros(len(paired), dtype=bool)
    for name in COUNTS:
        went_down |= paired[name].to_numpy(dtype=np.float64) < paired[f"{name}_last"].to_numpy(dtype=np.float64)
    if not went_down.any():
        return Reconciled(history)
    down = paired[went_down].drop_duplicates(KEYS)
    problems = tuple(
        Problem(
            cell=title_of(str(r["campaign"]), str(r["test"])),
            message=(
                f"the running totals went down since microopt last read them ({r['metric'].lower()} of "
                f"{r['variant']}: {count(r['conversions_last'])} of {count(r['visitors_last'])} then, "
                f"{count(r['conversions'])} of {count(r['visitors'])} now); its history starts again from "
                "today's numbers, and any call made on the old numbers is reopened"
            ),
        )
        for r in down.to_dict("records")
    )
    reset = pd.MultiIndex.from_frame(down[KEYS])
    kept = history[~pd.MultiIndex.from_frame(history[KEYS]).isin(reset)]
    restarted = frozenset((str(c), str(t)) for c, t in down[KEYS].itertuples(index=False))
    return Reconciled(kept, restarted, problems)


def look_paths(
    current: pd.DataFrame, history: pd.DataFrame, now: dt.datetime | None, replay: bool = False
) -> pd.DataFrame:
    """The undated comparisons of `current`, each preceded by its recorded looks: one row per look with
    `looked_at` and `look` (its order), one family per test, kind and look. A `replay` (`--as-of`) ends each
    path at its last recorded look; only a comparison with none falls back on today's totals."""
    undated = current[~current["dated"]].copy()
    undated["looked_at"] = pd.Timestamp(now) if now else pd.NaT
    if not history.empty:
        keys = undated[[*KEYS, "variant", "metric", "kind", "test_index", "control", "planned", "dated"]]
        past = history.merge(keys, on=[*KEYS, "variant", "metric"])
        if replay:
            recorded = undated.merge(past[COMPARISON].drop_duplicates(), on=COMPARISON, how="left", indicator=True)
            undated = undated[(recorded["_merge"] == "left_only").to_numpy()]
        undated = pd.concat([past, undated], ignore_index=True)
    undated = undated.sort_values([*COMPARISON, "looked_at"], kind="stable", na_position="last")
    # A re-read of the totals a comparison's previous look already saw (today's, or one two processes
    # recorded at once) is that same look, not a new one: the first of them stands.
    same_path = (undated[COMPARISON] == undated[COMPARISON].shift()).all(axis=1)
    repeated = same_path & (undated[COUNTS] == undated[COUNTS].shift()).all(axis=1)
    undated = undated[~repeated.to_numpy()]
    undated["look"] = undated.groupby(COMPARISON, sort=False).cumcount()
    undated["days"] = 0
    return undated.reset_index(drop=True)


def comparison_paths(
    sheet: SheetData,
    as_of: dt.date | None = None,
    history: pd.DataFrame | None = None,
    now: dt.datetime | None = None,
    replay: bool = False,
) -> pd.DataFrame:
    """Every look of every comparison: dated tests day by day, undated ones by their recorded looks then
    today's totals. `path` numbers the comparisons, `family` the (test, kind, look) groups Holm works in."""
    current = current_totals(sheet, as_of)
    dated = daily_paths(sheet, as_of) if current["dated"].any() else pd.DataFrame()
    undated = look_paths(current, empty_history() if history is None else history, now, replay)
    # With no dated looks the undated frame stands alone, with its columns even when it has no rows.
    paths = pd.concat([dated, undated], ignore_index=True) if len(dated) else undated
    return numbered(paths)


def numbered(paths: pd.DataFrame) -> pd.DataFrame:
    """`path` numbers the comparisons, `family` the (test, kind, look) groups Holm works in."""
    paths["path"] = paths.groupby(COMPARISON, sort=False).ngroup()
    families = pd.DataFrame({"t": paths["test_index"], "k": paths["kind"] == "macro", "l": paths["looked_at"]})
    paths["family"] = families.groupby(["t", "k", "l"], sort=False, dropna=False).ngroup()
    return paths
