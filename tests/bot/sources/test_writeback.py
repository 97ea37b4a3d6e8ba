"""The Verdicts tab: created when missing, rewritten in one request per run, never breaking a status run."""

from __future__ import annotations

import datetime as dt

from analysis.reading.workbook import parse_workbook
from bot.deps import create_deps
from bot.service import status_report
from bot.sources.google import GoogleSheets
from bot.sources.writeback import HEADER, VerdictWriter
from tests.bot.sources.conftest import EMAIL, KEY
from tests.fakes.sheets_api import WRITE_SCOPE, google_error

NOW = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
HEADER_ROW = ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)", "Purchases (macro)"]
RESULTS = [
    HEADER_ROW,
    ["Spring Sale", "Audience", "A", 2000, 100, 8],
    ["Spring Sale", "Audience", "B", 2000, 161, 11],
    ['=HYPERLINK("x")', "Ad copy", "A", 3000, 120, 9],
    ['=HYPERLINK("x")', "Ad copy", "B", 3000, 118, 10],
]


def run_status(make_settings, clock=lambda: NOW, **settings):
    deps = create_deps(make_settings(write_verdicts=True, **settings), clock=clock)
    return deps, status_report(deps)


def test_the_verdicts_tab_is_created_and_written_in_one_request(sheets_api, make_settings):
    spreadsheet = sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "writer"})
    _, report = run_status(make_settings)

    assert report.problems == ()
    assert [c.route for c in sheets_api.sheets_calls] == ["metadata", "batchGet", "batchUpdate"]
    rows = spreadsheet.rows_of("Verdicts")
    assert rows[0] == list(HEADER)
    assert rows[1][:3] == ["Spring Sale", "Audience", "Move budget to B."]
    assert rows[1][3] == report.tests[0].summary and rows[1][6] == "2026-03-09 09:00 UTC"
    cart = report.tests[0].comparisons[0]
    assert rows[1][4] == "9 Mar 2026 09:00 UTC" and rows[1][5] == f"{cart.adjusted_p_value:.3f}"
    assert rows[2][0] == '=HYPERLINK("x")'  # written as text, never as a formula
    (update,) = sheets_api.calls_to("batchUpdate")
    assert [next(iter(r)) for r in update.body["requests"]] == ["addSheet", "updateCells"]
    assert sheets_api.token_claims[0]["scope"] == WRITE_SCOPE


def test_a_later_run_replaces_the_tab_and_the_tab_is_not_read_as_results(sheets_api, make_settings):
    spreadsheet = sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "writer"})
    run_status(make_settings)
    spreadsheet.rows_of("Results")[3:] = []  # the Ad copy test is removed by hand
    spreadsheet.sheet("Verdicts").rows.append(["typed by hand"])

    deps, _ = run_status(make_settings, clock=lambda: NOW + dt.timedelta(hours=1))

    rows = spreadsheet.rows_of("Verdicts")
    assert len(rows) == 2 and rows[1][6] == "2026-03-09 10:00 UTC"  # old rows and hand edits are cleared
    assert rows[1][4] == "9 Mar 2026 09:00 UTC"  # the call stays the one made at the first read
    (_, second) = sheets_api.calls_to("batchUpdate")
    assert [next(iter(r)) for r in second.body["requests"]] == ["updateCells"]
    assert "Verdicts" not in parse_workbook(deps.read_tabs(KEY)).tabs_read


def test_write_back_is_off_by_default_and_reads_stay_read_only(sheets_api, make_settings):
    sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "reader"})
    status_report(create_deps(make_settings(), clock=lambda: NOW))
    assert sheets_api.calls_to("batchUpdate") == []
    assert sheets_api.token_claims[0]["scope"].endswith("spreadsheets.readonly")


def test_a_failed_write_keeps_the_verdicts_and_adds_one_sentence(sheets_api, make_settings):
    sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "reader"})  # not an editor
    _, report = run_status(make_settings)
    assert len(report.tests) == 2
    (note,) = report.problems
    assert note.cell == "Verdicts"
    assert note.message == (
        f"not updated. microopt can read the sheet {KEY} but may not write its Verdicts tab: share the sheet "
        f"with {EMAIL} as an Editor, or turn MICROOPT_WRITE_VERDICTS off."
    )


def report_and_google(make_settings, sleeps):
    settings = make_settings(write_verdicts=True)
    report = status_report(create_deps(make_settings(), clock=lambda: NOW))  # analysed, not written
    return report, GoogleSheets(settings, sleep=sleeps)


def test_writes_are_retried_like_reads(sheets_api, make_settings, sleeps):
    spreadsheet = sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "writer"})
    report, google = report_and_google(make_settings, sleeps)
    sheets_api.fail_next("batchUpdate", google_error(503, "Backend Error", "UNAVAILABLE"))
    assert VerdictWriter(lambda: google, clock=lambda: NOW).write(KEY, report) is None
    assert len(spreadsheet.rows_of("Verdicts")) == 3 and len(sleeps) == 1


def test_a_tab_deleted_since_the_last_read_is_created_again(sheets_api, make_settings, sleeps):
    spreadsheet = sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "writer"})
    report, google = report_and_google(make_settings, sleeps)
    VerdictWriter(lambda: google, clock=lambda: NOW).write(KEY, report)
    google.read(KEY)  # the process now knows the Verdicts tab's id
    spreadsheet.sheets = [s for s in spreadsheet.sheets if s.title != "Verdicts"]  # deleted by hand
    sheets_api.calls.clear()

    assert VerdictWriter(lambda: google, clock=lambda: NOW).write(KEY, report) is None

    assert spreadsheet.sheet("Verdicts") is not None
    assert [c.route for c in sheets_api.sheets_calls] == ["batchUpdate", "metadata", "batchUpdate"]


def test_identical_verdicts_are_not_rewritten_within_the_cache_period(sheets_api, make_settings):
    sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "writer"})
    deps = create_deps(make_settings(write_verdicts=True), clock=lambda: NOW)
    status_report(deps)
    status_report(deps, query="spring")  # the narrowed view still writes (or skips) the whole report
    assert len(sheets_api.calls_to("batchUpdate")) == 1


def test_local_sheets_are_not_written(make_settings, tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("Campaign,Variant,Clicks,Buys (macro)\nS,A,100,3\nS,B,100,5\n")
    report = status_report(create_deps(make_settings(sheet=str(path), write_verdicts=True), clock=lambda: NOW))
    assert report.problems == ()
