"""`microopt status --format json` on a Google Sheet, end to end: the installed command, in its own process,
signing in and reading over HTTP from the stand-in, configured only through the environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import EXAMPLE_SHEET
from bot.sources.local import read_local
from tests.bot.sources.conftest import EMAIL, KEY
from tests.bot.sources.test_google_read import as_google_sheet
from tests.fakes.sheets_api import rate_limited

MICROOPT = shutil.which("microopt", path=str(Path(sys.executable).parent)) or "microopt"


def microopt(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MICROOPT_", "GOOGLE_", "SLACK_"))}
    return subprocess.run(
        [MICROOPT, *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def in_process(monkeypatch, tmp_path):
    """The same command run in this process (fast), from a directory with no .env."""
    for name in list(os.environ):
        if name.startswith(("MICROOPT_", "GOOGLE_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def run(env: dict[str, str], *args: str):
        return CliRunner().invoke(app, list(args), env=env)

    return run


@pytest.fixture
def google_env(sheets_api, key_file) -> dict[str, str]:
    return {
        "MICROOPT_SHEET": f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0",
        "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
        "MICROOPT_SHEETS_ENDPOINT": sheets_api.base,
        "MICROOPT_SHEETS_ATTEMPTS": "1",
    }


def test_status_json_on_a_google_sheet_matches_the_same_data_in_a_local_file(sheets_api, google_env, tmp_path):
    sheets_api.add_spreadsheet(KEY, as_google_sheet(read_local(str(EXAMPLE_SHEET))), shared_with={EMAIL: "reader"})

    from_google = microopt("status", "--format", "json", "--no-history", cwd=tmp_path, **google_env)
    from_file = microopt("status", "--format", "json", "--no-history", "--sheet", str(EXAMPLE_SHEET), cwd=tmp_path)

    assert from_google.returncode == 0, from_google.stderr
    google_report, local_report = json.loads(from_google.stdout), json.loads(from_file.stdout)
    assert google_report["tests"] and google_report.pop("source") != local_report.pop("source")
    assert google_report == local_report
    assert [c.route for c in sheets_api.calls] == ["token", "metadata", "batchGet"]


@pytest.mark.parametrize(
    ("arrange", "expected"),
    [
        (
            lambda api: api.add_spreadsheet(KEY, {"Results": [["Campaign"]]}, shared_with={}),
            f"The Google Sheet {KEY} is not shared with microopt's service account: open the sheet, click Share, "
            f"and add {EMAIL} as a Viewer.",
        ),
        (
            lambda api: None,
            f"No Google Sheet has the key {KEY}: check MICROOPT_SHEET (copy the sheet's URL from the browser's "
            "address bar), or whether the sheet was deleted.",
        ),
        (
            lambda api: (
                api.add_spreadsheet(KEY, {"Results": [["Campaign"]]}, shared_with={EMAIL: "reader"}),
                api.fail_next("metadata", rate_limited()),
            ),
            "Google Sheets is rate-limiting microopt (HTTP 429, 1 try): wait a minute and ask again; if it keeps "
            "happening, raise MICROOPT_SHEET_CACHE_SECONDS so the sheet is read less often.",
        ),
    ],
    ids=["not-shared", "not-found", "rate-limited"],
)
def test_faults_print_one_sentence_and_no_traceback(sheets_api, google_env, in_process, arrange, expected):
    arrange(sheets_api)
    result = in_process(google_env, "status", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert " ".join(result.stderr.split()) == expected  # rich may wrap the line to the terminal width
    assert "Traceback" not in result.stderr


def test_a_missing_key_file_through_the_cli(google_env, in_process, tmp_path):
    result = in_process(dict(google_env, GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / "nope.json")), "status")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "which does not exist" in " ".join(result.stderr.split())


def test_the_installed_command_prints_a_fault_sentence_too(sheets_api, google_env, tmp_path):
    result = microopt("status", cwd=tmp_path, **google_env)  # nothing shared: the sheet is not found
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert " ".join(result.stderr.split()).startswith(f"No Google Sheet has the key {KEY}:")
