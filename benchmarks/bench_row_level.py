"""A million-row row-level CSV through `microopt status`, side by side with the obvious alternative and with
the code before row-level files were read, in one run; and the parse of bench_status's 120,000-row shapes
before and after.

- the file: benchmarks.sheets.write_row_level_sheet, shaped like Udacity's ab_data.csv (user_id, timestamp,
  group, landing_page, added_to_cart, converted; 1% of users seen twice), 1,000,000 rows, 57 MB;
- microopt: `python -m bot status --sheet FILE --format json --no-history` (users counted once per group,
  by day, both outcomes tested with the sequential rule over 21 daily looks);
- the obvious alternative: `pandas.read_csv` of the four columns it needs, a groupby that counts each user
  once per group (converted if any row is), and a pooled z-test per outcome, undated;
- before: the same command in a temporary `git worktree` of BEFORE (outside this repository, removed after),
  run with its own tree first on sys.path;
- 120,000 rows: bench_status's shapes, `parse_workbook(read_local(FILE))` timed in-process (median of at
  least 5 after a warm-up, the cyclic collector off as the command runs) in a fresh interpreter per tree,
  twice each, alternately; the run of less CPU of the two is shown.

Wall seconds, CPU seconds (user + system) and peak resident memory of each child, the run of median wall time
of REPEATS: on a busy machine the wall time grows, the CPU time much less.
Run: python -m benchmarks.bench_row_level [--repeats 3] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from benchmarks.bench_status import SHAPES
from benchmarks.sheets import write_dated_sheet, write_row_level_sheet, write_undated_sheet
from benchmarks.timing import Run, median_run, run, without_limits

BEFORE = "9060e35"  # the last commit before row-level files were read
REPO = Path(__file__).resolve().parents[1]
STATUS = [sys.executable, "-m", "bot", "status", "--format", "json", "--no-history", "--sheet"]
PARSE = """
import gc, statistics, sys, time
from analysis.reading.workbook import parse_workbook
from bot.sources.local import read_local
path, repeats = sys.argv[1], int(sys.argv[2])
parse_workbook(read_local(path))
walls, cpus = [], []
for _ in range(repeats):
    gc.collect()
    gc.disable()
    wall, cpu = time.perf_counter(), time.process_time()
    parse_workbook(read_local(path))
    walls.append(time.perf_counter() - wall)
    cpus.append(time.process_time() - cpu)
    gc.enable()
print(statistics.median(walls), statistics.median(cpus))
"""


def alternative(path: str) -> int:
    """What an analyst would write: read the columns, count users once per group, z-test each outcome."""
    frame = pd.read_csv(path, usecols=["user_id", "group", "added_to_cart", "converted"])
    users = frame.groupby(["group", "user_id"]).max()
    arms = users.groupby(level="group").agg(["sum", "size"])
    control = arms.loc["control"]
    tested = 0
    for outcome in ("added_to_cart", "converted"):
        for arm in arms.index.drop("control"):
            xc, nc = control[(outcome, "sum")], control[(outcome, "size")]
            xv, nv = arms.loc[arm, (outcome, "sum")], arms.loc[arm, (outcome, "size")]
            pooled = (xc + xv) / (nc + nv)
            z = (xv / nv - xc / nc) / np.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nv))
            special.ndtr(-abs(z))
            tested += 1
    return tested


def line(label: str, done: Run, first: Run | None = None) -> str:
    figures = f"{done.seconds:6.2f} s (CPU {done.cpu_seconds:5.2f} s)  peak {done.peak_mb:6.0f} MB"
    if first is not None:
        figures += f"  {done.seconds / first.seconds:5.1f}x the time, {done.peak_mb / first.peak_mb:4.1f}x the memory"
    return f"  {label:<48} {figures}"


def parse_seconds(tree: Path, path: Path, repeats: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of parsing `path` with the code of `tree`."""
    done = run([sys.executable, "-c", PARSE, str(path), str(repeats)], cwd=str(tree))
    wall, cpu = done.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def main() -> None:
    without_limits()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--alternative", help=argparse.SUPPRESS)  # the alternative's child process
    options = parser.parse_args()
    if options.alternative:
        print(alternative(options.alternative))
        return
    repeats = options.repeats
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        before = folder / f"microopt-{BEFORE}"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(before), BEFORE], check=True)
        try:
            sheet = folder / "row_level.csv"
            rows = write_row_level_sheet(sheet, options.rows)
            print(f"{rows:,}-row row-level CSV ({sheet.stat().st_size / 1e6:.0f} MB), median of {repeats}:")
            now = median_run([*STATUS, str(sheet)], repeats, cwd=str(REPO))
            print(line("microopt status --format json --no-history", now))
            other = [sys.executable, "-m", "benchmarks.bench_row_level", "--alternative", str(sheet)]
            print(line("pandas read_csv + groupby + z-test (undated)", median_run(other, repeats, cwd=str(REPO)), now))
            then = median_run([*STATUS, str(sheet)], repeats, cwd=str(before), check=False)
            print(line(f"microopt status before ({BEFORE}): reads nothing", then, now))

            parses = max(5, repeats)
            print(f"parse_workbook(read_local(...)) on bench_status's shapes, median of {parses} in-process:")
            shapes = [
                (shape.name, lambda p, s=shape: write_undated_sheet(p, s.tests, s.variants, s.micro, s.macro))
                for shape in SHAPES
            ]
            shapes.append(("2,000 tests x 30 days x 2 variants (dated)", write_dated_sheet))
            for label, write in shapes:
                path = folder / "shape.csv"
                write(path)
                # Before, now, before, now: a busy spell of the machine falls on both.
                runs = [parse_seconds(tree, path, parses) for tree in (before, REPO, before, REPO)]
                old = min(runs[0], runs[2], key=lambda r: r[1])
                new = min(runs[1], runs[3], key=lambda r: r[1])
                print(
                    f"  {label:<48} before {old[0]:5.2f} s (CPU {old[1]:5.2f} s)  now {new[0]:5.2f} s "
                    f"(CPU {new[1]:5.2f} s)  {new[1] / old[1]:4.2f}x the CPU"
                )
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)], check=True)


if __name__ == "__main__":
    main()
