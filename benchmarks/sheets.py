"""Generated campaign sheets for benchmarks: many experiments, daily rows, seeded."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

HEADER = ["Date", "Campaign", "Test", "Variant", "Clicks", "Spend", "Cart views (micro)", "Purchases (macro)"]


def write_dated_sheet(path: Path, experiments: int = 2000, days: int = 30, seed: int = 7) -> int:
    """Writes experiments x days x 2 variants rows, typed the way exports look ("1,234", "$12.50")."""
    rng = np.random.default_rng(seed)
    start = dt.date(2026, 1, 1)
    dates = [(start + dt.timedelta(days=d)).isoformat() for d in range(days)]
    base = rng.uniform(0.02, 0.08, experiments)
    lift = rng.choice([0.0, 0.0, 0.1, 0.2], experiments)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for e in range(experiments):
            clicks = rng.integers(800, 1200, size=(days, 2))
            rates = np.array([base[e], base[e] * (1 + lift[e])])
            carts = rng.binomial(clicks, rates)
            purchases = rng.binomial(carts, 0.1)
            for d in range(days):
                for v, name in enumerate(("A", "B")):
                    writer.writerow(
                        [
                            dates[d],
                            f"Campaign {e // 4}",
                            f"Test {e % 4}",
                            name,
                            f"{clicks[d, v]:,}",
                            f"${clicks[d, v] * 0.42:,.2f}",
                            carts[d, v],
                            purchases[d, v],
                        ]
                    )
                    rows += 1
    return rows
