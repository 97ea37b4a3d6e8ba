"""A 1,000,000-row sheet through this code and the code before bounded reads, side by side in one run.

- the sheet: 500,000 undated two-variant tests, one row of running totals per arm (1,000,001 rows, 35 MB): the
  shape that costs most per row, every two rows a test, each a comparison;
- `microopt status` (a real process, the read recorded in a SQLite state file as every read is; the output
  narrowed to one test with `--campaign`, the whole sheet read and analysed), READS identical reads: median wall
  and CPU seconds, the largest peak memory, and the state file (with its write-ahead log) after each read;
- the web worker: a real `microopt serve` answering a signed `/microopt status <one test>` from the loopback
  Slack stand-in: seconds to the verdict, peak memory of its processes after the chart, and again after a
  second command that reads the sheet again (MICROOPT_SHEET_CACHE_SECONDS=0), which the process answers
  while it still holds the first answer's report;
- what the answer says first, under its heading.

Before: the merge base with main (`--before`), extracted with `git archive`, run with its own tree on sys.path.
Run: python -m benchmarks.bench_big_sheet [--rows 1000000] [--reads 10] [--before REF]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench_digest import extract
from benchmarks.sheets import write_undated_sheet
from benchmarks.timing import Run, child_env, run, wait_for_port

REPO = Path(__file__).resolve().parents[1]
QUERY = "Campaign 7 Test 1"
LIMITS = ("MICROOPT_MAX_ROWS", "MICROOPT_MAX_CELLS", "MICROOPT_MAX_COMPARISONS")


@dataclass
class Figures:
    status: list[Run] = field(default_factory=list)  # each read
    state_mb: list[float] = field(default_factory=list)  # after each read
    web_seconds: float = 0.0
    web_peak_mb: float = 0.0
    web_peak_again_mb: float = 0.0
    said: str = ""


def env_for(code: Path, **extra: str) -> dict[str, str]:
    """A child's environment: the default limits (none set), the tree `code` first on sys.path."""
    env = {k: v for k, v in child_env().items() if k not in LIMITS and not k.startswith("SLACK_")}
    return env | {"PYTHONPATH": str(code), **extra}


def state_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.glob("state.db*")) / 1e6


def status_reads(code: Path, sheet: Path, reads: int, work: Path, figures: Figures) -> None:
    command = [sys.executable, "-m", "bot", "status", "--sheet", str(sheet), "--campaign", QUERY]
    env = env_for(code, DATABASE_URL=f"sqlite:///{work / 'state.db'}")
    for index in range(reads):
        done = run(command, cwd=str(work), keep_output=False, env=env)
        figures.status.append(done)
        figures.state_mb.append(state_mb(work))
        print(f"  read {index + 1}: {done.seconds:.1f} s, state {figures.state_mb[-1]:.1f} MB", flush=True)


# -- the web worker ------------------------------------------------------------------------------------------
def tree(pid: int) -> list[int]:
    """`pid` and every process under it (gunicorn's master and its workers)."""
    found = [pid]
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += tree(int(child))
    return found


def peak_mb(pid: int) -> float:
    """The largest peak resident memory (VmHWM) among the processes of `pid`'s tree."""
    peaks = [0.0]
    for process in tree(pid):
        try:
            status = Path(f"/proc/{process}/status").read_text()
        except OSError:
            continue
        peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM")]
    return max(peaks)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def web_answers(code: Path, sheet: Path, work: Path, figures: Figures) -> None:
    from tests.bot.slack.harness import BOT_TOKEN, SIGNING_SECRET, command_body, post, signed_headers
    from tests.fakes.slack_api import SlackStandIn

    with SlackStandIn(token=BOT_TOKEN) as slack:
        port = free_port()
        env = env_for(
            code,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            MICROOPT_SHEET=str(sheet),
            MICROOPT_SHEET_CACHE_SECONDS="0",
            DATABASE_URL=f"sqlite:///{work / 'web.db'}",
            PORT=str(port),
        )
        web = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_port(port, web, 60, "microopt serve")
            for answer in (1, 2):
                body = command_body(slack, f"status {QUERY}")
                sent = time.monotonic()
                post(f"http://127.0.0.1:{port}/slack/events", body, signed_headers(body), timeout=30)
                while len(slack.calls_to("chat.postMessage")) < answer:
                    if web.poll() is not None:
                        raise RuntimeError("microopt serve stopped")
                    time.sleep(0.05)
                verdict = slack.calls_to("chat.postMessage")[answer - 1]
                chart_deadline = time.monotonic() + 60
                while len(slack.calls_to("files.completeUploadExternal")) < answer:
                    if time.monotonic() > chart_deadline:
                        break
                    time.sleep(0.05)
                if answer == 1:
                    figures.web_seconds = verdict.at - sent
                    figures.web_peak_mb = peak_mb(web.pid)
                    figures.said = str(verdict.params.get("text", "")).splitlines()[1][:110]
                else:
                    figures.web_peak_again_mb = peak_mb(web.pid)
        finally:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(timeout=60)


def measure(label: str, code: Path, sheet: Path, reads: int, folder: Path) -> Figures:
    figures = Figures()
    print(f"{label}: microopt status x {reads}", flush=True)
    work = folder / f"{label}-status"
    work.mkdir()
    status_reads(code, sheet, reads, work, figures)
    print(f"{label}: the web worker", flush=True)
    work = folder / f"{label}-web"
    work.mkdir()
    web_answers(code, sheet, work, figures)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=10)
    parser.add_argument("--before", default="merge-base", help="the git ref to compare with")
    args = parser.parse_args()
    before = args.before
    if before == "merge-base":
        before = subprocess.run(
            ["git", "-C", str(REPO), "merge-base", "HEAD", "main"], check=True, capture_output=True, text=True
        ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sheet = folder / "huge.csv"
        rows = write_undated_sheet(sheet, tests=args.rows // 2)
        old = extract(before, folder / "before")
        results = {
            label: measure(label, code, sheet, args.reads, folder) for label, code in (("before", old), ("after", REPO))
        }

    b, a = results["before"], results["after"]

    def median(figures: Figures, name: str) -> float:
        return statistics.median(getattr(done, name) for done in figures.status)

    def peak(figures: Figures) -> float:
        return max(done.peak_mb for done in figures.status)

    print(
        f"\n{rows + 1:,}-row sheet ({rows // 2:,} undated two-variant tests), before = {before[:10]}, "
        f"after = the default limits"
    )
    table = [
        (f"status: wall s, median of {args.reads}", f"{median(b, 'seconds'):.1f}", f"{median(a, 'seconds'):.1f}"),
        (
            f"status: CPU s, median of {args.reads}",
            f"{median(b, 'cpu_seconds'):.1f}",
            f"{median(a, 'cpu_seconds'):.1f}",
        ),
        ("status: peak MB, the largest", f"{peak(b):,.0f}", f"{peak(a):,.0f}"),
        ("state file after read 1, MB", f"{b.state_mb[0]:.1f}", f"{a.state_mb[0]:.1f}"),
        (
            f"state file growth, reads 2-{args.reads}, MB",
            f"{b.state_mb[-1] - b.state_mb[0]:.2f}",
            f"{a.state_mb[-1] - a.state_mb[0]:.2f}",
        ),
        ("web worker: s to the verdict", f"{b.web_seconds:.1f}", f"{a.web_seconds:.1f}"),
        ("web worker: peak MB", f"{b.web_peak_mb:,.0f}", f"{a.web_peak_mb:,.0f}"),
        ("web worker: peak MB, second read", f"{b.web_peak_again_mb:,.0f}", f"{a.web_peak_again_mb:,.0f}"),
    ]
    print(f"{'':36} {'before':>10} {'after':>10}")
    for name, old_figure, new_figure in table:
        print(f"{name:36} {old_figure:>10} {new_figure:>10}")
    print(f"the answer's line under its heading, before: {b.said!r}")
    print(f"the answer's line under its heading, after:  {a.said!r}")


if __name__ == "__main__":
    main()
