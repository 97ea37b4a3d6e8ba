"""Writes examples/campaigns.xlsx, the bundled example sheet. Run it again after editing the numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from openpyxl import Workbook

HERE = Path(__file__).parent
RESULTS_HEADER = [
    "Campaign",
    "Test",
    "Variant",
    "Control",
    "Clicks",
    "Spend",
    "Cart views (micro)",
    "Purchases (macro)",
    "Split",
]
# `Split` is filled in only where the traffic was split at random (a landing-page A/B test, a bid-strategy
# experiment): those tests have their split checked. Audiences, ads in rotation and keywords reach different
# people, and nobody planned how the clicks divide.
RESULTS = [
    ["Spring Sale", "Audience", "A", "yes", "2,000", "$840.00", 100, 8],
    ["Spring Sale", "Audience", "B", "", 2000, 840, 161, 11],
    ["Spring Sale", "Ad copy", "Free shipping", "yes", 3100, 1302, 118, 9],
    ["Spring Sale", "Ad copy", "20% off", "", 3050, 1281, 127, 10],
    # Planned 50/50, served 52/48: the split check says to fix the tracking before trusting it.
    ["Spring Sale", "Landing page", "Long form", "yes", 5200, 2184, 260, 21, "50%"],
    ["Spring Sale", "Landing page", "Short form", "", 4800, 2016, 250, 19, "50%"],
    ["Brand Search", "Keyword", "running shoes", "yes", 4000, 2400, 180, 14],
    ["Brand Search", "Keyword", "trail running shoes", "", 4000, 2680, 236, 19],
    ["Brand Search", "Keyword", "buy running shoes", "", 4000, 2520, 171, 15],
    ["Brand Search", "Bid strategy", "Manual CPC", "yes", 6000, 3300, 300, 30, "50%"],
    ["Brand Search", "Bid strategy", "Target CPA", "", 6000, 3180, 306, 41, "50%"],
    # More cart views but fewer purchases per cart view: the funnel check says do not move budget.
    ["Autumn Promo", "Headline", "Save today", "yes", 5000, 2100, 250, 30],
    ["Autumn Promo", "Headline", "Last chance", "", 5000, 2100, 340, 22],
    # Enough clicks to rule out a 10% difference either way.
    ["Autumn Promo", "Bid strategy", "Max clicks", "yes", 30000, 12600, 1500, 120, "50%"],
    ["Autumn Promo", "Bid strategy", "Target ROAS", "", 30000, 13500, 1506, 123, "50%"],
]
PAST_TESTS = [
    # Finished tests: their purchases were called, so they show how well cart views tracked purchases.
    ["Winter Sale", "Audience", "Lookalike", "yes", 600000, 252000, 30000, 2400],
    ["Winter Sale", "Audience", "Interests", "", 600000, 252000, 36000, 3100],
    ["Winter Sale", "Ad copy", "Gift guide", "yes", 500000, 210000, 25000, 2000],
    ["Winter Sale", "Ad copy", "Price first", "", 500000, 210000, 22500, 1500],
    ["Winter Sale", "Landing page", "Catalogue", "yes", 450000, 189000, 22500, 1800, "50%"],
    ["Winter Sale", "Landing page", "Single offer", "", 450000, 189000, 27000, 2500, "50%"],
    ["Winter Sale", "Keyword", "winter boots", "yes", 400000, 240000, 20000, 2000],
    ["Winter Sale", "Keyword", "cheap winter boots", "", 400000, 220000, 24000, 1500],
]
DAILY_HEADER = [
    "Date",
    "Campaign",
    "Test",
    "Variant",
    "Sessions",
    "Spend",
    "Demo requests (micro)",
    "Sign-ups (macro)",
    "Split",
]
CHANNELS = [
    ["Campaign", "Channel", "Schedule", "Timezone"],
    ["Spring Sale", "#spring-sale", "weekdays 09:00", "Europe/London"],
    ["Brand Search", "#search-team", "mon 08:30", "America/New_York"],
    ["Summer Launch", "#summer-launch", "daily 17:00", "UTC"],
]


def daily_rows() -> list[list[object]]:
    """Four weeks of two tests: a landing page split 50/50 at random with 30% more demo requests, and ad copy
    in rotation where demo requests and sign-ups both rise by a quarter (enough sign-ups that they get there
    too, later)."""
    rng = np.random.default_rng(2030)
    rows: list[list[object]] = []
    start = dt.date(2026, 3, 2)
    tests = (
        ("Landing page", 400, (("Current page", 0.04), ("New page", 0.052)), 0.25, "50%"),
        ("Ad copy", 1200, (("Try it free", 0.06), ("Book a demo", 0.075)), 0.30, None),
    )
    for day in range(28):
        date = start + dt.timedelta(days=day)
        for test, traffic, variants, signup_rate, split in tests:
            for variant, demo_rate in variants:
                sessions = int(rng.integers(int(traffic * 0.95), int(traffic * 1.05)))
                demos = int(rng.binomial(sessions, demo_rate))
                signups = int(rng.binomial(demos, signup_rate))
                rows.append(
                    [
                        date.isoformat(),
                        "Summer Launch",
                        test,
                        variant,
                        sessions,
                        round(sessions * 0.55, 2),
                        demos,
                        signups,
                        split,
                    ]
                )
    return rows


def build(path: Path = HERE / "campaigns.xlsx") -> Path:
    book = Workbook()
    results = book.active
    assert results is not None
    results.title = "Results"
    for row in [RESULTS_HEADER, *RESULTS]:
        results.append(row)
    past = book.create_sheet("Past tests")
    for row in [RESULTS_HEADER, *PAST_TESTS]:
        past.append(row)
    daily = book.create_sheet("Daily")
    for row in [DAILY_HEADER, *daily_rows()]:
        daily.append(row)
    channels = book.create_sheet("Channels")
    for row in CHANNELS:
        channels.append(row)
    notes = book.create_sheet("Notes")
    notes.append(["This tab is ignored: it has no Campaign and Variant header."])
    book.save(path)
    return path


if __name__ == "__main__":
    print(build())
