"""The micro-to-macro track record: direction agreement and a noise-aware correlation of lifts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.proxy import micro_macro_pairs, proxy_records


def comparisons(micro: np.ndarray, macro: np.ndarray, n: float, decisions: list[str] | None = None) -> pd.DataFrame:
    """One comparison pair per test: micro and macro counts as (control, variant) columns."""
    rows = []
    for i, ((mc, mv), (Mc, Mv)) in enumerate(zip(micro, macro, strict=True)):
        decision = decisions[i] if decisions else "keep_running"
        for kind, metric, xc, xv, d in (
            ("micro", "Cart views", mc, mv, "keep_running"),
            ("macro", "Purchases", Mc, Mv, decision),
        ):
            rows.append(
                {
                    "test_index": i,
                    "variant": "B",
                    "metric": metric,
                    "kind": kind,
                    "visitors_control": n,
                    "conversions_control": xc,
                    "visitors": n,
                    "conversions": xv,
                    "decision": d,
                    "lift": xv / xc - 1 if xc else np.nan,
                }
            )
    return pd.DataFrame(rows)


def test_direction_agreement_counts_finished_tests_only():
    micro = np.array([[100, 130], [100, 80], [100, 120], [100, 120]])
    macro = np.array([[10, 14], [10, 6], [10, 7], [10, 12]])
    table = comparisons(micro, macro, 2000, decisions=["better", "worse", "worse", "keep_running"])
    (record,) = proxy_records(micro_macro_pairs(table))
    assert (record.micro, record.macro) == ("Cart views", "Purchases")
    assert (record.finished_tests, record.agreeing_tests) == (3, 2)
    assert record.correlation_tests == 4


def test_broken_tests_are_left_out():
    micro = np.array([[100, 130], [100, 80], [100, 120]])
    macro = np.array([[10, 14], [10, 6], [10, 7]])
    table = comparisons(micro, macro, 2000, decisions=["better", "worse", "worse"])
    (record,) = proxy_records(micro_macro_pairs(table), excluded_tests=frozenset({2}))
    assert (record.finished_tests, record.agreeing_tests) == (2, 2)


def test_the_funnel_check_is_a_two_proportion_test_of_macro_per_micro():
    from statsmodels.stats.proportion import proportions_ztest

    table = comparisons(np.array([[250, 340]]), np.array([[30, 22]]), 5000)
    pairs = micro_macro_pairs(table)
    _, reference = proportions_ztest([22, 30], [340, 250])
    assert abs(pairs["funnel_p_value"][0] - reference) < 1e-12
    assert pairs["funnel_control"][0] == 30 / 250 and pairs["funnel_variant"][0] == 22 / 340


def test_the_noise_aware_correlation_recovers_the_true_one_where_the_naive_one_is_diluted():
    """Seeded Monte Carlo: 400 nested-funnel tests whose true log lifts correlate 0.8 (micro sd 0.2, funnel sd
    0.15); macro counts are noisy. Tolerance 0.12, about three standard errors of the estimate."""
    rng = np.random.default_rng(21)
    tests, n = 400, 20000
    micro_lift = rng.normal(0, 0.2, tests)
    funnel_lift = rng.normal(0, 0.15, tests)
    control_micro, control_funnel = 0.05, 0.1
    xc_micro = rng.binomial(n, control_micro, tests)
    xv_micro = rng.binomial(n, np.minimum(control_micro * np.exp(micro_lift), 1))
    xc_macro = rng.binomial(xc_micro, control_funnel)
    xv_macro = rng.binomial(xv_micro, np.minimum(control_funnel * np.exp(funnel_lift), 1))
    micro = np.column_stack([xc_micro, xv_micro])
    macro = np.column_stack([xc_macro, xv_macro])
    pairs = micro_macro_pairs(comparisons(micro, macro, n))
    (record,) = proxy_records(pairs)
    naive = np.corrcoef(pairs["log_lift_micro"], pairs["log_lift_macro"])[0, 1]
    assert record.correlation is not None
    assert abs(record.correlation - 0.8) < 0.12
    assert naive < record.correlation - 0.05


def test_too_few_tests_give_no_correlation():
    table = comparisons(np.array([[100, 130], [100, 80]]), np.array([[10, 14], [10, 6]]), 2000)
    (record,) = proxy_records(micro_macro_pairs(table))
    assert record.correlation is None and record.correlation_tests == 2
