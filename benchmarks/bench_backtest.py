"""Wall time of `microopt backtest --format json` on 2,000 experiments x 30 days x 2 variants (120,000 rows),
and on 1,000 experiments x 90 days (180,000 rows, target 3 s).

Side by side: the same command on the bundled example (start-up cost alone), the stages in-process
(read, parse, replay), and a naive replay that re-runs the status analysis once per day (`--as-of`), the
obvious alternative, timed on its first days and extrapolated. Target: under 30 s end to end.
Run: python -m benchmarks.bench_backtest
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from analysis.backtest import backtest
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from benchmarks.sheets import write_dated_sheet
from benchmarks.timing import timed, without_limits
from bot.sources.local import read_local

REPEATS = 3
NAIVE_DAYS = 3


def main() -> None:
    without_limits()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        rows = write_dated_sheet(path)
        command = [sys.executable, "-m", "bot", "backtest", "--format", "json", "--sheet"]
        big = [timed([*command, str(path)]) for _ in range(REPEATS)]
        small = [timed(command[:-1]) for _ in range(REPEATS)]
        result = json.loads(big[0][1])
        started = time.perf_counter()
        tabs = read_local(str(path))
        read = time.perf_counter() - started
        started = time.perf_counter()
        sheet = parse_workbook(tabs)
        parse = time.perf_counter() - started
        started = time.perf_counter()
        backtest(sheet, source=str(path))
        replay = time.perf_counter() - started
        started = time.perf_counter()
        for day in range(NAIVE_DAYS):
            analyse(sheet, source=str(path), as_of=dt.date(2026, 1, 1) + dt.timedelta(days=day))
        per_day = (time.perf_counter() - started) / NAIVE_DAYS
    comparisons = result["comparisons"]
    called = [c for c in comparisons if c["call"] is not None]
    by_kind = {
        kind: statistics.median(c["days_to_call"] for c in called if c["kind"] == kind)
        if any(c["kind"] == kind for c in called)
        else float("nan")
        for kind in ("micro", "macro")
    }
    big_median = statistics.median(t for t, _ in big)
    print(f"sheet: {rows:,} rows, {len(comparisons):,} comparisons, 30 days")
    print(f"microopt backtest --format json (120k rows): median {big_median:.1f} s of {REPEATS} runs (target < 5 s)")
    print(
        f"microopt backtest on the bundled example:     "
        f"median {statistics.median(t for t, _ in small):.1f} s (start-up)"
    )
    print(f"in-process: read {read:.1f} s, parse {parse:.1f} s, replay every day {replay:.1f} s")
    print(
        f"naive replay (status --as-of once per day): {per_day:.1f} s a day, about {per_day * 30:.0f} s for 30 days "
        f"({per_day * 30 / replay:.0f}x the vectorised replay)"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long.csv"
        long_rows = write_dated_sheet(path, experiments=1_000, days=90)
        long = [timed([*command, str(path)]) for _ in range(REPEATS)]
    print(
        f"microopt backtest --format json, 1,000 tests x 90 days ({long_rows:,} rows): "
        f"median {statistics.median(t for t, _ in long):.1f} s of {REPEATS} runs (target 3 s)"
    )
    shown = {kind: "none called" if day != day else f"{day:.0f}" for kind, day in by_kind.items()}
    print(
        f"called: {len(called):,} of {len(comparisons):,}; median day of the first call: micro {shown['micro']}, "
        f"macro {shown['macro']}"
    )


if __name__ == "__main__":
    main()
