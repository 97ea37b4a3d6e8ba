"""The next test's plan: the *Plan next test* button, choices inside its modal, and *Add to sheet*.

Each is acknowledged at once on the request thread, without I/O (the submission's acknowledgement carries the
modal that says it is adding, or the errors on its names); the work is a lazy listener (`bot.slack.planning`).
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.render.actions import OPEN
from bot.render.plan import CALLBACK, LIFT, METRIC, TYPED_LIFT
from bot.slack.installs import SlackWorkspaces
from bot.slack.planning import Planner
from bot.slack.shared_reads import SharedReports

CHANGES = re.compile("^(" + "|".join(re.escape(a) for a in (LIFT, TYPED_LIFT, METRIC)) + ")$")


def register(app: App, deps: Deps, workspaces: SlackWorkspaces | None = None) -> None:
    workspaces = workspaces or SlackWorkspaces.single(app, deps)
    planner = Planner(deps, SharedReports().get, workspaces.home_team, workspaces.names)

    def acknowledge(ack: Ack) -> None:
        ack()

    def open_plan(body: dict[str, Any], client: WebClient) -> None:
        planner.open(body, client)

    def change(body: dict[str, Any], client: WebClient) -> None:
        planner.change(body, client)

    def acknowledge_submission(ack: Ack, view: dict[str, Any]) -> None:
        ack(**planner.acknowledgement(view))

    def submit(body: dict[str, Any], client: WebClient) -> None:
        planner.submit(body, client)

    app.action(OPEN)(ack=acknowledge, lazy=[open_plan])
    app.action(CHANGES)(ack=acknowledge, lazy=[change])
    app.view(CALLBACK)(ack=acknowledge_submission, lazy=[submit])
