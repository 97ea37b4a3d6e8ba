"""What commands say about decisions taken from Slack: the decision standing for each test (status shows it in
place of the buttons), and, for `/microopt sheet`, the snoozes in force and the rows the sheet still owes."""

from __future__ import annotations

import datetime as dt
import logging

from analysis.models import ActedRecord, title_of
from analysis.wording import money
from bot.decided import Standing, no_standing
from bot.deps import Deps
from bot.errors import NoDatabase
from bot.render.actions import slack_moment
from bot.render.blocks import escape
from bot.sentences import counted, mention
from bot.state.decisions import owed_rows, standing_decisions
from bot.state.history import source_id

logger = logging.getLogger("microopt.slack")


def standing_for(deps: Deps, read_at: dt.datetime | None, spec: str) -> Standing:
    """The decisions standing for the tests of the sheet `spec`; none when there is no database or it does not
    answer (the buttons are shown, and a press finds what stands)."""
    now = deps.clock()
    try:
        return standing_decisions(deps.state(), source_id(spec), now, read_at)
    except NoDatabase:
        return no_standing(now)
    except Exception:
        logger.warning("could not read the decisions standing; verdicts are shown with their buttons", exc_info=True)
        return no_standing(now)


def acted_note(record: ActedRecord | None) -> str | None:
    """The proxy check's record of calls acted on from Slack, in mrkdwn: how many the macro metric later confirmed,
    and the spend acting early saved (`analysis.backtest.acted_record`)."""
    if record is None or not record.outcomes:
        return None
    replayed = len(record.outcomes) - record.count("not_replayed")
    text = f"*Calls acted on from Slack*: {counted(len(record.outcomes), 'call')}"
    if replayed:
        text += (
            f"; the macro metric later confirmed {record.count('confirmed')} of {replayed}, contradicted "
            f"{record.count('contradicted')}, and has not called {record.count('open')} yet"
        )
    saved = [o for o in record.outcomes if o.outcome == "confirmed" and o.spend_saved is not None]
    if saved and len({o.currency for o in saved}) == 1:
        total = sum(o.spend_saved or 0.0 for o in saved)
        text += f". Acting on the confirmed ones early saved {money(total, saved[0].currency)}"
    return text + "."


def decision_notes(deps: Deps, spec: str) -> list[str]:
    """Snoozes in force on the sheet `spec`'s tests (digests leave those verdicts out) and rows waiting for its
    Decisions tab, in mrkdwn."""
    standing = standing_for(deps, None, spec)
    notes: list[str] = []
    snoozed = standing.snoozed()
    if snoozed:
        notes.append("*Snoozed*: digests leave these verdicts out until then, or until they change:")
        for d in snoozed:
            who = mention(d.user_id) or f"@{escape(d.user_name)}"
            until = slack_moment(d.until) if d.until else ""
            notes.append(
                f"• {escape(title_of(d.campaign, d.test))} — {escape(d.shown.headline or d.shown.verdict)} "
                f"until {until} (by {who})"
            )
    try:
        owed = owed_rows(deps.state(), source_id(spec))
    except NoDatabase:
        return notes
    if owed:
        error = next((e for _, _, e in owed if e), None)
        notes.append(
            f":hourglass_flowing_sand: {counted(len(owed), 'decision')} wait for the sheet's Decisions tab; "
            "microopt writes them as soon as the sheet answers"
            + (f". The sheet said: {escape(error)}" if error else ".")
        )
    return notes
