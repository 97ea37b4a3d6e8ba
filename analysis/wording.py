"""Numbers the way a marketer reads them."""

from __future__ import annotations

import math
import re


def percent(rate: float) -> str:
    """0.0805 -> 8.1%, 0.0055 -> 0.55%, 0.00004 -> 0.0040%: at least two significant figures for small rates."""
    value = rate * 100
    if value >= 1 or value == 0 or not math.isfinite(value):
        decimals = 1
    elif value >= 0.1:
        decimals = 2
    else:
        decimals = 1 - math.floor(math.log10(value))
        decimals -= f"{value:.{decimals}f}" == f"{0.1:.{decimals}f}"  # rounded up to 0.10%: two figures
    return f"{value:.{decimals}f}%"


def signed_percent(lift: float) -> str:
    return f"{lift * 100:+.0f}%"


def lift_words(lift: float) -> str:
    """0.61 -> '61% better', -0.3 -> '30% worse'."""
    return f"{abs(lift) * 100:.0f}% {'better' if lift >= 0 else 'worse'}"


def about(count: float) -> str:
    """Round a count to three significant figures, what a plan needs: 11,691 -> 11,700; 842 -> 842; 37 -> 37."""
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


def conversions(value: float) -> str:
    """A conversion count: whole, or as an attribution model credited it (`61.5`, `31.25`)."""
    return count(value) if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def cost_per(traffic_label: str) -> str:
    return "CPC" if traffic_label == "clicks" else f"cost per {singular(traffic_label)}"


def per_variant(test: str) -> str:
    return f"per {test.lower()}" if test else "per variant"


def variant_name(test: str, variant: str) -> str:
    """'Audience' + 'B' -> 'Audience B'; long variant names stand alone."""
    return f"{test} {variant}" if test and len(variant) <= 3 else variant


def chance(probability: float) -> str:
    """0.9996 -> 'over 99.9%', 0.9952 -> '99.5%', 0.734 -> '73%'."""
    if probability > 0.999:
        return "over 99.9%"
    if probability < 0.001:
        return "under 0.1%"
    if probability > 0.99 or probability < 0.01:
        return f"{probability * 100:.1f}%"
    return f"{probability * 100:.0f}%"


def days(value: float) -> str:
    whole = max(math.ceil(value), 1)
    return f"{whole} more day" if whole == 1 else f"{whole} more days"


def agree(noun: str, plural_verb: str, singular_verb: str) -> str:
    """The verb that agrees with a metric's name: 'Purchases are', 'Revenue is' (a name ending in s is plural)."""
    return plural_verb if noun.rstrip().lower().endswith("s") else singular_verb


def plural(value: int, noun: str) -> str:
    """A count of a noun given in the singular: '1 look', '3 looks'."""
    return f"{value} {noun}" if value == 1 else f"{value} {noun}s"


# A plural's ending and its singular's: `entries` -> `entry`, `searches` -> `search`, `clicks` -> `click`
# (not `status`, `bonus`, `analysis`).
_PLURAL_ENDINGS = ((r"ies$", "y"), (r"(ch|sh|x|ss)es$", r"\1"), (r"(?<![sui'])s$", ""))


def singular(noun: str) -> str:
    """The singular of a plural label as sheets name columns: 'clicks' -> 'click', 'link clicks' -> 'link
    click', 'adds to cart' -> 'add to cart', 'checkouts initiated' -> 'checkout initiated'; 'revenue' stays.
    The last word that reads as a plural is made singular."""
    words = noun.split(" ")
    for at in range(len(words) - 1, -1, -1):
        for ending, replacement in _PLURAL_ENDINGS:
            if re.search(ending, words[at]) and len(words[at]) > 2:
                words[at] = re.sub(ending, replacement, words[at])
                return " ".join(words)
    return noun


def counted(figure: str, noun: str) -> str:
    """A figure as worded and a noun given in the plural, agreeing: '1' + 'clicks' -> '1 click',
    '2,000' + 'clicks' -> '2,000 clicks', '1.5' + 'purchases' -> '1.5 purchases'."""
    return f"{figure} {singular(noun) if figure == '1' else noun}"


def possessive(name: str) -> str:
    """'A' -> "A's", 'cheap boots' -> "cheap boots'"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def sentence(text: str) -> str:
    """Capitalise the first letter only: 'trail running shoes converts' -> 'Trail running shoes converts'."""
    return text[:1].upper() + text[1:]
