"""Real public files nobody here wrote (tests/fixtures/real, each cited in its README), read as a marketer expects.

Each tested file is checked three ways: the counts per arm are aggregated independently from the raw file with
pandas; the same counts as microopt reads them (the `SheetData` of `parse_workbook`); and every comparison's
figures against statsmodels or scipy on those counts. Rates are exact, the lift within a relative 1e-9, the
p-value within a relative 1e-9 of the pooled two-proportion z-test, or within 1e-9 of Fisher's exact test when an
expected count is below 5 (the choice and the tolerance docs/methodology.md states), the lift's interval (the
Miettinen–Nurminen score interval of the rate ratio) within a relative 1e-6. A file with nothing testable in it
must be refused: no tests, exit 1, and a sentence naming what to add.

Most of these fail until the reading deliverables of issue 22 land; each is marked with the deliverable it needs,
strictly, so the day one passes it says so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.stats import fisher_exact
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from typer.testing import CliRunner

from analysis.models import Cell, Comparison, Report, SheetData, Tab, TabReading
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from bot.cli import app
from bot.sources.local import read_local

REAL = Path(__file__).parents[2] / "fixtures" / "real"

GOOGLE_ADS = "google_ads_campaign_report_home_services.csv"
GOOGLE_ADS_NO_IMPRESSIONS = "google_ads_campaign_report_no_impressions.csv"
GOOGLE_ADS_VIDEO = "google_ads_campaign_report_video_demand_gen.csv"
KAGGLE_CONTROL, KAGGLE_TEST = "kaggle_ab_control_group.csv", "kaggle_ab_test_group.csv"
KAGGLE_CONTROL_SEMICOLON = "kaggle_ab_control_group_semicolon.csv"
KAGGLE_TEST_SEMICOLON = "kaggle_ab_test_group_semicolon.csv"
FACEBOOK_ADS = "facebook_ads_kag_conversion_first_120_rows.csv"
COOKIE_CATS = "cookie_cats_first_200_rows.csv"
PAGE_DESIGN = "ab_test_page_design_first_200_rows.csv"
MARKETING_AB = "marketing_ab_funnel_steps_first_250_rows.csv"
ADSMART = "adsmart_ab_first_80_rows.csv"
WA_PROMOTIONS = "wa_marketing_campaign_promotions.csv"

ROW_LEVEL = "row-level files: one row per user counted into arms (distinct ids, true outcomes)"
ONE_TABLE = "one table across tabs: one file per arm, same header, read as one test"
VOCABULARY = "header vocabulary"
DAY_FIRST = "day-first dates decided from the whole column"
NOTHING_SILENT = "nothing silent: exit 1 and a sentence naming what to add"


@dataclass(frozen=True)
class Arm:
    visitors: float
    conversions: float


def read(*names: str, setup: Sequence[tuple[str, str]] = ()) -> tuple[SheetData, Report]:
    tabs = [tab for name in names for tab in read_local(str(REAL / name))]
    if setup:
        rows: list[list[Cell]] = [["Column", "Role"]]
        rows.extend([column, role] for column, role in setup)
        tabs.append(Tab("Setup", rows))
    sheet = parse_workbook(tabs)
    return sheet, analyse(sheet, source=names[0])


def tab_reading(sheet: SheetData, name: str) -> TabReading:
    readings = {tab.tab: tab for tab in sheet.tabs}
    assert Path(name).stem in readings, f"no reading of the tab {Path(name).stem}; the problems: {sheet.problems}"
    return readings[Path(name).stem]


def traffic_read(sheet: SheetData) -> dict[str, float]:
    return {str(k): float(v) for k, v in sheet.traffic.groupby("variant")["visitors"].sum().items()}


def conversions_read(sheet: SheetData, metric: str) -> dict[str, float]:
    rows = sheet.conversions[sheet.conversions["metric"] == metric]
    return {str(k): float(v) for k, v in rows.groupby("variant")["conversions"].sum().items()}


def as_floats(series: pd.Series) -> dict[str, float]:
    return {str(k): float(v) for k, v in series.items()}


def comparison(report: Report, variant: str, metric: str) -> Comparison:
    assert len(report.tests) == 1, f"expected one test, found {len(report.tests)}; the problems: {report.problems}"
    found = [c for c in report.tests[0].comparisons if c.variant == variant and c.metric == metric]
    assert found, f"no comparison of {variant} on {metric}"
    return found[0]


def assert_matches_statsmodels(found: Comparison, control: Arm, variant: Arm) -> None:
    """The comparison's counts are the independent ones, and its figures those of statsmodels/scipy on them."""
    assert (found.control_visitors, found.control_conversions) == (control.visitors, control.conversions)
    assert (found.variant_visitors, found.variant_conversions) == (variant.visitors, variant.conversions)
    control_rate, variant_rate = control.conversions / control.visitors, variant.conversions / variant.visitors
    assert found.control_rate == control_rate
    assert found.variant_rate == variant_rate
    if control_rate > 0:
        assert found.lift == pytest.approx(variant_rate / control_rate - 1, rel=1e-9)
    table = [
        [variant.conversions, variant.visitors - variant.conversions],
        [control.conversions, control.visitors - control.conversions],
    ]
    total = control.visitors + variant.visitors
    converted = control.conversions + variant.conversions
    expected = [
        n * share / total for n in (variant.visitors, control.visitors) for share in (converted, total - converted)
    ]
    if min(expected) < 5:  # Fisher's p within 1e-9 of scipy's, as docs/methodology.md states
        assert found.test_used == "fisher"
        _, p_value = fisher_exact([[round(cell) for cell in row] for row in table])
        assert found.p_value == pytest.approx(p_value, rel=0, abs=1e-9)
    else:
        assert found.test_used == "z"
        _, p_value = proportions_ztest([variant.conversions, control.conversions], [variant.visitors, control.visitors])
        assert found.p_value == pytest.approx(p_value, rel=1e-9, abs=1e-300)
    if control.conversions > 0 and variant.conversions < variant.visitors:
        low, high = confint_proportions_2indep(
            variant.conversions,
            variant.visitors,
            control.conversions,
            control.visitors,
            method="score",
            compare="ratio",
        )
        assert found.lift_ci == pytest.approx((low - 1, high - 1), rel=1e-6, abs=1e-9)
    elif control.conversions > 0:
        # statsmodels returns the observed ratio itself as the lower limit when every variant visitor
        # converted; the Miettinen-Nurminen limit solved directly is the reference there.
        assert found.lift_ci[0] == pytest.approx(score_limit(control, variant, +1.959963984540054) - 1, rel=1e-6)


def score_limit(control: Arm, variant: Arm, z: float) -> float:
    """The rate ratio at which the Miettinen-Nurminen score statistic equals `z`, by brentq."""
    nc, xc, nv, xv = control.visitors, control.conversions, variant.visitors, variant.conversions
    total = nc + nv

    def score(theta: float) -> float:
        a, b, c = total * theta, -((nv + xc) * theta + xv + nc), xc + xv
        rc = (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a)
        rv = theta * rc
        spread = rv * (1 - rv) / nv + theta**2 * rc * (1 - rc) / nc
        return (xv / nv - theta * xc / nc) / math.sqrt(total / (total - 1) * spread) - z

    ratio = (xv / nv) / (xc / nc)
    return float(brentq(score, 1e-9, ratio - 1e-12))


# --- Google Ads campaign reports -------------------------------------------------------------------------------


def google_ads_rows(name: str) -> pd.DataFrame:
    """The report as Google Ads writes it: a title and a date line, then the header; `Total:` rows at the end."""
    frame = pd.read_csv(REAL / name, skiprows=2, thousands=",", na_values=["--"], skipinitialspace=True)
    return frame[~frame["Campaign status"].str.startswith("Total:")]


def test_a_google_ads_campaign_report_reads_each_campaign_as_an_arm_on_clicks_and_conversions():
    rows = google_ads_rows(GOOGLE_ADS)
    sheet, report = read(GOOGLE_ADS)

    reading = tab_reading(sheet, GOOGLE_ADS)
    assert (reading.read, reading.variant, reading.traffic, reading.macro) == (
        True,
        "Campaign",
        "Clicks",
        ("Conversions",),
    )
    with_traffic = rows[rows["Clicks"] > 0].groupby("Campaign")
    assert traffic_read(sheet) == as_floats(with_traffic["Clicks"].sum())
    assert conversions_read(sheet, "Conversions") == as_floats(with_traffic["Conversions"].sum())
    (paused,) = rows.loc[rows["Clicks"] == 0, "Campaign"]
    assert any(paused in problem.message for problem in report.problems)
    (test,) = report.tests
    assert test.control == rows["Campaign"].iloc[0] == "Leads-Smart-4"


def test_a_google_ads_campaign_report_compares_every_campaign_with_traffic_as_statsmodels_does():
    rows = google_ads_rows(GOOGLE_ADS).set_index("Campaign")
    _, report = read(GOOGLE_ADS)

    control = Arm(rows.at["Leads-Smart-4", "Clicks"], rows.at["Leads-Smart-4", "Conversions"])
    with_traffic = rows[(rows["Clicks"] > 0) & (rows.index != "Leads-Smart-4")]
    (test,) = report.tests
    assert {c.variant for c in test.comparisons} == set(with_traffic.index)
    for name, row in with_traffic.iterrows():
        found = comparison(report, str(name), "Conversions")
        assert_matches_statsmodels(found, control, Arm(row["Clicks"], row["Conversions"]))


def test_a_google_ads_report_where_no_campaign_had_impressions_is_refused_saying_it_needs_clicks():
    sheet, report = read(GOOGLE_ADS_NO_IMPRESSIONS)

    reading = tab_reading(sheet, GOOGLE_ADS_NO_IMPRESSIONS)
    assert report.tests == ()
    assert not reading.read
    assert "click" in reading.summary.lower()


def test_video_and_demand_gen_campaigns_are_compared_on_interactions_as_google_ads_rates_them():
    rows = google_ads_rows(GOOGLE_ADS_VIDEO).set_index("Campaign")
    sheet, report = read(GOOGLE_ADS_VIDEO)

    reading = tab_reading(sheet, GOOGLE_ADS_VIDEO)
    assert (reading.read, reading.variant, reading.traffic) == (True, "Campaign", "Interactions")
    assert "Conversions" in reading.macro
    assert traffic_read(sheet) == as_floats(rows["Interactions"])
    assert conversions_read(sheet, "Conversions") == as_floats(rows["Conversions"])
    video, demand_gen = (Arm(rows.at[name, "Interactions"], rows.at[name, "Conversions"]) for name in rows.index)
    assert report.tests[0].control == "Video views - 2025-07-19"
    assert_matches_statsmodels(comparison(report, "MH-m-sand", "Conversions"), video, demand_gen)


# --- The Kaggle campaign A/B test: one file per arm ----------------------------------------------------------------

KAGGLE_PAIRS = [
    pytest.param(
        (KAGGLE_CONTROL, KAGGLE_TEST, ","),
        ("# of Website Clicks", "# of Add to Cart", "# of Purchase"),
        id="comma, '# of' headers",
    ),
    pytest.param(
        (KAGGLE_CONTROL_SEMICOLON, KAGGLE_TEST_SEMICOLON, ";"),
        ("Website Clicks", "Add to Cart", "Purchase"),
        id="semicolon, CRLF, short row",
    ),
]
KAGGLE_REASON = f"{ONE_TABLE}; {VOCABULARY} (# of Website Clicks, Add to Cart, Purchase); {DAY_FIRST} (1.08.2019)"


def kaggle_arms(files: tuple[str, str, str]) -> pd.DataFrame:
    control, test, separator = files
    frame = pd.concat([pd.read_csv(REAL / control, sep=separator), pd.read_csv(REAL / test, sep=separator)])
    return frame.groupby("Campaign Name").sum(numeric_only=True)


@pytest.mark.parametrize(("files", "columns"), KAGGLE_PAIRS)
def test_a_campaign_test_exported_one_file_per_arm_reads_as_one_test_of_test_against_control(files, columns):
    clicks, add_to_cart, purchase = columns
    arms = kaggle_arms(files)
    sheet, report = read(files[0], files[1])

    for name in files[:2]:
        reading = tab_reading(sheet, name)
        assert (reading.read, reading.traffic, reading.date_order) == (True, clicks, "day-first")
        assert add_to_cart in reading.micro
        assert purchase in reading.macro
    (test,) = report.tests
    assert (test.control, [a.variant for a in test.arms]) == ("Control Campaign", ["Control Campaign", "Test Campaign"])
    assert traffic_read(sheet) == as_floats(arms[clicks])
    assert conversions_read(sheet, add_to_cart) == as_floats(arms[add_to_cart])
    assert conversions_read(sheet, purchase) == as_floats(arms[purchase])


@pytest.mark.parametrize(("files", "columns"), KAGGLE_PAIRS)
def test_the_campaign_tests_purchases_and_carts_are_compared_as_statsmodels_does(files, columns):
    clicks, add_to_cart, purchase = columns
    arms = kaggle_arms(files)
    _, report = read(files[0], files[1])

    for metric in (add_to_cart, purchase):
        control, test = (Arm(arms.at[name, clicks], arms.at[name, metric]) for name in arms.index)
        assert_matches_statsmodels(comparison(report, "Test Campaign", metric), control, test)


@pytest.mark.parametrize("name", [KAGGLE_CONTROL, KAGGLE_CONTROL_SEMICOLON])
def test_the_control_file_alone_is_refused_naming_the_one_arm_it_has(name):
    sheet, report = read(name)

    reading = tab_reading(sheet, name)
    assert report.tests == ()
    assert not reading.read
    assert "Control Campaign" in reading.summary


# --- Facebook ad conversions (KAG_conversion_data) -----------------------------------------------------------------


def test_facebook_ad_conversions_without_a_variant_column_name_the_campaign_columns_that_could_be_one():
    sheet, report = read(FACEBOOK_ADS)

    reading = tab_reading(sheet, FACEBOOK_ADS)
    assert report.tests == ()
    assert not reading.read
    assert reading.missing == ("variant",)
    assert "xyz_campaign_id" in reading.candidates
    assert any(row.role == "variant" for row in reading.setup)


def test_facebook_ad_conversions_with_the_campaign_as_variant_keep_every_row_and_compare_as_statsmodels_does():
    frame = pd.read_csv(REAL / FACEBOOK_ADS)
    arms = frame.groupby(frame["xyz_campaign_id"].astype(str)).sum(numeric_only=True)
    assert (frame["Total_Conversion"] > frame["Clicks"]).sum() == 51  # view-through: rows that must be kept
    sheet, report = read(FACEBOOK_ADS, setup=[("xyz_campaign_id", "variant")])

    reading = tab_reading(sheet, FACEBOOK_ADS)
    assert (reading.read, reading.variant, reading.traffic, reading.date_order) == (
        True,
        "xyz_campaign_id",
        "Clicks",
        "day-first",
    )
    assert (reading.micro, reading.macro) == (("Total_Conversion",), ("Approved_Conversion",))
    assert traffic_read(sheet) == as_floats(arms["Clicks"]) == {"916": 113.0, "936": 202.0}
    for metric in ("Total_Conversion", "Approved_Conversion"):
        assert conversions_read(sheet, metric) == as_floats(arms[metric])
        control, variant = (Arm(arms.at[name, "Clicks"], arms.at[name, metric]) for name in ("916", "936"))
        assert_matches_statsmodels(comparison(report, "936", metric), control, variant)


# --- Row-level experiment logs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowLevel:
    name: str
    variant: str
    control: str
    id_column: str
    outcomes: tuple[str, ...]
    index_col: int | None = None


ROW_LEVEL_FILES = [
    pytest.param(
        RowLevel(COOKIE_CATS, "version", "gate_30", "userid", ("retention_1", "retention_7")), id="cookie cats"
    ),
    pytest.param(
        RowLevel(PAGE_DESIGN, "group", "control", "user_id", ("subscribed",)), id="page design, duplicate ids"
    ),
    pytest.param(
        RowLevel(MARKETING_AB, "test group", "a", "user id", ("converted",), index_col=0), id="funnel steps, TRUE/FALSE"
    ),
    pytest.param(RowLevel(ADSMART, "experiment", "control", "auction_id", ("yes",)), id="adsmart"),
]


def row_level_arms(spec: RowLevel) -> tuple[pd.Series, dict[str, pd.Series]]:
    """Traffic: distinct ids per arm; each outcome: distinct ids with a true value (1 or TRUE) per arm."""
    frame = pd.read_csv(REAL / spec.name, index_col=spec.index_col)
    users = frame.groupby(spec.variant)[spec.id_column].nunique()
    converted = {
        outcome: frame[frame[outcome].astype(bool)]
        .groupby(spec.variant)[spec.id_column]
        .nunique()
        .reindex(users.index, fill_value=0)
        for outcome in spec.outcomes
    }
    return users, converted


@pytest.mark.parametrize("spec", ROW_LEVEL_FILES)
def test_a_row_level_log_is_counted_into_arms_by_distinct_user(spec: RowLevel) -> None:
    users, converted = row_level_arms(spec)
    sheet, report = read(spec.name)

    reading = tab_reading(sheet, spec.name)
    assert (reading.read, reading.row_level, reading.variant, reading.id_column) == (
        True,
        True,
        spec.variant,
        spec.id_column,
    )
    assert report.tests[0].control == spec.control
    assert traffic_read(sheet) == as_floats(users)
    for outcome, counts in converted.items():
        assert conversions_read(sheet, outcome) == as_floats(counts)


@pytest.mark.parametrize("spec", ROW_LEVEL_FILES)
def test_a_row_level_logs_comparisons_are_those_of_statsmodels_on_its_distinct_users(spec: RowLevel) -> None:
    users, converted = row_level_arms(spec)
    _, report = read(spec.name)

    (variant,) = (name for name in users.index if name != spec.control)
    for outcome, counts in converted.items():
        control = Arm(users[spec.control], counts[spec.control])
        assert_matches_statsmodels(comparison(report, variant, outcome), control, Arm(users[variant], counts[variant]))


def test_the_adsmart_log_reads_its_dates_month_first():
    sheet, _ = read(ADSMART)

    assert tab_reading(sheet, ADSMART).date_order == "month-first"


# --- Nothing testable ----------------------------------------------------------------------------------------------


def test_store_sales_by_promotion_are_refused_as_an_amount_naming_the_traffic_they_lack():
    sheet, report = read(WA_PROMOTIONS)

    reading = tab_reading(sheet, WA_PROMOTIONS)
    assert report.tests == ()
    assert not reading.read
    assert reading.amounts == ("SalesInThousands",)
    assert "SalesInThousands" in reading.summary
    assert "traffic" in reading.missing


# --- The command: exit 0 only when something was tested ------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    for name in ("MICROOPT_SHEET", "MICROOPT_ALPHA", "MICROOPT_DATE_ORDER", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize(
    ("name", "tested"),
    [
        pytest.param(GOOGLE_ADS, True, id="google ads"),
        pytest.param(GOOGLE_ADS_NO_IMPRESSIONS, False, id="no impressions"),
        pytest.param(GOOGLE_ADS_VIDEO, True, id="video, demand gen"),
        pytest.param(KAGGLE_CONTROL, False, id="control arm alone"),
        pytest.param(KAGGLE_TEST, False, id="test arm alone"),
        pytest.param(KAGGLE_CONTROL_SEMICOLON, False, id="control alone, ;"),
        pytest.param(KAGGLE_TEST_SEMICOLON, False, id="test alone, ;"),
        pytest.param(FACEBOOK_ADS, False, id="facebook ads, no variant"),
        pytest.param(COOKIE_CATS, True, id="cookie cats"),
        pytest.param(PAGE_DESIGN, True, id="page design"),
        pytest.param(MARKETING_AB, True, id="funnel steps"),
        pytest.param(ADSMART, True, id="adsmart"),
        pytest.param(WA_PROMOTIONS, False, id="store sales"),
    ],
)
def test_status_exits_0_only_when_the_file_yields_a_test(name: str, tested: bool) -> None:
    result = CliRunner().invoke(
        app, ["status", "--sheet", str(REAL / name), "--no-history", "--format", "json"], catch_exceptions=False
    )

    assert result.exit_code == (0 if tested else 1)
    if tested:
        assert json.loads(result.stdout)["tests"]
