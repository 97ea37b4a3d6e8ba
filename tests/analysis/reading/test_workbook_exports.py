"""Exports as they really come: blanks that mean zero, conversions above clicks, one tab per arm or week."""

from __future__ import annotations

import pandas as pd

from analysis.models import Tab
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse

META_HEADER = ["Ad name", "Day", "Age", "Gender", "Link clicks", "Adds to cart", "Purchases", "Amount spent (EUR)"]


def meta_breakdown() -> Tab:
    """Meta Ads Manager by day x age x gender: a zero is a blank cell, Purchases is blank throughout."""
    rows: list[list[object]] = [META_HEADER]
    figures = {
        "Carousel": [(40, 3), (35, None), (None, None), (50, 4)],
        "Video": [(30, 1), (45, 2), (20, None), (38, None)],
    }
    for ad, days in figures.items():
        for day, (clicks, carts) in enumerate(days, start=1):
            rows.append([ad, f"2026-11-0{day}", "25-34", "female", clicks, carts, None, 12.5])
    return Tab("Meta by day", rows)


def arms(sheet, metric: str) -> pd.DataFrame:
    counted = sheet.conversions[sheet.conversions["metric"] == metric]
    return counted.groupby("variant")[["visitors", "conversions"]].sum()


def test_a_blank_count_in_an_export_is_zero_and_every_metric_shares_one_traffic_count():
    sheet = parse_workbook([meta_breakdown()])
    traffic = sheet.traffic.groupby("variant")["visitors"].sum()
    assert traffic.to_dict() == {"Carousel": 125, "Video": 133}
    carts = arms(sheet, "Adds to cart")
    # Independent: every row's clicks count, blank adds to cart are zeros.
    assert carts.loc["Carousel"].tolist() == [125, 7]
    assert carts.loc["Video"].tolist() == [133, 3]
    assert not [p for p in sheet.problems if "is empty" in p.message]


def test_an_all_blank_metric_column_is_no_data_and_not_tested():
    sheet = parse_workbook([meta_breakdown()])
    (reading,) = sheet.tabs
    assert reading.no_data == ("Purchases",)
    assert "Purchases" not in reading.macro
    assert "no data in Purchases (not tested)" in reading.summary
    (test,) = sheet.tests
    assert [m.name for m in test.metrics] == ["Adds to cart"]


def view_through_tab(purchases_b: int) -> Tab:
    return Tab(
        "Ads",
        [
            ["Ad group", "Clicks", "Impr.", "Add to cart", "Conversions"],
            ["Audience A", 400, 9000, 30, 12],
            ["Audience B", 380, 8800, 41, purchases_b],
            ["Audience B", 0, 700, 0, 2],  # view-through conversions on a row without clicks
        ],
    )


def test_conversions_above_the_rows_clicks_keep_the_row_and_are_said_once_per_metric():
    sheet = parse_workbook([view_through_tab(purchases_b=9)])
    conversions = arms(sheet, "Conversions")
    assert conversions.loc["Audience B"].tolist() == [380, 11]
    (reading,) = sheet.tabs
    assert "Conversions above Clicks in 1 row (view-through; kept)" in reading.summary
    assert not [p for p in sheet.problems if "Conversions" in p.message]


def test_an_arm_with_more_conversions_than_clicks_is_not_tested_on_that_metric():
    sheet = parse_workbook([view_through_tab(purchases_b=400)])
    (test,) = sheet.tests
    assert [m.name for m in test.metrics] == ["Add to cart"]
    (problem,) = [p for p in sheet.problems if "not tested" in p.message]
    assert problem.message.startswith("Conversions not tested: Audience B has 402 conversions on 380 clicks")
    assert set(sheet.conversions["metric"]) == {"Add to cart"}
    report = analyse(sheet, source="ads")
    assert {c.metric for c in report.tests[0].comparisons} == {"Add to cart"}


def one_arm_export(name: str, campaign: str, days: list[tuple[str, int, int]]) -> Tab:
    rows: list[list[object]] = [
        ["Campaign name", "Day", "Link clicks", "Adds to cart", "Purchases", "Amount spent (USD)"]
    ]
    rows += [[campaign, day, clicks, carts, carts // 4, clicks / 2] for day, clicks, carts in days]
    return Tab(name, rows)


def test_one_export_per_arm_with_the_same_header_is_one_test():
    control = one_arm_export("control_group", "Control Campaign", [("2026-08-01", 1000, 80), ("2026-08-02", 900, 70)])
    test = one_arm_export("test_group", "Test Campaign", [("2026-08-01", 1100, 95), ("2026-08-02", 950, 99)])
    sheet = parse_workbook([control, test])
    (spec,) = sheet.tests
    assert spec.campaign == "control_group + test_group"
    assert spec.variants == ("Control Campaign", "Test Campaign")
    assert all("one table with tabs control_group + test_group" in r.summary for r in sheet.tabs)


def test_the_same_day_and_arm_in_two_tabs_is_counted_once_and_both_cells_are_named():
    week_1 = one_arm_export("Week 1", "Brand", [("2026-08-01", 1000, 80)])
    week_2 = one_arm_export("Week 2", "Brand", [("2026-08-01", 1000, 80), ("2026-08-02", 900, 70)])
    sheet = parse_workbook([week_1, week_2])
    (duplicate,) = [p for p in sheet.problems if "already at" in p.message]
    assert duplicate.cell == "'Week 2'!A2"
    assert duplicate.message == "Brand on 01 Aug 2026 is already at 'Week 1'!A2; this row is left out"
    assert sheet.traffic["visitors"].sum() == 1000 + 900


def test_a_header_whose_first_column_starts_with_a_hash_is_a_header_not_a_preamble_line():
    tab = Tab(
        "Kaggle",
        [
            ["# of Purchase", "Ad group", "# of Website Clicks", "Campaign"],
            [12, "A", 1000, "Spring"],
            [30, "B", 1100, "Spring"],
        ],
    )
    (test,) = parse_workbook([tab]).tests
    assert (test.variants, [m.name for m in test.metrics]) == (("A", "B"), ["# of Purchase"])
