"""Typed, frozen inputs and outputs shared by every stage of the analysis."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

Kind = Literal["micro", "macro"]
TestUsed = Literal["z", "fisher"]
VerdictCode = Literal["move_budget", "keep_running", "no_difference", "conflict", "check_tracking"]
Cell = str | int | float | bool | dt.date | dt.datetime | None


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Problem(Frozen):
    """A cell (or tab) the analysis could not use, and why, in words a marketer acts on."""

    cell: str
    message: str

    def __str__(self) -> str:
        return f"{self.cell}: {self.message}"


@dataclass(frozen=True)
class Tab:
    """One tab of a spreadsheet as the source returned it: rows of raw cells, header row included."""

    name: str
    rows: list[list[Cell]]


class MetricSpec(Frozen):
    name: str
    kind: Kind


class TestSpec(Frozen):
    """What one test compares: its variants in sheet order, the control first."""

    campaign: str
    test: str
    control: str
    variants: tuple[str, ...]
    metrics: tuple[MetricSpec, ...]
    traffic_label: str
    has_dates: bool
    has_spend: bool
    planned_visitors: int | None = None

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(metric.name for metric in self.metrics)

    @property
    def title(self) -> str:
        return f"{self.campaign} · {self.test} test" if self.test else self.campaign


class ChannelRoute(Frozen):
    """A row of the Channels tab: where a campaign's verdicts and digests go."""

    campaign: str
    channel: str
    schedule: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class SheetData:
    """Validated sheet content.

    `traffic` has one row per sheet row: campaign, test, variant, date, visitors, spend.
    `conversions` has one row per sheet row and metric: campaign, test, variant, date, metric, kind,
    visitors, conversions. Dates are NaT where the tab has no Date column.
    """

    tests: tuple[TestSpec, ...]
    traffic: pd.DataFrame
    conversions: pd.DataFrame
    channels: tuple[ChannelRoute, ...] = ()
    problems: tuple[Problem, ...] = ()
    tabs_read: tuple[str, ...] = field(default=())


class Comparison(Frozen):
    """One variant against its test's control on one metric."""

    variant: str
    metric: str
    kind: Kind
    control_visitors: int
    control_conversions: int
    variant_visitors: int
    variant_conversions: int
    control_rate: float
    variant_rate: float
    lift: float | None
    lift_ci: tuple[float | None, float | None]
    p_value: float
    test_used: TestUsed
    significant: bool
    visitors_needed: int | None


class ArmTotals(Frozen):
    variant: str
    visitors: int
    spend: float | None


class TestResult(Frozen):
    campaign: str
    test: str
    title: str
    control: str
    traffic_label: str
    srm_p_value: float
    verdict: VerdictCode
    headline: str
    summary: str
    best_variant: str | None
    arms: tuple[ArmTotals, ...]
    comparisons: tuple[Comparison, ...]


class Report(Frozen):
    source: str
    as_of: dt.date | None = None
    tests: tuple[TestResult, ...]
    problems: tuple[Problem, ...]
