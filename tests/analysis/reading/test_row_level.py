"""Row-level files (one row per visitor or user) counted into arms, checked against an independent pandas
groupby of the same rows, in the shapes public experiment logs come in (Udacity's ab_data, Cookie Cats,
marketing_AB, AdSmart)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.models import Cell, SheetData, Tab
from analysis.reading.exports import Override
from analysis.reading.row_level import recognise_row_level
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse


def tab_of(frame: pd.DataFrame, name: str = "ab_data", header: list[str] | None = None) -> Tab:
    rows: list[list[Cell]] = [list(header if header is not None else frame.columns)]
    rows += [[str(v) for v in row] for row in frame.itertuples(index=False)]
    return Tab(name=name, rows=rows)


def ab_data(users: int = 400, seed: int = 3) -> pd.DataFrame:
    """Udacity's ab_data shape: some users seen twice, some landing pages that disagree with the group."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(100_000, 100_000 + users, users)  # repeats happen
    group = np.where(rng.random(users) < 0.5, "treatment", "control")
    page = np.where((group == "treatment") ^ (rng.random(users) < 0.05), "new_page", "old_page")
    day = rng.integers(0, 5, users)
    stamps = [f"2017-01-{2 + d:02d} {h:02d}:11:48.556739" for d, h in zip(day, rng.integers(0, 24, users), strict=True)]
    cart = (rng.random(users) < 0.3).astype(int)
    converted = (cart & (rng.random(users) < 0.4)).astype(int)
    return pd.DataFrame(
        {
            "user_id": ids,
            "timestamp": stamps,
            "group": group,
            "landing_page": page,
            "added_to_cart": cart,
            "converted": converted,
        }
    )


def expected_counts(frame: pd.DataFrame, arm: str, outcomes: list[str], unit: str | None) -> pd.DataFrame:
    """The reference: per arm, distinct units (or rows) and units with each outcome true at least once."""
    if unit is None:
        return frame.groupby(arm).agg(visitors=(arm, "size"), **{o: (o, "sum") for o in outcomes})
    once = frame.groupby([arm, unit])[outcomes].max().reset_index()
    return once.groupby(arm).agg(visitors=(unit, "size"), **{o: (o, "sum") for o in outcomes})


def counted(sheet: SheetData) -> pd.DataFrame:
    visitors = sheet.traffic.groupby("variant")["visitors"].sum()
    conversions = sheet.conversions.pivot_table(index="variant", columns="metric", values="conversions", aggfunc="sum")
    return pd.concat([visitors.rename("visitors"), conversions], axis=1).astype(int)


def test_ab_data_is_counted_by_distinct_user_dated_by_day_and_the_disagreeing_pages_are_said():
    frame = ab_data()
    sheet = parse_workbook([tab_of(frame)])
    want = expected_counts(frame, "group", ["added_to_cart", "converted"], "user_id")
    got = counted(sheet)
    assert got.loc[want.index, want.columns].equals(want.astype(int))
    (reading,) = sheet.tabs
    assert reading.layout == "row-level" and reading.row_level and reading.id_column == "user_id"
    assert (reading.micro, reading.macro) == (("added_to_cart",), ("converted",))
    distinct = frame["user_id"].nunique()
    assert reading.summary == (
        f"ab_data: row-level · one row per user (user_id: {distinct:,} distinct in {len(frame):,} rows) · "
        "variant = group (control: control, by its name), traffic = users, micro = added_to_cart, "
        "macro = converted · dated by timestamp (day)"
    )
    # Each user counts once, on the first day seen: every day of the file is a row of each arm.
    assert sheet.traffic["date"].nunique() == 5 and len(sheet.traffic) == 10
    (test,) = sheet.tests
    assert test.control == "control" and test.has_dates and test.traffic_label == "users"
    wrong = ((frame["group"] == "treatment") != (frame["landing_page"] == "new_page")).sum()
    notes = [p for p in sheet.problems if p.cell == "ab_data!D1"]
    assert len(notes) == 1 and notes[0].message.startswith(f"{wrong} rows have a landing_page that does not match")


def test_conversions_never_exceed_traffic_and_an_id_seen_twice_counts_once_converted_if_any_row_is():
    frame = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u3", "u3", "u4"],
            "group": ["A", "A", "A", "B", "B", "B"],
            "converted": ["0", "1", "0", "1", "1", "0"],
        }
    )
    sheet = parse_workbook([tab_of(frame)])
    got = counted(sheet)
    assert got.to_dict("index") == {"A": {"visitors": 2, "converted": 1}, "B": {"visitors": 2, "converted": 1}}
    assert "user_id: 4 distinct in 6 rows" in sheet.tabs[0].summary


def test_an_id_in_both_groups_is_counted_in_each_and_said():
    frame = pd.DataFrame(
        {"user_id": ["u1", "u1", "u2", "u3"], "group": ["A", "B", "A", "B"], "converted": ["1", "0", "0", "1"]}
    )
    sheet = parse_workbook([tab_of(frame)])
    assert counted(sheet)["visitors"].to_dict() == {"A": 2, "B": 2}
    said = "1 user_id value appears in more than one group; it is counted in every group"
    assert any(p.message.startswith(said) for p in sheet.problems)


def cookie_cats(users: int = 300, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "userid": np.arange(users) * 7 + 116,
            "version": np.where(rng.random(users) < 0.5, "gate_30", "gate_40"),
            "sum_gamerounds": rng.integers(0, 400, users),
            "retention_1": np.where(rng.random(users) < 0.45, "TRUE", "FALSE"),
            "retention_7": np.where(rng.random(users) < 0.19, "True", "False"),
        }
    )


def test_cookie_cats_retention_days_are_micro_then_macro_and_the_game_rounds_are_not_an_outcome():
    frame = cookie_cats()
    flags = frame.assign(retention_1=frame["retention_1"] == "TRUE", retention_7=frame["retention_7"] == "True")
    sheet = parse_workbook([tab_of(frame, "cookie_cats")])
    want = expected_counts(flags, "version", ["retention_1", "retention_7"], "userid")
    assert counted(sheet).loc[want.index, want.columns].equals(want.astype(int))
    (reading,) = sheet.tabs
    assert (reading.micro, reading.macro) == (("retention_1",), ("retention_7",))
    first = frame["version"].iloc[0]
    assert f"variant = version (control: {first}, the first seen)" in reading.summary
    assert reading.summary.endswith("· not read: sum_gamerounds (not yes/no)")
    assert not sheet.problems
    assert not sheet.tests[0].has_dates


def test_marketing_ab_the_psa_group_is_the_control_and_the_unnamed_index_is_not_read():
    rng = np.random.default_rng(9)
    users = 240
    frame = pd.DataFrame(
        {
            "": range(users),
            "user id": rng.permutation(np.arange(900_000, 900_000 + users)),
            "test group": np.where(rng.random(users) < 0.8, "ad", "psa"),
            "converted": np.where(rng.random(users) < 0.03, "True", "False"),
            "total ads": rng.integers(1, 200, users),
            "most ads day": rng.choice(["Monday", "Friday"], users),
            "most ads hour": rng.integers(0, 24, users),
        }
    )
    sheet = parse_workbook([tab_of(frame, "marketing_AB")])
    flags = frame.assign(converted=frame["converted"] == "True")
    want = expected_counts(flags, "test group", ["converted"], "user id")
    assert counted(sheet).loc[want.index, want.columns].equals(want.astype(int))
    (test,) = sheet.tests
    assert test.control == "psa" and test.variants == ("psa", "ad")
    assert "control: psa, by its name" in sheet.tabs[0].summary
    assert "not read: total ads, most ads day, most ads hour (not yes/no)" in sheet.tabs[0].summary


def adsmart(day_first: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    users = 200
    days = rng.integers(3, 21, users)
    yes = rng.random(users) < 0.07
    no = ~yes & (rng.random(users) < 0.08)
    return pd.DataFrame(
        {
            "auction_id": [f"{i:08x}-77a7-448b-bd1e-075f42c55e39" for i in rng.permutation(users)],
            "experiment": np.where(rng.random(users) < 0.5, "exposed", "control"),
            "date": [f"{d}/7/2020" if day_first else f"7/{d}/2020" for d in days],
            "hour": rng.integers(0, 24, users),
            "device_make": rng.choice(["Generic Smartphone", "iPhone"], users),
            "platform_os": rng.choice([5, 6], users),
            "browser": rng.choice(["Chrome Mobile", "Facebook"], users),
            "yes": yes.astype(int),
            "no": no.astype(int),
        }
    )


@pytest.mark.parametrize("day_first", [False, True])
def test_adsmart_yes_is_the_outcome_no_is_the_other_answer_and_the_date_order_comes_from_the_column(day_first):
    frame = adsmart(day_first)
    sheet = parse_workbook([tab_of(frame, "AdSmart")])
    want = expected_counts(frame, "experiment", ["yes"], "auction_id")
    assert counted(sheet).loc[want.index, want.columns].equals(want.astype(int))
    (reading,) = sheet.tabs
    assert reading.macro == ("yes",) and reading.micro == ()
    assert "no (the other answer to yes)" in reading.summary
    assert reading.date_order == ("day-first" if day_first else "month-first")
    assert sheet.tests[0].control == "control"
    days = pd.to_datetime(sheet.traffic["date"])
    assert days.min() == pd.Timestamp("2020-07-03") and days.max() == pd.Timestamp("2020-07-20")


def test_a_bad_outcome_cell_is_named_by_its_a1_reference_and_only_its_row_is_left_out():
    frame = ab_data(60)
    frame["converted"] = frame["converted"].astype(str)
    frame.loc[4, "converted"] = "abc"  # sheet row 6 (header on row 1), column F
    frame.loc[7, "group"] = ""  # sheet row 9, column C
    sheet = parse_workbook([tab_of(frame)])
    assert [str(p) for p in sheet.problems if "left out" in p.message] == [
        'ab_data!F6: "abc" is not a yes/no outcome (0/1, TRUE/FALSE, yes/no); row left out',
        "ab_data!C9: group is empty; row left out",
    ]
    good = frame.drop(index=[4, 7]).assign(converted=lambda f: f["converted"].astype(int))
    want = expected_counts(good, "group", ["added_to_cart", "converted"], "user_id")
    assert counted(sheet).loc[want.index, want.columns].equals(want.astype(int))


def test_a_timestamp_or_blank_outcome_counts_the_rows_with_a_time():
    frame = pd.DataFrame(
        {
            "visitor_id": [f"v{i}" for i in range(8)],
            "variant": ["A", "B"] * 4,
            "converted_at": ["2026-03-02 10:00", "", "", "2026-03-03T09:30:00", "", "", "2026-03-04", ""],
        }
    )
    sheet = parse_workbook([tab_of(frame)])
    assert counted(sheet).to_dict("index") == {
        "A": {"visitors": 4, "converted_at": 2},
        "B": {"visitors": 4, "converted_at": 1},
    }
    assert sheet.tabs[0].traffic == "visitors" and sheet.tests[0].traffic_label == "visitors"


def test_without_an_id_column_each_row_is_a_visitor():
    frame = pd.DataFrame({"bucket": ["ctrl", "new"] * 6, "purchased": ["yes", "no", "no", "yes", "no", "yes"] * 2})
    sheet = parse_workbook([tab_of(frame, "log")])
    assert counted(sheet).to_dict("index") == {
        "ctrl": {"visitors": 6, "purchased": 2},
        "new": {"visitors": 6, "purchased": 4},
    }
    assert sheet.tabs[0].summary.startswith("log: row-level · one row per user (12 rows) · variant = bucket (control")


def test_the_setup_tab_names_the_columns_of_a_row_level_tab():
    frame = pd.DataFrame(
        {
            "member": [f"m{i % 9}" for i in range(18)],
            "cell": ["old", "new", "newer"] * 6,
            "did_it": ["1", "0", "1"] * 6,
            "flag": ["1", "0"] * 9,
        }
    )
    overrides = [
        Override(column="member", role="id", tab=None),
        Override(column="cell", role="variant", tab="log"),
        Override(column="did_it", role="micro", tab=None),
        Override(column="flag", role="ignore", tab=None),
    ]
    reading = recognise_row_level(tab_of(frame, "log"), overrides)
    assert reading is not None
    assert reading.reading.id_column == "member" and reading.reading.variant == "cell"
    assert (reading.reading.micro, reading.reading.macro) == (("did_it",), ())
    assert reading.tab.rows[0] == ["Campaign", "Variant", "Users", "did_it (micro)"]
    assert [row[1] for row in reading.tab.rows[1:]] == ["old", "new", "newer"]
    assert recognise_row_level(tab_of(frame, "log"), [Override(column="did_it", role="traffic", tab=None)]) is None


@pytest.mark.parametrize(
    "frame",
    [
        # an aggregated report: a traffic column
        pd.DataFrame({"Variant": ["A", "B", "A", "B"], "Clicks": [10, 12, 9, 8], "Converted": [1, 0, 1, 1]}),
        # a group column with a value per row is not an arm
        pd.DataFrame({"group": [f"g{i}" for i in range(30)], "converted": ["0", "1"] * 15}),
        # no yes/no outcome
        pd.DataFrame({"group": ["A", "B"] * 10, "revenue": [f"{i * 3.5}" for i in range(20)]}),
    ],
)
def test_what_is_not_one_row_per_user_is_left_to_the_other_readers(frame):
    assert recognise_row_level(tab_of(frame)) is None


def test_a_z_test_on_the_counted_arms_agrees_with_one_on_the_raw_rows():
    frame = ab_data(2_000, seed=8).drop_duplicates("user_id")
    sheet = parse_workbook([tab_of(frame)])
    got = counted(sheet)
    raw = frame.groupby("group")["converted"].agg(["sum", "size"])
    assert got.loc[raw.index, "converted"].tolist() == raw["sum"].tolist()
    assert got.loc[raw.index, "visitors"].tolist() == raw["size"].tolist()
    table = np.array([[raw["sum"][g], raw["size"][g] - raw["sum"][g]] for g in raw.index])
    chi2_rows = stats.chi2_contingency(table, correction=False).pvalue
    counts = got.loc[raw.index]
    chi2_counted = stats.chi2_contingency(
        np.column_stack([counts["converted"], counts["visitors"] - counts["converted"]]), correction=False
    ).pvalue
    assert chi2_counted == pytest.approx(chi2_rows, rel=1e-12)


def test_a_dated_row_level_file_replays_as_of_a_day():
    frame = ab_data(600, seed=4)
    sheet = parse_workbook([tab_of(frame)])
    early = analyse(sheet, source="ab_data", as_of=dt.date(2017, 1, 3))
    late = analyse(sheet, source="ab_data")
    seen_early = sum(arm.visitors for arm in early.tests[0].arms)
    seen_late = sum(arm.visitors for arm in late.tests[0].arms)
    first_days = frame.sort_values("timestamp").drop_duplicates(["group", "user_id"])
    assert seen_early == (first_days["timestamp"] < "2017-01-04").sum()
    assert seen_late == len(first_days)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), order=st.randoms(use_true_random=False))
def test_permuting_the_rows_never_changes_the_counts(seed, order):
    frame = ab_data(80, seed=seed)
    shuffled = frame.iloc[order.sample(range(len(frame)), len(frame))].reset_index(drop=True)
    before, after = parse_workbook([tab_of(frame)]), parse_workbook([tab_of(shuffled)])
    key = ["variant", "date"]
    assert (
        before.traffic.sort_values(key)
        .reset_index(drop=True)
        .equals(after.traffic.sort_values(key).reset_index(drop=True))
    )
    key = ["variant", "date", "metric"]
    assert (
        before.conversions.sort_values(key)
        .reset_index(drop=True)
        .equals(after.conversions.sort_values(key).reset_index(drop=True))
    )


def test_a_google_tab_of_numbers_booleans_and_date_serials_is_read_the_same():
    """Google Sheets gives unformatted values: ids as numbers, TRUE/FALSE as booleans, timestamps as serials."""
    frame = ab_data(120, seed=6)
    stamps = pd.to_datetime(frame["timestamp"])
    serials = ((stamps - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)).tolist()
    rows: list[list[Cell]] = [["user_id", "timestamp", "group", "converted"]]
    rows += [
        [float(u), s, g, bool(c)]
        for u, s, g, c in zip(frame["user_id"], serials, frame["group"], frame["converted"], strict=True)
    ]
    sheet = parse_workbook([Tab(name="Results", rows=rows, locale="en_GB")])
    want = expected_counts(frame, "group", ["converted"], "user_id")
    assert counted(sheet).loc[want.index, want.columns].equals(want.astype(int))
    assert sorted(pd.to_datetime(sheet.traffic["date"]).dt.day.unique()) == sorted(stamps.dt.day.unique())
    assert sheet.tabs[0].summary.endswith("· dated by timestamp (day)")


def test_a_count_per_user_is_not_a_yes_no_outcome_but_a_typed_2_in_one_is_a_bad_cell():
    orders = ["0", "1", "2", "0", "3", "1", "0", "2", "4", "0"] * 3
    frame = pd.DataFrame({"group": ["A", "B"] * 15, "orders": orders, "converted": ["0", "1", "0"] * 10})
    reading = recognise_row_level(tab_of(frame, "log"))
    assert reading is not None and reading.reading.macro == ("converted",)
    assert reading.reading.summary.endswith("· not read: orders (not yes/no)")
    frame.loc[5, "converted"] = "2"
    reading = recognise_row_level(tab_of(frame, "log"))
    assert reading is not None
    assert [str(p) for p in reading.problems] == [
        'log!C7: "2" is not a yes/no outcome (0/1, TRUE/FALSE, yes/no); row left out'
    ]
