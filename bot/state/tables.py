"""The tables microopt keeps: schedules, every digest (claimed, posted or not), what each digest said, and
the Slack requests being answered.

Table names carry a `microopt_` prefix so the database can be shared with other apps. The schema is
created when missing (see `bot.state.store.StateStore.ensure_schema`); `SCHEMA_VERSION` is recorded in
`microopt_meta` so a later release can migrate from it. Versions: 1, the first four tables; 2 adds
`microopt_answers`; 3 adds `microopt_looks` and `microopt_calls`; 4 adds `microopt_schedule_changes`; 5 adds
four nullable columns to `microopt_digests` (`lease_until`, `retry_at`, `channel_id`, `arrival`: short
renewed leases, retries with backoff, where Slack put the digest and whether it arrived). Tables are added
by `create_all`, columns by `ALTER TABLE … ADD COLUMN` when an inspector finds them missing, so a database
of any earlier version is upgraded in place; 6 stores the conversion counts of `microopt_looks` and
`microopt_calls` as floats, so attribution's fractional conversions are kept as the sheet gave them
(`widened` in `bot.state.store`: PostgreSQL changes the column type, SQLite keeps any number as given);
7 adds four nullable columns to `microopt_answers` (`status`, `lease_until`, `attempts`, `request`): a
command's answer has a lease, and one whose process stopped is answered by another; 8 adds
`microopt_decisions` and `microopt_decision_writes` (bot.state.decision_tables: acting on verdicts from
Slack); 9 adds `microopt_sheet_links` and `microopt_sheet_link_changes` (`bot.state.link_tables`: a sheet per
channel).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SCHEMA_VERSION = 9

# A digest's life: claimed → sending → posted | skipped, or → failed (Slack refused it: retried with backoff)
# or → unknown (Slack's answer never came: it may have arrived, so Slack's history is asked before anything is
# sent again). Claimed and sending rows carry a lease their owner renews; a row whose lease ran out is taken
# over. When a slot's window closes before it was posted it ends `missed`. Final: posted, skipped, missed.
CLAIMED, SENDING, POSTED, FAILED, SKIPPED, UNKNOWN = "claimed", "sending", "posted", "failed", "skipped", "unknown"
MISSED = "missed"
OPEN_STATUSES = (CLAIMED, SENDING, FAILED, UNKNOWN)
# What is known about a digest's messages in Slack (`arrival`): found in the channel's history, looked for and
# not found, or not looked for yet (Slack's history could not be read).
ARRIVED, NOT_ARRIVED, NOT_KNOWN = "arrived", "not_arrived", "not_known"
SCHEDULED, FORCED = "scheduled", "forced"
SHEET, SLACK = "sheet", "slack"
ANSWER_KEY_LENGTH = 200  # longer delivery keys are stored as their SHA-256 (bot.state.store)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the state store; pass an aware one")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


metadata = MetaData()

meta = Table(
    "microopt_meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# One row per channel and source: `sheet` rows mirror the Channels tab, a `slack` row is what someone set
# with `/microopt schedule` and wins over the sheet (`spec` NULL there means "off").
schedules = Table(
    "microopt_schedules",
    metadata,
    Column("channel", String(200), primary_key=True),
    Column("source", String(10), primary_key=True),
    Column("channel_name", String(200), nullable=True),
    Column("target", String(200), nullable=False),
    Column("spec", String(200), nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Every digest: the (channel, slot, kind) key is the exactly-once claim.
digests = Table(
    "microopt_digests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(200), nullable=False),
    Column("target", String(200), nullable=False),
    Column("slot_at", UtcDateTime, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("worker", String(200), nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=1),
    Column("message_ts", String(40), nullable=True),
    Column("messages", Integer, nullable=False, default=0),
    Column("error", String(200), nullable=True),
    # Version 5: nullable, so `ALTER TABLE … ADD COLUMN` upgrades an older database (bot.state.store).
    Column("lease_until", UtcDateTime, nullable=True),  # the owner renews it while it works; then anyone may take over
    Column("retry_at", UtcDateTime, nullable=True),  # a failed digest is tried again from then on
    Column("channel_id", String(40), nullable=True),  # the channel's ID, as Slack answered (history needs the ID)
    Column("arrival", String(12), nullable=True),  # ARRIVED | NOT_ARRIVED | NOT_KNOWN, once Slack was asked
    UniqueConstraint("channel", "slot_at", "kind", name="microopt_digests_slot"),
)
ADDED_COLUMNS = ("lease_until", "retry_at", "channel_id", "arrival")
Index("microopt_digests_channel_finished", digests.c.channel, digests.c.finished_at)
Index("microopt_digests_status", digests.c.status, digests.c.claimed_at)

# What each posted digest said about each test: the verdict history, per channel and per test.
verdicts = Table(
    "microopt_verdicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest_id", Integer, ForeignKey("microopt_digests.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("campaign", String(300), nullable=False),
    Column("test", String(300), nullable=False),
    Column("verdict", String(30), nullable=False),
    Column("best_variant", String(300), nullable=True),
    Column("signature", Text, nullable=False),
    Column("headline", Text, nullable=False),
    Column("changed", Boolean, nullable=False),
    Column("said_at", UtcDateTime, nullable=False),
)
Index("microopt_verdicts_channel_test", verdicts.c.channel, verdicts.c.campaign, verdicts.c.test, verdicts.c.said_at)

# Slack requests being answered, by delivery key (`trigger_id:…`): the process that inserts the key answers,
# any other (Slack's retry served elsewhere) answers nothing, until the owner's lease runs out (it stopped):
# then another process takes the answer over. Rows older than a day are pruned.
answers = Table(
    "microopt_answers",
    metadata,
    Column("key", String(ANSWER_KEY_LENGTH), primary_key=True),
    Column("worker", String(200), nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    # Version 7, nullable (rows of earlier versions have none, and are never taken over):
    Column("status", String(10), nullable=True),  # ANSWERING | SENDING | ANSWERED | LOST
    Column("lease_until", UtcDateTime, nullable=True),  # renewed by the owner while it answers
    Column("attempts", Integer, nullable=True),  # how many processes took it (a second stop: LOST)
    Column("request", Text, nullable=True),  # what it takes to answer again (JSON); erased once answered
)
ADDED_ANSWER_COLUMNS = ("status", "lease_until", "attempts", "request")
Index("microopt_answers_claimed", answers.c.claimed_at)
# An answer's life: answering (claimed: reading the sheet) → sending (messages going to Slack) → answered, or
# → lost (its processes stopped twice; the channel was told to ask again). A stopped owner's answer is taken
# over once its lease ran out; one taken over while sending asks Slack's history before it sends again.
ANSWERING, ANSWER_SENDING, ANSWERED, LOST = "answering", "sending", "answered", "lost"
OPEN_ANSWERS = (ANSWERING, ANSWER_SENDING)

# Every analysed read of an undated test, per comparison: the path its decisions rest on (analysis.paths).
# `source` is the SHA-256 of the sheet's key or path, so a sheet URL is never stored.
looks = Table(
    "microopt_looks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("campaign", String(300), nullable=False),
    Column("test", String(300), nullable=False),
    Column("variant", String(300), nullable=False),
    Column("metric", String(300), nullable=False),
    Column("looked_at", UtcDateTime, nullable=False),
    Column("visitors_control", BigInteger, nullable=False),
    Column("conversions_control", Float, nullable=False),
    Column("visitors", BigInteger, nullable=False),
    Column("conversions", Float, nullable=False),
    Column("decision", String(20), nullable=False),
    Column("decision_p_value", Float, nullable=True),
)
Index("microopt_looks_test", looks.c.source, looks.c.campaign, looks.c.test, looks.c.looked_at)

# The last call recorded per comparison, dated or undated: a later read whose call differs on the same
# numbers' day means the data it rested on changed, and says so (reopened).
calls = Table(
    "microopt_calls",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("campaign", String(300), primary_key=True),
    Column("test", String(300), primary_key=True),
    Column("variant", String(300), primary_key=True),
    Column("metric", String(300), primary_key=True),
    Column("call", String(20), nullable=False),
    Column("called_on", String(40), nullable=True),
    Column("visitors_control", BigInteger, nullable=False),
    Column("conversions_control", Float, nullable=False),
    Column("visitors", BigInteger, nullable=False),
    Column("conversions", Float, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

# Every change made with `/microopt schedule`: who, when, to what (`action` set | off | sheet).
schedule_changes = Table(
    "microopt_schedule_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(200), nullable=False),
    Column("changed_by", String(40), nullable=False),
    Column("action", String(10), nullable=False),
    Column("spec", String(200), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("changed_at", UtcDateTime, nullable=False),
)
Index("microopt_schedule_changes_channel", schedule_changes.c.channel, schedule_changes.c.changed_at)

# Integer columns of earlier versions that hold fractional conversions from version 6 on.
WIDENED_COLUMNS = tuple(
    (table.name, name) for table in (looks, calls) for name in ("conversions_control", "conversions")
)
