"""`microopt backtest`: replay every day of a dated sheet through the status decision rule."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from bot.cli.options import DebugOption, SetupOption, SheetOption, load_deps, one_shot, run_for_user
from bot.render.as_json import write_json
from bot.service import backtest_report


class BacktestFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command()
    def backtest(
        sheet: SheetOption = None,
        setup: SetupOption = None,
        output: Annotated[BacktestFormat, typer.Option("--format", help="text or json.")] = BacktestFormat.text,
        debug: DebugOption = False,
    ) -> None:
        """Replay every day of the dated tests: when each comparison was first called, and what was spent by then."""

        def run() -> None:
            with one_shot():
                result = backtest_report(load_deps(setup), sheet=sheet)
            if output is BacktestFormat.json:
                write_json(result, sys.stdout)
            else:
                from rich.console import Console

                from bot.render.backtest_text import render_backtest

                Console().print(render_backtest(result))

        run_for_user(run, debug)
