"""`microopt serve` (HTTP mode, gunicorn) and `microopt socket` (Socket Mode)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.cli.options import DebugOption, full_tracebacks, load_deps, run_for_user
from bot.settings import Settings


def gunicorn_options(settings: Settings, port: int | None, workers: int) -> dict[str, Any]:
    return {
        "bind": f"0.0.0.0:{port or settings.port}",
        "workers": workers,
        # asyncio: a connection costs a coroutine, not a thread, while it sends its request (bot.slack.asgi).
        "worker_class": "asgi",
        # A body that stops coming for this long is given up; a worker silent this long is restarted.
        "timeout": 30,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "microopt-web",
        # No `gunicornc` socket in $HOME: two servers on one machine would share its path.
        "control_socket_disable": True,
    }


def serve_http(port: int | None = None, workers: int = 1, threads: int = 8) -> None:
    from gunicorn.app.base import BaseApplication

    from bot.asgi import create
    from bot.slack.app import check_settings, verify_bot_token

    settings = load_deps().settings
    full_tracebacks()
    check_settings(settings, "http")
    if settings.slack_bot_token:  # with installs in many workspaces there may be none
        verify_bot_token(settings)
    options = gunicorn_options(settings, port, workers)

    class WebServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            # In each worker, after the fork: clients and thread pools belong to the worker.
            return create(settings, threads=threads)

    WebServer().run()


def serve_socket() -> None:
    from bot.slack.app import check_settings, create_slack, run_socket_mode, verify_bot_token

    deps = load_deps()
    full_tracebacks()
    check_settings(deps.settings, "socket")
    verify_bot_token(deps.settings)
    slack = create_slack(deps.settings, deps, mode="socket")
    slack.watch(deps.settings)
    run_socket_mode(slack.app, deps.settings)


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        port: Annotated[int | None, typer.Option("--port", help="Port to listen on (default PORT, else 3000).")] = None,
        workers: Annotated[int, typer.Option("--workers", min=1, help="gunicorn worker processes.")] = 1,
        threads: Annotated[
            int, typer.Option("--threads", min=1, help="Threads acknowledging requests, per worker.")
        ] = 8,
        debug: DebugOption = False,
    ) -> None:
        """Run the Slack app over HTTP at /slack/events (gunicorn, asyncio workers)."""
        run_for_user(lambda: serve_http(port, workers, threads), debug)

    @app.command()
    def socket(debug: DebugOption = False) -> None:
        """Run the Slack app over Socket Mode (needs SLACK_APP_TOKEN; no public URL)."""
        run_for_user(serve_socket, debug)
