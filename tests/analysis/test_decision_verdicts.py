"""Each verdict and each rule, on small hand-made sheets run through the whole analysis."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
from scipy.special import betaln, logsumexp

from analysis import models
from analysis.decision import DecisionSettings
from analysis.models import Tab
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from analysis.stats.bayes import EXPANSION_FROM, PRIOR_LOG_LIFT_SD, chance_to_beat, shrunk_lifts

HEADER = ["Campaign", "Test", "Variant", "Clicks", "Spend", "Cart views (micro)", "Purchases (macro)"]


# The verdicts' rules on single totals: calls allowed from one total (min_days 1), as MICROOPT_MIN_DAYS=1 allows;
# by default an undated total waits for three reads (tests/analysis/test_decision.py).
ONE_TOTAL = DecisionSettings(min_days=1)


def result(rows, header=HEADER, **kwargs) -> models.TestResult:
    kwargs.setdefault("settings", ONE_TOTAL)
    report = analyse(parse_workbook([Tab("Results", [header, *rows])]), source="test", **kwargs)
    return report.tests[0]


def test_the_bundled_example_waits_for_reads_on_its_totals_and_calls_its_dated_tab():
    """By default the undated Results tab is one total per test: too early, saying why; the Daily tab's days
    show the variation and are called. With single totals allowed (MICROOPT_MIN_DAYS=1) the old headline
    returns, saying what it assumes."""
    from bot.settings import EXAMPLE_SHEET
    from bot.sources.local import read_local

    sheet = parse_workbook(read_local(str(EXAMPLE_SHEET)))
    default = analyse(sheet, source="example")
    waiting = next(t for t in default.tests if t.campaign == "Spring Sale" and t.test == "Audience")
    assert waiting.verdict == "keep_running" and waiting.reason == "too_early"
    assert "one total cannot show how much rates swing from day to day" in waiting.summary
    daily = [t for t in default.tests if t.campaign == "Summer Launch"]
    assert {t.verdict for t in daily} == {"move_budget"} and all(t.days for t in daily)
    assert {t.verdict for t in default.tests} == {"move_budget", "keep_running", "check_tracking"}

    report = analyse(sheet, source="example", settings=ONE_TOTAL)
    audience = next(t for t in report.tests if t.campaign == "Spring Sale" and t.test == "Audience")
    assert audience.verdict == "move_budget" and audience.headline == "Move budget to B."
    assert "One total shows no day-to-day variation" in audience.summary
    assert {t.verdict for t in report.tests} == {
        "move_budget",
        "keep_running",
        "no_difference",
        "conflict",
        "check_tracking",
    }
    assert audience.summary.startswith(
        "Audience B converts 61% better than A on cart views (8.1% vs 5.0%, likely +1% to +157%). "
        "Purchases are not called yet (11 vs 8): confirming a lift that size needs about 35,400 more "
        "clicks per audience (≈ $15,000 at today's $0.42 CPC)."
    )
    verdicts = {t.verdict for t in report.tests}
    assert verdicts == {"move_budget", "keep_running", "no_difference", "conflict", "check_tracking"}


SPLIT_HEADER = [*HEADER, "Split"]


def test_check_tracking_when_the_planned_split_is_broken():
    test = result(
        [["S", "Page", "A", 5200, 2184, 260, 21, "50%"], ["S", "Page", "B", 4800, 2016, 250, 19, "50%"]],
        header=SPLIT_HEADER,
    )
    assert test.verdict == "check_tracking"
    assert "52/48 on 10,000 clicks, planned 50/50" in test.summary
    assert test.split == (0.5, 0.5) and test.srm_p_value is not None and test.srm_p_value < 0.01


def test_an_unplanned_split_is_never_checked_however_uneven():
    test = result([["S", "Audience", "A", 6000, 2184, 300, 21], ["S", "Audience", "B", 4000, 2016, 200, 19]])
    assert test.verdict != "check_tracking"
    assert test.split is None and test.srm_p_value is None


def test_a_planned_60_40_split_served_60_40_is_fine():
    rows = [["S", "Page", "A", 6000, 2184, 300, 21, 60], ["S", "Page", "B", 4000, 2016, 200, 19, 40]]
    test = result(rows, header=SPLIT_HEADER)
    assert test.verdict != "check_tracking" and test.split == (0.6, 0.4)
    assert test.srm_p_value == 1.0  # 60/40 exactly: the mixture favours the plan


def test_a_verdict_on_unrandomised_arms_says_they_are_compared_per_click_once():
    rows = [["S", "Audience", "A", 2000, 840, 100, 8], ["S", "Audience", "B", 2000, 840, 161, 11]]
    unplanned = result(rows)
    planned = result([[*row, "50%"] for row in rows], header=SPLIT_HEADER)
    assert unplanned.verdict == planned.verdict == "move_budget"
    clause = "The variants reach different people (no Split planned for this test), so this compares them per click"
    assert unplanned.summary.count(clause) == 1
    assert planned.summary == unplanned.summary.replace(" " + clause + ", not as a controlled experiment.", "")


def test_a_running_test_on_unrandomised_arms_says_nothing_of_it():
    test = result([["S", "Audience", "A", 200, 84, 10, 1], ["S", "Audience", "B", 200, 84, 11, 1]])
    assert test.verdict == "keep_running" and "different people" not in test.summary


def test_a_macro_call_acts_on_its_own():
    test = result(
        [["W", "Audience", "A", 200000, 84000, 10000, 800], ["W", "Audience", "B", 200000, 84000, 12000, 1040]]
    )
    assert test.verdict == "move_budget" and test.best_variant == "B" and test.reason == "macro_winner"
    assert test.rests_on is not None and test.rests_on.kind == "macro"
    assert "on purchases" in test.summary and "Cart views moved the same way (+20%)" in test.summary
    # the chance to beat decides nothing and could read against a verdict: JSON only, not in the words
    assert "Chance" not in test.summary and test.comparisons[0].chance_to_beat is not None


def test_a_micro_call_moves_budget_saying_so_with_the_macro_still_to_confirm():
    test = result([["S", "Audience", "A", 2000, 840, 100, 8], ["S", "Audience", "B", 2000, 840, 161, 11]])
    assert test.verdict == "move_budget" and test.best_variant == "B"
    assert test.reason == "micro_winner" and test.to_confirm is not None and test.to_confirm.metric == "Purchases"
    assert "Purchases are not called yet (11 vs 8)" in test.summary
    assert "This call rests on cart views; no finished test in this sheet shows yet" in test.summary
    assert "flat prior" not in test.summary
    # the macro range (-86% to +1239%) says nothing: worded, not printed
    assert "1239%" not in test.summary


def test_all_variants_worse_moves_budget_back_to_the_control():
    test = result(
        [["W", "Ad", "A", 50000, 21000, 2500, 200], ["W", "Ad", "B", 50000, 21000, 2250, 150]],
    )
    assert test.verdict == "move_budget" and test.headline == "Move budget back to A."


def test_conflict_when_the_funnel_says_the_extra_micro_conversions_do_not_buy():
    test = result([["P", "Headline", "A", 5000, 2100, 250, 30], ["P", "Headline", "B", 5000, 2100, 340, 22]])
    purchases = next(c for c in test.comparisons if c.kind == "macro")
    assert purchases.decision == "keep_running"  # not called on its own
    assert test.verdict == "conflict" and test.headline == "Conflict — do not move budget."
    assert "6.5% of B's cart views became purchases, against 12.0% of A's" in test.summary


def test_conflict_when_micro_and_macro_are_called_opposite_ways():
    test = result(
        [["W", "Keyword", "A", 300000, 180000, 15000, 1500], ["W", "Keyword", "B", 300000, 165000, 18000, 1000]]
    )
    assert {c.kind: c.decision for c in test.comparisons} == {"micro": "better", "macro": "worse"}
    assert test.verdict == "conflict"


def test_no_difference_when_the_interval_rules_out_the_minimum_effect():
    test = result([["P", "Bid", "A", 30000, 12600, 1500, 120], ["P", "Bid", "B", 30000, 13500, 1506, 123]])
    assert test.verdict == "no_difference" and test.headline == "No meaningful difference — stop the test."
    assert "within 10% of each other" in test.summary
    assert "CPC: A $0.42, B $0.45" in test.summary
    # a smaller minimum effect keeps it running
    assert (
        result(
            [["P", "Bid", "A", 30000, 12600, 1500, 120], ["P", "Bid", "B", 30000, 13500, 1506, 123]],
            minimum_effect=0.05,
        ).verdict
        == "keep_running"
    )


def test_the_planned_visitors_in_without_a_call_is_not_no_difference_but_says_what_each_choice_costs():
    """+5% at the plan (400 vs 420 of 8,000): not ruled out, not called; the words give the range, what
    stopping gives up, and the watch to twice the plan that could still call it."""
    header = [*HEADER, "Planned visitors"]
    test = result([["P", "Bid", "A", 8000, 0, 400, 30, 8000], ["P", "Bid", "B", 8000, 0, 420, 31, 8000]], header=header)
    assert test.verdict == "keep_running" and test.reason == "plan_reached"
    assert test.headline == "Plan reached, no winner yet."
    cart = next(c for c in test.comparisons if c.kind == "micro")
    assert cart.plan_reached and cart.call is None and cart.decision_ci[1] is not None
    high = round(cart.decision_ci[1] * 100)
    assert "The planned 8,000 clicks per bid are in without a lift of +10% or more on cart views" in test.summary
    assert f"Stop if a lift under +{high}% is not worth having, or keep it running" in test.summary
    assert "microopt watches about 8,000 more clicks per bid" in test.summary


def test_keep_running_says_what_is_left_in_visitors_days_and_money():
    header = ["Date", *HEADER]
    start = dt.date(2026, 3, 1)
    rows = []
    for day in range(10):
        date = (start + dt.timedelta(days=day)).isoformat()
        rows.append([date, "S", "Copy", "A", 500, 250, 25 + day % 3, 2])
        rows.append([date, "S", "Copy", "B", 500, 250, 27 + day % 2, 2])
    test = result(rows, header=header)
    assert test.verdict == "keep_running" and test.days == 10
    cart = next(c for c in test.comparisons if c.kind == "micro")
    assert cart.visitors_to_go is not None and cart.days_to_go == int(np.ceil(cart.visitors_to_go / 500))
    assert cart.spend_to_go is not None and abs(cart.spend_to_go - cart.visitors_to_go * 0.5) < 1e-6
    match = re.search(r"about ([\d,]+) more clicks per copy \(about (\d+) more days at the recent 500", test.summary)
    assert match is not None, test.summary
    assert "$0.50 CPC" in test.summary


def test_keep_running_too_early_before_the_minimum_days():
    header = ["Date", *HEADER]
    rows = [
        ["2026-03-01", "S", "Copy", "A", 5000, 0, 250, 20],
        ["2026-03-01", "S", "Copy", "B", 5000, 0, 400, 40],
        ["2026-03-02", "S", "Copy", "A", 5000, 0, 250, 20],
        ["2026-03-02", "S", "Copy", "B", 5000, 0, 400, 40],
    ]
    test = result(rows, header=header, settings=DecisionSettings())
    assert test.verdict == "keep_running"
    assert test.summary.startswith("Too early to call: microopt waits for 3 days of data")
    assert all(c.decision == "too_early" for c in test.comparisons)


def test_several_variants_name_the_best_and_correct_for_multiplicity():
    rows = [
        ["B", "Keyword", "a", 10000, 6000, 450, 35],
        ["B", "Keyword", "b", 10000, 6700, 590, 47],
        ["B", "Keyword", "c", 10000, 6300, 428, 37],
        ["B", "Keyword", "d", 10000, 6300, 650, 40],
    ]
    test = result(rows)
    assert test.best_variant == "d"
    assert "b also beats a, by less" in test.summary
    cart = [c for c in test.comparisons if c.kind == "micro"]
    assert all(c.adjusted_p_value is not None and c.adjusted_p_value >= c.p_value for c in cart)


def test_a_micro_metric_with_a_poor_track_record_does_not_move_budget_alone():
    finished = [
        # four finished tests where purchases went the other way from cart views
        ["W1", "T", "A", 400000, 0, 20000, 2000],
        ["W1", "T", "B", 400000, 0, 21000, 1500],
        ["W2", "T", "A", 400000, 0, 20000, 2000],
        ["W2", "T", "B", 400000, 0, 19000, 2600],
        ["W3", "T", "A", 400000, 0, 20000, 2000],
        ["W3", "T", "B", 400000, 0, 21000, 1400],
        ["W4", "T", "A", 400000, 0, 20000, 2000],
        ["W4", "T", "B", 400000, 0, 19500, 2700],
    ]
    rows = [["S", "Audience", "A", 2000, 840, 100, 8], ["S", "Audience", "B", 2000, 840, 161, 11], *finished]
    report = analyse(parse_workbook([Tab("Results", [HEADER, *rows])]), source="test", settings=ONE_TOTAL)
    (proxy,) = report.proxies
    assert (proxy.finished_tests, proxy.agreeing_tests) == (4, 0)
    audience = report.tests[0]
    assert audience.verdict == "keep_running"
    assert "cart views have tracked purchases in only 0 of 4 finished tests" in audience.summary


def test_a_big_lift_from_few_conversions_is_flagged_as_likely_smaller():
    header = ["Campaign", "Test", "Variant", "Clicks", "Spend", "Purchases (macro)"]
    test = result([["S", "Bid", "A", 6000, 0, 30], ["S", "Bid", "B", 6000, 0, 41]], header=header)
    assert test.rests_on is not None and test.rests_on.metric == "Purchases"
    assert "few purchases so far, so the real lift is more likely near +14%" in test.summary


def exact_chance(xa: int, na: int, xb: int, nb: int) -> float:
    """P(p_B > p_A) for Beta(1 + x, 1 + n - x) posteriors, the closed form of Evan Miller (2015)."""
    a_a, b_a, a_b, b_b = 1 + xa, 1 + na - xa, 1 + xb, 1 + nb - xb
    return float(
        sum(
            np.exp(betaln(a_a + i, b_b + b_a) - np.log(b_b + i) - betaln(1 + i, b_b) - betaln(a_a, b_a))
            for i in range(a_b)
        )
    )


def test_chance_to_beat_matches_the_closed_form():
    cases = [(100, 2000, 161, 2000), (8, 2000, 11, 2000), (0, 50, 3, 50), (1, 10, 0, 10), (30, 6000, 41, 6000)]
    # one arm far narrower than the other, both ways round, and rates near 0 and 1
    cases += [
        (5, 100, 400, 10000),
        (400, 10000, 5, 100),
        (50, 1000, 2600, 50000),
        (0, 10, 0, 10000),
        (300, 300, 10, 10),
    ]
    for xa, na, xb, nb in cases:
        ours = chance_to_beat(*(np.array([v], dtype=float) for v in (na, xa, nb, xb)))[0]
        assert abs(ours - exact_chance(xa, na, xb, nb)) < 1e-5


def test_chance_to_beat_meets_1e_5_where_an_arm_has_no_or_one_conversion():
    """A posterior with no conversions is exponential: e^-11 of it lies past 10 sd, where the quadrature
    once stopped (1.7e-5 off); arms of 100 to 100,000, equal and three times apart."""
    worst = 0.0
    for n in (100, 1000, 10000, 100000):
        for xa in (0, 1):
            for xb in (0, 1, 2, 5, 20):
                for nb in (n, 3 * n, n // 3):
                    ours = chance_to_beat(*(np.array([v], dtype=float) for v in (n, xa, nb, xb)))[0]
                    worst = max(worst, abs(ours - exact_chance_from_logs(xa, n, xb, nb)))
    assert worst < 1e-5


def exact_chance_from_logs(xa: int, na: int, xb: int, nb: int) -> float:
    """The same closed form summed in log space, for counts whose terms underflow one by one."""
    a_a, b_a, a_b, b_b = 1 + xa, 1 + na - xa, 1 + xb, 1 + nb - xb
    i = np.arange(a_b, dtype=np.float64)
    terms = betaln(a_a + i, b_b + b_a) - np.log(b_b + i) - betaln(1 + i, b_b) - betaln(a_a, b_a)
    return float(np.exp(logsumexp(terms)))


def switch_cases(smallest: int) -> list[tuple[int, int, int, int]]:
    """Tables whose smallest Beta parameter is near `smallest`: rates from 0.1% to 99%, arms of equal size
    and a hundred times apart, lifts from -30% to +40% (the chance from near 0 to near 1)."""
    cases = []
    for control_conversions in (smallest - 1, 3 * smallest):
        for rate in (0.001, 0.02, 0.3, 0.5, 0.7, 0.99):
            for ratio in (0.7, 0.97, 1.0, 1.03, 1.4):
                for size in (0.01, 1.0, 100.0):
                    nc = round(control_conversions / rate)
                    nv = max(round(nc * size), 1)
                    xv = round(nv * min(rate * ratio, 1.0))
                    if min(control_conversions, nc - control_conversions, xv, nv - xv) + 1 >= smallest:
                        cases.append((control_conversions, nc, xv, nv))
    return cases


def test_chance_to_beat_by_expansion_is_within_1e_4_of_the_closed_form_from_the_switch_on():
    cases = [*switch_cases(EXPANSION_FROM), (30_000, 600_000, 30_900, 600_000), (400, 2_000, 2_600, 10_000)]
    worst = 0.0
    for xa, na, xb, nb in cases:
        ours = chance_to_beat(*(np.array([v], dtype=float) for v in (na, xa, nb, xb)))[0]
        worst = max(worst, abs(ours - exact_chance_from_logs(xa, na, xb, nb)))
    assert worst < 1e-4
    assert worst < 3e-5  # measured 1.4e-5, at 0.1% rates with arms a hundred times apart


def test_shrinkage_is_the_normal_posterior_mean_and_never_flips_the_sign():
    nc, xc, nv, xv = (np.array([v], dtype=float) for v in (2000, 100, 2000, 161))
    a, c = 161.0, 100.0
    log_ratio = np.log(a / 2000) - np.log(c / 2000)
    se2 = 1 / a - 1 / 2000 + 1 / c - 1 / 2000
    expected = np.expm1(log_ratio * PRIOR_LOG_LIFT_SD**2 / (PRIOR_LOG_LIFT_SD**2 + se2))
    shrunk = shrunk_lifts(nc, xc, nv, xv)[0]
    assert abs(shrunk - expected) < 1e-12
    assert 0 < shrunk < 0.61
