"""Start-up: `microopt status` on the bundled example against `python -c "import pandas"`, in one run.

Beside them, the import alone of the libraries status needs (pandas, scipy.special, pydantic, typer,
openpyxl for the example's .xlsx, SQLAlchemy for its history): what is left above that line is microopt's own.

Each command is run in a fresh interpreter (`status` with its default history in a fresh folder, so it
creates its state database as a first run does), medians of REPEATS; the ratio is to the pandas import.
Run: python -m benchmarks.bench_startup [--repeats 7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks.timing import median_run

# What `status` cannot start without: the libraries it reads, tests and records with, imported and nothing run.
LIBRARIES = "import pandas, scipy.special, pydantic, pydantic_settings, typer, openpyxl, sqlalchemy"
COMMANDS = {
    'python -c "import pandas"': [sys.executable, "-c", "import pandas"],
    "import of the libraries status needs": [sys.executable, "-c", LIBRARIES],
    "microopt status (history on, first run)": [sys.executable, "-m", "bot", "status"],
    "microopt status --no-history": [sys.executable, "-m", "bot", "status", "--no-history"],
    "microopt status --format json --no-history": [
        *(sys.executable, "-m", "bot", "status"),
        *("--format", "json", "--no-history"),
    ],
}


def forget_state(folder: Path) -> None:
    for stale in folder.glob("microopt.db*"):
        stale.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    baseline = None
    print(f"start-up on the bundled example, median of {repeats}:")
    for label, command in COMMANDS.items():
        with tempfile.TemporaryDirectory() as folder:
            done = median_run(command, repeats, cwd=folder, before=lambda: forget_state(Path(folder)))
        baseline = baseline or done.seconds
        print(f"  {label:<44} {done.seconds:5.2f} s  {done.seconds / baseline:4.1f}x  peak {done.peak_mb:4.0f} MB")


if __name__ == "__main__":
    main()
