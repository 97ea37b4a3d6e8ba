"""From tabs of raw cells to experiments, with every bad cell reported by its A1 reference."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis.decision import DecisionSettings
from analysis.models import Tab
from analysis.reading.hand_made import parse_statuses
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse

HEADER = ["Campaign", "Test", "Variant", "Visitors", "Spend", "Cart views (micro)", "Purchases (macro)"]


def messy_results() -> Tab:
    return Tab(
        "Results",
        [
            HEADER,
            ["Spring", "Audience", "A", "2,000", "$840", 100, 8],
            ["Spring", "Audience", "B", 2000, 840, "161", " 11 "],
            ["Spring", "Audience", "B", "abc", 10, 5, 1],  # D4 text in a number column
            ["Spring", "Audience", "A", -5, 10, 1, 0],  # D5 negative count
            ["Spring", "Audience", "B", 100, 10, 230, 1],  # F6 conversions above visitors
            [None, None, None, None],  # empty middle row, ragged
            ["", "Audience", "A", 100, 10, 5, 0],  # A8 campaign missing
            ["Spring", "Audience", "A", 100, 10, "1O2", 1],  # F9 typo
            ["Spring", "Audience", "B", 100, "-$5", 5, 0],  # E10 negative spend
            ["Spring", "Audience", "A", 100, 10, 5, "#DIV/0!"],  # G11 spreadsheet error
            ["Spring", "Audience", "B", 100.5, 10, 5, 0],  # D12 fractional visitors
        ],
    )


def cumulative_tab() -> Tab:
    return Tab(
        "Daily totals",
        [
            ["Date (cumulative)", "Campaign", "Variant", "Sessions", "Demo requests (micro)"],
            ["2026-03-01", "Launch", "Old", 100, 5],
            ["2026-03-01", "Launch", "New", 100, 6],
            ["2026-03-02", "Launch", "Old", 210, 11],
            ["2026-03-02", "Launch", "New", 190, 13],  # D5: sessions went down from... no: 190 > 100, fine
            ["2026-03-03", "Launch", "Old", 300, 9],  # E6: 9 < 11, a decreasing cumulative count
            ["2026-03-03", "Launch", "New", 305, 20],
        ],
    )


def test_every_kind_of_bad_cell_is_reported_with_its_a1_reference():
    sheet = parse_workbook([messy_results(), cumulative_tab()])
    cells = {problem.cell: problem.message for problem in sheet.problems}
    assert set(cells) == {
        "Results!D4",
        "Results!D5",
        "Results!F6",
        "Results!A8",
        "Results!F9",
        "Results!E10",
        "Results!G11",
        "Results!D12",
        "'Daily totals'!E6",
    }
    assert cells["Results!D4"].startswith('"abc" is not a number')
    assert "negative" in cells["Results!D5"]
    assert "more than the 100 visitors" in cells["Results!F6"]
    assert "Campaign is empty" in cells["Results!A8"]
    assert cells["Results!F9"].startswith('"1O2" is not a number')
    assert "negative" in cells["Results!E10"]
    assert "spreadsheet error" in cells["Results!G11"]
    assert "whole number" in cells["Results!D12"]
    assert "never go down" in cells["'Daily totals'!E6"]
    # More conversions than visitors is a warning: the row is kept, so the arm's traffic is one count.
    assert not cells["Results!F6"].endswith("row left out")
    assert all(message.endswith("row left out") for cell, message in cells.items() if cell != "Results!F6")


def test_good_rows_still_produce_verdicts():
    sheet = parse_workbook([messy_results()])
    report = analyse(sheet, source="messy", settings=DecisionSettings(min_days=1))
    (test,) = report.tests
    assert test.campaign == "Spring" and test.control == "A"
    cart_views = next(c for c in test.comparisons if c.metric == "Cart views")
    assert (cart_views.control_visitors, cart_views.control_conversions) == (2000, 100)
    assert (cart_views.variant_visitors, cart_views.variant_conversions) == (2100, 161 + 230)
    assert test.verdict == "move_budget"
    assert [a.spend for a in test.arms] == [840.0, 840.0 + 10]
    assert len(report.problems) == 8


def test_cumulative_counts_become_daily_counts():
    sheet = parse_workbook([cumulative_tab()])
    new = sheet.traffic[sheet.traffic["variant"] == "New"].sort_values("date")
    assert new["visitors"].tolist() == [100, 90, 115]
    assert sheet.traffic["visitors"].sum() == 100 + 100 + 110 + 90 + 115  # Old's 03-03 row is left out


def test_headers_match_whatever_the_case_and_spaces_and_daily_rows_are_summed():
    tab = Tab(
        "Ads export",
        [
            [],
            ["  campaign ", "VARIANT", "Clicks", "Date", "Add to cart (Micro)", "Orders (MACRO)", "Notes"],
            ["Brand", "x", 10, dt.date(2026, 3, 1), 1, 0, "first day"],
            ["Brand", "y", 12, "2026-03-01", 2, 0],
            ["Brand", "x", 11, 46083, 1, 1],
            ["Brand", "y", 9, "3/2/2026", 0, 1],
        ],
    )
    sheet = parse_workbook([tab])
    assert sheet.problems == ()
    (spec,) = sheet.tests
    assert spec.traffic_label == "clicks" and spec.has_dates and not spec.has_spend
    assert [(m.name, m.kind) for m in spec.metrics] == [("Add to cart", "micro"), ("Orders", "macro")]
    totals = sheet.traffic.groupby("variant")["visitors"].sum().to_dict()
    assert totals == {"x": 21, "y": 21}


def test_control_column_and_default_control():
    tab = Tab(
        "Results",
        [
            ["Campaign", "Test", "Variant", "Control", "Users", "Signups (macro)"],
            ["C1", "Landing page", "New", "", 100, 5],
            ["C1", "Landing page", "Old", "yes", 100, 4],
            ["C2", "", "First", "", 100, 5],
            ["C2", "", "Second", "", 100, 4],
        ],
    )
    specs = {spec.campaign: spec for spec in parse_workbook([tab]).tests}
    assert specs["C1"].control == "Old" and specs["C1"].variants == ("Old", "New")
    assert specs["C2"].control == "First" and specs["C2"].title == "C2"


def test_tabs_that_are_not_results_are_ignored_quietly_but_half_results_tabs_are_reported():
    notes = Tab("Notes", [["Anything", "else"], ["free", "text"]])
    half = Tab("Draft", [["Campaign", "Variant", "Visitors"], ["A", "B", 10]])
    sheet = parse_workbook([notes, half])
    assert sheet.tests == ()
    (problem,) = sheet.problems
    assert problem.cell == "Draft!A1" and "(micro) or (macro)" in problem.message


def test_a_test_with_one_variant_is_reported_not_analysed():
    tab = Tab("Results", [["Campaign", "Variant", "Visitors", "Buys (macro)"], ["Solo", "A", 100, 2]])
    sheet = parse_workbook([tab])
    assert sheet.tests == ()
    assert "only one variant" in sheet.problems[0].message


def test_channels_tab_routes_campaigns():
    channels = Tab(
        "Channels",
        [
            ["Campaign", "Channel", "Schedule", "Timezone"],
            ["Spring Sale", "#spring-sale", "weekdays 09:00", "Europe/London"],
            ["Brand", "C0123ABC", None, None],
            ["Orphan", "", "", ""],
        ],
    )
    sheet = parse_workbook([channels])
    assert [(r.campaign, r.channel, r.schedule, r.timezone) for r in sheet.channels] == [
        ("Spring Sale", "#spring-sale", "weekdays 09:00", "Europe/London"),
        ("Brand", "C0123ABC", None, None),
    ]
    assert sheet.problems[0].cell == "Channels!B4"


def test_an_empty_workbook_is_not_an_error():
    sheet = parse_workbook([Tab("Sheet1", [])])
    assert sheet.tests == () and sheet.problems == ()
    assert analyse(sheet, source="empty").tests == ()


def test_money_is_worded_in_the_currency_the_spend_cells_are_typed_in():
    euros = Tab(
        "Résultats",
        [
            ["Campaign", "Test", "Variant", "Clicks", "Spend", "Cart views (micro)", "Purchases (macro)"],
            ["Printemps", "Audience", "A", 2000, "€840", 100, 8],
            ["Printemps", "Audience", "B", 2000, "€840", 161, 11],
        ],
    )
    plain = Tab(
        "Plain",
        [HEADER, ["Spring", "Audience", "A", 2000, 840, 100, 8], ["Spring", "Audience", "B", 2000, 840, 161, 11]],
    )
    sheet = parse_workbook([euros, plain], currency="£")
    currencies = {spec.campaign: spec.currency for spec in sheet.tests}
    assert currencies == {"Printemps": "€", "Spring": "£"}
    report = analyse(sheet, source="euros", settings=DecisionSettings(min_days=1))
    spring = next(t for t in report.tests if t.campaign == "Printemps")
    assert "≈ €15,000 at today's €0.42 CPC" in spring.summary
    assert "$" not in spring.summary


@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("running", "running"),
        ("Paused", "paused"),
        ("DONE", "done"),
        ("  live ", "running"),
        ("Active", "running"),
        ("on", "running"),
        ("stopped", "paused"),
        ("On Hold", "paused"),
        ("on  hold", "paused"),
        ("onhold", "paused"),
        ("pause", "paused"),
        ("Finished", "done"),
        ("complete", "done"),
        ("Completed", "done"),
        ("ended", "done"),
        ("OFF", "done"),
        ("closed\u00a0", "done"),
    ],
)
def test_status_words_people_type(typed, status):
    statuses, messages = parse_statuses(pd.Series([typed], dtype="object"))
    assert (statuses[0], messages[0]) == (status, "")


def test_blank_status_cells_say_nothing():
    statuses, messages = parse_statuses(pd.Series([None, "", "  ", np.nan], dtype="object"))
    assert statuses.tolist() == [""] * 4 and messages.tolist() == [""] * 4


STATUS_HEADER = ["Campaign", "Test", "Variant", "Visitors", "Buys (macro)", "Status"]


def test_a_test_takes_the_status_of_its_last_row_and_a_bad_status_keeps_its_row():
    tab = Tab(
        "Results",
        [
            STATUS_HEADER,
            ["Spring", "Audience", "A", 100, 5, "live"],
            ["Spring", "Audience", "B", 100, 7, "Finished"],
            ["Spring", "Audience", "A", 50, 2, ""],  # an empty status does not undo the one above
            ["Brand", "", "x", 100, 5, ""],
            ["Brand", "", "y", 100, 6],  # ragged: no Status cell at all
            ["Promo", "Copy", "old", 100, 5, "maybe"],  # F7
            ["Promo", "Copy", "new", 100, 6, "On hold"],
            ["Promo", "Copy", "new", 40, 1, "?"],  # F9
        ],
    )
    sheet = parse_workbook([tab])
    statuses = {spec.campaign: spec.status for spec in sheet.tests}
    assert statuses == {"Spring": "done", "Brand": "running", "Promo": "running"}
    assert [(p.cell, p.message) for p in sheet.problems] == [
        ("Results!F7", '"maybe" is not a status (running, paused or done); read as running'),
        ("Results!F9", '"?" is not a status (running, paused or done); read as running'),
    ]
    promo = sheet.traffic[sheet.traffic["campaign"] == "Promo"]
    assert promo.groupby("variant")["visitors"].sum().to_dict() == {"old": 100, "new": 140}


def test_the_status_of_a_dated_test_is_that_of_its_latest_day():
    tab = Tab(
        "Daily",
        [
            ["Date", "Campaign", "Variant", "Clicks", "Buys (macro)", "  TEST   status "],
            ["2026-03-03", "Spring", "A", 100, 5, "Done"],  # the latest day, typed above earlier days
            ["2026-03-03", "Spring", "B", 100, 6, ""],  # the same day with no status: done still stands
            ["2026-03-01", "Spring", "A", 100, 5, "running"],
            ["2026-03-02", "Spring", "B", 100, 6, "paused"],
            ["2026-03-01", "Brand", "x", 100, 5, "paused"],
            ["2026-03-02", "Brand", "x", 100, 5, "paused"],
            ["2026-03-02", "Brand", "y", 100, 5, "active"],  # a tie on the latest day: the last row wins
            ["2026-03-01", "Promo", "old", 100, 5, "paused"],
            ["2026-03-02", "Promo", "old", 100, 5, ""],  # resumed: the latest day says nothing
            ["2026-03-02", "Promo", "new", 100, 5],
        ],
    )
    sheet = parse_workbook([tab])
    assert sheet.problems == ()
    assert {spec.campaign: spec.status for spec in sheet.tests} == {
        "Spring": "done",
        "Brand": "running",
        "Promo": "running",
    }


def test_status_across_several_tabs():
    first = Tab(
        "March",
        [
            STATUS_HEADER,
            ["Spring", "Audience", "A", 100, 5, "live"],
            ["Spring", "Audience", "B", 100, 7, "live"],
            ["Brand", "", "x", 100, 5, "paused"],
            ["Brand", "", "y", 100, 6, "paused"],
        ],
    )
    second = Tab(
        "April",
        [
            ["Campaign", "Test", "Variant", "Visitors", "Buys (macro)", "Notes", "Status"],
            ["Spring", "Audience", "A", 100, 5, "", "completed"],
            ["Spring", "Audience", "B", 100, 7, "", ""],
            ["Brand", "", "x", 100, 5, "", ""],
            ["Promo", "", "old", 100, 5, "", "stopped"],
            ["Promo", "", "new", 100, 5, "", "bad"],  # G6
        ],
    )
    no_column = Tab("May", [HEADER, ["Spring", "Audience", "A", 100, 10, 5, 0]])
    sheet = parse_workbook([first, second, no_column])
    assert {spec.campaign: spec.status for spec in sheet.tests} == {
        "Spring": "done",
        "Brand": "paused",
        "Promo": "running",
    }
    (problem,) = sheet.problems
    assert str(problem) == 'April!G6: "bad" is not a status (running, paused or done); read as running'


def test_a_sheet_without_a_status_column_is_all_running():
    sheet = parse_workbook([messy_results(), cumulative_tab()])
    assert [spec.status for spec in sheet.tests] == ["running", "running"]
    assert not any("status" in problem.message for problem in sheet.problems)


def test_a_repeated_status_column_is_reported_and_the_first_one_read():
    tab = Tab(
        "Results",
        [
            [*STATUS_HEADER, "Status"],
            ["Spring", "", "A", 100, 5, "done", "running"],
            ["Spring", "", "B", 100, 6, "done", "running"],
        ],
    )
    sheet = parse_workbook([tab])
    assert sheet.tests[0].status == "done"
    (problem,) = sheet.problems
    assert problem.cell == "Results!G1" and "repeats the column at Results!F1" in problem.message


def test_a_column_marked_traffic_gives_its_own_word():
    tab = Tab(
        "Results",
        [
            ["Campaign", "Variant", "Visits (traffic)", "Buys (macro)"],
            ["S", "A", 100, 5],
            ["S", "B", "", 9],
            ["S", "B", 120, 9],
        ],
    )
    sheet = parse_workbook([tab])
    (problem,) = sheet.problems
    assert str(problem) == "Results!C3: Visits is empty; row left out"
    assert sheet.tests[0].traffic_label == "visits"


def test_a_hand_made_tab_names_its_amount_columns():
    tab = Tab(
        "Results",
        [["Campaign", "Variant", "Clicks", "Buys (macro)", "Revenue"], ["S", "A", 100, 5, 50.0], ["S", "B", 90, 7, 70]],
    )
    (reading,) = parse_workbook([tab]).tabs
    assert reading.amounts == ("Revenue",)
    assert reading.summary.endswith("· Revenue is an amount, not a count of conversions")


SPLIT_HEADER = ["Campaign", "Test", "Variant", "Visitors", "Buys (macro)", "Split"]


@pytest.mark.parametrize(
    ("typed", "split"),
    [
        (("50%", "50%"), (0.5, 0.5)),
        ((0.6, 0.4), (0.6, 0.4)),
        (("60", "40"), (0.6, 0.4)),
        ((" 60 % ", "40%"), (0.6, 0.4)),
        ((1, 1), (0.5, 0.5)),
    ],
)
def test_a_split_column_gives_each_variant_its_planned_share(typed, split):
    rows = [SPLIT_HEADER, ["Spring", "Page", "A", 100, 5, typed[0]], ["Spring", "Page", "B", 100, 7, typed[1]]]
    sheet = parse_workbook([Tab("Results", rows)])
    assert sheet.tests[0].split == pytest.approx(split) and not sheet.problems


def test_planned_shares_follow_the_variants_with_the_control_first():
    rows = [
        [*SPLIT_HEADER, "Control"],
        ["Spring", "Page", "New", 100, 5, "30%", ""],
        ["Spring", "Page", "Old", 100, 7, "70%", "yes"],
    ]
    (spec,) = parse_workbook([Tab("Results", rows)]).tests
    assert spec.variants == ("Old", "New") and spec.split == pytest.approx((0.7, 0.3))


def test_a_test_with_shares_for_some_variants_only_is_a_problem_naming_the_blank_cell():
    rows = [
        SPLIT_HEADER,
        ["Spring", "Page", "A", 100, 5, "50%"],
        ["Spring", "Page", "B", 100, 7, ""],  # F3
        ["Brand", "", "x", 100, 5, ""],  # no shares at all: no planned split, nothing to say
        ["Brand", "", "y", 100, 6],
        ["Promo", "Copy", "old", 100, 5, "abc"],  # F6: not a share, read as blank
        ["Promo", "Copy", "new", 100, 6, 0],  # F7: not a share either
        ["Promo", "Copy", "new", 40, 1, "50%"],  # a later row of `new` gives one
    ]
    sheet = parse_workbook([Tab("Results", rows)])
    assert [spec.split for spec in sheet.tests] == [None, None, None]
    assert [(p.cell, p.message) for p in sheet.problems] == [
        ("Results!F6", '"abc" is not a number; a planned share is written like 50%, 0.6 or 60'),
        ("Results!F7", "0 is not a share of the traffic; a planned share is written like 50%, 0.6 or 60"),
        (
            "Results!F3",
            "no planned share for B, while other variants of Spring · Page have one; its traffic split is not checked",
        ),
        (
            "Results!F6",
            "no planned share for old, while other variants of Promo · Copy have one; its traffic split is not checked",
        ),
    ]
    promo = sheet.traffic[sheet.traffic["campaign"] == "Promo"]
    assert promo.groupby("variant")["visitors"].sum().to_dict() == {"old": 100, "new": 140}  # no row lost
