"""What every surface asks for: read the sheet, analyse it, narrow it to what was asked."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.backtest import backtest
from analysis.calls import reopened, same_calls
from analysis.decision import DecisionSettings
from analysis.models import ActedRecord, Backtest, Problem, Report, SheetData, Tab, title_of
from analysis.paths import COUNTS, HISTORY_COLUMNS, current_totals, reconcile
from analysis.range_paths import RangePath, decision_ranges, range_paths
from analysis.reading.decisions_tab import acted_calls
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from bot.deps import Deps
from bot.errors import NoDatabase, UserFacingError
from bot.schedules.by_channel import schedule_problems
from bot.sources.limits import tests_cut_note
from bot.sources.setup_file import read_setup_file, with_setup

if TYPE_CHECKING:
    from bot.state.store import StateStore

logger = logging.getLogger("microopt.service")
STATE_UNAVAILABLE = Problem(
    cell="State database",
    message=(
        "microopt could not read its record of earlier looks, so undated tests rest on today's look alone; "
        "check DATABASE_URL"
    ),
)
LOOK_NOT_RECORDED = Problem(
    cell="State database",
    message="microopt could not record this look, so the next read will not count it; check DATABASE_URL",
)


def with_setup_file(deps: Deps, tabs: list[Tab]) -> list[Tab]:
    """The sheet's tabs with the Setup file of MICROOPT_SETUP (or `--setup`) as their Setup tab, if one is set."""
    return with_setup(tabs, read_setup_file(deps.settings.setup)) if deps.settings.setup else tabs


def load_sheet(deps: Deps, spec: str | None = None) -> SheetData:
    return parsed(deps, with_setup_file(deps, deps.read_tabs(spec or deps.settings.sheet)))


def parsed(deps: Deps, tabs: list[Tab]) -> SheetData:
    """The tabs' tests, as many as MICROOPT_MAX_COMPARISONS allows."""
    data = parse_workbook(tabs, currency=deps.settings.currency, date_order=deps.settings.date_order)
    return first_tests(data, deps.settings.max_comparisons)


def first_tests(data: SheetData, limit: int) -> SheetData:
    """`data` with its first tests alone, in sheet order, as many as make at most `limit` comparisons, and a
    problem saying so: the analysis takes memory by the comparison (about 5 KB each), without another bound."""
    made = np.cumsum([max(len(spec.variants) - 1, 0) * len(spec.metrics) for spec in data.tests])
    kept = int(np.searchsorted(made, limit, side="right"))
    if kept == len(data.tests):
        return data
    tests = data.tests[:kept]
    keys = pd.MultiIndex.from_arrays([[t.campaign for t in tests], [t.test for t in tests]])

    def only_kept(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[pd.MultiIndex.from_frame(frame[["campaign", "test"]]).isin(keys)].reset_index(drop=True)

    first_left_out = data.tests[kept]
    note = tests_cut_note(kept, len(data.tests), title_of(first_left_out.campaign, first_left_out.test), limit)
    return replace(
        data,
        tests=tests,
        traffic=only_kept(data.traffic),
        conversions=only_kept(data.conversions),
        problems=(note, *data.problems),
    )


def analysed(
    deps: Deps, tabs: list[Tab], spec: str | None = None, as_of: dt.date | None = None, record: bool = True
) -> tuple[SheetData, Report]:
    """The sheet data and the whole report of the tabs read from `spec`; a Schedule or Timezone cell of the
    Channels tab that does not work is a problem of its own cell, like any other (docs/digests.md)."""
    tabs = with_setup_file(deps, tabs)
    data = parsed(deps, tabs)
    report = full_report(deps, data, spec, as_of, record)
    extra = schedule_problems(tabs, deps.settings.timezone)
    if extra:
        report = report.model_copy(update={"problems": (*report.problems, *extra)})
    return data, report


def matches(query: str, campaign: str, test: str) -> bool:
    """`/microopt status spring` finds "Spring Sale"; a test name works too."""
    wanted = " ".join(query.split()).lower()
    return wanted in campaign.lower() or wanted in test.lower() or wanted in f"{campaign} {test}".lower()


def narrow(report: Report, query: str | None) -> Report:
    if not query:
        return report
    return report.model_copy(update={"tests": tuple(t for t in report.tests if matches(query, t.campaign, t.test))})


def status_report(
    deps: Deps,
    sheet: str | None = None,
    query: str | None = None,
    as_of: dt.date | None = None,
    record: bool = True,
) -> Report:
    _, report = analysed(deps, deps.read_tabs(sheet or deps.settings.sheet), sheet, as_of, record)
    return narrow(report, query)


def campaigns(report: Report) -> tuple[str, ...]:
    """The campaigns of a report's tests, each once, in sheet order."""
    return tuple(dict.fromkeys(test.campaign for test in report.tests))


def full_report(
    deps: Deps, data: SheetData, sheet: str | None = None, as_of: dt.date | None = None, record: bool = True
) -> Report:
    """Every test of already-loaded sheet data (Slack needs the data's Channels tab too), decided over its
    path: dated tests by their days, undated ones by the looks recorded in the state database, to which this
    read is added (never for a replay, `as_of`, nor with `record` False)."""
    source = sheet or deps.settings.sheet
    settings = decision_settings(deps)
    now = deps.clock()
    state = _state(deps) if record else None
    if isinstance(state, Problem):
        report = analyse(data, source=source, as_of=as_of, settings=settings)
        report = report.model_copy(update={"problems": (*report.problems, state)})
    elif state is None or as_of is not None:
        report = analyse(data, source=source, as_of=as_of, settings=settings, history=_replayed(state, source, as_of))
    else:
        report = _recorded(state, data, source, settings, now)
    # The whole report, before narrowing, and never a replay (--as-of): the Verdicts tab shows today's verdicts.
    if deps.settings.write_verdicts and as_of is None:
        note = deps.write_verdicts(source, report)
        if note is not None:
            report = report.model_copy(update={"problems": (*report.problems, note)})
    return report


def decision_settings(deps: Deps) -> DecisionSettings:
    settings = deps.settings
    return DecisionSettings(alpha=settings.alpha, minimum_effect=settings.minimum_effect, min_days=settings.min_days)


def _state(deps: Deps) -> StateStore | Problem | None:
    """The state store; None without one; the problem to report when it is configured but cannot be opened
    (the read then rests on one look)."""
    try:
        return deps.state()
    except NoDatabase:
        return None
    except UserFacingError:
        raise
    except Exception as error:
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(error, SQLAlchemyError | OSError):
            raise  # a bug, not a database that does not answer
        logger.warning("state database unavailable; analysing without recorded looks", exc_info=True)
        return STATE_UNAVAILABLE


def _replayed(state: StateStore | None, source: str, as_of: dt.date | None) -> pd.DataFrame | None:
    """For `--as-of`: the looks recorded by the end of that day (UTC), if any are kept."""
    if state is None or as_of is None:
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from bot.state.history import read_looks

    try:
        looks = read_looks(state, source)
    except SQLAlchemyError:
        logger.warning("could not read recorded looks", exc_info=True)
        return None
    end = pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1)
    return looks[looks["looked_at"] < end]


def _recorded(state: StateStore, data: SheetData, source: str, settings: DecisionSettings, now: dt.datetime) -> Report:
    """Analyse over the recorded looks, then record this look and the calls it makes."""
    from sqlalchemy.exc import SQLAlchemyError  # the database is imported only when a read is recorded

    from bot.state.history import read_calls, read_looks, record_calls, record_looks

    try:
        stored = read_looks(state, source)
        recorded_calls = read_calls(state, source)
    except SQLAlchemyError:
        logger.warning("could not read recorded looks", exc_info=True)
        report = analyse(data, source=source, settings=settings)
        return report.model_copy(update={"problems": (*report.problems, STATE_UNAVAILABLE)})
    current = current_totals(data)
    kept = reconcile(stored, current)
    report = analyse(data, source=source, settings=settings, history=kept.history, now=now)
    problems, calls = reopened(recorded_calls, report, kept.restarted)
    try:
        record_looks(state, source, undated_looks(report), kept.history, now, kept.restarted)
        if not same_calls(recorded_calls, calls):
            record_calls(state, source, calls, now)
    except SQLAlchemyError:
        logger.warning("could not record this look", exc_info=True)
        problems = (*problems, LOOK_NOT_RECORDED)
    return report.model_copy(update={"problems": (*report.problems, *kept.problems, *problems)})


def undated_looks(report: Report) -> pd.DataFrame:
    """Today's totals and decision of every comparison of an undated test, as a look to record."""
    pairs = [(t, c) for t in report.tests if t.path != "days" for c in t.comparisons]
    columns = {
        "campaign": [t.campaign for t, _ in pairs],
        "test": [t.test for t, _ in pairs],
        "variant": [c.variant for _, c in pairs],
        "metric": [c.metric for _, c in pairs],
        "visitors_control": [c.control_visitors for _, c in pairs],
        # The state tables hold whole counts; attribution's fractions are recorded truncated, as before.
        "conversions_control": [int(c.control_conversions) for _, c in pairs],
        "visitors": [c.variant_visitors for _, c in pairs],
        "conversions": [int(c.variant_conversions) for _, c in pairs],
        "decision": [c.decision for _, c in pairs],
        "decision_p_value": [c.decision_p_value for _, c in pairs],
    }
    return pd.DataFrame(columns, columns=[*HISTORY_COLUMNS[:4], *COUNTS, "decision", "decision_p_value"])


def acted_record_of(deps: Deps, spec: str, data: SheetData) -> ActedRecord | None:
    """What the macro metric later said of the calls the team acted on (the sheet's Decisions tab), for the proxy
    check status shows: only the tests acted on are replayed (`analysis.backtest.acted_record`). None without any."""
    calls = acted_calls(deps.read_tabs(spec), deps.settings.date_order)
    if not calls:
        return None
    keys = {(c.campaign, c.test) for c in calls}
    tests = tuple(t for t in data.tests if (t.campaign, t.test) in keys)

    def acted_on(frame: pd.DataFrame) -> pd.DataFrame:
        wanted = pd.Series(list(zip(frame["campaign"], frame["test"], strict=True)), index=frame.index).isin(keys)
        return frame[wanted].reset_index(drop=True)

    narrowed = replace(data, tests=tests, traffic=acted_on(data.traffic), conversions=acted_on(data.conversions))
    return backtest(narrowed, source=spec, settings=decision_settings(deps), acted=calls).acted


def backtest_report(deps: Deps, sheet: str | None = None) -> Backtest:
    """Every day of the dated tests replayed through the status decision rule, and what became of the calls the
    team acted on (the sheet's Decisions tab)."""
    settings = decision_settings(deps)
    source = sheet or deps.settings.sheet
    acted = acted_calls(deps.read_tabs(source), deps.settings.date_order)
    return backtest(load_sheet(deps, sheet), source=source, settings=settings, acted=acted)


def decision_paths(
    deps: Deps, data: SheetData, sheet: str, tests: Sequence[tuple[str, str]]
) -> dict[tuple[str, str, str, str], RangePath]:
    """The decision's range at every look of `tests`' comparisons (campaign, test, variant, metric → path), over
    the same looks their verdicts rest on: dated days, or the reads recorded in the state database."""
    settings = decision_settings(deps)
    history = None
    state = _state(deps)
    if state is not None and not isinstance(state, Problem):
        from sqlalchemy.exc import SQLAlchemyError

        from bot.state.history import read_looks

        try:
            history = reconcile(read_looks(state, sheet), current_totals(data)).history
        except SQLAlchemyError:
            logger.warning("could not read recorded looks for a path chart", exc_info=True)
    now = deps.last_read(sheet) or deps.clock()
    frame = decision_ranges(data, settings, history, now, tests=tests)
    return {(p.campaign, p.test, p.variant, p.metric): p for p in range_paths(frame, settings.minimum_effect)}
