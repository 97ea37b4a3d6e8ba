"""Wall time of `microopt status --format json` on a generated 120,000-row sheet, end to end.

Side by side: the same command on the bundled example sheet (start-up cost alone), and the stages
(read, parse, analyse) measured in-process. Run: python -m benchmarks.bench_status
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from analysis.report import analyse
from analysis.sheet import parse_workbook
from benchmarks.sheets import write_dated_sheet
from benchmarks.timing import timed
from bot.sources.local import read_local

REPEATS = 3


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        rows = write_dated_sheet(path)
        command = [sys.executable, "-m", "bot", "status", "--format", "json", "--sheet"]
        big = [timed([*command, str(path)], cwd=folder) for _ in range(REPEATS)]
        small = [timed(command[:-1], cwd=folder) for _ in range(REPEATS)]
        report = json.loads(big[0][1])
        stages = {"read": 0.0, "parse": 0.0, "analyse": 0.0}
        started = time.perf_counter()
        tabs = read_local(str(path))
        stages["read"] = time.perf_counter() - started
        started = time.perf_counter()
        sheet = parse_workbook(tabs)
        stages["parse"] = time.perf_counter() - started
        started = time.perf_counter()
        analyse(sheet, source=str(path))
        stages["analyse"] = time.perf_counter() - started
    comparisons = sum(len(t["comparisons"]) for t in report["tests"])
    big_median = statistics.median(t for t, _ in big)
    small_median = statistics.median(t for t, _ in small)
    print(
        f"120k-row sheet      : {rows:,} rows, {len(report['tests']):,} tests, {comparisons:,} comparisons, "
        f"{len(report['problems'])} problems"
    )
    print(f"status --format json: {big_median:.2f} s end to end (median of {REPEATS}; target < 5 s)")
    print(f"example sheet       : {small_median:.2f} s (start-up and imports alone)")
    print("stages in-process   : " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))


if __name__ == "__main__":
    main()
