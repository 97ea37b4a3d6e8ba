"""Numbers the way a marketer reads them."""

from __future__ import annotations

import math


def percent(rate: float) -> str:
    """0.0805 -> 8.1%, 0.0055 -> 0.55%: at least two significant figures for small rates."""
    value = rate * 100
    decimals = 1 if value >= 1 or value == 0 else 2
    return f"{value:.{decimals}f}%"


def signed_percent(lift: float) -> str:
    return f"{lift * 100:+.0f}%"


def lift_words(lift: float) -> str:
    """0.61 -> '61% better', -0.3 -> '30% worse'."""
    return f"{abs(lift) * 100:.0f}% {'better' if lift >= 0 else 'worse'}"


def about(count: float) -> str:
    """Round a count to what a plan needs: 11,691 -> 11,700; 842 -> 840; 37 -> 37."""
    if count < 100:
        return f"{math.ceil(count):,}"
    digits = math.floor(math.log10(count)) - 2
    return f"{round(count, -digits):,.0f}"


def money(amount: float, symbol: str = "$") -> str:
    """Budgets to two significant figures ($4,914 -> $4,900); unit costs to the cent ($0.42)."""
    if amount >= 100:
        digits = math.floor(math.log10(amount)) - 1
        return f"{symbol}{round(amount, -digits):,.0f}"
    return f"{symbol}{amount:,.2f}"


def count(value: float) -> str:
    return f"{value:,.0f}"


def cost_per(traffic_label: str) -> str:
    return "CPC" if traffic_label == "clicks" else f"cost per {traffic_label.rstrip('s')}"


def per_variant(test: str) -> str:
    return f"per {test.lower()}" if test else "per variant"


def variant_name(test: str, variant: str) -> str:
    """'Audience' + 'B' -> 'Audience B'; long variant names stand alone."""
    return f"{test} {variant}" if test and len(variant) <= 3 else variant
