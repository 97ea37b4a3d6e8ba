"""`microopt status` end to end on local sheets: text, the JSON contract, and one-sentence failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()
COMPARISON_KEYS = {
    "variant",
    "metric",
    "kind",
    "control_visitors",
    "control_conversions",
    "variant_visitors",
    "variant_conversions",
    "control_rate",
    "variant_rate",
    "lift",
    "lift_ci",
    "p_value",
    "test_used",
    "significant",
    "visitors_needed",
    "call",
    "called_on",
    "decision_p_value",
    "looks",
}
TEST_KEYS = {"campaign", "test", "control", "srm_p_value", "verdict", "summary", "comparisons", "status", "path"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ("MICROOPT_SHEET", "MICROOPT_ALPHA", "MICROOPT_MIN_DAYS", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def status(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["status", *args])
    return result.exit_code, result.stdout, result.stderr


def test_text_report_on_the_example_sheet_leads_with_the_spring_sale_test_and_calls_the_dated_tab(monkeypatch):
    """One total per test waits for reads and says why; the Daily tab's days are called. With
    MICROOPT_MIN_DAYS=1 the single total is called, saying what it assumes."""
    code, out, _ = status()
    text = " ".join(out.split())
    assert code == 0
    assert "Spring Sale · Audience test Keep running. Too early to call: one total cannot show" in text
    assert "Summer Launch · Landing page test Move budget to New page." in text
    monkeypatch.setenv("MICROOPT_MIN_DAYS", "1")
    code, out, _ = status("--no-history")
    text = " ".join(out.split())
    assert "Spring Sale · Audience test Move budget to B." in text
    assert "Audience B converts 61% better than A on cart views (8.1% vs 5.0%, likely +1% to +157%)" in text
    assert "One total shows no day-to-day variation, so this call assumes each click converts independently" in text


def test_json_follows_the_contract():
    code, out, _ = status("--format", "json")
    assert code == 0
    report = json.loads(out)
    assert set(report) >= {"source", "tests", "problems"}
    assert report["source"].endswith("campaigns.xlsx")
    assert len(report["tests"]) >= 6
    for test in report["tests"]:
        assert set(test) >= TEST_KEYS
        assert test["verdict"] in {"move_budget", "keep_running", "no_difference", "conflict", "check_tracking"}
        for comparison in test["comparisons"]:
            assert set(comparison) >= COMPARISON_KEYS
            assert comparison["kind"] in {"micro", "macro"} and comparison["test_used"] in {"z", "fisher"}
            assert len(comparison["lift_ci"]) == 2
            assert 0 <= comparison["p_value"] <= 1
    spring = next(t for t in report["tests"] if (t["campaign"], t["test"]) == ("Spring Sale", "Audience"))
    cart = next(c for c in spring["comparisons"] if c["metric"] == "Cart views")
    assert (cart["control_conversions"], cart["variant_conversions"]) == (100, 161)
    assert cart["lift"] == pytest.approx(0.61)
    assert spring["verdict"] == "keep_running" and spring["reason"] == "too_early"
    landing = next(t for t in report["tests"] if (t["campaign"], t["test"]) == ("Spring Sale", "Landing page"))
    assert landing["verdict"] == "check_tracking" and landing["srm_p_value"] < 0.01
    assert landing["split"] == [0.5, 0.5] and spring["split"] is None and spring["srm_p_value"] is None


def test_a_csv_with_a_messy_cell_is_still_analysed(tmp_path):
    sheet = tmp_path / "results.csv"
    sheet.write_text(
        "Campaign,Variant,Clicks,Cart views (micro)\nSpring,A,2000,100\nSpring,B,2000,161\nSpring,B,50,1O2\n",
        encoding="utf-8",
    )
    code, out, _ = status("--sheet", str(sheet), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["problems"] == [{"cell": "results!D4", "message": '"1O2" is not a number; row left out'}]
    assert report["tests"][0]["comparisons"][0]["variant_conversions"] == 161


EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"


def test_an_export_with_fractional_conversions_marks_those_comparisons_in_text_and_json(monkeypatch):
    monkeypatch.setenv("MICROOPT_MIN_DAYS", "1")  # a single total called: the words of a call
    sheet = str(EXPORTS / "google_ads_conversion_action.csv")
    code, out, _ = status("--sheet", sheet, "--no-history")
    assert code == 0
    text = " ".join(out.split())
    assert "Read google_ads_conversion_action: Google Ads export · variant = Ad group" in text
    assert "* fractional conversions (an attribution model's credit): see docs/methodology.md" in text
    assert "Purchase is not called yet (87.5 vs 61.5)" in text  # a singular metric gets a singular verb
    code, out, _ = status("--sheet", sheet, "--no-history", "--format", "json")
    comparisons = json.loads(out)["tests"][0]["comparisons"]
    assert [(c["metric"], c["fractional"], c["variant_conversions"]) for c in comparisons] == [
        ("Add to cart", False, 339),
        ("Purchase", True, 87.5),
    ]


def test_campaign_filter():
    code, out, _ = status("--campaign", "brand", "--format", "json")
    assert code == 0
    assert {t["campaign"] for t in json.loads(out)["tests"]} == {"Brand Search"}


def test_an_unreadable_sheet_is_one_sentence_and_exit_code_1(tmp_path):
    code, _, err = status("--sheet", str(tmp_path / "missing.xlsx"))
    assert code == 1
    assert "No sheet at" in err and "Traceback" not in err
    assert err.strip().count("\n") == 0 or len(err.strip().splitlines()) <= 2


def test_a_file_that_is_not_a_sheet_gets_a_sentence(tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not really a workbook")
    code, _, err = status("--sheet", str(broken))
    assert code == 1
    assert "Could not read broken.xlsx" in err and "Traceback" not in err


def test_a_bad_setting_names_itself(monkeypatch):
    monkeypatch.setenv("MICROOPT_ALPHA", "often")
    code, _, err = status()
    assert code == 1
    assert "MICROOPT_ALPHA" in err and "Traceback" not in err


def test_a_bad_as_of_date_is_a_usage_error():
    result = runner.invoke(app, ["status", "--as-of", "yesterday"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr


def test_python_dash_m_bot_runs_the_same_cli():
    completed = subprocess.run(
        [sys.executable, "-m", "bot", "status", "--format", "json", "--campaign", "spring"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert completed.returncode == 0, completed.stderr
    assert {t["campaign"] for t in json.loads(completed.stdout)["tests"]} == {"Spring Sale"}


def test_a_database_that_cannot_be_opened_is_one_line_on_stderr_and_one_problem_in_the_report(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "status",
            "--sheet",
            str(Path(__file__).resolve().parents[2] / "examples" / "campaigns.xlsx"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/a-file/state.db"},
    )
    assert completed.returncode == 0, completed.stderr
    told = [line for line in completed.stderr.splitlines() if line]
    assert len(told) == 1 and "state database unavailable" in told[0] and "FileExistsError" in told[0]
    assert "State database: microopt could not read its record of earlier looks" in " ".join(completed.stdout.split())


def test_status_records_its_look_in_the_default_state_database_and_keeps_the_call(tmp_path, monkeypatch):
    """Run twice in one folder: the second read finds the first's look in ./microopt.db, and the example's
    call (single totals allowed) carries the moment it was made; `--no-history` reads alone and says the
    verdict rests on one look."""
    monkeypatch.setenv("MICROOPT_MIN_DAYS", "1")
    code, out, _ = status("--format", "json")
    assert code == 0 and (tmp_path / "microopt.db").exists()
    first = json.loads(out)["tests"][0]
    code, out, _ = status("--format", "json")
    second = json.loads(out)["tests"][0]
    assert first["path"] == second["path"] == "looks"
    cart = second["comparisons"][0]
    assert cart["call"] == "better" and cart["called_on"] == first["comparisons"][0]["called_on"] is not None
    assert cart["looks"] == 1 and cart["decision_p_value"] < 0.05
    code, out, _ = status("--format", "json", "--no-history")
    alone = json.loads(out)["tests"][0]
    assert alone["path"] == "one_look" and alone["comparisons"][0]["called_on"] is None
    assert "This rests on one look" in alone["summary"]


@pytest.mark.parametrize(
    ("options", "unused"),
    [
        (["--no-history"], ("scipy.stats", "sqlalchemy", "rich", "slack_sdk", "gspread", "matplotlib")),
        (["--format", "json"], ("scipy.stats", "rich", "slack_sdk", "gspread", "matplotlib")),
    ],
)
def test_status_on_the_example_imports_nothing_it_does_not_use(tmp_path, options, unused):
    """Start-up is mostly imports: none for a path the command does not take."""
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['microopt', 'status', *{options!r}]\n"
        "try:\n"
        "    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {unused!r} or m in {unused!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_command_freezes_what_its_imports_made_so_no_collection_walks_it_again(tmp_path):
    """Without the freeze every collection, the last at exit included, walks pandas', scipy's and pydantic's
    objects: 0.09 s of a 0.75 s status. The frozen ones are those that existed before the command ran."""
    code = (
        "import gc, sys, runpy\n"
        "sys.argv = ['microopt', 'status', '--no-history']\n"
        "try:\n"
        "    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    frozen, still_collected = map(int, done.stdout.split()[-2:])
    assert frozen > 50_000  # the libraries' objects (about 80,000 with pandas 3, scipy and pydantic)
    assert still_collected < frozen  # what the command itself made stays collectable


def test_terminal_log_lines_name_an_error_in_one_line_and_leave_the_traceback_to_other_handlers():
    import logging

    from bot.cli.options import LOG_FORMAT, OneLineErrors

    try:
        raise OSError("disk gone\nsecond line")
    except OSError:
        record = logging.LogRecord("microopt", logging.WARNING, __file__, 1, "could not record", None, sys.exc_info())
    terse = OneLineErrors(LOG_FORMAT).format(record)
    assert terse.endswith("could not record (OSError: disk gone)") and "\n" not in terse
    assert "Traceback" in logging.Formatter(LOG_FORMAT).format(record)  # another handler still gets it


# -- nothing silent: exit 1 and a sentence whenever nothing was tested ---------------------------------
def workbook_without_a_usable_tab(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Notes"
    sheet.append(["Idea", "Owner"])
    sheet.append(["Try a new audience", "Sam"])
    book.save(path)
    return path


@pytest.fixture(params=["empty", "header only", "no usable tab"])
def untestable(request, tmp_path) -> Path:
    if request.param == "empty":
        (tmp_path / "empty.csv").write_text("", encoding="utf-8")
        return tmp_path / "empty.csv"
    if request.param == "header only":
        (tmp_path / "header.csv").write_text("Campaign,Variant,Clicks,Cart views (micro)\n", encoding="utf-8")
        return tmp_path / "header.csv"
    return workbook_without_a_usable_tab(tmp_path / "notes.xlsx")


def test_a_sheet_with_nothing_tested_exits_1_with_its_output_and_a_sentence_per_tab(untestable):
    from bot.sentences import NO_TESTS

    code, out, err = status("--sheet", str(untestable), "--no-history", "--format", "json")
    assert code == 1
    report = json.loads(out)  # the JSON contract is still written, whole
    assert report["tests"] == []
    said = [t["summary"] for t in report["tabs"] if not t["read"] and t["summary"]] or [NO_TESTS]
    assert err.splitlines() == said
    code, out, err = status("--sheet", str(untestable), "--no-history")
    assert code == 1 and err == ""
    assert all(" ".join(sentence.split()) in " ".join(out.split()) for sentence in said)
    code, out, _ = status("--sheet", str(untestable), "--no-history", "--format", "slack")
    assert code == 1 and json.loads(out)[0]["blocks"][0]["type"] == "header"


def test_a_campaign_that_matches_no_test_says_so_and_lists_the_campaigns():
    expected = (
        "No campaign or test matches “nosuch”. The campaigns in the sheet are “Spring Sale”, “Brand Search”, "
        "“Autumn Promo”, “Winter Sale”, “Summer Launch”."
    )
    code, out, err = status("--campaign", "nosuch", "--no-history")
    assert code == 1
    assert expected in " ".join(out.split()) and "No tests found" not in out
    code, out, err = status("--campaign", "nosuch", "--no-history", "--format", "json")
    assert code == 1 and json.loads(out)["tests"] == []
    assert err.startswith(expected)


# -- --setup and MICROOPT_SETUP --------------------------------------------------------------------------
JUNK_HEADERS = "Campaign,Cohort,Visits,Signups\nSpring,A,2000,100\nSpring,B,2000,161\n"
SETUP_ROWS = "Column,Role\nCohort,variant\nVisits,traffic\nSignups,macro\n"


def test_setup_maps_a_csv_whose_headers_are_not_recognised(tmp_path, monkeypatch):
    sheet, setup = tmp_path / "junk.csv", tmp_path / "setup.csv"
    sheet.write_text(JUNK_HEADERS, encoding="utf-8")
    setup.write_text(SETUP_ROWS, encoding="utf-8")
    code, _, _ = status("--sheet", str(sheet), "--no-history")
    assert code == 1
    code, out, _ = status("--sheet", str(sheet), "--no-history", "--setup", str(setup), "--format", "json")
    assert code == 0
    [test] = json.loads(out)["tests"]
    assert [(c["metric"], c["variant_conversions"], c["control_conversions"]) for c in test["comparisons"]] == [
        ("Signups", 161, 100)
    ]
    monkeypatch.setenv("MICROOPT_SETUP", str(setup))
    code, out, _ = status("--sheet", str(sheet), "--no-history", "--format", "json")
    assert code == 0 and len(json.loads(out)["tests"]) == 1


@pytest.mark.parametrize("command", ["status", "backtest"])
def test_a_missing_setup_file_is_one_sentence_naming_it_and_exit_1(tmp_path, command):
    result = runner.invoke(app, [command, "--setup", str(tmp_path / "nosuch.csv")])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith(f"No Setup file at {tmp_path / 'nosuch.csv'}: give --setup")
    assert "Traceback" not in result.stderr


def test_a_missing_setup_file_in_the_environment_names_it_too(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROOPT_SETUP", str(tmp_path / "gone.csv"))
    code, _, err = status("--no-history")
    assert code == 1 and f"No Setup file at {tmp_path / 'gone.csv'}" in err


# -- problems: the Channels tab's too, and a count per kind first ------------------------------------------
def test_a_bad_schedule_cell_is_a_problem_of_status_in_text_and_json(tmp_path):
    from tests.bot.slack.harness import RESULTS, write_book

    routes = [["Campaign", "Channel", "Schedule"], ["Spring Sale", "#spring-sale", "0 9 * * 8"]]
    book = write_book(tmp_path / "bad-schedule.xlsx", RESULTS, routes)
    code, out, _ = status("--sheet", str(book), "--no-history", "--format", "json")
    assert code == 0
    [problem] = [p for p in json.loads(out)["problems"] if p["cell"] == "Channels!C2"]
    assert "0 9 * * 8" in problem["message"]
    code, out, _ = status("--sheet", str(book), "--no-history")
    assert "Channels!C2:" in out


def test_many_bad_cells_are_counted_per_kind_before_the_verdicts_and_listed_after(tmp_path):
    sheet = tmp_path / "results.csv"
    rows = ["Campaign,Variant,Clicks,Cart views (micro)", "Spring,A,2000,100", "Spring,B,2000,161"]
    rows += [f"Spring,B,50,1O{n}" for n in range(40)] + ["Spring,A,,3"] * 5
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = status("--sheet", str(sheet), "--no-history")
    assert code == 0
    lines = out.splitlines()
    summary = lines.index("45 cells need a look (45 rows left out):")
    assert lines[summary + 1 : summary + 3] == [
        "  40 × not a number, row left out: results!D4, D5, D6 …",
        "  5 × Clicks is empty, row left out: results!C44, C45, C46 …",
    ]
    verdict = lines.index("Spring")
    every = lines.index("Every cell that needs a look:")
    assert summary < verdict < every and len(lines[every + 1 :]) >= 45
