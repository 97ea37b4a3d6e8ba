"""Numbers and words the way a marketer reads them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.models import title_of
from analysis.wording import about, agree, counted, percent, plural, singular


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


@pytest.mark.parametrize(
    ("rate", "shown"),
    [
        (0.00004, "0.0040%"),
        (0.000456, "0.046%"),
        (0.00099949, "0.10%"),  # rounds up to 0.1%: two figures, as above it
        (0.0009, "0.090%"),
        (0.004, "0.40%"),
        (0.0, "0.0%"),
        (0.5, "50.0%"),
    ],
)
def test_small_rates_keep_two_significant_figures(rate, shown):
    assert percent(rate) == shown


@given(st.floats(min_value=1e-9, max_value=1.0))
def test_a_rate_is_never_shown_as_zero_and_is_within_five_percent_of_itself(rate):
    shown = percent(rate)
    assert float(shown[:-1]) > 0
    assert float(shown[:-1]) == pytest.approx(rate * 100, rel=0.05)


@pytest.mark.parametrize(
    ("plural", "one"),
    [
        ("clicks", "click"),
        ("link clicks", "link click"),
        ("impressions", "impression"),
        ("users", "user"),
        ("2-minute sessions", "2-minute session"),
        ("adds to cart", "add to cart"),
        ("checkouts initiated", "checkout initiated"),
        ("purchases", "purchase"),
        ("sign-ups", "sign-up"),
        ("entries", "entry"),
        ("searches", "search"),
        ("revenue", "revenue"),
        ("status", "status"),
        ("analysis", "analysis"),
    ],
)
def test_the_singular_of_a_column_label(plural, one):
    assert singular(plural) == one


def test_counts_agree_in_number():
    assert counted("1", "clicks") == "1 click"
    assert counted("1", "more visitors") == "1 more visitor"
    assert counted("2,000", "link clicks") == "2,000 link clicks"
    assert counted("1.5", "purchases") == "1.5 purchases"
    assert counted("0", "users") == "0 users"
    assert plural(1, "finished test") == "1 finished test" and plural(2, "look") == "2 looks"


@pytest.mark.parametrize(
    ("campaign", "test", "title"),
    [
        ("Spring Sale", "Audience", "Spring Sale · Audience test"),
        ("Spring Sale", "", "Spring Sale"),
        ("Black Friday ·", "", "Black Friday"),
        ("Black Friday · ", "  ", "Black Friday"),
        (" Q4 - ", "Ad copy", "Q4 · Ad copy test"),
        ("Spring", "· Audience ·", "Spring · Audience test"),
        ("Spring", "A/B test", "Spring · A/B test"),
        ("", "Audience", "Audience test"),
        ("·", "", "·"),
    ],
)
def test_titles_have_no_dangling_separators(campaign, test, title):
    assert title_of(campaign, test) == title
