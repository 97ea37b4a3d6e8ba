"""MICROOPT_DATE_ORDER reaches the reading of a file's Date column through `microopt status`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app

SHEET = "Date,Campaign,Variant,Clicks,Cart views (micro)\n" + "".join(
    f"{day}/12/2026,Winter,{arm},1000,{50 + int(day)}\n" for day in ("01", "02", "03") for arm in ("A", "B")
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ("MICROOPT_SHEET", "MICROOPT_DATE_ORDER", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.mark.parametrize(
    ("setting", "order", "days_by_2_december"), [(None, "month-first", 3), ("day-first", "day-first", 2)]
)
def test_the_setting_orders_a_column_that_fits_both(monkeypatch, tmp_path, setting, order, days_by_2_december):
    if setting is not None:
        monkeypatch.setenv("MICROOPT_DATE_ORDER", setting)
    sheet = tmp_path / "daily.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    options = ["--sheet", str(sheet), "--format", "json", "--no-history", "--as-of", "2026-12-02"]
    result = CliRunner().invoke(app, ["status", *options])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["tabs"][0]["date_order"] == order
    assert report["tests"][0]["days"] == days_by_2_december  # 12 Jan, Feb and Mar, or 1 and 2 Dec


def test_a_wrong_setting_names_itself(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROOPT_DATE_ORDER", "year-first")
    result = CliRunner().invoke(app, ["status", "--sheet", str(tmp_path / "x.csv")])
    assert result.exit_code == 1
    assert "MICROOPT_DATE_ORDER" in result.stderr
