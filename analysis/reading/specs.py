"""What each test compares: its variants in sheet order (the control first), metrics, status and planned split."""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import pandas as pd

from analysis.models import (
    Kind,
    MetricSpec,
    Problem,
    TestSpec,
    TestStatus,
    built,
)
from analysis.reading.cells import a1


def _statuses(frame: pd.DataFrame, keys: list[str]) -> dict[tuple[str, str], TestStatus]:
    """Each test's status: the last status given (in sheet order, tabs in order) on its latest date,
    or among all its rows when it has no dates. A test none of whose rows gives a status is absent (running)."""
    latest = frame.groupby(keys, sort=False)["date"].transform("max")
    said = (frame["status"] != "") & ((frame["date"] == latest) | latest.isna())
    last = frame[said].groupby(keys, sort=False)["status"].last()
    keyed = cast(dict[tuple[str, str], TestStatus], last.to_dict())
    return {(str(campaign), str(test)): status for (campaign, test), status in keyed.items()}


def _grouped_variants(frame: pd.DataFrame, keys: list[str]) -> dict[tuple[str, str], list[str]]:
    """Each test's distinct variants in sheet order, tests in the order they first appear."""
    arms = frame.drop_duplicates([*keys, "variant"])
    grouped: dict[tuple[str, str], list[str]] = {}
    columns = (arms[keys[0]].tolist(), arms[keys[1]].tolist(), arms["variant"].tolist())
    for campaign, test, variant in zip(*columns, strict=True):
        grouped.setdefault((campaign, test), []).append(variant)
    return grouped


def _planned_splits(
    frame: pd.DataFrame, keys: list[str]
) -> tuple[dict[tuple[str, str], dict[str, float]], list[Problem]]:
    """Each test's planned share per variant (the last one its rows give), for the tests whose every
    variant gives one; a test where some variants give a share and others do not is a problem naming the
    first cell left blank, and its split is not checked."""
    given = frame[frame["split"].notna()]
    if given.empty:
        return {}, []
    shares = given.groupby([*keys, "variant"], sort=False)["split"].last()
    declared = pd.MultiIndex.from_frame(frame[keys]).isin(pd.MultiIndex.from_frame(given[keys]))
    arms = frame[declared].drop_duplicates([*keys, "variant"])
    missing = arms[~pd.MultiIndex.from_frame(arms[[*keys, "variant"]]).isin(shares.index)]
    problems = [
        Problem(
            cell=str(split_cell or a1(origin, row, column)),
            message=f"no planned share for {variant}, while other variants of "
            f"{f'{campaign} · {test}' if test else campaign} have one; its traffic split is not checked",
        )
        for campaign, test, variant, split_cell, origin, row, column in zip(
            missing["campaign"],
            missing["test"],
            missing["variant"],
            missing["split_cell"],
            missing["origin"],
            missing["row"],
            missing["column"],
            strict=True,
        )
    ]
    unchecked = set(zip(missing["campaign"], missing["test"], strict=True))
    splits: dict[tuple[str, str], dict[str, float]] = {}
    levels = [shares.index.get_level_values(name).astype(str).tolist() for name in (*keys, "variant")]
    for campaign, test, variant, share in zip(*levels, shares.tolist(), strict=True):
        if (campaign, test) not in unchecked:
            splits.setdefault((campaign, test), {})[variant] = float(share)
    return splits, problems


def _in_order(shares: dict[str, float], variants: tuple[str, ...]) -> tuple[float, ...]:
    """The planned shares in the variants' order, normalised to sum to 1."""
    total = sum(shares[v] for v in variants)
    return tuple(shares[v] / total for v in variants)


def specs_of(
    frame: pd.DataFrame,
    metrics: dict[tuple[str, str], dict[str, Kind]],
    labels: dict[tuple[str, str], str],
    currencies: dict[tuple[str, str], str],
) -> tuple[list[TestSpec], list[Problem]]:
    specs: list[TestSpec] = []
    problems: list[Problem] = []
    if frame.empty:
        return specs, problems
    keys = ["campaign", "test"]
    variants_of = _grouped_variants(frame, keys)
    marked_of = _grouped_variants(frame[frame["control"]], keys)
    summary = frame.groupby(keys, sort=False).agg(
        planned=("planned", "max"), has_dates=("date", "count"), has_spend=("spend", "count")
    )
    figures = dict(
        zip(
            summary.index,
            zip(
                summary["planned"].to_numpy(dtype=np.float64).tolist(),
                (summary["has_dates"] > 0).tolist(),
                (summary["has_spend"] > 0).tolist(),
                strict=True,
            ),
            strict=True,
        )
    )
    statuses = _statuses(frame, keys)
    splits, split_problems = _planned_splits(frame, keys)
    problems.extend(split_problems)
    # Tests of one tab share their metrics: one tuple of MetricSpec per distinct set.
    metric_specs: dict[tuple[tuple[str, Kind], ...], tuple[MetricSpec, ...]] = {}
    for (campaign, test), variants in variants_of.items():
        key = (str(campaign), str(test))
        marked = marked_of.get((campaign, test), ())
        control = marked[0] if marked else variants[0]
        if len(marked) > 1:
            problems.append(
                Problem(
                    cell=f"{campaign} · {test}" if test else str(campaign),
                    message=f"{len(marked)} variants are marked as control ({', '.join(marked)}); using {control}",
                )
            )
        if len(variants) < 2:
            title = f"{campaign} · {test}" if test else str(campaign)
            problems.append(
                Problem(cell=title, message=f"only one variant ({variants[0]}); there is nothing to compare yet")
            )
            continue
        ordered = (control, *[v for v in variants if v != control])
        planned, has_dates, has_spend = figures[(campaign, test)]
        named = tuple(metrics[key].items())
        if named not in metric_specs:
            metric_specs[named] = tuple(MetricSpec(name=n, kind=k) for n, k in named)
        specs.append(
            built(
                TestSpec,
                {
                    "campaign": key[0],
                    "test": key[1],
                    "control": str(control),
                    "variants": ordered,
                    "metrics": metric_specs[named],
                    "traffic_label": labels[key],
                    "has_dates": has_dates,
                    "has_spend": has_spend,
                    "planned_visitors": None if math.isnan(planned) else int(planned),
                    "currency": currencies[key],
                    "status": statuses.get(key, "running"),
                    "split": _in_order(splits[key], ordered) if key in splits else None,
                },
            )
        )
    return specs, problems
