"""The `microopt` command: every subcommand registered on one typer app, explicitly, in one place."""

from __future__ import annotations

import typer

from bot.cli import backtest, digest, slack, status
from bot.cli.options import terminal_logs

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Honest verdicts on your campaign tests.")


@app.callback()
def root() -> None:
    """Honest verdicts on your campaign tests, in the terminal and in Slack."""


for command_module in (status, slack, digest, backtest):
    command_module.register(app)


def main() -> None:
    terminal_logs()
    app()
