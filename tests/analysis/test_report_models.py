"""Reports built without a second validation (analysis.models.built) equal their validated copies."""

from __future__ import annotations

from pathlib import Path

from analysis.models import Report
from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from benchmarks.sheets import write_undated_sheet
from bot.sources.local import read_local

EXAMPLE = Path(__file__).parents[2] / "examples" / "campaigns.xlsx"


def assert_as_validated(report: Report) -> None:
    assert Report.model_validate(report.model_dump()) == report
    report.model_dump_json(warnings="error")  # every value of the type its field declares


def test_the_example_report_is_what_validation_makes_of_it():
    assert_as_validated(analyse(parse_workbook(read_local(str(EXAMPLE))), source="example"))


def test_a_generated_sheet_with_several_variants_and_metrics_too(tmp_path):
    path = tmp_path / "tests.csv"
    write_undated_sheet(path, tests=200, variants=3, micro=2, macro=1, seed=5)
    assert_as_validated(analyse(parse_workbook(read_local(str(path))), source="generated"))
