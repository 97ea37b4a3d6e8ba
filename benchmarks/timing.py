"""Wall-clock and peak-memory helpers shared by the benchmarks."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The limits on one read and one analysis (bot/sources/limits.py, bot/service.py) raised past every sheet of
# the benchmarks that measure microopt at scale: they time the work, not the limits (bench_big_sheet does that).
WITHOUT_LIMITS = {
    "MICROOPT_MAX_ROWS": "100000000",
    "MICROOPT_MAX_CELLS": "1000000000",
    "MICROOPT_MAX_COMPARISONS": "100000000",
}


def without_limits() -> None:
    """This process and its children read whole sheets and analyse every test (`WITHOUT_LIMITS`)."""
    os.environ.update(WITHOUT_LIMITS)


def child_env() -> dict[str, str]:
    """This process's environment as it is now (a benchmark may set COLUMNS, say), for a child that runs as
    Python does by default: a shell exporting PYTHONDONTWRITEBYTECODE would make every run compile microopt
    from source again (about 50 ms at start-up), which no user's second run pays, their bytecode cached."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    stdout: str
    cpu_seconds: float = 0.0  # user + system: less swayed than wall time by other work on the machine


def run(
    command: list[str],
    cwd: str | None = None,
    keep_output: bool = True,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> Run:
    """Runs a command to its exit (in `cwd`, where its state database, if any, is made): wall seconds, its
    peak resident memory and what it printed (unless not kept: a child forked from a process holding
    hundreds of MB of earlier output would count them in its own peak). Fails if it fails, when `check`.
    `env`: the child's whole environment (default `child_env()`)."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        target = out if keep_output else subprocess.DEVNULL
        process = subprocess.Popen(
            command, stdout=target, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env or child_env()
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if check and process.returncode != 0:
            raise subprocess.CalledProcessError(process.returncode, command, stderr=process.stderr.read())
        process.stderr.close()
        out.seek(0)
        return Run(seconds, usage.ru_maxrss / 1024, out.read(), usage.ru_utime + usage.ru_stime)


def timed(command: list[str], cwd: str | None = None) -> tuple[float, str]:
    """Seconds a command takes from start to exit, and what it printed."""
    done = run(command, cwd)
    return done.seconds, done.stdout


def median_run(
    command: list[str],
    repeats: int,
    cwd: str | None = None,
    before: Callable[[], None] | None = None,
    check: bool = True,
) -> Run:
    """The run of median time of `repeats` (each after `before`, e.g. a fresh state database)."""
    runs = []
    for _ in range(repeats):
        if before is not None:
            before()
        runs.append(run(command, cwd, keep_output=False, check=check))
    middle = statistics.median_low([r.seconds for r in runs])
    return next(r for r in runs if r.seconds == middle)


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float, what: str) -> None:
    """Until something listens on 127.0.0.1:`port`; RuntimeError naming `what` if `process` ends or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)


def first_calls(slack: Any, method: str, sent: dict[str, float], want: int, seconds: float) -> dict[str, float]:
    """Seconds from each channel's request (`sent`: channel -> time.monotonic()) to the Slack stand-in's first
    `method` call into that channel, until `want` channels have one or `seconds` run out."""
    deadline = time.monotonic() + seconds
    arrived: dict[str, float] = {}
    while len(arrived) < want and time.monotonic() < deadline:
        for call in slack.calls_to(method):
            channel = str(call.params.get("channel"))
            if channel in sent and channel not in arrived:
                arrived[channel] = call.at - sent[channel]
        time.sleep(0.05)
    return arrived
