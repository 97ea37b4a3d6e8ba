from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, inspect, text

from bot.said import VerdictRecord
from bot.schedules.by_channel import SheetSchedule
from bot.state.engine import create_state_engine, database_url, redacted
from bot.state.store import StateStore
from bot.state.tables import FAILED, POSTED, SCHEMA_VERSION

NOW = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=10)


def test_the_schema_is_created_on_first_use_and_versioned(store: StateStore):
    store.ensure_schema()
    store.ensure_schema()
    names = set(inspect(store.engine).get_table_names())
    assert {"microopt_meta", "microopt_schedules", "microopt_digests", "microopt_verdicts"} <= names
    assert store.schema_version() == SCHEMA_VERSION


def test_a_second_store_on_the_same_database_sees_the_same_state(store: StateStore, database_url: str):
    store.set_slack_schedule("C0SPRING", "spring-sale", "weekdays 09:00", "Europe/London", NOW)
    other = StateStore.open(database_url, worker="other")
    try:
        assert [(r.channel, r.spec) for r in other.schedules()] == [("C0SPRING", "weekdays 09:00")]
    finally:
        other.close()


def test_sheet_sync_keeps_since_while_a_schedule_is_unchanged(store: StateStore):
    store.sync_sheet_schedules([SheetSchedule("spring-sale", "#spring-sale", "weekdays 09:00", "UTC")], NOW)
    later = NOW + dt.timedelta(hours=1)
    store.sync_sheet_schedules(
        [
            SheetSchedule("spring-sale", "#spring-sale", "weekdays 09:00", "UTC"),
            SheetSchedule("search-team", "#search-team", "mon 08:30", "America/New_York"),
        ],
        later,
    )
    rows = {r.channel: r for r in store.schedules()}
    assert rows["spring-sale"].since == NOW
    assert rows["search-team"].since == later
    store.sync_sheet_schedules([SheetSchedule("spring-sale", "#spring-sale", "daily 17:00", "UTC")], later)
    rows = {r.channel: r for r in store.schedules()}
    assert set(rows) == {"spring-sale"}
    assert rows["spring-sale"].since == later
    assert store.sheet_synced_at() == later


def test_a_slot_is_claimed_once(store: StateStore, database_url: str):
    other = StateStore.open(database_url, worker="other")
    try:
        first = store.claim("spring-sale", "#spring-sale", NOW, NOW, LEASE)
        assert first is not None
        assert other.claim("spring-sale", "#spring-sale", NOW, NOW, LEASE) is None
        assert store.claim("spring-sale", "#spring-sale", NOW, NOW, LEASE) is None
        # another slot, another channel: independent
        assert other.claim("spring-sale", "#spring-sale", NOW + dt.timedelta(days=1), NOW, LEASE) is not None
        assert other.claim("search-team", "#search-team", NOW, NOW, LEASE) is not None
    finally:
        other.close()


def test_a_stale_claim_is_taken_over_and_a_stale_send_is_checked_first(store: StateStore, database_url: str):
    other = StateStore.open(database_url, worker="other")
    try:
        claimed = store.claim("a", "#a", NOW, NOW, LEASE)
        sending = store.claim("b", "#b", NOW, NOW, LEASE)
        assert claimed and sending and store.mark_sending(sending, NOW)
        soon, late = NOW + dt.timedelta(minutes=5), NOW + dt.timedelta(minutes=11)
        assert other.claim("a", "#a", NOW, soon, LEASE) is None  # still leased
        taken = other.claim("a", "#a", NOW, late, LEASE)
        assert taken is not None and taken.id == claimed.id
        assert not taken.check_first  # nothing had been sent
        assert not store.mark_sending(claimed, late)  # the first process lost it
        resent = other.claim("b", "#b", NOW, late, LEASE)
        assert resent is not None and resent.check_first  # it may be in Slack: look before sending
        statuses = {r.channel: (r.status, r.attempts, r.worker, r.arrival) for r in store.digest_rows()}
        assert statuses == {"a": ("claimed", 2, "other", None), "b": ("claimed", 2, "other", "not_known")}
        assert not store.finish(claimed, POSTED, late)  # a process that lost its claim records nothing
    finally:
        other.close()


def test_finishing_records_what_was_said(store: StateStore):
    claim = store.claim("a", "#a", NOW, NOW, LEASE)
    assert claim is not None
    said = [
        VerdictRecord("Spring Sale", "Audience", "move_budget", "B", "sig-1", "Move budget to B.", True),
        VerdictRecord("Spring Sale", "Ad copy", "keep_running", None, "sig-2", "Keep running."),
    ]
    store.finish(claim, POSTED, NOW, message_ts="1.2", messages=1, said=said)
    last = store.last_said("a")
    assert last[("Spring Sale", "Audience")].verdict == "move_budget"
    assert last[("Spring Sale", "Audience")].said_at == NOW
    history = store.verdict_history("Spring Sale", "Audience")
    assert [(h.channel, h.verdict, h.changed) for h in history] == [("a", "move_budget", True)]
    posted = store.last_posted("a")
    assert posted is not None and posted.message_ts == "1.2"


def test_a_held_lease_is_renewed_and_a_failed_digest_waits_for_its_retry(store: StateStore, database_url: str):
    other = StateStore.open(database_url, worker="other")
    try:
        short = dt.timedelta(seconds=45)
        claim = store.claim("a", "#a", NOW, NOW, short)
        assert claim is not None
        assert store.renew_leases(NOW + dt.timedelta(minutes=2)) == 1  # the owner's heartbeat
        assert other.claim("a", "#a", NOW, NOW + dt.timedelta(minutes=1), short) is None
        retry = NOW + dt.timedelta(minutes=3)
        assert store.finish(claim, FAILED, NOW + dt.timedelta(minutes=1), error="slack_5xx", retry_at=retry)
        assert other.claim("a", "#a", NOW, retry - dt.timedelta(seconds=1), short) is None
        again = other.claim("a", "#a", NOW, retry, short)
        assert again is not None and again.attempts == 2 and again.check_first
    finally:
        other.close()


def test_failures_are_reported_until_a_later_digest_arrives(store: StateStore):
    bad = store.claim("a", "#a", NOW, NOW, LEASE)
    assert bad is not None
    store.finish(bad, FAILED, NOW, error="not_in_channel")
    assert [r.error for r in store.problem_digests(NOW - dt.timedelta(days=1))] == ["not_in_channel"]
    later = NOW + dt.timedelta(days=1)
    good = store.claim("a", "#a", later, later, LEASE)
    assert good is not None
    store.finish(good, POSTED, later)
    assert store.problem_digests(NOW - dt.timedelta(days=1)) == []


def test_heroku_urls_use_psycopg_and_passwords_never_show():
    url = database_url("postgres://bot:s3cret@db.example.com:5432/microopt")
    assert url.drivername == "postgresql+psycopg"
    assert "s3cret" not in redacted(url)
    assert database_url("postgresql://x@h/db").drivername == "postgresql+psycopg"
    assert database_url("sqlite:///microopt.db").drivername == "sqlite"


def test_the_sqlite_file_and_its_folder_are_created_on_first_use(tmp_path):
    path = tmp_path / "data" / "nested" / "microopt.db"
    store = StateStore.open(f"sqlite:///{path}")
    try:
        store.ensure_schema()
    finally:
        store.close()
    assert path.exists()


def test_an_answer_is_claimed_once_across_processes(store: StateStore, database_url: str):
    other = StateStore.open(database_url, worker="other")
    day = dt.timedelta(days=1)
    try:
        assert store.claim_answer("trigger_id:1.2.abc", NOW, day)
        assert not other.claim_answer("trigger_id:1.2.abc", NOW, day)
        assert not store.claim_answer("trigger_id:1.2.abc", NOW, day)
        assert other.claim_answer("trigger_id:3.4.def", NOW, day)
        long_key = "event_id:" + "x" * 500  # longer than the column: stored as a hash, still claimed once
        assert store.claim_answer(long_key, NOW, day)
        assert not other.claim_answer(long_key, NOW, day)
    finally:
        other.close()
    claims = {key: worker for key, worker, _ in store.answer_claims()}
    assert len(claims) == 3
    assert (claims["trigger_id:1.2.abc"], claims["trigger_id:3.4.def"]) == ("test-worker", "other")


def test_answer_claims_older_than_a_day_are_pruned(store: StateStore):
    day = dt.timedelta(days=1)
    assert store.claim_answer("trigger_id:old", NOW, day)
    assert store.claim_answer("trigger_id:recent", NOW + day - dt.timedelta(minutes=3), day)
    # "old" has expired, but within ten minutes of its last pruning this process does not prune again
    assert store.claim_answer("trigger_id:new", NOW + day + dt.timedelta(minutes=5), day)
    assert {key for key, _, _ in store.answer_claims()} == {"trigger_id:old", "trigger_id:recent", "trigger_id:new"}
    assert store.claim_answer("trigger_id:newer", NOW + dt.timedelta(days=1, hours=1), day)
    assert {key for key, _, _ in store.answer_claims()} == {"trigger_id:recent", "trigger_id:new", "trigger_id:newer"}


def test_an_answer_whose_process_stopped_is_taken_over_once_its_lease_ran_out(store: StateStore, database_url: str):
    other = StateStore.open(database_url, worker="other")
    day, lease = dt.timedelta(days=1), dt.timedelta(seconds=30)
    try:
        first = store.claim_answer("trigger_id:9.9.z", NOW, day, lease, request='{"channel_id": "C0SPRING"}')
        assert first is not None and first.attempts == 1 and not first.check_first
        # a retry served elsewhere while the owner lives: nothing to answer, and nothing found expired
        assert other.claim_answer("trigger_id:9.9.z", NOW + dt.timedelta(seconds=20), day, lease) is None
        assert other.expired_answers(NOW + dt.timedelta(seconds=20)) == []
        # the owner's heartbeat keeps it; then it starts posting, and stops (no more heartbeats)
        assert store.renew_answers(NOW + dt.timedelta(seconds=50)) == 1
        assert other.expired_answers(NOW + dt.timedelta(seconds=40)) == []
        assert store.answer_sending(first)
        later = NOW + dt.timedelta(seconds=51)
        assert other.expired_answers(later) == ["trigger_id:9.9.z"]
        taken = other.take_answer("trigger_id:9.9.z", later, lease)
        assert taken is not None
        assert (taken.attempts, taken.check_first, taken.received_at) == (2, True, NOW)
        assert taken.request == '{"channel_id": "C0SPRING"}'
        assert store.take_answer("trigger_id:9.9.z", later, lease) is None  # taken once
        assert not store.finish_answer(first, "answered")  # the stopped owner's claim is no longer its own
        assert other.finish_answer(taken, "answered")
        assert other.answer_status("trigger_id:9.9.z") == ("answered", 2)
        assert other.expired_answers(later + day) == []
    finally:
        other.close()
    with store.engine.connect() as conn:  # what it took to answer (the response_url) is erased
        assert conn.execute(text("SELECT request, lease_until FROM microopt_answers")).one() == (None, None)


def test_an_answer_claim_from_before_leases_is_never_taken_over(store: StateStore):
    assert store.claim_answer("trigger_id:old-style", NOW, dt.timedelta(days=1))
    lease = dt.timedelta(seconds=1)
    assert store.claim_answer("trigger_id:old-style", NOW + dt.timedelta(hours=1), dt.timedelta(days=1), lease) is None
    assert store.expired_answers(NOW + dt.timedelta(hours=1)) == []


def test_a_version_6_answers_table_gets_the_lease_columns(database_url: str):
    engine = create_state_engine(database_url)
    stamp = "TIMESTAMP" if engine.dialect.name == "postgresql" else "DATETIME"
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE microopt_answers (key VARCHAR(200) PRIMARY KEY, worker VARCHAR(200) NOT NULL, "
                f"claimed_at {stamp} NOT NULL)"
            )
        )
        conn.execute(text("CREATE TABLE microopt_meta (key VARCHAR(100) PRIMARY KEY, value TEXT NOT NULL)"))
        conn.execute(text("INSERT INTO microopt_meta VALUES ('schema_version', '6')"))
    engine.dispose()
    store = StateStore.open(database_url, worker="upgrader")
    try:
        assert store.schema_version() == SCHEMA_VERSION == 9
        columns = {c["name"] for c in inspect(store.engine).get_columns("microopt_answers")}
        assert {"status", "lease_until", "attempts", "request"} <= columns
        claim = store.claim_answer("trigger_id:new", NOW, dt.timedelta(days=1), dt.timedelta(seconds=30), "{}")
        assert claim is not None and store.finish_answer(claim, "answered")
    finally:
        store.close()


def test_a_version_1_database_is_upgraded_in_place(database_url: str):
    from bot.state import tables

    engine = create_state_engine(database_url)
    version_1 = [tables.meta, tables.schedules, tables.digests, tables.verdicts]
    with engine.begin() as conn:
        tables.metadata.create_all(conn, tables=version_1)
        conn.execute(insert(tables.meta).values(key="schema_version", value="1"))
        conn.execute(insert(tables.meta).values(key="sheet_synced_at", value=NOW.isoformat()))
    engine.dispose()
    store = StateStore.open(database_url, worker="upgrader")
    try:
        assert store.schema_version() == SCHEMA_VERSION == 9
        assert {
            "microopt_answers",
            "microopt_looks",
            "microopt_calls",
            "microopt_schedule_changes",
            "microopt_decisions",
            "microopt_decision_writes",
            "microopt_sheet_links",
            "microopt_sheet_link_changes",
        } <= set(inspect(store.engine).get_table_names())
        assert store.sheet_synced_at() == NOW  # what was there stays
        assert store.claim_answer("trigger_id:after-upgrade", NOW, dt.timedelta(days=1))
    finally:
        store.close()


VERSION_3_DIGESTS = """
CREATE TABLE microopt_digests (
    id INTEGER NOT NULL {serial}, channel VARCHAR(200) NOT NULL, target VARCHAR(200) NOT NULL,
    slot_at {time} NOT NULL, kind VARCHAR(10) NOT NULL, status VARCHAR(10) NOT NULL,
    worker VARCHAR(200) NOT NULL, claimed_at {time} NOT NULL, finished_at {time}, attempts INTEGER NOT NULL,
    message_ts VARCHAR(40), messages INTEGER NOT NULL, error VARCHAR(200),
    PRIMARY KEY (id), CONSTRAINT microopt_digests_slot UNIQUE (channel, slot_at, kind)
)"""


@pytest.mark.parametrize("version", ["3", "4"])
def test_a_version_3_or_4_database_gets_the_digest_columns_of_version_5(database_url: str, version: str):
    """Version 4 (access control) adds a table of its own; either way the digest columns are added in place."""
    from bot.state import tables

    engine = create_state_engine(database_url)
    postgres = engine.dialect.name == "postgresql"
    ddl = VERSION_3_DIGESTS.format(
        serial="GENERATED BY DEFAULT AS IDENTITY" if postgres else "", time="TIMESTAMP" if postgres else "DATETIME"
    )
    with engine.begin() as conn:
        tables.metadata.create_all(conn, tables=[tables.meta, tables.schedules, tables.answers])
        conn.execute(text(ddl))
        if version == "4":
            conn.execute(text("CREATE TABLE microopt_schedule_changes (id INTEGER PRIMARY KEY, note TEXT)"))
        conn.execute(insert(tables.meta).values(key="schema_version", value=version))
        conn.execute(
            text(
                "INSERT INTO microopt_digests (channel, target, slot_at, kind, status, worker, claimed_at, "
                "attempts, messages) VALUES ('a', '#a', :at, 'scheduled', 'posted', 'old', :at, 1, 1)"
            ),
            {"at": NOW.replace(tzinfo=None)},
        )
    engine.dispose()
    store = StateStore.open(database_url, worker="upgrader")
    try:
        assert store.schema_version() == SCHEMA_VERSION == 9
        columns = {c["name"] for c in inspect(store.engine).get_columns("microopt_digests")}
        assert set(tables.ADDED_COLUMNS) <= columns
        (old,) = store.digest_rows()
        assert (old.status, old.lease_until, old.arrival) == ("posted", None, None)  # what was there stays
        claim = store.claim("b", "#b", NOW, NOW, LEASE)
        assert claim is not None and store.hold(claim, NOW + LEASE, channel_id="C0B")
        assert "microopt_schedule_changes" in inspect(store.engine).get_table_names() or version == "3"
    finally:
        store.close()
    again = StateStore.open(database_url, worker="second-start")  # a second start finds nothing to do
    try:
        again.ensure_schema()
        assert again.schema_version() == SCHEMA_VERSION
    finally:
        again.close()


def test_fractional_conversions_are_kept_in_looks_and_calls_and_a_reread_is_not_a_new_look(database_url: str):
    """Attribution's fractional credits (61.5) come back as given, so the same totals read twice are one look."""
    import pandas as pd

    from bot.state.history import read_calls, read_looks, record_calls, record_looks

    store = StateStore.open(database_url, worker="fractions")
    try:
        current = pd.DataFrame(
            {
                "campaign": ["Spring"],
                "test": ["Audience"],
                "variant": ["B"],
                "metric": ["Purchases"],
                "visitors_control": [2000],
                "conversions_control": [40.25],
                "visitors": [2000],
                "conversions": [61.5],
                "decision": ["continue"],
                "decision_p_value": [0.2],
            }
        )
        assert record_looks(store, "sheet.xlsx", current, read_looks(store, "sheet.xlsx"), NOW) == 1
        looks = read_looks(store, "sheet.xlsx")
        assert looks[["conversions_control", "conversions"]].to_numpy().tolist() == [[40.25, 61.5]]
        later = NOW + dt.timedelta(hours=1)
        assert record_looks(store, "sheet.xlsx", current, looks, later) == 0  # the same totals: no new look
        record_calls(store, "sheet.xlsx", current.assign(call="move_budget", called_on="2026-03-09"), NOW)
        (call,) = read_calls(store, "sheet.xlsx").to_dict("records")
        assert (call["conversions_control"], call["conversions"], call["visitors"]) == (40.25, 61.5, 2000)
    finally:
        store.close()


def test_a_version_5_postgresql_database_widens_its_integer_conversion_columns(database_url: str):
    engine = create_state_engine(database_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("SQLite keeps a fraction in an integer column as given: nothing to change")
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE microopt_calls (source VARCHAR(64), campaign VARCHAR(300), test VARCHAR(300), "
                "variant VARCHAR(300), metric VARCHAR(300), call VARCHAR(20) NOT NULL, called_on VARCHAR(40), "
                "visitors_control BIGINT NOT NULL, conversions_control BIGINT NOT NULL, visitors BIGINT NOT NULL, "
                "conversions BIGINT NOT NULL, recorded_at TIMESTAMP NOT NULL, "
                "PRIMARY KEY (source, campaign, test, variant, metric))"
            )
        )
    engine.dispose()
    store = StateStore.open(database_url, worker="upgrader")
    try:
        store.ensure_schema()
        types = {c["name"]: c["type"].python_type for c in inspect(store.engine).get_columns("microopt_calls")}
        assert (types["conversions"], types["conversions_control"], types["visitors"]) == (float, float, int)
    finally:
        store.close()
