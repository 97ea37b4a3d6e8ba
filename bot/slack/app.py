"""The Slack app, built in a factory from settings: nothing connects to Slack at import time.

    app = create_app(settings, deps)                 # HTTP mode: serve `wsgi_app(app)` with gunicorn
    app = create_app(settings, deps, mode="socket")  # Socket Mode: run_socket_mode(app, settings)

Threading: bolt acknowledges on the thread that received the request (`process_before_response=True`)
and runs the slow part of every command as a lazy listener on `executor`, a pool of its own
(`ANSWER_WORKERS` threads); charts are drawn and uploaded after the verdicts on `chart_executor`
(`CHART_WORKERS` threads). Concurrent commands share one sheet read through `Deps.read_tabs`, and one
analysis per read. Slack's retries are dropped in memory on the request thread and, across processes,
lose the claim the first delivery made in the shared state on the answer thread (`bot.slack.retries`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.errors import ConfigurationError
from bot.render.chart import render_chart
from bot.settings import Settings
from bot.slack.answers import DrawChart
from bot.slack.listeners import actions, commands
from bot.slack.retries import Deliveries, drop_repeats
from bot.slack_api.client import create_web_client

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

logger = logging.getLogger("microopt.slack")

Mode = Literal["http", "socket"]
# Answers mostly wait (sheet, Slack); charts are CPU work under the GIL, so few threads draw them.
ANSWER_WORKERS = 16
CHART_WORKERS = 2
APPS_PAGE = "https://api.slack.com/apps"

_BOT_TOKEN = re.compile(r"^xoxb-[A-Za-z0-9-]+$")
_APP_TOKEN = re.compile(r"^xapp-[A-Za-z0-9-]+$")
_SECRET = re.compile(r"^[A-Za-z0-9]{16,}$")
# Errors of auth.test that mean the token itself is wrong, not that Slack is unreachable.
TOKEN_REJECTED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})


# -- settings ------------------------------------------------------------------------------------
def _check(value: str | None, pattern: re.Pattern[str], name: str, what: str, where: str) -> None:
    if not value:
        raise ConfigurationError(f"{name} is not set: copy the {what} from {where} at {APPS_PAGE}.")
    if not pattern.match(value):
        raise ConfigurationError(f"{name} does not look like a {what}: copy it again from {where} at {APPS_PAGE}.")


def check_bot_token(settings: Settings) -> None:
    _check(
        settings.slack_bot_token,
        _BOT_TOKEN,
        "SLACK_BOT_TOKEN",
        "Bot User OAuth Token (xoxb-…)",
        "your app's OAuth & Permissions page",
    )


def check_signing_secret(settings: Settings) -> None:
    _check(
        settings.slack_signing_secret,
        _SECRET,
        "SLACK_SIGNING_SECRET",
        "Signing Secret",
        "your app's Basic Information page (App Credentials)",
    )


def check_app_token(settings: Settings) -> None:
    _check(
        settings.slack_app_token,
        _APP_TOKEN,
        "SLACK_APP_TOKEN",
        "app-level token (xapp-…, with the connections:write scope)",
        "your app's Basic Information page (App-Level Tokens)",
    )


def check_settings(settings: Settings, mode: Mode) -> None:
    """Fail at start, with one sentence naming the variable, when a Slack setting is missing or malformed."""
    check_bot_token(settings)
    if mode == "http":
        check_signing_secret(settings)
    else:
        check_app_token(settings)


def verify_bot_token(settings: Settings) -> None:
    """Ask Slack whether the bot token works; a rejected token fails start-up, an unreachable Slack only warns."""
    try:
        create_web_client(settings, timeout=5).auth_test()
    except SlackApiError as error:
        code = error.response.get("error")
        if code in TOKEN_REJECTED:
            raise ConfigurationError(
                f"Slack rejected SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token again from your app's "
                f"OAuth & Permissions page at {APPS_PAGE}, reinstalling the app if it was removed."
            ) from error
        logger.warning("auth.test failed (%s); starting anyway", code)
    except OSError as error:
        logger.warning(
            "could not reach Slack at %s to check the token (%s); starting anyway", settings.slack_api_url, error
        )


# -- the app -------------------------------------------------------------------------------------
def create_app(
    settings: Settings,
    deps: Deps,
    *,
    mode: Mode = "http",
    executor: Executor | None = None,
    chart_executor: Executor | None = None,
    deliveries: Deliveries | None = None,
    draw_chart: DrawChart | None = render_chart,
) -> App:
    """The bolt app with every listener registered.

    `executor` runs the slow part of commands (sheet, analysis, posting verdicts); `chart_executor` draws
    and uploads charts after them; `deliveries` remembers requests to drop Slack's retries in this process
    (across processes, answers are claimed in `deps.state`: `bot.slack.retries.AnswerClaims`); `draw_chart`
    draws one test's chart (None: verdicts without charts).
    """
    check_settings(settings, mode)
    try:
        app = App(
            client=create_web_client(settings),
            signing_secret=settings.slack_signing_secret or "",
            # Socket Mode requests are authenticated by the app-level token's connection, not signed.
            request_verification_enabled=mode == "http",
            token_verification_enabled=False,
            process_before_response=True,
            listener_executor=executor
            or ThreadPoolExecutor(max_workers=ANSWER_WORKERS, thread_name_prefix="microopt-answer"),
            logger=bolt_logger(),
            name="microopt",
        )
    except BoltError as error:
        raise ConfigurationError(f"The Slack app could not be built ({error}): check the SLACK_ settings.") from error
    app.use(drop_repeats(deliveries or Deliveries()))
    app.error(log_listener_error)
    charts = chart_executor or ThreadPoolExecutor(max_workers=CHART_WORKERS, thread_name_prefix="microopt-chart")
    commands.register(app, deps, charts, draw_chart)
    actions.register(app, deps)
    return app


class _DropClientTokenNotice(logging.Filter):
    """bolt warns that SLACK_BOT_TOKEN is unused whenever a client is passed; the client carries that token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def bolt_logger() -> logging.Logger:
    log = logging.getLogger("microopt.slack.bolt")
    if not any(isinstance(f, _DropClientTokenNotice) for f in log.filters):
        log.addFilter(_DropClientTokenNotice())
    return log


def log_listener_error(error: Exception, body: dict[str, Any]) -> None:
    """Bolt's last resort (a listener raised): keep the traceback in the log, never the request body."""
    logger.error("a Slack listener failed for %s", body.get("command") or body.get("type"), exc_info=error)


# -- serving -------------------------------------------------------------------------------------
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App, path: str = "/slack/events") -> WsgiApp:
    """The WSGI application for gunicorn: `path` goes to bolt, `/healthz` answers load balancers."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    handler = SlackRequestHandler(app, path=path)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if stamp is not None and not (stamp.strip().isdigit() and len(stamp.strip()) <= 12):
            # bolt would raise on int() of it (a 500 and a traceback); it is simply not a signed request.
            headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "12")]
            start_response("401 Unauthorized", headers)
            return [b"unauthorized"]
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "2")])
            return [b"ok"]
        return handler(environ, start_response)

    return application


def socket_mode_handler(app: App, settings: Settings) -> SocketModeHandler:
    """The Socket Mode handler for `app`, not yet connected (the app-level token is checked first)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    check_app_token(settings)
    return SocketModeHandler(
        app,
        app_token=settings.slack_app_token,
        web_client=create_web_client(settings, token=settings.slack_app_token),
        logger=logging.getLogger("microopt.slack.socket"),
    )


def connect_socket_mode(app: App, settings: Settings) -> SocketModeHandler:
    """Open the Socket Mode connection without blocking; `handler.close()` ends it."""
    handler = socket_mode_handler(app, settings)
    handler.connect()  # type: ignore[no-untyped-call]  # slack_bolt leaves this method unannotated
    return handler


def run_socket_mode(app: App, settings: Settings) -> None:
    """Serve the app over Socket Mode until the process is stopped."""
    socket_mode_handler(app, settings).start()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated
