"""Where `microopt status --format json` spends its time on the 60,000-test sheet, stage by stage, beside the
floor (benchmarks.floor: `read_csv` plus a vectorised z-test) measured in the same run.

Each stage is timed in this process, medians of REPEATS, after one warm-up, without the cyclic collector as
the command runs: reading and checking the cells (every cell, so that a bad one is named by its A1
reference), the comparison table (statistics and the sequential decision over every comparison, vectorised),
the verdicts (per test: rules, wording, the report's models), and writing the JSON. The import cost is timed
in fresh interpreters: the libraries status needs, and all of microopt's modules that status imports. The
sum of the stages that do not depend on how verdicts are built shows how close the whole can come to the
floor.

Run: python -m benchmarks.bench_stages [--repeats 3]
"""

from __future__ import annotations

import argparse
import gc
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_startup import LIBRARIES
from benchmarks.floor import z_test_everything
from benchmarks.sheets import write_undated_sheet
from benchmarks.timing import median_run, without_limits
from bot.cli.options import one_shot

TESTS = 60_000


def median_seconds(work: Callable[[], Any], repeats: int) -> float:
    """Median seconds of `work`, timed as the command runs it: without the cyclic collector (one_shot), the
    garbage of the run before collected first."""
    work()  # warm-up: first calls compile regexes and fill caches
    times = []
    for _ in range(repeats):
        gc.collect()
        with one_shot():
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    without_limits()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats

    from analysis.decision import DecisionSettings
    from analysis.reading.workbook import parse_workbook
    from analysis.report import analyse, comparison_table
    from bot.render.as_json import write_json
    from bot.settings import Settings
    from bot.sources import read_tabs

    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "sheet.csv"
        write_undated_sheet(path, TESTS, 2, 1, 0)
        whole = median_run([sys.executable, "-m", "benchmarks.floor", str(path)], repeats).seconds
        floor_in_process = median_seconds(lambda: z_test_everything(str(path)), repeats)
        imports = {
            "libraries status needs": median_run([sys.executable, "-c", LIBRARIES], repeats).seconds,
            "microopt's modules (libraries included)": median_run(
                [sys.executable, "-c", "import bot.cli.app, bot.service, bot.render.as_json"], repeats
            ).seconds,
            'python -c "import pandas"': median_run([sys.executable, "-c", "import pandas"], repeats).seconds,
        }
        settings = DecisionSettings()
        app_settings = Settings()
        currency = app_settings.currency
        sheet = parse_workbook(read_tabs(str(path), app_settings), currency=currency)
        report = analyse(sheet, source=str(path), settings=settings)
        stages = {
            "read and check every cell": median_seconds(
                lambda: parse_workbook(read_tabs(str(path), app_settings), currency=currency), repeats
            ),
            "comparison table (vectorised statistics)": median_seconds(
                lambda: comparison_table(sheet, settings=settings), repeats
            ),
            "whole analysis (table + verdicts + models)": median_seconds(
                lambda: analyse(sheet, source=str(path), settings=settings), repeats
            ),
            "write the JSON": median_seconds(lambda: write_json(report, io.StringIO()), repeats),
        }

    print(f"{TESTS:,} two-variant tests, one micro metric, undated (median of {repeats}, this process)")
    print(f"  floor end to end (fresh interpreter)            {whole:6.2f} s")
    print(f"  floor in this process (read_csv + z-test)       {floor_in_process:6.2f} s")
    for label, seconds in imports.items():
        print(f"  import: {label:<40} {seconds:6.2f} s  {seconds / whole:4.1f}x the floor")
    for label, seconds in stages.items():
        print(f"  {label:<48} {seconds:6.2f} s  {seconds / whole:4.1f}x the floor")
    verdicts = stages["whole analysis (table + verdicts + models)"] - stages["comparison table (vectorised statistics)"]
    per_test = 1e6 * verdicts / TESTS
    print(f"  of which verdicts, wording and models           {verdicts:6.2f} s  {per_test:4.0f} us per test")
    fixed = (
        imports["microopt's modules (libraries included)"]
        + stages["read and check every cell"]
        + stages["comparison table (vectorised statistics)"]
        + stages["write the JSON"]
    )
    print(f"  imports + cells + table + JSON, without verdicts {fixed:6.2f} s  {fixed / whole:4.1f}x the floor")


if __name__ == "__main__":
    main()
