"""What every surface asks for: read the sheet, analyse it, narrow it to what was asked."""

from __future__ import annotations

import datetime as dt

from analysis.models import Report, SheetData
from analysis.report import analyse
from analysis.sheet import parse_workbook
from bot.deps import Deps


def load_sheet(deps: Deps, spec: str | None = None) -> SheetData:
    return parse_workbook(deps.read_tabs(spec or deps.settings.sheet))


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
    data = load_sheet(deps, sheet)
    report = analyse(data, source=sheet or deps.settings.sheet, as_of=as_of, alpha=deps.settings.alpha)
    return narrow(report, query)
