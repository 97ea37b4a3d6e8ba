"""The tables behind acting on verdicts from Slack: every decision, and the rows they owe the sheet.

In the same `MetaData` as `bot.state.tables`, created by `create_all` like them (schema version 8; `bot.state.
schema` imports this module so they exist before the first decision). A decision's key is its test and its
place in that test's sequence (`seq`): of two presses racing for the same place, in one process or several,
the unique constraint lets exactly one in, and the other finds it standing (`bot.state.decisions`).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from bot.state.tables import UtcDateTime, metadata

# One row per press that decided something: budget moved, stopped, snoozed, keep running; `undone_at` once
# undone. `shown` is the verdict the button carried, with its numbers (JSON of bot.decided.VerdictShown).
decisions = Table(
    "microopt_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),  # SHA-256 of the sheet's key or path (bot.state.history)
    Column("campaign", String(300), nullable=False),
    Column("test", String(300), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("action", String(10), nullable=False),
    Column("choice", String(12), nullable=False),
    Column("until", UtcDateTime, nullable=True),
    Column("signature", Text, nullable=False),
    Column("shown", Text, nullable=False),
    Column("user_id", String(40), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("team_id", String(40), nullable=True),
    Column("channel_id", String(40), nullable=False),
    Column("message_ts", String(40), nullable=True),
    Column("message", Text, nullable=True),  # the message's blocks as last updated, to update it again
    Column("decided_at", UtcDateTime, nullable=False),
    Column("undone_at", UtcDateTime, nullable=True),
    Column("undone_by", String(40), nullable=True),
    Column("undone_by_name", String(200), nullable=True),
    UniqueConstraint("source", "campaign", "test", "seq", name="microopt_decisions_place"),
)
Index("microopt_decisions_decided", decisions.c.source, decisions.c.decided_at)

# What the sheet is owed: the decision's row in the Decisions tab (and its Status cells), or the row saying
# it was undone (and the Status cells put back). pending → writing (leased) → written; a pending decision
# row undone before it was written is dropped; `local` for a sheet that is a file.
decision_writes = Table(
    "microopt_decision_writes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", Integer, ForeignKey("microopt_decisions.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # decision | undo
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("retry_at", UtcDateTime, nullable=True),
    Column("worker", String(200), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),  # the sheet's last sentence, for the log and /microopt sheet
    Column("status_cells", Text, nullable=True),  # JSON [[tab, row, column, value before]] written as done
    Column("written_at", UtcDateTime, nullable=True),
    UniqueConstraint("decision_id", "kind", name="microopt_decision_writes_one"),
)
Index("microopt_decision_writes_state", decision_writes.c.state, decision_writes.c.retry_at)
