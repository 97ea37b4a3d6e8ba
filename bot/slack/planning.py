"""Planning the next test from Slack: `/microopt plan [campaign]`, the *Plan next test* button's modal, and *Add to
sheet*.

- The button opens a modal at once (`views.open` with the press's trigger ID, a "Working it out…" view), then
  reads the sheet and puts the plan in it (`views.update`): a trigger ID lives 3 seconds, a sheet read may not.
- Choosing a lift or a metric in the modal recomputes the plan (`views.update` with the view's hash).
- *Add to sheet* (`view_submission`) is acknowledged with a view that says it is adding; then who may act is checked
  (the buttons' rules, `bot.slack.decisions.presses`), the submission is claimed once in the shared state (a repeat or a
  retry of it, in any process, adds nothing), and the rows are added (`Deps.add_test`, one request). The modal then
  says what was added, or in one sentence why not and what to add by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from analysis.models import Report, SheetData
from analysis.plan import TestPlan, lift_choices, plan_test
from bot.channel_sheets import sheet_for
from bot.deps import Deps
from bot.errors import NoDatabase, UserFacingError
from bot.render.actions import OPEN
from bot.render.blocks import escape
from bot.render.plan import (
    CONTROL_BLOCK,
    LIFT,
    METRIC,
    NAME_INPUT,
    NAMES_BLOCK,
    TYPED_LIFT,
    VARIANT_BLOCK,
    PlanForm,
    by_hand,
    render_message_view,
    render_plan_view,
)
from bot.service import decision_settings
from bot.slack.decisions.presses import Presses
from bot.slack_api.directory import ChannelNames
from bot.sources.planned_tests import Added, NewTest

logger = logging.getLogger("microopt.slack")

Reports = Callable[[Deps, str], tuple[SheetData, Report]]
TITLE = "Plan next test"
WORKING = "Working out the next test from the sheet…"
ADDING = "Adding the test to the sheet…"
SUBMISSIONS_KEPT = dt.timedelta(days=1)


def no_plan(campaign: str) -> str:
    return f"The sheet has no test of “{escape(campaign)}” to plan from: check the campaign's name in the sheet."


def added_sentence(new: NewTest, added: Added) -> str:
    planned = "" if added.planned_written or not new.planned else f" Add {new.planned:,} as its Planned visitors."
    return (
        f"Added “{escape(new.test)}” ({escape(new.control)} vs {escape(new.variant)}) to {escape(added.cells)}: "
        f"fill in the numbers as they come.{planned}"
    )


REFUSED_ROWS = {
    "exists": "“{test}” is already in the sheet for “{campaign}”, so nothing was added: pick another name.",
    "no_tab": ("“{campaign}” is read from an ad platform's export, which has no place for a new test: {by_hand}"),
    "no_test_column": "The campaign's tab has no Test column to tell the new test from the old: {by_hand}",
}


def next_name(data: SheetData, campaign: str) -> str:
    """`Test 3` for a campaign with two tests (a name the sheet does not have yet)."""
    taken = {spec.test.lower() for spec in data.tests if spec.campaign.lower() == campaign.lower()}
    number = len(taken) + 1
    while f"test {number}" in taken:
        number += 1
    return f"Test {number}"


def _values(view: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return dict((view.get("state") or {}).get("values") or {})


def typed_name(view: Mapping[str, Any], block: str) -> str:
    value = (_values(view).get(block) or {}).get(NAME_INPUT) or {}
    return " ".join(str(value.get("value") or "").split())


class Planner:
    """The plan for one app: its deps, the shared analysis of each sheet read, and the buttons' access rules."""

    def __init__(
        self,
        deps: Deps,
        reports: Reports,
        home_team: Callable[[str | None], str | None],
        channel_names: Callable[[str | None], ChannelNames],
    ) -> None:
        self.deps = deps
        self.reports = reports
        self.access = Presses(deps, home_team, channel_names)

    def plan(self, spec: str, campaign: str, lift: float) -> tuple[SheetData, TestPlan | None]:
        data, report = self.reports(self.deps, spec)
        return data, plan_test(data, report, campaign, lift, decision_settings(self.deps))

    @property
    def lifts(self) -> tuple[float, ...]:
        return lift_choices(self.deps.settings.minimum_effect)

    # -- the button ----------------------------------------------------------------------------------
    def open(self, body: Mapping[str, Any], client: WebClient) -> None:
        """Open the modal at once, then fill it in."""
        action = (body.get("actions") or [{}])[0]
        campaign = str(action.get("value") or "")
        user = body.get("user") or {}
        team = user.get("team_id") or (body.get("team") or {}).get("id")
        channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id") or ""
        form = PlanForm(campaign, str(channel), self.deps.settings.minimum_effect, team_id=team)
        try:
            opened = client.views_open(
                trigger_id=str(body.get("trigger_id", "")), view=render_message_view(TITLE, WORKING)
            )
        except SlackApiError as error:
            logger.warning("views.open failed: %s", error.response.get("error"))
            return
        view_id = str((opened.get("view") or {}).get("id", ""))
        shown_here = any(
            element.get("action_id") == OPEN and element.get("value") == campaign
            for block in (body.get("message") or {}).get("blocks") or ()
            for element in block.get("elements") or ([block["accessory"]] if "accessory" in block else [])
        )
        self._show(client, view_id, None, lambda: self._form_view(form, str(user.get("id", "")), shown_here))

    # -- inside the modal ------------------------------------------------------------------------------
    def change(self, body: Mapping[str, Any], client: WebClient) -> None:
        """A lift or a metric chosen in the modal: the plan again, in the same modal."""
        view = body.get("view") or {}
        form = PlanForm.from_metadata(str(view.get("private_metadata", "")))
        action = (body.get("actions") or [{}])[0]
        if form is None:
            return
        if action.get("action_id") == LIFT:
            form = _with(form, lift=_float((action.get("selected_option") or {}).get("value"), form.lift))
        elif action.get("action_id") == TYPED_LIFT:
            form = _with(form, lift=_float(action.get("value"), form.lift * 100) / 100)
        elif action.get("action_id") == METRIC:
            form = _with(form, metric=(action.get("selected_option") or {}).get("value"))
        user = str((body.get("user") or {}).get("id", ""))
        self._show(client, str(view.get("id", "")), view.get("hash"), lambda: self._form_view(form, user, True))

    def _form_view(self, form: PlanForm, user_id: str, shown_here: bool) -> dict[str, Any]:
        chosen = sheet_for(self.deps, form.channel_id)
        refusal = self.access.access_refusal(user_id, form.team_id, form.channel_id, form.campaign, chosen, shown_here)
        if refusal is not None:
            return render_message_view(TITLE, refusal, form)
        data, plan = self.plan(chosen.spec, form.campaign, form.lift)
        if plan is None:
            return render_message_view(TITLE, no_plan(form.campaign))
        return render_plan_view(plan, form, self.lifts, next_name(data, plan.campaign))

    def _show(
        self, client: WebClient, view_id: str, view_hash: str | None, build: Callable[[], dict[str, Any]]
    ) -> None:
        """`views.update` with what `build` makes; a failure becomes one sentence in the modal."""
        try:
            view = build()
        except NoDatabase as error:
            view = render_message_view(TITLE, escape(error))
        except UserFacingError as error:
            view = render_message_view(TITLE, f":warning: {escape(error)}")
        except Exception as error:
            reference = secrets.token_hex(3)
            logger.exception("planning failed (reference %s)", reference)
            view = render_message_view(
                TITLE,
                f"microopt could not plan that (an unexpected {type(error).__name__}, reference {reference}): try "
                "again in a minute, and if it keeps failing give that reference to whoever runs microopt.",
            )
        try:
            client.views_update(view_id=view_id, hash=view_hash, view=view)
        except SlackApiError as error:
            # hash_conflict: a later choice already updated the modal, which shows that one.
            logger.info("views.update of a plan failed: %s", error.response.get("error"))

    # -- Add to sheet ----------------------------------------------------------------------------------
    @staticmethod
    def acknowledgement(view: Mapping[str, Any]) -> dict[str, Any]:
        """What the submission's ack carries (no I/O): errors on the names, else the modal saying it is adding."""
        names = {block: typed_name(view, block) for block in (NAMES_BLOCK, CONTROL_BLOCK, VARIANT_BLOCK)}
        errors = {block: "Give it a name." for block, name in names.items() if not name}
        if not errors and names[CONTROL_BLOCK].lower() == names[VARIANT_BLOCK].lower():
            errors[VARIANT_BLOCK] = "The variant needs a name of its own."
        if errors:
            return {"response_action": "errors", "errors": errors}
        form = PlanForm.from_metadata(str(view.get("private_metadata", "")))
        return {"response_action": "update", "view": render_message_view(TITLE, ADDING, form)}

    def submit(self, body: Mapping[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        if "errors" in self.acknowledgement(view):
            return
        form = PlanForm.from_metadata(str(view.get("private_metadata", "")))
        if form is None:
            return
        user = body.get("user") or {}
        view_id = str(view.get("id", ""))
        new = NewTest(
            form.campaign,
            typed_name(view, NAMES_BLOCK),
            typed_name(view, CONTROL_BLOCK),
            typed_name(view, VARIANT_BLOCK),
        )
        if not self._first_submission(view_id, form, new):
            return  # a repeat of a submission this or another process is adding
        team = user.get("team_id") or (body.get("team") or {}).get("id") or form.team_id

        def result() -> dict[str, Any]:
            chosen = sheet_for(self.deps, form.channel_id)
            refusal = self.access.access_refusal(
                str(user.get("id", "")), team, form.channel_id, form.campaign, chosen, True
            )
            if refusal is not None:
                return render_message_view(TITLE, refusal)
            planned = self._planned(chosen.spec, form)
            full = NewTest(new.campaign, new.test, new.control, new.variant, planned)
            try:
                added = self.deps.add_test(chosen.spec, full)
            except UserFacingError as error:
                return render_message_view(
                    TITLE, f":warning: {escape(error)} Nothing was added; to add it yourself, {by_hand(full)}"
                )
            if added.outcome != "added":
                sentence = REFUSED_ROWS[added.outcome].format(
                    test=escape(full.test), campaign=escape(full.campaign), by_hand=by_hand(full)
                )
                return render_message_view(TITLE, sentence)
            return render_message_view("Added to the sheet", added_sentence(full, added))

        self._show(client, view_id, None, result)

    def _planned(self, spec: str, form: PlanForm) -> int | None:
        """The plan's visitors per arm on the metric the test runs on (the chosen or recommended micro metric)."""
        try:
            _, plan = self.plan(spec, form.campaign, form.lift)
        except UserFacingError:
            return None
        chosen = plan.metric(form.metric) or plan.metric(plan.recommended) if plan is not None else None
        return chosen.planned if chosen is not None else None

    def _first_submission(self, view_id: str, form: PlanForm, new: NewTest) -> bool:
        """Claims this submission in the shared state: False when a process already has it. Without a database the
        sheet's own check remains (a test already there is not added again)."""
        key = f"plan:{view_id}:{form.attempt}:{new.campaign}:{new.test}".lower()
        try:
            return self.deps.state().claim_answer(key, self.deps.clock(), SUBMISSIONS_KEPT) is not None
        except NoDatabase:
            return True
        except Exception:
            logger.warning("could not claim a plan's submission; adding it anyway", exc_info=True)
            return True


def _float(value: object, default: float) -> float:
    try:
        number = float(str(value))
    except ValueError:
        return default
    return number if math.isfinite(number) and number > 0 else default


def _with(form: PlanForm, **changes: Any) -> PlanForm:
    from dataclasses import replace

    return replace(form, **changes)
