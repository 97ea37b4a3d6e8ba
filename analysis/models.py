"""Typed, frozen inputs and outputs shared by every stage of the analysis."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, TypeVar

import pandas as pd
from pydantic import BaseModel, ConfigDict

Kind = Literal["micro", "macro"]
TestUsed = Literal["z", "fisher"]
VerdictCode = Literal["move_budget", "keep_running", "no_difference", "conflict", "check_tracking"]
DecisionRule = Literal["sequential", "fixed_horizon"]
ComparisonDecision = Literal["better", "worse", "no_difference", "keep_running", "too_early"]
CallCode = Literal["better", "worse", "no_difference"]
# Where a test's looks come from: its dated rows, the reads microopt recorded, or today's read alone.
PathKind = Literal["days", "looks", "one_look"]
TestStatus = Literal["running", "paused", "done"]
Cell = str | int | float | bool | dt.date | dt.datetime | None


class Frozen(BaseModel):
    # Infinities and NaN written as Python's json writes them (bot.render.as_json keeps that contract).
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")


M = TypeVar("M", bound=BaseModel)


@cache
def _shape(model: type[BaseModel]) -> tuple[dict[str, Any], set[str]]:
    """The defaults of `model`, and the set of all its fields."""
    fields = model.model_fields
    return {name: f.default for name, f in fields.items() if not f.is_required()}, set(fields)


_set = object.__setattr__


def built(model: type[M], values: dict[str, Any]) -> M:
    """A model of values the analysis typed itself (Python ints, floats, str, tuples, models), without
    validating them again: a large sheet makes hundreds of thousands of models, and validation costs ten
    times their construction. Defaults fill what `values` leaves out, and come first (pydantic writes a
    model's JSON in the order of its dict); without defaults `values`, a fresh dict, becomes the model's
    own. The tests check that every model of a report equals its validated copy and serialises without a
    warning. Every field counts as set (the analysis computed each), in one set per model shared by its
    instances: a set of 30 names is 2 KB, a third of a comparison, and frozen models never change it in
    place (`model_copy` copies it before adding to it)."""
    defaults, every_field = _shape(model)
    instance = model.__new__(model)
    _set(instance, "__dict__", {**defaults, **values} if defaults else values)
    _set(instance, "__pydantic_fields_set__", every_field)
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


class Problem(Frozen):
    """A cell (or tab) the analysis could not use, and why, in words a marketer acts on."""

    cell: str
    message: str

    def __str__(self) -> str:
        return f"{self.cell}: {self.message}"


@dataclass(frozen=True)
class NumberFormat:
    """A cell's number format as Google Sheets keeps it: `CURRENCY`, `NUMBER`…, and its pattern
    (`[$€-407]#,##0.00`, `"$"#,##0.00`; empty for the locale's default)."""

    type: str
    pattern: str = ""


@dataclass(frozen=True)
class Tab:
    """One tab of a spreadsheet as the source returned it: rows of raw cells, header row included."""

    name: str
    rows: list[list[Cell]]
    # The spreadsheet's locale (`de_DE`, `en_US`) when the source knows it: decides whether a text cell
    # `1,234` is 1234 or 1.234, and whether `09/03/2026` is 9 March. None for local files.
    locale: str | None = None
    # Per column (zero-based), the money format most of its cells are shown in, when the source knows
    # (Google Sheets): a Spend column of plain numbers shown as `€1,234.00` is in euros.
    number_formats: Mapping[int, NumberFormat] = field(default_factory=dict)
    # What the source says of how much of the tab it read, when it stopped before the end (a limit on the
    # read): one sentence, reported as the tab's problem before its verdicts. None when the tab was read whole.
    note: str | None = None


# Spaces and separators a name can start or end with when typed or pasted (`Black Friday ·`, `Q4 - `).
_LOOSE_ENDS = re.compile(r"^[\s·•|:,;/–—-]+|[\s·•|:,;/–—-]+$")


def title_of(campaign: str, test: str) -> str:
    """'Spring Sale · Audience test', or the campaign alone when it runs one test: no separator or space left
    dangling at either end ('Black Friday ·' runs one test: 'Black Friday'), and no 'test test'."""
    name, test_name = _LOOSE_ENDS.sub("", campaign), _LOOSE_ENDS.sub("", test)
    if test_name and not re.search(r"\btest$", test_name, re.IGNORECASE):
        test_name = f"{test_name} test"
    return " · ".join(part for part in (name, test_name) if part) or campaign.strip() or test.strip()


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
    currency: str = "$"
    # From the optional Status column: the status of the test's latest row; running when none says.
    status: TestStatus = "running"
    # From the optional Split column (or the Setup role `split`): each variant's planned share of the
    # traffic, in `variants` order, summing to 1. None when the sheet plans no split: then the arms were
    # not randomised, and their traffic split is not checked (analysis.splits).
    split: tuple[float, ...] | None = None

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(metric.name for metric in self.metrics)

    @property
    def title(self) -> str:
        return title_of(self.campaign, self.test)


class ChannelRoute(Frozen):
    """A row of the Channels tab: where a campaign's verdicts and digests go."""

    campaign: str
    channel: str
    schedule: str | None = None
    timezone: str | None = None
    cell: str | None = None  # the Channel cell's A1 reference, for problems about it


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
    tabs: tuple[TabReading, ...] = field(default=())


class CallRecord(Frozen):
    """A comparison's call as it was made, and the numbers at that moment: final, whatever later looks show."""

    call: CallCode
    called_on: dt.datetime | dt.date | None
    looks: int
    control_visitors: int
    control_conversions: int | float
    variant_visitors: int
    variant_conversions: int | float
    lift: float | None


class Comparison(Frozen):
    """One variant against its test's control on one metric, at its latest look.

    `lift_ci` and `p_value` are fixed-horizon figures kept for other tools; the decision's own, valid
    however often the sheet is looked at, are `decision_ci`, `decision_p_value` and `adjusted_p_value`."""

    variant: str
    metric: str
    kind: Kind
    control_visitors: int
    control_conversions: int | float
    variant_visitors: int
    variant_conversions: int | float
    control_rate: float
    variant_rate: float
    lift: float | None
    lift_ci: tuple[float | None, float | None]
    p_value: float
    test_used: TestUsed
    significant: bool
    visitors_needed: int | None
    decision: ComparisonDecision = "keep_running"
    decision_rule: DecisionRule = "fixed_horizon"
    decision_p_value: float | None = None
    adjusted_p_value: float | None = None
    decision_ci: tuple[float | None, float | None] = (None, None)
    planned_visitors: int | None = None
    information_fraction: float | None = None
    chance_to_beat: float | None = None
    shrunk_lift: float | None = None
    visitors_to_go: int | None = None
    days_to_go: int | None = None
    spend_to_go: float | None = None
    # The final call (null while open), when it was made (a day, or the time of a recorded look), and how
    # many looks the call rests on (the looks so far while open); `at_call` holds the numbers it was made on.
    call: CallCode | None = None
    called_on: dt.datetime | dt.date | None = None
    looks: int = 1
    at_call: CallRecord | None = None
    # Conversions credited by an attribution model, in fractions (`61.5`): rates, lift, intervals and the
    # decision use them as they are; Fisher's exact test rounds them (docs/methodology.md).
    fractional: bool = False
    # How much the path's periods (days, recorded reads) vary beyond what independent clicks explain: the
    # variance factor phi at the latest look and its degrees of freedom (periods - 1); None with one period.
    dispersion: float | None = None
    dispersion_df: int | None = None
    # The plan (times the variance factor) is in without a call: not a call, the comparison stays open.
    plan_reached: bool = False
    # How far the latest look is toward a call: |z| as a share of the |z| a call needs at that look (1 calls);
    # None while too early.
    evidence: float | None = None


class ComparisonRef(Frozen):
    """Which comparison of a test a verdict rests on, or still waits for."""

    variant: str
    metric: str
    kind: Kind


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
    # The split check's anytime-valid p-value against `split`, the planned share of each arm (arms' order);
    # both None when the sheet plans no split: the arms were not randomised and the split is not checked.
    srm_p_value: float | None
    verdict: VerdictCode
    headline: str
    summary: str
    best_variant: str | None
    arms: tuple[ArmTotals, ...]
    comparisons: tuple[Comparison, ...]
    decision_rule: DecisionRule = "fixed_horizon"
    days: int | None = None
    currency: str = "$"
    path: PathKind = "one_look"
    looks: int = 1
    status: TestStatus = "running"
    # The verdict as data: why (a stable code of analysis.verdict.Reason), the comparison it rests on, the
    # macro comparison still to confirm, and when the call it rests on was made.
    reason: str = ""
    rests_on: ComparisonRef | None = None
    to_confirm: ComparisonRef | None = None
    called_on: dt.datetime | dt.date | None = None
    split: tuple[float, ...] | None = None


class ProxyRecord(Frozen):
    """How well one micro metric has tracked one macro metric across the tests of a sheet."""

    micro: str
    macro: str
    finished_tests: int
    agreeing_tests: int
    correlation: float | None
    correlation_tests: int


class Method(Frozen):
    """The decision settings a report was made with, so every figure can be reproduced."""

    alpha: float
    minimum_effect: float
    power: float
    min_days: int
    min_conversions: int
    prior: str
    mixture_share: float = 0.1
    mixture_sd: float = 0.3


class SetupRow(Frozen):
    """One row of a Setup tab (or of a `--setup` CSV): the column, the role it plays, optionally its tab."""

    column: str
    role: str
    tab: str | None = None


class TabReading(Frozen):
    """How one tab was read: which layout was recognised and which column plays which role.

    A tab nothing was tested from has `read` False: `summary` is its one sentence (the headers seen, the
    role missing, the candidate columns, a "did you mean"), and `setup` the Setup rows that would read it."""

    tab: str
    layout: str
    variant: str | None = None
    traffic: str | None = None
    micro: tuple[str, ...] = ()
    macro: tuple[str, ...] = ()
    spend: str | None = None
    currency: str | None = None
    fractional: bool = False
    summary: str = ""
    # One row per conversion action (Google Ads' "Conversion action" segment, GA4's Event name): the
    # column naming the action, the column counting it, the tab the traffic came from (None: the same
    # tab's unsegmented rows) and the actions neither micro nor macro, which were not read.
    actions: str | None = None
    action_counts: str | None = None
    traffic_tab: str | None = None
    not_read: tuple[str, ...] = ()
    read: bool = True
    headers: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    setup: tuple[SetupRow, ...] = ()
    # How the tab's cells were read where a choice was made: `day-first` / `month-first` dates, metric
    # columns with no value in any row (not tested), amount columns (revenue: not a count of conversions),
    # and one row per visitor or user counted into arms (`row-level`, with the id column when there is one).
    date_order: str | None = None
    no_data: tuple[str, ...] = ()
    amounts: tuple[str, ...] = ()
    row_level: bool = False
    id_column: str | None = None


class Report(Frozen):
    source: str
    as_of: dt.date | None = None
    tests: tuple[TestResult, ...]
    problems: tuple[Problem, ...]
    proxies: tuple[ProxyRecord, ...] = ()
    method: Method | None = None
    tabs: tuple[TabReading, ...] = ()


class BacktestComparison(Frozen):
    """One comparison of a dated test replayed day by day: when the rule first called it, and at what cost."""

    campaign: str
    test: str
    variant: str
    metric: str
    kind: Kind
    first_call_date: dt.date | None
    call: CallCode | None
    days_to_call: int | None
    spend_to_call: float | None
    visitors_to_call: int | None
    lift_at_call: float | None
    days_run: int
    spend_total: float | None
    final_decision: ComparisonDecision
    confirmed_by_macro: bool | None = None
    currency: str = "$"


class BacktestTest(Frozen):
    """Per test: the first micro call against the first macro call."""

    campaign: str
    test: str
    micro_call_date: dt.date | None
    macro_call_date: dt.date | None
    days_sooner: int | None
    spend_sooner: float | None
    macro_called: bool
    days_run: int
    currency: str = "$"


class ActedCall(Frozen):
    """A call the team acted on, as the sheet's Decisions tab records it: budget moved to a variant on the strength
    of a metric, or a test stopped."""

    campaign: str
    test: str
    decision: Literal["moved", "stopped"]
    variant: str | None
    metric: str | None
    decided_on: dt.date | None
    cell: str  # the row's A1 reference, for problems about it


class ActedOutcome(Frozen):
    """What became of one acted-on call in the replay of its dated test: `confirmed` or `contradicted` by the
    macro metric's own call, `open` while it has none, `not_replayed` for a test without dates; and the spend
    between the early call and the macro metric's (or the last day), which acting early saved."""

    call: ActedCall
    outcome: Literal["confirmed", "contradicted", "open", "not_replayed"]
    macro_metric: str | None = None
    macro_call_date: dt.date | None = None
    spend_saved: float | None = None
    currency: str = "$"


class ActedRecord(Frozen):
    """The track record of the calls the team acted on (the Decisions tab), against what the macro metric said."""

    outcomes: tuple[ActedOutcome, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)


class Backtest(Frozen):
    source: str
    comparisons: tuple[BacktestComparison, ...]
    tests: tuple[BacktestTest, ...] = ()
    method: Method | None = None
    # The calls acted on from Slack, read from the sheet's Decisions tab; None when the sheet has none.
    acted: ActedRecord | None = None
