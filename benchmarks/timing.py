"""Wall-clock helpers shared by the benchmarks."""

from __future__ import annotations

import subprocess
import time


def timed(command: list[str]) -> tuple[float, str]:
    """Seconds a command takes from start to exit, and what it printed."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout
