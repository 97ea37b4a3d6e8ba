"""docs/deploy.md and the Procfile stay true: every variable they set is one microopt reads, every `microopt`
command they run exists, and the worker's environment holds the token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
READ_ELSEWHERE = {"GOOGLE_APPLICATION_CREDENTIALS"}  # a Settings field too, by google-auth's own name


def settings_names() -> set[str]:
    return {str(field.validation_alias) for field in Settings.model_fields.values() if field.validation_alias}


def test_every_variable_the_deploy_guide_names_is_a_setting() -> None:
    named = set(re.findall(r"\b((?:MICROOPT|SLACK|GOOGLE)_[A-Z_]+|DATABASE_URL|PORT)\b", DEPLOY))
    assert named, "the guide names no variable"
    assert named - settings_names() - READ_ELSEWHERE == set()
    assert "GOOGLE_APPLICATION_CREDENTIALS" in settings_names()


def commands_in(text: str) -> set[str]:
    return set(re.findall(r"\bmicroopt (serve|scheduler|socket|run|digest|doctor|status|backtest)\b", text))


@pytest.mark.parametrize("command", sorted(commands_in(DEPLOY) | commands_in((ROOT / "Procfile").read_text())))
def test_every_command_the_guide_and_procfile_run_exists(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output


def test_the_procfile_runs_the_web_and_the_worker() -> None:
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert {name: command.strip() for name, command in lines.items()} == {
        "web": "microopt serve",
        "worker": "microopt scheduler",
    }


def test_the_guide_says_the_worker_needs_the_token() -> None:
    row = next(line for line in DEPLOY.splitlines() if line.startswith("| `SLACK_BOT_TOKEN`"))
    web, worker, one = (cell.strip() for cell in row.strip("|").split("|")[1:4])
    assert web == "yes" and one == "yes" and worker.startswith("**yes")
