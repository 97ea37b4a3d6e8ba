"""The `microopt` command: the same analysis as the bot, in a terminal."""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError

from bot.deps import Deps, create_deps
from bot.errors import UserFacingError
from bot.service import status_report
from bot.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Honest verdicts on your campaign tests.")
logger = logging.getLogger("microopt")
T = TypeVar("T")


class StatusFormat(StrEnum):
    text = "text"
    json = "json"
    slack = "slack"


def settings_sentence(error: ValidationError) -> str:
    first = error.errors()[0]
    name = first["loc"][0] if first["loc"] else "a setting"
    return f"The setting {name} is invalid ({first['msg']}): fix it in the environment or .env."


def load_deps() -> Deps:
    try:
        return create_deps(Settings())
    except ValidationError as error:
        raise UserFacingError(settings_sentence(error)) from error


def run_for_user(action: Callable[[], T], debug: bool = False) -> T:
    """Run `action`; a user-facing error becomes one sentence on stderr and exit 1, a bug a short apology."""
    try:
        return action()
    except UserFacingError as error:
        from rich.console import Console
        from rich.markup import escape

        Console(stderr=True, soft_wrap=True).print(f"[red]{escape(str(error))}[/red]", highlight=False)
        raise typer.Exit(1) from error
    except Exception as error:
        if debug:
            raise
        logger.debug("unexpected error", exc_info=True)
        from rich.console import Console

        Console(stderr=True, soft_wrap=True).print(
            f"[red]microopt hit an unexpected error ({type(error).__name__}); run again with --debug for details.[/red]"
        )
        raise typer.Exit(2) from error


@contextmanager
def one_shot() -> Iterator[None]:
    """A command that runs once makes hundreds of thousands of objects on a large sheet and frees them at
    the end: the cyclic garbage collector, run meanwhile, would only slow it (by 40% of the analysis)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-09.") from error


@app.callback()
def root() -> None:
    """Honest verdicts on your campaign tests, in the terminal and in Slack."""


SheetOption = Annotated[
    str | None, typer.Option("--sheet", help="A .csv/.xlsx path or a Google Sheet URL or key (default MICROOPT_SHEET).")
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")]


@app.command()
def status(
    sheet: SheetOption = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Only tests whose campaign or test matches.")
    ] = None,
    output: Annotated[StatusFormat, typer.Option("--format", help="text, json, or the Slack payloads.")] = (
        StatusFormat.text
    ),
    as_of: Annotated[str | None, typer.Option("--as-of", help="Only rows dated up to this day (YYYY-MM-DD).")] = None,
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
                from bot.render.text import DEFAULT_WIDTH, render_report

                width = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
                color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
                sys.stdout.write(render_report(report, width, color))

    run_for_user(run, debug)


# Commands owned by other modules: each module has `register(app)`; add one line per module here.
COMMAND_MODULES: tuple[str, ...] = ("bot.cli_slack", "bot.cli_digest", "bot.cli_backtest")


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_commands()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()
