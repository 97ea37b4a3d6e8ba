"""The Slack app, built in a factory from settings: nothing connects to Slack at import time.

    app = create_app(settings, deps)                 # HTTP mode: `microopt serve` (bot.asgi), or wsgi_app
    app = create_app(settings, deps, mode="socket")  # Socket Mode: run_socket_mode(app, settings)

Threading: bolt acknowledges on the thread that received the request (`process_before_response=True`)
and runs the slow part of every command as a lazy listener on `executor`, a pool of its own
(`ANSWER_WORKERS` threads); charts are drawn and uploaded after the verdicts on `chart_executor`
(`CHART_WORKERS` threads). Concurrent commands share one sheet read through `Deps.read_tabs`, and one
analysis per read. Slack's retries are dropped in memory on the request thread and, across processes,
lose the claim the first delivery made in the shared state on the answer thread (`bot.slack.retries`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.errors import ConfigurationError
from bot.render.chart import render_chart
from bot.settings import Settings
from bot.slack.answering import AnswerWatch, CommandAnswers
from bot.slack.command_answer import DrawChart
from bot.slack.home import HomePaths, HomeTab
from bot.slack.installs import SlackWorkspaces, Uninstalls
from bot.slack.intake import Intake
from bot.slack.listeners import actions, commands, installs, plan
from bot.slack.listeners import home as home_listener
from bot.slack.retries import Deliveries, drop_repeats
from bot.slack.shared_reads import SharedReports
from bot.slack_api.client import create_web_client
from bot.slack_api.members import Members

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

logger = logging.getLogger("microopt.slack")

Mode = Literal["http", "socket"]
# Answers mostly wait (sheet, Slack). Charts are drawn once per test per sheet read (CPU work under the GIL)
# and then mostly uploaded (three calls to Slack per answer, waiting), so their pool is wider than the CPUs.
ANSWER_WORKERS = 16
CHART_WORKERS = 8
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
    """Fail at start, with one sentence naming the variable, when a Slack setting is missing or malformed. With
    installs in many workspaces, SLACK_BOT_TOKEN is optional (each workspace's token is in the database)."""
    if not settings.oauth or settings.slack_bot_token:
        check_bot_token(settings)
    if settings.oauth and mode != "http":
        raise ConfigurationError(
            "Installs in many workspaces (SLACK_CLIENT_ID) need HTTP mode, where Slack sends the browser back "
            "after an install: run microopt serve, or unset SLACK_CLIENT_ID for Socket Mode."
        )
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
@dataclass(frozen=True)
class Slack:
    """The bolt app and its answering service (whose `AnswerWatch` a serving process runs)."""

    app: App
    answering: CommandAnswers

    def watch(self, settings: Settings) -> AnswerWatch:
        """Start renewing this process's answer claims and taking over those of stopped processes."""
        return AnswerWatch(self.answering, dt.timedelta(seconds=settings.answer_lease_seconds)).start()


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
    """The bolt app with every listener registered (see `create_slack`)."""
    return create_slack(
        settings,
        deps,
        mode=mode,
        executor=executor,
        chart_executor=chart_executor,
        deliveries=deliveries,
        draw_chart=draw_chart,
    ).app


def create_slack(
    settings: Settings,
    deps: Deps,
    *,
    mode: Mode = "http",
    executor: Executor | None = None,
    chart_executor: Executor | None = None,
    deliveries: Deliveries | None = None,
    draw_chart: DrawChart | None = render_chart,
) -> Slack:
    """The bolt app with every listener registered, and its answering service.

    `executor` runs the slow part of commands (sheet, analysis, posting verdicts); `chart_executor` draws
    and uploads charts after them; `deliveries` remembers requests to drop Slack's retries in this process
    (across processes, answers are claimed in `deps.state`: `bot.slack.retries.AnswerClaims`); `draw_chart`
    draws one test's chart (None: verdicts without charts).
    """
    check_settings(settings, mode)
    answers = executor or ThreadPoolExecutor(max_workers=ANSWER_WORKERS, thread_name_prefix="microopt-answer")
    client = create_web_client(settings)
    install: dict[str, Any] = {}
    if settings.oauth:  # each request authorized with its workspace's installation (bot.slack.installs)
        from bot.slack.installs import NOT_INSTALLED, oauth_settings

        client.token = None
        install = {
            "oauth_settings": oauth_settings(settings, deps),
            "user_facing_authorize_error_message": NOT_INSTALLED,
        }
    try:
        app = App(
            client=client,
            signing_secret=settings.slack_signing_secret or "",
            # Socket Mode requests are authenticated by the app-level token's connection, not signed.
            request_verification_enabled=mode == "http",
            token_verification_enabled=False,
            process_before_response=True,
            listener_executor=answers,
            logger=bolt_logger(),
            name="microopt",
            **install,
        )
    except BoltError as error:
        raise ConfigurationError(f"The Slack app could not be built ({error}): check the SLACK_ settings.") from error
    app.use(drop_repeats(deliveries or Deliveries()))
    app.error(log_listener_error)
    charts = chart_executor or ThreadPoolExecutor(max_workers=CHART_WORKERS, thread_name_prefix="microopt-chart")
    workspaces = SlackWorkspaces(app, deps, oauth=settings.oauth)
    reports = SharedReports()  # one analysis per sheet read, for status answers and Home tabs alike
    answering = commands.register(app, deps, charts, answers, draw_chart, workspaces, reports)
    home = home_tab(deps, workspaces, reports)
    actions.register(app, deps, workspaces, home)
    plan.register(app, deps, workspaces)
    home_listener.register(app, home)
    installs.register(app, Uninstalls(app, deps))  # the manifest subscribes to them whatever the mode
    return Slack(app, answering)


def home_tab(deps: Deps, workspaces: SlackWorkspaces, reports: SharedReports) -> HomeTab:
    """The Home tab, reading sheets through `reports` (shared with status answers)."""
    return HomeTab(
        deps,
        Members(workspaces.client, deps.clock),
        reports.get,
        workspaces.home_team,
        workspaces.names,
        workspaces.default_team,
        HomePaths(deps),
    )


class _BoltLogFilter(logging.Filter):
    """What bolt would log that does not belong in microopt's log.

    - bolt warns that SLACK_BOT_TOKEN is unused whenever a client is passed; the client carries that token.
    - bolt logs the whole body of a request that failed its signature check (the legacy `token` and the
      `response_url` with it): the line keeps its first words only. (HTTP requests are checked before bolt,
      by `bot.slack.intake`, so this is a second guard.)
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "`token` will be unused" in message:
            return False
        if message.startswith("Invalid request signature detected"):
            record.msg, record.args = "Invalid request signature detected (request withheld from the log)", None
        return True


def bolt_logger() -> logging.Logger:
    """The logger bolt's own loggers copy their filters from (so create it before the App)."""
    log = logging.getLogger("microopt.slack.bolt")
    if not any(isinstance(f, _BoltLogFilter) for f in log.filters):
        log.addFilter(_BoltLogFilter())
    return log


def log_listener_error(error: Exception, body: dict[str, Any]) -> None:
    """Bolt's last resort (a listener raised): keep the traceback in the log, never the request body."""
    logger.error("a Slack listener failed for %s", body.get("command") or body.get("type"), exc_info=error)


# -- serving -------------------------------------------------------------------------------------
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def intake_for(app: App, settings: Settings, path: str = "/slack/events") -> Intake:
    return Intake(app, settings.slack_signing_secret or "", path=path, max_body=settings.max_body_kb * 1024)


def wsgi_app(intake: Intake) -> WsgiApp:
    """The WSGI application (tests' in-process server, or a WSGI server of your own): the app's path goes to
    bolt after the checks of `bot.slack.intake`, `/healthz` answers load balancers.

    `microopt serve` runs `bot.slack.asgi` instead: on a WSGI server each connection holds a thread while
    it sends its request, so a few slow clients can hold them all.
    """
    max_body = intake.max_body

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = {
            key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_LENGTH"):
            headers["content-length"] = str(environ["CONTENT_LENGTH"])
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        method, where = str(environ.get("REQUEST_METHOD", "GET")), str(environ.get("PATH_INFO", ""))
        if intake.installs(method, where):
            page = intake.install(where, str(environ.get("QUERY_STRING", "")), headers)
            start_response(
                f"{page.status} {HTTPStatus(page.status).phrase}",
                [*page.headers, ("content-length", str(len(page.body)))],
            )
            return [page.body]
        reply = intake.before_body(method, where, headers)
        if reply is None:
            raw = environ["wsgi.input"].read(min(int(headers.get("content-length") or 0), max_body + 1))
            reply = (
                intake.too_large(where)
                if len(raw) > max_body
                else intake.dispatch(raw, str(environ.get("QUERY_STRING", "")), headers)
            )
        start_response(
            f"{reply.status} {HTTPStatus(reply.status).phrase}",
            [*reply.headers, ("content-length", str(len(reply.body)))],
        )
        return [reply.body]

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
