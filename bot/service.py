"""What every surface asks for: read the sheet, analyse it, narrow it to what was asked."""

from __future__ import annotations

import datetime as dt

from analysis.backtest import backtest
from analysis.decision import DecisionSettings
from analysis.models import Backtest, Report, SheetData
from analysis.report import analyse
from analysis.sheet import parse_workbook
from bot.deps import Deps


def load_sheet(deps: Deps, spec: str | None = None) -> SheetData:
    return parse_workbook(deps.read_tabs(spec or deps.settings.sheet), currency=deps.settings.currency)


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
) -> Report:
    return narrow(full_report(deps, load_sheet(deps, sheet), sheet, as_of), query)


def full_report(deps: Deps, data: SheetData, sheet: str | None = None, as_of: dt.date | None = None) -> Report:
    """Every test of already-loaded sheet data (Slack needs the data's Channels tab too)."""
    report = analyse(
        data,
        source=sheet or deps.settings.sheet,
        as_of=as_of,
        alpha=deps.settings.alpha,
        minimum_effect=deps.settings.minimum_effect,
    )
    # The whole report, before narrowing, and never a replay (--as-of): the Verdicts tab shows today's verdicts.
    if deps.settings.write_verdicts and as_of is None and deps.write_verdicts is not None:
        note = deps.write_verdicts(sheet or deps.settings.sheet, report)
        if note is not None:
            report = report.model_copy(update={"problems": (*report.problems, note)})
    return report


def backtest_report(deps: Deps, sheet: str | None = None) -> Backtest:
    """Every day of the dated tests replayed through the status decision rule."""
    settings = DecisionSettings(alpha=deps.settings.alpha, minimum_effect=deps.settings.minimum_effect)
    return backtest(load_sheet(deps, sheet), source=sheet or deps.settings.sheet, settings=settings)
