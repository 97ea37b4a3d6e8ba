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
]
RESULTS = [
    ["Spring Sale", "Audience", "A", "yes", "2,000", "$840.00", 100, 8],
    ["Spring Sale", "Audience", "B", "", 2000, 840, 161, 11],
    ["Spring Sale", "Ad copy", "Free shipping", "yes", 3100, 1302, 118, 9],
    ["Spring Sale", "Ad copy", "20% off", "", 3050, 1281, 127, 10],
    ["Spring Sale", "Landing page", "Long form", "yes", 5200, 2184, 260, 21],
    ["Spring Sale", "Landing page", "Short form", "", 4800, 2016, 250, 19],
    ["Brand Search", "Keyword", "running shoes", "yes", 4000, 2400, 180, 14],
    ["Brand Search", "Keyword", "trail running shoes", "", 4000, 2680, 236, 19],
    ["Brand Search", "Keyword", "buy running shoes", "", 4000, 2520, 171, 15],
    ["Brand Search", "Bid strategy", "Manual CPC", "yes", 6000, 3300, 300, 30],
    ["Brand Search", "Bid strategy", "Target CPA", "", 6000, 3180, 306, 41],
]
DAILY_HEADER = ["Date", "Campaign", "Test", "Variant", "Sessions", "Spend", "Demo requests (micro)", "Sign-ups (macro)"]
CHANNELS = [
    ["Campaign", "Channel", "Schedule", "Timezone"],
    ["Spring Sale", "#spring-sale", "weekdays 09:00", "Europe/London"],
    ["Brand Search", "#search-team", "mon 08:30", "America/New_York"],
    ["Summer Launch", "#summer-launch", "daily 17:00", "UTC"],
]


def daily_rows() -> list[list[object]]:
    """Two weeks of a landing-page test where the new page gets 30% more demo requests."""
    rng = np.random.default_rng(2026)
    rows: list[list[object]] = []
    start = dt.date(2026, 3, 2)
    for day in range(14):
        date = start + dt.timedelta(days=day)
        for variant, demo_rate in (("Current page", 0.04), ("New page", 0.052)):
            sessions = int(rng.integers(380, 420))
            demos = int(rng.binomial(sessions, demo_rate))
            signups = int(rng.binomial(demos, 0.25))
            rows.append(
                [
                    date.isoformat(),
                    "Summer Launch",
                    "Landing page",
                    variant,
                    sessions,
                    round(sessions * 0.55, 2),
                    demos,
                    signups,
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
