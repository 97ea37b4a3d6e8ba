"""What every `microopt` command shares: its options, how settings are loaded, and how a failure is told
(one sentence on stderr and exit 1; a bug a short apology and exit 2)."""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError

from bot.deps import Deps, create_deps
from bot.errors import UserFacingError
from bot.settings import Settings

logger = logging.getLogger("microopt")
T = TypeVar("T")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineErrors(logging.Formatter):
    """Log lines for a terminal: an error logged with its traceback shows as its type and first line. The
    traceback is for `--debug` and for the servers' logs (`full_tracebacks`)."""

    def format(self, record: logging.LogRecord) -> str:
        if not record.exc_info or record.exc_info[1] is None:
            return super().format(record)
        error = record.exc_info[1]
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None  # another handler may still want the traceback
        try:
            first = next(iter(str(error).splitlines()), "")
            return f"{super().format(record)} ({type(error).__name__}{': ' + first if first else ''})"
        finally:
            record.exc_info, record.exc_text = saved


def terminal_logs() -> None:
    """Warnings and errors on stderr, one line each."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineErrors(LOG_FORMAT))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def full_tracebacks() -> None:
    """Tracebacks in the log: for servers, which people read in their logs, and for `--debug`."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, OneLineErrors):
            handler.setFormatter(logging.Formatter(LOG_FORMAT))


def settings_sentence(error: ValidationError) -> str:
    first = error.errors()[0]
    name = first["loc"][0] if first["loc"] else "a setting"
    return f"The setting {name} is invalid ({first['msg']}): fix it in the environment or .env."


def load_deps(setup: str | None = None) -> Deps:
    """Settings from the environment; `setup` (`--setup`) in place of MICROOPT_SETUP when given."""
    try:
        settings = Settings()
    except ValidationError as error:
        raise UserFacingError(settings_sentence(error)) from error
    return create_deps(settings.model_copy(update={"setup": setup}) if setup else settings)


def run_for_user(action: Callable[[], T], debug: bool = False) -> T:
    """Run `action`; a user-facing error becomes one sentence on stderr and exit 1, a bug a short apology."""
    if debug:
        full_tracebacks()
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


SheetOption = Annotated[
    str | None, typer.Option("--sheet", help="A .csv/.xlsx path or a Google Sheet URL or key (default MICROOPT_SHEET).")
]
SetupOption = Annotated[
    str | None,
    typer.Option(
        "--setup",
        help="A .csv of Setup rows (Column, Role, optionally Tab) that says which column plays which role, "
        "for a sheet without a Setup tab, such as a CSV export (default MICROOPT_SETUP).",
    ),
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")]
