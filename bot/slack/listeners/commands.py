"""`/microopt …`: acknowledged at once on the request thread; the slow part runs as a lazy listener.

With `process_before_response=True`, `acknowledge` runs on the thread serving the HTTP request (or the
Socket Mode envelope) and returns before any sheet I/O. `answer` is a lazy listener: bolt hands it to
the app's listener executor, a pool used for nothing else, so a slow sheet can queue answers but
never delay an acknowledgement. Charts are drawn and uploaded afterwards on `charts`, a small pool of
their own, so drawing (CPU work) does not hold back other channels' verdicts.

Before answering, `answer` claims the command in the shared state (`bot.slack.answering.CommandAnswers`):
a retry of it served by another process finds the claim taken and answers nothing, unless the process that
took it stopped.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from concurrent.futures import Executor
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.deps import Deps
from bot.render.chart import render_chart
from bot.slack.answering import CommandAnswers
from bot.slack.answers import Answers, first_reply
from bot.slack.command_answer import DrawChart, SlashCommand
from bot.slack.installs import SlackWorkspaces, home_team_of
from bot.slack.retries import AnswerClaims
from bot.slack.shared_reads import SharedReports

__all__ = ["COMMAND", "home_team_of", "register"]

# `/microopt`, and renamed copies such as `/microopt-staging` for a second app in the same workspace.
COMMAND = re.compile(r"^/microopt(?:-[a-z0-9_-]+)?$")
logger = logging.getLogger("microopt.slack")


def register(
    app: App,
    deps: Deps,
    charts: Executor,
    executor: Executor,
    draw_chart: DrawChart | None = render_chart,
    workspaces: SlackWorkspaces | None = None,
    reports: SharedReports | None = None,
) -> CommandAnswers:
    """`/microopt` on `app`; the answering service it uses (for `AnswerWatch`) is returned. `workspaces` gives each
    workspace's client, channel names and home (one bot token for all unless installs are on)."""
    workspaces = workspaces or SlackWorkspaces.single(app, deps)
    answers = Answers(deps, draw_chart, workspaces.home_team, workspaces.names, workspaces.default_team, reports)
    claims = AnswerClaims(deps.state, deps.clock, lease=dt.timedelta(seconds=deps.settings.answer_lease_seconds))
    answering = CommandAnswers(answers, claims, workspaces.client, charts, executor)

    def acknowledge(ack: Ack, command: dict[str, Any]) -> None:
        ack(**first_reply(SlashCommand.from_body(command)))

    def answer(command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        answering.run(command, client, respond)

    app.command(COMMAND)(ack=acknowledge, lazy=[answer])
    return answering
