"""`microopt status`: the same analysis as the bot, in a terminal, as JSON or as the Slack payloads."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from enum import StrEnum
from typing import Annotated

import typer

from analysis.models import Report
from bot.cli.options import DebugOption, SetupOption, SheetOption, load_deps, one_shot, parse_day, run_for_user
from bot.deps import Deps
from bot.errors import UserFacingError
from bot.render.untested import untested_sentences
from bot.sentences import no_match
from bot.service import campaigns, narrow, status_report


class StatusFormat(StrEnum):
    text = "text"
    json = "json"
    slack = "slack"


def register(app: typer.Typer) -> None:
    @app.command()
    def status(
        sheet: SheetOption = None,
        setup: SetupOption = None,
        campaign: Annotated[
            str | None, typer.Option("--campaign", help="Only tests whose campaign or test matches.")
        ] = None,
        output: Annotated[StatusFormat, typer.Option("--format", help="text, json, or the Slack payloads.")] = (
            StatusFormat.text
        ),
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="Only rows dated up to this day (YYYY-MM-DD).")
        ] = None,
        channel: Annotated[
            str | None,
            typer.Option(
                "--channel",
                help="What this Slack channel sees (an ID such as C0123ABCD, or #name): its own sheet or "
                "MICROOPT_SHEET, narrowed to the campaigns routed there.",
            ),
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
        """Verdicts for every test in the sheet. Exits 1 when nothing was tested, saying why per tab."""
        day = parse_day(as_of)

        if channel is not None and sheet is not None:
            raise typer.BadParameter("--channel reads the channel's own sheet: leave out --sheet.")

        def run() -> bool:
            with one_shot():
                if channel is None:
                    whole = status_report(load_deps(setup), sheet=sheet, as_of=day, record=history)
                else:
                    whole = channel_report(load_deps(setup), channel, day, history, output)
                report = narrow(whole, campaign)
                note = no_match(campaign, campaigns(whole)) if campaign and whole.tests and not report.tests else None
                write(report, output, note)
            if report.tests:
                return True
            if output is not StatusFormat.text:  # stdout is for tools: say why on stderr too
                sys.stderr.writelines(f"{sentence}\n" for sentence in ([note] if note else untested_sentences(report)))
            return False

        if not run_for_user(run, debug):
            raise typer.Exit(1)


def channel_report(deps: Deps, channel: str, as_of: dt.date | None, record: bool, output: StatusFormat) -> Report:
    """The channel's view (`bot.cli.channel`); which sheet it reads is said on stderr for tools, before the text
    otherwise. A channel that sees nothing is one sentence and exit 1."""
    from bot.cli.channel import channel_view

    view = channel_view(deps, channel, as_of, record)
    if view.sentence is not None:
        raise UserFacingError(view.sentence)
    (sys.stdout if output is StatusFormat.text else sys.stderr).write(view.line + "\n")
    return view.report


def write(report: Report, output: StatusFormat, note: str | None) -> None:
    """`report` on stdout in the format asked for; `note` says why no test is shown when the sheet has some."""
    if output is StatusFormat.json:
        from bot.render.as_json import write_json

        write_json(report, sys.stdout)
    elif output is StatusFormat.slack:
        from bot.render.blocks import render_status_messages

        sys.stdout.write(json.dumps(render_status_messages(report, note=note), indent=2) + "\n")
    else:
        from bot.render.text import DEFAULT_WIDTH, report_text

        width = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        sys.stdout.writelines(report_text(report, width, color, note))
