"""Wall-clock helpers shared by the benchmarks."""

from __future__ import annotations

import subprocess
import time


def timed(command: list[str], cwd: str | None = None) -> tuple[float, str]:
    """Seconds a command takes from start to exit, and what it printed (run in `cwd`, where its state
    database, if any, is made)."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=cwd)
    return time.perf_counter() - started, done.stdout
