"""Bounded work per sheet, end to end: a million-row sheet through a real `microopt status` process (one sentence,
under 1 GB), an analysis cut at MICROOPT_MAX_COMPARISONS, and a state database that grows with change, not with
reads (an identical re-read records no look: it saw nothing new, docs/methodology.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis.reading.workbook import parse_workbook
from bot.cli import app
from bot.service import first_tests
from bot.sources.local import read_local

ROOT = Path(__file__).resolve().parents[2]
# Runs `microopt` and, at exit, writes its own peak resident memory (VmHWM, kB) to the file in PEAK_FILE. Not the
# rusage of wait4: a forked child's maxrss starts at its parent's resident size, and a long test session's is ~1 GB.
PEAK_WRAPPER = """
import atexit, os, runpy, sys

def peak():
    with open("/proc/self/status") as status, open(os.environ["PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])

atexit.register(peak)
sys.argv = ["microopt", *sys.argv[1:]]
runpy.run_module("bot", run_name="__main__")
"""
LIMITS = ("MICROOPT_MAX_ROWS", "MICROOPT_MAX_CELLS", "MICROOPT_MAX_COMPARISONS")
GIGABYTE_MB = 1000


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MICROOPT_SHEET", "DATABASE_URL", *LIMITS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env, and the state database of this test alone


def write_undated(path: Path, tests: int, variants: int = 2, seed: int = 5) -> Path:
    """`tests` undated tests, one row of running totals per arm, written at numpy speed."""
    rng = np.random.default_rng(seed)
    visitors = rng.integers(2_000, 20_000, size=tests * variants)
    carts = rng.binomial(visitors, 0.05)
    index = np.arange(tests * variants)
    names = np.array([chr(ord("A") + v) for v in range(variants)])
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Campaign,Test,Variant,Visitors,Cart views (micro)\n")
        for start in range(0, len(index), 200_000):
            part = index[start : start + 200_000]
            handle.writelines(
                f"Campaign {t // 4},Test {t % 4},{v},{n},{c}\n"
                for t, v, n, c in zip(
                    (part // variants).tolist(),
                    names[part % variants].tolist(),
                    visitors[part].tolist(),
                    carts[part].tolist(),
                    strict=True,
                )
            )
    return path


def spoken(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.slow
def test_a_million_row_sheet_gets_one_sentence_and_stays_under_a_gigabyte(tmp_path: Path) -> None:
    sheet = write_undated(tmp_path / "huge.csv", tests=500_000)  # 1,000,001 rows, the 4 GB and 56 s
    env = {k: v for k, v in os.environ.items() if k not in LIMITS} | {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",  # the read is recorded, as the bot's are
        "COLUMNS": "100",
    }
    env["PEAK_FILE"] = str(tmp_path / "peak.txt")
    command = [sys.executable, "-c", PEAK_WRAPPER, "status", "--sheet", str(sheet), "--campaign", "Campaign 7 Test 1"]
    with (tmp_path / "out.txt").open("w+") as out:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.PIPE, text=True)
        _, status, _ = os.wait4(process.pid, 0)
        out.seek(0)
        text = spoken(out.read())
    assert process.stderr is not None
    errors = process.stderr.read()
    process.stderr.close()

    assert os.waitstatus_to_exitcode(status) == 0, errors
    peak_mb = int((tmp_path / "peak.txt").read_text()) / 1024
    assert peak_mb < GIGABYTE_MB, f"peak {peak_mb:.0f} MB"
    sentence = (
        "huge: only its first 100,000 rows were read, as microopt reads at most 100,000 rows and 1,000,000 cells of "
        "a sheet at a time (MICROOPT_MAX_ROWS, MICROOPT_MAX_CELLS), so rows 100,001 and below are in no verdict"
    )
    assert text.count(sentence) == 1, text[:2000]
    assert text.index(sentence) < text.index("Campaign 7 · Test 1 test")  # said before the verdicts
    assert "Traceback" not in errors and errors.strip() == ""


def test_an_analysis_takes_the_first_tests_up_to_the_comparisons_limit_and_names_the_first_left_out(
    tmp_path: Path,
) -> None:
    sheet = write_undated(tmp_path / "wide.csv", tests=10, variants=3)  # 2 comparisons per test
    data = parse_workbook(read_local(str(sheet)))

    cut = first_tests(data, limit=7)

    assert [t.test for t in cut.tests] == ["Test 0", "Test 1", "Test 2"]
    assert set(cut.traffic["test"]) == set(cut.conversions["test"]) == {"Test 0", "Test 1", "Test 2"}
    assert str(cut.problems[0]) == (
        "Campaign 0 · Test 3 test: only the first 3 of 10 tests were analysed, as microopt analyses at most 7 "
        "comparisons (a variant against its control on one metric) of a sheet at a time "
        "(MICROOPT_MAX_COMPARISONS), so this test and the ones after it have no verdict: move finished tests out "
        "of the sheet, or raise the limit where the machine has the memory"
    )
    assert first_tests(data, limit=20) is data  # within the limit: untouched


def test_the_comparisons_limit_is_said_before_the_verdicts_of_microopt_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = write_undated(tmp_path / "wide.csv", tests=10, variants=3)
    monkeypatch.setenv("MICROOPT_MAX_COMPARISONS", "7")

    result = CliRunner().invoke(app, ["status", "--sheet", str(sheet), "--no-history"])

    assert result.exit_code == 0
    text = spoken(result.stdout)
    assert "Part of the sheet was left out at microopt's limits:" in text
    assert text.index("only the first 3 of 10 tests were analysed") < text.index("Campaign 0 · Test 0 test")
    assert "Campaign 0 · Test 3 test Keep running" not in text and text.count(" test Keep running.") <= 3


def state_bytes(folder: Path) -> int:
    """The SQLite state file with its write-ahead log: what the disk holds."""
    return sum(path.stat().st_size for path in folder.glob("state.db*"))


def test_ten_identical_reads_grow_the_state_no_more_than_the_first_and_a_change_records_only_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = write_undated(tmp_path / "sheet.csv", tests=3_000)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    runner = CliRunner()
    sizes = []
    for _ in range(10):
        assert runner.invoke(app, ["status", "--sheet", str(sheet), "--format", "json"]).exit_code == 0
        sizes.append(state_bytes(tmp_path))

    assert sizes[0] > 100_000  # the first read recorded a look of every test
    assert sizes[1:] == [sizes[0]] * 9  # the same totals again: the same look, nothing written

    lines = sheet.read_text().splitlines()
    campaign, test, variant, visitors, carts = lines[1].split(",")
    lines[1] = ",".join([campaign, test, variant, str(int(visitors) + 100), str(int(carts) + 5)])
    sheet.write_text("\n".join(lines) + "\n")
    assert runner.invoke(app, ["status", "--sheet", str(sheet), "--format", "json"]).exit_code == 0

    import sqlite3

    with sqlite3.connect(tmp_path / "state.db") as db:
        looks = db.execute("SELECT campaign, test, COUNT(*) FROM microopt_looks GROUP BY 1, 2 HAVING COUNT(*) > 1")
        assert looks.fetchall() == [("Campaign 0", "Test 0", 2)]  # one test changed: one new look, of it alone
