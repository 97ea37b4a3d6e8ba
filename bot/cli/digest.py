"""`microopt digest`, `microopt scheduler` (the Procfile's worker) and `microopt run` (one process)."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.options import DebugOption, full_tracebacks, load_deps, run_for_user
from bot.errors import SlackUnreachable, UserFacingError
from bot.settings import Settings

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

logger = logging.getLogger("microopt")


def _verbose_logs() -> None:
    """A long-running process: what it does, and its errors' tracebacks, in its log."""
    full_tracebacks()
    logging.getLogger("microopt").setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.INFO)


def _print_run(run: object, dry_run: bool) -> bool:
    """Each channel's outcome (every failed, missed or not-yet-known digest among them); True when all is well."""
    from rich.console import Console  # only for commands that print it: `status` starts faster without

    from bot.digests.notes import outcome_line, waiting_line
    from bot.digests.run import DigestRun

    assert isinstance(run, DigestRun)
    console = Console(highlight=False, soft_wrap=True)
    for outcome in run.outcomes:
        if dry_run and outcome.digest is not None:
            console.rule(f"{outcome.label} · slot {outcome.slot_at:%Y-%m-%d %H:%M} UTC", style="dim")
            sys.stdout.write(outcome.digest.text + "\n")
        else:
            console.print(outcome_line(outcome), markup=False)
    for row in run.waiting:
        console.print(waiting_line(row), markup=False)
    console.print(run.summary(), markup=False)
    return run.ok


def check_slack(settings: Settings) -> None:
    """Once, at start: SLACK_BOT_TOKEN is set and looks right, and Slack takes it (`auth.test`); otherwise one
    sentence (`ConfigurationError`, `SlackTokenRefused`, or `SlackUnreachable` when Slack did not answer)."""
    from bot.slack.app import check_bot_token
    from bot.slack_api.auth import check_token
    from bot.slack_api.client import create_worker_client

    if settings.oauth and not settings.slack_bot_token:
        return  # installs in many workspaces: each workspace's token is in the database, and used per channel
    check_bot_token(settings)
    check_token(create_worker_client(settings), settings)


def check_slack_for_a_worker(settings: Settings) -> None:
    """`check_slack` for a process that keeps running: a Slack it cannot reach yet is one log line, and the
    digests wait for it (each run tries again); a missing or refused token stops it."""
    try:
        check_slack(settings)
    except SlackUnreachable as error:
        logger.warning("%s Digests are tried again every minute until it answers.", error)


def digest_now(channel: str | None, force: bool, dry_run: bool) -> bool:
    from bot.digests.run import post_channel_digest, post_digests

    deps = load_deps()
    if channel is not None and not force:
        raise UserFacingError(
            "--channel posts that channel's digest whatever its schedule: add --force, "
            "or leave out --channel to post the digests that are due."
        )
    if force and channel is None:
        raise UserFacingError("--force needs --channel: name the channel to post to, e.g. --channel '#spring-sale'.")
    if not dry_run:  # a preview posts nothing, and reads channel names from Slack only when the sheet needs them
        check_slack(deps.settings)
    if channel is not None:
        run = post_channel_digest(deps, channel, dry_run=dry_run)
    else:
        run = post_digests(deps, dry_run=dry_run, refresh_schedules=True)
    return _print_run(run, dry_run)


def _stop_on_sigterm(stop: object) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        logger.info("stopping (signal %s); a digest in flight is finished first", signum)
        stop()  # type: ignore[operator]  # a callable

    signal.signal(signal.SIGTERM, handler)


def _ensure_state(deps: object) -> None:
    """Create or upgrade the schema before the scheduler starts; a database that does not answer is one sentence."""
    from bot.deps import Deps
    from bot.errors import DatabaseUnavailable, NoDatabase
    from bot.state.engine import NOT_ANSWERING, unavailable_sentence

    assert isinstance(deps, Deps)
    try:
        deps.state().ensure_schema()
    except NoDatabase:
        return
    except NOT_ANSWERING as error:
        raise DatabaseUnavailable(unavailable_sentence(deps.settings.database_url)) from error


class Stop:
    """Why a running scheduler stopped itself (Slack refused the token): raised by the entry point once the
    scheduler has stopped, as the process's one sentence and exit status 1."""

    def __init__(self) -> None:
        self.error: UserFacingError | None = None
        self.scheduler: BaseScheduler | None = None

    def __call__(self, error: UserFacingError) -> None:
        self.error = error
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)

    def raise_if_stopped(self) -> None:
        if self.error is not None:
            raise self.error


def run_scheduler() -> None:
    from bot.scheduler import create_scheduler
    from bot.state import redacted

    deps = load_deps()
    _verbose_logs()
    check_slack_for_a_worker(deps.settings)
    _ensure_state(deps)
    stop = Stop()
    scheduler = stop.scheduler = create_scheduler(deps, on_refused=stop)
    _stop_on_sigterm(lambda: scheduler.shutdown(wait=False))
    logger.info("scheduler started; state in %s", redacted(deps.settings.database_url))
    scheduler.start()
    stop.raise_if_stopped()


def run_single_process() -> None:
    """Socket Mode and the scheduler in one process: the small-team setup."""
    from bot.scheduler import create_scheduler
    from bot.slack.app import check_settings, connect_socket_mode, create_app
    from bot.state import redacted

    deps = load_deps()
    check_settings(deps.settings, "socket")
    _verbose_logs()
    check_slack_for_a_worker(deps.settings)
    _ensure_state(deps)
    handler = connect_socket_mode(create_app(deps.settings, deps, mode="socket"), deps.settings)
    stop = Stop()
    scheduler = stop.scheduler = create_scheduler(deps, on_refused=stop)
    _stop_on_sigterm(lambda: scheduler.shutdown(wait=False))
    logger.info("Socket Mode connected and scheduler started; state in %s", redacted(deps.settings.database_url))
    try:
        scheduler.start()
    finally:
        handler.close()  # type: ignore[no-untyped-call]  # slack_bolt leaves SocketModeHandler.close unannotated
    stop.raise_if_stopped()


def register(app: typer.Typer) -> None:
    @app.command()
    def digest(
        channel: Annotated[
            str | None, typer.Option("--channel", help="With --force: this channel (#name, name or ID).")
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Post the channel's digest now, whatever its schedule.")
        ] = (False),
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the digests instead of posting them.")] = False,
        debug: DebugOption = False,
    ) -> None:
        """Post the digests due now (missed ones within the grace period included), then exit."""
        if not run_for_user(lambda: digest_now(channel, force, dry_run), debug):
            raise typer.Exit(1)

    @app.command()
    def scheduler(debug: DebugOption = False) -> None:
        """Run the digest scheduler alone (the Procfile's worker); any number may run against PostgreSQL."""
        run_for_user(run_scheduler, debug)

    @app.command()
    def run(debug: DebugOption = False) -> None:
        """Socket Mode and the digest scheduler in one process, for small teams (needs SLACK_APP_TOKEN)."""
        run_for_user(run_single_process, debug)
