"""The traffic-split check: the mixture against direct computation, its guarantee and power by simulation, and
that only a planned split is checked."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.special import gammaln, logsumexp

from analysis import models
from analysis.models import MetricSpec, SheetData, Tab
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from analysis.splits import SPLIT_CONCENTRATION, log_mixture_ratios, split_p_values
from analysis.verdict import SRM_ALPHA

START = pd.Timestamp(2026, 3, 1)


def direct_log_ratio(counts: list[float], shares: list[float], k: float = SPLIT_CONCENTRATION) -> float:
    """Dirichlet-multinomial marginal likelihood over the multinomial's at the planned shares, term by term."""
    prior = [k * s for s in shares]
    n = sum(counts)
    marginal = gammaln(sum(prior)) - gammaln(sum(prior) + n)
    marginal += sum(gammaln(a + x) - gammaln(a) for a, x in zip(prior, counts, strict=True))
    null = sum(x * math.log(s) for x, s in zip(counts, shares, strict=True))
    return float(marginal - null)


@pytest.mark.parametrize(
    ("counts", "shares"),
    [
        ([5200, 4800], [0.5, 0.5]),
        ([6000, 4000], [0.6, 0.4]),
        ([0, 0], [0.5, 0.5]),
        ([1, 0], [0.5, 0.5]),
        ([310, 355, 290], [0.25, 0.5, 0.25]),
        ([120_000, 80_500, 99_000, 101_000], [0.3, 0.2, 0.25, 0.25]),
    ],
)
def test_the_mixture_matches_a_direct_computation_and_scipy(counts, shares):
    """Against the formula term by term (gammaln), and against scipy's Dirichlet-multinomial and multinomial
    log-pmfs, whose ratio it is (the multinomial coefficient cancels): to 1e-9."""
    padded_counts = np.array([[*counts, 0.0]])
    padded_shares = np.array([[*shares, 0.0]])  # an arm the test does not have counts for nothing
    ours = float(log_mixture_ratios(padded_counts, padded_shares)[0])
    assert ours == pytest.approx(direct_log_ratio(counts, shares), abs=1e-9, rel=1e-12)
    if sum(counts):
        n = int(sum(counts))
        prior = SPLIT_CONCENTRATION * np.array(shares)
        reference = stats.dirichlet_multinomial.logpmf(counts, prior, n) - stats.multinomial.logpmf(counts, n, shares)
        assert ours == pytest.approx(float(reference), abs=1e-7, rel=1e-10)


@pytest.mark.parametrize(("n", "share"), [(1, 0.5), (40, 0.5), (300, 0.6), (2000, 0.3)])
def test_the_mixture_is_a_fair_bet_under_the_planned_split(n, share):
    """Its expectation under the planned shares is exactly 1 (what makes it a martingale, and Ville's
    inequality apply): summed over every outcome of n visitors."""
    x = np.arange(n + 1, dtype=np.float64)
    counts = np.column_stack([x, n - x])
    log_ratios = log_mixture_ratios(counts, np.tile([share, 1 - share], (n + 1, 1)))
    assert float(logsumexp(stats.binom.logpmf(x, n, share) + log_ratios)) == pytest.approx(0.0, abs=1e-9)


def simulated_sheet(
    arm_shares: tuple[float, float], planned: tuple[float, float] | None, days: int, daily: int, tests: int, seed: int
) -> SheetData:
    """`tests` two-arm tests over `days` days of `daily` visitors, the arms drawn at `arm_shares`; the
    sheet plans `planned` (None: no planned split)."""
    rng = np.random.default_rng(seed)
    first = rng.binomial(daily, arm_shares[0], size=(tests, days))
    visitors = np.stack([first, daily - first], axis=-1)  # tests x days x arms
    test, day, arm = np.meshgrid(np.arange(tests), np.arange(days), np.arange(2), indexing="ij")
    traffic = pd.DataFrame(
        {
            "campaign": np.char.add("S", test.ravel().astype(str)).astype(object),
            "test": "T",
            "variant": np.where(arm.ravel() == 0, "A", "B").astype(object),
            "date": START + pd.to_timedelta(day.ravel(), unit="D"),
            "visitors": visitors.ravel().astype(np.float64),
            "spend": np.nan,
        }
    )
    spec = {
        "test": "T",
        "control": "A",
        "variants": ("A", "B"),
        "metrics": (MetricSpec(name="Cart views", kind="micro"),),
        "traffic_label": "clicks",
        "has_dates": True,
        "has_spend": False,
        "split": planned,
    }
    specs = tuple(models.TestSpec(campaign=f"S{i}", **spec) for i in range(tests))
    return SheetData(tests=specs, traffic=traffic, conversions=pd.DataFrame())


def test_a_planned_50_50_split_broken_to_45_55_on_20000_visitors_raises_the_alarm():
    """300 tests, 20 days of 1,000 visitors, served 45/55 against a planned 50/50, checked every day."""
    sheet = simulated_sheet((0.45, 0.55), (0.5, 0.5), days=20, daily=1000, tests=300, seed=2301)
    alarms = np.mean(split_p_values(sheet) < SRM_ALPHA)
    assert alarms >= 0.99


@pytest.mark.parametrize("share", [0.5, 0.6])
def test_a_correct_planned_split_looked_at_daily_for_90_days_rarely_cries_wolf(share):
    """400 tests, 90 daily looks of 1,000 visitors each, served as planned: the alarm, which stays once it
    fires (the running maximum over the looks), fires on at most 1% of them."""
    sheet = simulated_sheet((share, 1 - share), (share, 1 - share), days=90, daily=1000, tests=400, seed=2302)
    p = split_p_values(sheet)
    assert np.all((p > 0) & (p <= 1))
    assert np.mean(p < SRM_ALPHA) <= 0.01


def test_the_alarm_stays_once_raised_on_a_dated_path():
    """Served 45/55 for its first 3 days, as planned for the next 87: the totals alone no longer look broken,
    the path says they were (an alarm once raised is not taken back), and a report as of day 3 has it."""
    sheet = simulated_sheet((0.5, 0.5), (0.5, 0.5), days=90, daily=1000, tests=1, seed=7)
    early = sheet.traffic["date"] < START + pd.Timedelta(days=3)
    visitors = sheet.traffic["visitors"].where(~early, np.where(sheet.traffic["variant"] == "A", 450.0, 550.0))
    broken = SheetData(tests=sheet.tests, traffic=sheet.traffic.assign(visitors=visitors), conversions=pd.DataFrame())
    totals = broken.traffic.groupby("variant")["visitors"].sum().to_numpy()
    assert float(log_mixture_ratios(totals[None, :], np.array([[0.5, 0.5]]))[0]) < math.log(1 / SRM_ALPHA)
    assert split_p_values(broken)[0] < SRM_ALPHA
    assert split_p_values(broken, as_of=dt.date(2026, 3, 3))[0] < SRM_ALPHA
    assert split_p_values(broken, as_of=dt.date(2026, 3, 1))[0] >= SRM_ALPHA


def test_no_unplanned_split_is_told_to_check_tracking_not_even_60_40():
    """300 tests served 60/40 with no planned split, through the whole analysis: none is checked, none is
    told to check tracking; the same tests planned 50/50 are all told."""
    rng = np.random.default_rng(2303)
    header = ["Campaign", "Variant", "Clicks", "Cart views (micro)", "Split"]
    unplanned: list[list[object]] = [header]
    planned: list[list[object]] = [header]
    for test in range(300):
        first = int(rng.binomial(10_000, 0.6))
        for variant, visitors in (("A", first), ("B", 10_000 - first)):
            row: list[object] = [f"S{test}", variant, visitors, int(rng.binomial(visitors, 0.05))]
            unplanned.append([*row, None])
            planned.append([*row, "50%"])
    report = analyse(parse_workbook([Tab("Results", unplanned)]), source="t")
    assert len(report.tests) == 300
    assert not [t for t in report.tests if t.verdict == "check_tracking" or t.srm_p_value is not None]
    report = analyse(parse_workbook([Tab("Results", planned)]), source="t")
    assert all(t.verdict == "check_tracking" for t in report.tests)


def test_undated_rows_count_at_the_last_look_and_three_arms_are_checked_together():
    rows = [
        ["Campaign", "Variant", "Clicks", "Cart views (micro)", "Split"],
        ["S", "A", 2500, 100, "25%"],
        ["S", "B", 5000, 200, "50%"],
        ["S", "C", 2500, 100, "25%"],
        ["U", "A", 3000, 100, 1],
        ["U", "B", 3000, 100, 1],
        ["U", "C", 4000, 100, 1],
    ]
    report = analyse(parse_workbook([Tab("Results", rows)]), source="t")
    as_planned, uneven = report.tests
    assert as_planned.split == (0.25, 0.5, 0.25) and as_planned.verdict != "check_tracking"
    assert uneven.split == pytest.approx((1 / 3, 1 / 3, 1 / 3)) and uneven.verdict == "check_tracking"
    expected = math.exp(-direct_log_ratio([3000, 3000, 4000], [1 / 3, 1 / 3, 1 / 3]))
    assert uneven.srm_p_value == pytest.approx(expected, rel=1e-9)


@given(
    counts=st.lists(st.integers(min_value=0, max_value=10**7), min_size=2, max_size=6),
    weights=st.lists(st.integers(min_value=1, max_value=100), min_size=6, max_size=6),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_the_arms_order_does_not_matter_and_the_p_value_is_a_probability(counts, weights, seed):
    shares = np.array(weights[: len(counts)], dtype=np.float64)
    shares /= shares.sum()
    x = np.array(counts, dtype=np.float64)
    order = np.random.default_rng(seed).permutation(len(counts))
    both = log_mixture_ratios(np.stack([x, x[order]]), np.stack([shares, shares[order]]))
    assert both[0] == pytest.approx(both[1], rel=1e-9, abs=1e-6)
    p = min(1.0, math.exp(-max(both[0], 0.0)))
    assert 0.0 <= p <= 1.0
