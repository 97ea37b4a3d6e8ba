"""`microopt status` end to end at agency scale, each shape beside its floor measured in the same run.

The floor (benchmarks.floor) is `pandas.read_csv` plus a vectorised pooled z-test over every comparison,
in a fresh interpreter: what reading the sheet and testing every variant costs at the least. Shapes:

- 60,000 two-variant tests, one micro metric, undated (120,000 rows): JSON and text without history,
  and JSON with history (a first read into a fresh state database, then a second read over it);
- 12,000 tests of ten variants (120,000 rows), and 20,000 two-variant tests with 3 micro + 3 macro metrics;
- the dated shape of before: 2,000 tests x 30 days x 2 variants (120,000 rows).

Run: python -m benchmarks.bench_status [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.sheets import write_dated_sheet, write_undated_sheet
from benchmarks.timing import Run, median_run, without_limits

STATUS = [sys.executable, "-m", "bot", "status"]
FLOOR = [sys.executable, "-m", "benchmarks.floor"]


@dataclass(frozen=True)
class Shape:
    name: str
    tests: int
    variants: int
    micro: int
    macro: int
    full: bool = False  # also text and history


SHAPES = (
    Shape("60,000 tests x 2 variants, 1 micro", 60_000, 2, 1, 0, full=True),
    Shape("12,000 tests x 10 variants, 1 micro", 12_000, 10, 1, 0),
    Shape("20,000 tests x 2 variants, 3 micro + 3 macro", 20_000, 2, 3, 3),
)


def line(label: str, done: Run, tests: int, floor: Run | None) -> str:
    ratio = f", {done.seconds / floor.seconds:4.1f}x the floor" if floor is not None else ""
    per_test = 1000 * done.seconds / tests
    return f"  {label:<42} {done.seconds:6.2f} s  {per_test:6.3f} ms/test  peak {done.peak_mb:5.0f} MB{ratio}"


def bench_shape(shape: Shape, folder: Path, repeats: int) -> None:
    path = folder / f"{shape.tests}x{shape.variants}.csv"
    rows = write_undated_sheet(path, shape.tests, shape.variants, shape.micro, shape.macro)
    comparisons = shape.tests * (shape.variants - 1) * (shape.micro + shape.macro)
    print(f"{shape.name}: {rows:,} rows, {comparisons:,} comparisons (median of {repeats})")
    floor = median_run([*FLOOR, str(path)], repeats)
    print(line("floor (read_csv + vectorised z)", floor, shape.tests, None))
    sheet = ["--sheet", str(path)]
    json_run = median_run([*STATUS, "--format", "json", "--no-history", *sheet], repeats, cwd=str(folder))
    print(line("status --format json --no-history", json_run, shape.tests, floor))
    if not shape.full:
        return
    text = median_run([*STATUS, "--no-history", *sheet], repeats, cwd=str(folder))
    print(line("status (text, 80 columns) --no-history", text, shape.tests, floor))
    database = folder / "microopt.db"

    def fresh() -> None:
        for stale in folder.glob("microopt.db*"):
            stale.unlink()

    first = median_run([*STATUS, "--format", "json", *sheet], repeats, cwd=str(folder), before=fresh)
    print(line("status --format json, first recorded read", first, shape.tests, floor))
    again = median_run([*STATUS, "--format", "json", *sheet], repeats, cwd=str(folder))
    print(line("status --format json, a later read", again, shape.tests, floor))
    print(f"  state database after {repeats + 1} reads: {database.stat().st_size / 1e6:.0f} MB")


def main() -> None:
    without_limits()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    os.environ["COLUMNS"] = "80"  # the text report at the width of a default terminal
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for shape in SHAPES:
            bench_shape(shape, folder, repeats)
        dated = folder / "dated.csv"
        rows = write_dated_sheet(dated)
        done = median_run([*STATUS, "--format", "json", "--no-history", "--sheet", str(dated)], repeats, str(folder))
        print(f"2,000 tests x 30 days x 2 variants (dated, {rows:,} rows), median of {repeats}:")
        print(line("status --format json", done, 2_000, None))


if __name__ == "__main__":
    main()
