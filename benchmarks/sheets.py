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


def write_undated_sheet(
    path: Path, tests: int = 60_000, variants: int = 2, micro: int = 1, macro: int = 0, seed: int = 11
) -> int:
    """Writes tests x variants undated rows (running totals, one row per arm), `micro` and `macro` metric
    columns; returns the number of rows."""
    rng = np.random.default_rng(seed)
    names = [chr(ord("A") + v) for v in range(variants)]
    metrics = [f"Micro {m + 1} (micro)" for m in range(micro)] + [f"Macro {m + 1} (macro)" for m in range(macro)]
    # An even split of each test's traffic (a broken split would make every verdict "check tracking").
    visitors = rng.binomial(
        rng.integers(2_000, 20_000, size=(tests, 1)) * variants, 1 / variants, size=(tests, variants)
    )
    base = rng.uniform(0.02, 0.08, size=(tests, 1))
    lift = rng.choice([0.0, 0.0, 0.1, 0.2], size=(tests, variants))
    lift[:, 0] = 0.0
    rates = base * (1 + lift)
    counts = [rng.binomial(visitors, rates * (0.1 if m >= micro else 1.0)) for m in range(len(metrics))]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Campaign", "Test", "Variant", "Visitors", *metrics])
        for t in range(tests):
            for v in range(variants):
                writer.writerow(
                    [f"Campaign {t // 4}", f"Test {t % 4}", names[v], visitors[t, v], *(c[t, v] for c in counts)]
                )
    return tests * variants


ROW_LEVEL_HEADER = ["user_id", "timestamp", "group", "landing_page", "added_to_cart", "converted"]


def write_row_level_sheet(path: Path, rows: int = 1_000_000, days: int = 21, seed: int = 13) -> int:
    """Writes an analytics export of one row per user, shaped like Udacity's ab_data.csv: user_id (about 1%
    seen twice), a timestamp over `days` days, group control/treatment, the landing_page each group was
    meant to see (about 1% disagree), and two 0/1 outcomes; returns the number of rows."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.arange(100_000, 100_000 + rows * 2))[:rows]
    repeated = rng.random(rows) < 0.01
    ids[repeated] = ids[rng.integers(0, rows, int(repeated.sum()))]
    treatment = rng.random(rows) < 0.5
    seconds = np.sort(rng.integers(0, days * 86_400, rows))
    stamps = (np.datetime64("2017-01-02T00:00:00") + seconds.astype("timedelta64[s]")).astype(str)
    micros = rng.integers(0, 1_000_000, rows)
    page = treatment ^ (rng.random(rows) < 0.01)
    cart = rng.random(rows) < np.where(treatment, 0.31, 0.30)
    converted = cart & (rng.random(rows) < np.where(treatment, 0.40, 0.39))
    group = np.where(treatment, "treatment", "control")
    landing = np.where(page, "new_page", "old_page")
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(",".join(ROW_LEVEL_HEADER) + "\n")
        for start in range(0, rows, 100_000):
            part = slice(start, start + 100_000)
            lines = [
                f"{i},{s.replace('T', ' ')}.{m:06d},{g},{p},{int(a)},{int(c)}\n"
                for i, s, m, g, p, a, c in zip(
                    ids[part].tolist(),
                    stamps[part].tolist(),
                    micros[part].tolist(),
                    group[part].tolist(),
                    landing[part].tolist(),
                    cart[part].tolist(),
                    converted[part].tolist(),
                    strict=True,
                )
            ]
            handle.writelines(lines)
    return rows
