"""The rows of every Results tab together: one table across tabs, a day given twice, arms without traffic,
metrics counting more conversions than traffic, and tabs that gave nothing to compare."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.models import Problem, TabReading
from analysis.reading.cells import a1, shown
from analysis.reading.hand_made import Layout, Metric
from analysis.wording import counted, singular


def without_silent_arms(
    traffic: pd.DataFrame, conversions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Arms with no traffic at all (paused, removed) leave the comparisons and the traffic-split check."""
    if traffic.empty:
        return traffic, conversions, []
    keys = ["campaign", "test", "variant"]
    totals = traffic.groupby(keys, sort=False)["visitors"].sum()
    silent = totals[totals <= 0]
    if silent.empty:
        return traffic, conversions, []
    problems = [
        Problem(
            cell=f"{campaign} · {test}" if test else str(campaign),
            message=f"{variant} has no traffic (paused or removed?); it is listed here but left out of the "
            "comparisons and the traffic-split check",
        )
        for campaign, test, variant in silent.index
    ]
    keep = ~pd.MultiIndex.from_frame(traffic[keys]).isin(silent.index)
    keep_conversions = ~pd.MultiIndex.from_frame(conversions[keys]).isin(silent.index)
    return traffic[keep], conversions[keep_conversions], problems


@dataclass
class Part:
    """One Results tab as parsed: its good rows and what they are tested on."""

    tab: str
    frame: pd.DataFrame
    metrics: list[Metric]
    traffic_label: str
    currency: str
    header: tuple[str, ...]  # as read, normalised: tabs with the same header are one table
    written: tuple[str, ...]  # the tab's own header row as written, its empty cells left out
    named_by_tab: bool  # the campaign is the tab's name (an export with each campaign as an arm)


def one_table_across_tabs(parts: list[Part]) -> dict[str, str]:
    """Tabs with the same header whose campaign is their own name (one export per arm, per week or month)
    become one campaign, named after all of them: by tab, the campaign it is read as."""
    groups: dict[tuple[str, ...], list[Part]] = {}
    for part in parts:
        if part.named_by_tab:
            groups.setdefault(part.header, []).append(part)
    renamed: dict[str, str] = {}
    for group in groups.values():
        if len(group) > 1:
            shared = " + ".join(part.tab for part in group)
            for part in group:
                part.frame["campaign"] = shared
                renamed[part.tab] = shared
    return renamed


def same_day_in_two_tabs(frame: pd.DataFrame) -> tuple[pd.Series, list[Problem]]:
    """A dated row of an arm that another tab already gave for the same day: counted once, the later one
    named beside the first (two exports of overlapping periods, a week pasted twice)."""
    keys = ["campaign", "test", "variant", "date"]
    dated = frame[frame["date"].notna()]
    first = dated.groupby(keys, sort=False)[["origin", "row", "column"]].transform("first")
    again = dated.index[(dated["origin"] != first["origin"]).to_numpy()]
    problems = [
        Problem(
            cell=a1(origin, row, column),
            message=f"{variant} on {day:%d %b %Y} is already at {a1(*earlier)}; this row is left out",
        )
        for origin, row, column, variant, day, earlier in zip(
            frame.loc[again, "origin"],
            frame.loc[again, "row"],
            frame.loc[again, "column"],
            frame.loc[again, "variant"],
            frame.loc[again, "date"],
            first.loc[again].itertuples(index=False, name=None),
            strict=True,
        )
    ]
    return pd.Series(frame.index.isin(again), index=frame.index), problems


def over_traffic(
    conversions: pd.DataFrame, labels: dict[tuple[str, str], str]
) -> tuple[pd.Series, list[tuple[str, str, str]], list[Problem]]:
    """Metrics on which an arm counts more conversions than traffic, in total or by some day (view-through
    conversions, events counted more than once per click): not a share of the traffic, so not tested as one.
    Returns the conversion rows to keep, the (campaign, test, metric) left out, and one problem each."""
    if not (conversions["conversions"].to_numpy() > conversions["visitors"].to_numpy()).any():
        return pd.Series(True, index=conversions.index), [], []  # no row over, so no running total either
    keys = ["campaign", "test", "variant", "metric"]
    daily = conversions.groupby([*keys, "date"], sort=False, dropna=False)[["visitors", "conversions"]].sum()
    daily = daily.sort_index(level="date", sort_remaining=False, kind="stable")
    running = daily.groupby(level=keys, sort=False).cumsum()
    above = running[running["conversions"] > running["visitors"]]
    if above.empty:
        return pd.Series(True, index=conversions.index), [], []
    worst = above.reset_index().drop_duplicates(keys, keep="last")
    dropped: dict[tuple[str, str, str], Problem] = {}
    for campaign, test, variant, metric, conv, visitors in zip(
        worst["campaign"],
        worst["test"],
        worst["variant"],
        worst["metric"],
        worst["conversions"],
        worst["visitors"],
        strict=True,
    ):
        key = (str(campaign), str(test), str(metric))
        if key in dropped:
            continue
        label = labels.get((key[0], key[1]), "visitors")
        dropped[key] = Problem(
            cell=f"{campaign} · {test}" if test else str(campaign),
            message=f"{metric} not tested: {variant} has {shown(conv)} {metric.lower()} on {shown(visitors)} "
            f"{label}, more than one per {singular(label)} (view-through conversions, or events counted more "
            f"than once per {singular(label)}), so they are not a share of its {label}",
        )
    index = pd.MultiIndex.from_frame(conversions[["campaign", "test", "metric"]])
    keep = ~index.isin(list(dropped))
    return pd.Series(keep, index=conversions.index), list(dropped), list(dropped.values())


def cells_read(reading: TabReading, layout: Layout, over_rows: dict[str, int]) -> TabReading:
    """The tab's line with what its cells said: metric columns with no data, rows above their traffic, the
    order of its dates."""
    notes = []
    if layout.no_data:
        notes.append(f"no data in {', '.join(layout.no_data)} (not tested)")
    for name, count in over_rows.items():
        notes.append(
            f"{name} above {reading.traffic or 'traffic'} in {counted(f'{count:,}', 'rows')} (view-through; kept)"
        )
    if layout.dates_read is not None:
        notes.append(layout.dates_read[1])
    if not notes:
        return reading
    return reading.model_copy(
        update={
            "summary": reading.summary + "".join(f" · {note}" for note in notes),
            "date_order": layout.dates_read[0] if layout.dates_read is not None else reading.date_order,
            "micro": tuple(m for m in reading.micro if m not in layout.no_data),
            "macro": tuple(m for m in reading.macro if m not in layout.no_data),
            "no_data": layout.no_data,
        }
    )


def nothing_to_compare(readings: list[TabReading], parts: list[Part], tested: set[tuple[str, str]]) -> list[TabReading]:
    """A tab that was read but gave no test to compare (every arm without traffic, or one arm only) is not
    read after all, with the sentence that says what its rows lack."""
    untested = {
        part.tab: part.frame
        for part in parts
        if not any(key in tested for key in zip(part.frame["campaign"], part.frame["test"], strict=True))
    }
    headers = {part.tab: part.written for part in parts}
    out = []
    for reading in readings:
        frame = untested.get(reading.tab)
        if frame is None or not reading.read:
            out.append(reading)
            continue
        arms = frame.groupby("variant", sort=False)["visitors"].sum()
        active = [str(name) for name in arms.index[arms.to_numpy() > 0]]
        arm_word = (reading.variant or "variant").lower()
        traffic = (reading.traffic or "traffic").lower()
        if not active:
            figure = f"{len(arms):,}"
            summary = (
                f"Tab {reading.tab} has no {arm_word} with any {traffic} ({counted(figure, arm_word + 's')}, all 0), "
                "so there is nothing to compare: export a date range in which they ran."
            )
            missing = ("traffic",)
        else:
            named = ", ".join(active[:4]) + ("…" if len(active) > 4 else "")
            summary = (
                f"Tab {reading.tab} has only one arm per test ({named}), so there is nothing to compare yet: add the "
                "other arm's rows, or its export as a second tab with the same columns."
            )
            missing = ("variant",)
        update = {"read": False, "summary": summary, "missing": missing, "headers": headers[reading.tab]}
        out.append(reading.model_copy(update=update))
    return out
