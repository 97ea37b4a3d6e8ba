"""The `microopt` command: every subcommand registered on one typer app, explicitly, in one place."""

from __future__ import annotations

import gc

import typer

from bot.cli import backtest, digest, doctor, slack, status
from bot.cli.options import terminal_logs

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Honest verdicts on your campaign tests.")


@app.callback()
def root() -> None:
    """Honest verdicts on your campaign tests, in the terminal and in Slack."""


for command_module in (status, slack, digest, backtest, doctor):
    command_module.register(app)


def main() -> None:
    terminal_logs()
    # The libraries imported by now (pandas, scipy, pydantic's schemas) live as long as the process: frozen,
    # no collection walks them again, nor the last one as the interpreter exits (0.09 s of a 0.75 s status).
    gc.freeze()
    app()
