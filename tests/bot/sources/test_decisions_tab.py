"""The Decisions tab through real gspread to the Sheets stand-in: created when missing, one row per decision
appended in one request with the Status cells beside it, and an undo that puts them back."""

from __future__ import annotations

import datetime as dt

import pytest

from analysis.reading.workbook import parse_workbook
from bot.decided import Decision, VerdictShown
from bot.errors import SheetUnavailable
from bot.sources.decisions_tab import HEADER, DecisionsSheet, SheetEntry
from tests.bot.sources.conftest import EMAIL, KEY

NOW = dt.datetime(2026, 3, 11, 10, 42, tzinfo=dt.UTC)
RESULTS = [
    ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)", "Purchases (macro)", "Status"],
    ["Spring Sale", "Audience", "A", 2000, 100, 8, "running"],
    ["Spring Sale", "Audience", "B", 2000, 161, 11, ""],
    ["Spring Sale", "Ad copy", "Free shipping", 3100, 118, 9, "running"],
    ["Spring Sale", "Ad copy", "20% off", 3050, 127, 10, "running"],
]
SHOWN = VerdictShown(
    campaign="Spring Sale",
    test="Audience",
    verdict="move_budget",
    signature="move_budget|B|Cart views",
    headline="Move budget to B.",
    control="A",
    variant="B",
    metric="Cart views",
    kind="micro",
    lift=0.61,
    low=0.26,
    high=1.05,
    variant_conversions=161,
    variant_visitors=2000,
    control_conversions=100,
    control_visitors=2000,
    p_value=0.0004,
    called_on="11 Mar 2026",
)


def decision(id: int = 7, action: str = "moved", **changes) -> Decision:
    return Decision(
        id=id,
        action=action,  # type: ignore[arg-type]
        shown=changes.pop("shown", SHOWN),
        user_id="U0DANA",
        user_name="dana",
        channel_id="C0SPRING",
        message_ts="1.0",
        decided_at=NOW,
        **changes,
    )


@pytest.fixture
def writer(google):
    sheets = google(write_verdicts=True)
    return DecisionsSheet(lambda: sheets)


def test_the_tab_is_created_and_the_decision_written_with_its_status_cells_in_one_request(sheets_api, writer):
    spreadsheet = sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "writer"})

    [cells] = writer.write(KEY, [SheetEntry(decision())])

    assert cells == [("Results", 1, 6, "running"), ("Results", 2, 6, None)]
    # the sheet read fresh (where the Status cells are), the write, and its tabs again (the new one known)
    assert [c.route for c in sheets_api.sheets_calls] == ["metadata", "batchGet", "batchUpdate", "metadata"]
    (update,) = sheets_api.calls_to("batchUpdate")
    assert [next(iter(r)) for r in update.body["requests"]] == ["addSheet", "appendCells", "updateCells", "updateCells"]
    header, row = spreadsheet.rows_of("Decisions")
    assert header == list(HEADER)
    assert row == [
        "2026-03-11 10:42 UTC",
        "Spring Sale",
        "Audience",
        "Budget moved",
        "@dana",
        "Move budget to B.",
        "B",
        "Cart views (micro)",
        "+61%",
        "+26% to +105%",
        "B 161 of 2,000 vs A 100 of 2,000",
        "<0.001",
        "11 Mar 2026",
        "C0SPRING",
        "7",
    ]
    results = spreadsheet.rows_of("Results")
    assert [r[6] for r in results[1:]] == ["done", "done", "running", "running"]
    tests = {(t.test, t.status) for t in parse_workbook(sheets_api_tabs(spreadsheet)).tests}
    assert tests == {("Audience", "done"), ("Ad copy", "running")}  # and the Decisions tab is not read as results


def sheets_api_tabs(spreadsheet):
    from analysis.models import Tab

    return [Tab(sheet.title, [list(r) for r in sheet.rows]) for sheet in spreadsheet.sheets]


def test_later_decisions_are_appended_below_what_people_added_and_a_snooze_sets_no_status(sheets_api, writer):
    spreadsheet = sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "writer"})
    writer.write(KEY, [SheetEntry(decision())])
    spreadsheet.sheet("Decisions").rows.append(["", "a note typed by hand"])
    calls = len(sheets_api.sheets_calls)

    snooze = decision(
        8, "snoozed", until=NOW + dt.timedelta(days=1), shown=SHOWN.model_copy(update={"test": "Ad copy"})
    )
    assert writer.write(KEY, [SheetEntry(snooze)]) == [[]]

    assert [c.route for c in sheets_api.sheets_calls[calls:]] == ["batchUpdate"]  # nothing to find: no read
    rows = spreadsheet.rows_of("Decisions")
    assert len(rows) == 4 and rows[2][1] == "a note typed by hand"
    assert rows[3][3] == "Snoozed until 2026-03-12 10:42 UTC" and rows[3][-1] == "8"
    assert [r[6] for r in spreadsheet.rows_of("Results")[3:]] == ["running", "running"]


def test_an_undo_appends_its_row_and_puts_the_status_cells_back(sheets_api, writer):
    spreadsheet = sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "writer"})
    [cells] = writer.write(KEY, [SheetEntry(decision())])
    undone = decision(undone_at=NOW + dt.timedelta(minutes=2), undone_by="U0ANA", undone_by_name="ana")

    writer.write(KEY, [SheetEntry(undone, undo=True, restore=tuple(cells))])

    assert [r[6] if len(r) > 6 else None for r in spreadsheet.rows_of("Results")[1:]] == [
        "running",
        None,
        "running",
        "running",
    ]
    last = spreadsheet.rows_of("Decisions")[-1]
    assert last[:5] == ["2026-03-11 10:44 UTC", "Spring Sale", "Audience", "Undone: Budget moved", "@ana"]


def test_a_sheet_shared_for_reading_only_says_what_to_share(sheets_api, writer):
    sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "reader"})
    with pytest.raises(SheetUnavailable) as refused:
        writer.write(KEY, [SheetEntry(decision())])
    assert str(refused.value) == (
        f"microopt can read the sheet {KEY} but may not write its Decisions tab: share the sheet with {EMAIL} "
        "as an Editor."
    )


def test_the_track_record_reads_back_what_was_written(sheets_api, writer):
    from analysis.models import Tab
    from analysis.reading.decisions_tab import acted_calls

    spreadsheet = sheets_api.add_spreadsheet(KEY, {"Results": RESULTS}, shared_with={EMAIL: "writer"})
    cells, _ = writer.write(KEY, [SheetEntry(decision()), SheetEntry(decision(8, "kept"))])

    [call] = acted_calls([Tab("Decisions", spreadsheet.rows_of("Decisions"))])
    assert (call.campaign, call.test, call.decision, call.variant, call.metric, call.decided_on) == (
        "Spring Sale",
        "Audience",
        "moved",
        "B",
        "Cart views",
        NOW.date(),
    )
    undone = decision(undone_at=NOW + dt.timedelta(minutes=2), undone_by="U0ANA", undone_by_name="ana")
    writer.write(KEY, [SheetEntry(undone, undo=True, restore=tuple(cells))])
    assert acted_calls([Tab("Decisions", spreadsheet.rows_of("Decisions"))]) == ()
