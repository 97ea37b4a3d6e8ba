"""Numbers and words the way a marketer reads them."""

from __future__ import annotations

from analysis.wording import about, agree, percent


def test_a_metric_name_gets_the_verb_that_agrees_with_it():
    assert agree("Purchases", "are", "is") == "are"
    assert agree("Sign-ups ", "are", "is") == "are"
    assert agree("Revenue", "are", "is") == "is"
    assert agree("Purchase", "are", "is") == "is"


def test_rates_keep_two_significant_figures_and_plans_round_to_what_they_need():
    assert percent(0.0805) == "8.1%"
    assert percent(0.0055) == "0.55%"
    assert about(11_691) == "11,700"
    assert about(842) == "842"
    assert about(123_456) == "123,000"
    assert about(37) == "37"
