"""Comparisons per second: the vectorised core against a per-comparison statsmodels loop, same data.

Run: python -m benchmarks.bench_core
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from analysis.stats.proportions import compare_proportions

COMPARISONS = 100_000
LOOP_SAMPLE = 5_000
REPEATS = 5


def tables(n: int, seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    nc, nv = rng.integers(1_000, 50_000, n), rng.integers(1_000, 50_000, n)
    pc = rng.uniform(0.01, 0.1, n)
    return nc, rng.binomial(nc, pc), nv, rng.binomial(nv, pc * rng.uniform(0.8, 1.3, n))


def statsmodels_loop(nc, xc, nv, xv) -> None:
    for i in range(len(nc)):
        proportions_ztest([xv[i], xc[i]], [nv[i], nc[i]])
        confint_proportions_2indep(xv[i], nv[i], xc[i], nc[i], compare="ratio", method="score", correction=True)


def median_seconds(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    nc, xc, nv, xv = tables(COMPARISONS)
    core = median_seconds(lambda: compare_proportions(nc, xc, nv, xv), REPEATS)
    sample = slice(0, LOOP_SAMPLE)
    loop = median_seconds(lambda: statsmodels_loop(nc[sample], xc[sample], nv[sample], xv[sample]), 3)
    core_rate = COMPARISONS / core
    loop_rate = LOOP_SAMPLE / loop
    print(
        f"vectorised core     : {COMPARISONS:,} comparisons in {core * 1000:.0f} ms (median of {REPEATS}) "
        f"= {core_rate:,.0f} comparisons/s"
    )
    print(
        f"statsmodels loop    : {LOOP_SAMPLE:,} comparisons in {loop * 1000:.0f} ms (median of 3) "
        f"= {loop_rate:,.0f} comparisons/s"
    )
    print(f"speed-up            : {core_rate / loop_rate:,.0f}x")


if __name__ == "__main__":
    main()
