"""`microopt status`: the same analysis as the bot, in a terminal, as JSON or as the Slack payloads."""

from __future__ import annotations

import json
import os
import shutil
import sys
from enum import StrEnum
from typing import Annotated

import typer

from bot.cli.options import DebugOption, SheetOption, load_deps, one_shot, parse_day, run_for_user
from bot.service import status_report


class StatusFormat(StrEnum):
    text = "text"
    json = "json"
    slack = "slack"


def register(app: typer.Typer) -> None:
    @app.command()
    def status(
        sheet: SheetOption = None,
        campaign: Annotated[
            str | None, typer.Option("--campaign", help="Only tests whose campaign or test matches.")
        ] = None,
        output: Annotated[StatusFormat, typer.Option("--format", help="text, json, or the Slack payloads.")] = (
            StatusFormat.text
        ),
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="Only rows dated up to this day (YYYY-MM-DD).")
        ] = None,
        history: Annotated[
            bool,
            typer.Option(
                "--history/--no-history",
                help="Record this read of undated tests in the state database and decide over every recorded read.",
            ),
        ] = True,
        debug: DebugOption = False,
    ) -> None:
        """Verdicts for every test in the sheet."""
        day = parse_day(as_of)

        def run() -> None:
            with one_shot():
                report = status_report(load_deps(), sheet=sheet, query=campaign, as_of=day, record=history)
                if output is StatusFormat.json:
                    from bot.render.as_json import write_json

                    write_json(report, sys.stdout)
                elif output is StatusFormat.slack:
                    from bot.render.blocks import render_status_messages

                    sys.stdout.write(json.dumps(render_status_messages(report), indent=2) + "\n")
                else:
                    from bot.render.text import DEFAULT_WIDTH, report_text

                    width = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
                    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
                    sys.stdout.writelines(report_text(report, width, color))

        run_for_user(run, debug)
