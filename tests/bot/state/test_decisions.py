"""Decisions in the state database, on SQLite and PostgreSQL: one per press that means it, however many arrive."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from bot.decided import VerdictShown
from bot.state.decisions import (
    PENDING,
    WRITTEN,
    claim_writes,
    owed_rows,
    record_decision,
    standing_decisions,
    undo_decision,
    write_failed,
    wrote,
)
from bot.state.store import StateStore

NOW = dt.datetime(2026, 3, 11, 10, 42, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=1)
SHOWN = VerdictShown(
    campaign="Spring Sale",
    test="Audience",
    verdict="move_budget",
    signature="move_budget|B|Cart views",
    headline="Move budget to B.",
    control="A",
    variant="B",
    metric="Cart views",
    lift=0.61,
)


def press(store: StateStore, choice="moved", user="U0DANA", shown=SHOWN, now=NOW, to_sheet=True):
    return record_decision(
        store,
        source="sheet",
        shown=shown,
        choice=choice,
        user_id=user,
        user_name=user.lower(),
        team_id="T0TEAM",
        channel_id="C0SPRING",
        message_ts="1.0",
        now=now,
        to_sheet=to_sheet,
    )


def test_a_press_is_recorded_once_and_a_repeat_finds_it(store: StateStore) -> None:
    first = press(store)
    again = press(store, user="U0OTHER", now=NOW + dt.timedelta(seconds=1))

    assert first.new and not again.new
    assert again.decision.id == first.decision.id and again.decision.user_id == "U0DANA"
    assert first.decision.shown == SHOWN and first.decision.sheet == PENDING
    standing = standing_decisions(store, "sheet", NOW)
    assert standing.of("Spring Sale", "Audience") == first.decision


def test_presses_racing_in_threads_make_one_decision(database_url: str) -> None:
    """Sixteen presses at once, each on its own connection (as two web processes would): one decision."""
    stores = [StateStore.open(database_url, worker=f"w{i}") for i in range(4)]
    stores[0].ensure_schema()
    start = threading.Barrier(16)

    def go(i: int):
        start.wait()
        return press(stores[i % 4], user=f"U0USER{i}")

    try:
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(go, range(16)))
    finally:
        for opened in stores[1:]:
            opened.close()
    assert sum(r.new for r in results) == 1
    assert len({r.decision.id for r in results}) == 1
    stores[0].close()


def test_a_snooze_repeats_nothing_while_it_stands_and_a_new_verdict_is_not_snoozed(store: StateStore) -> None:
    snoozed = press(store, "snooze_day")
    assert snoozed.new and snoozed.decision.until == NOW + dt.timedelta(days=1)
    assert not press(store, "snooze_day", now=NOW + dt.timedelta(hours=1)).new
    assert press(store, "snooze_day", now=NOW + dt.timedelta(days=2)).new  # the first one ended

    standing = standing_decisions(store, "sheet", NOW + dt.timedelta(days=2, hours=1))
    assert standing.hides("Spring Sale", "Audience", SHOWN.signature, "running")
    assert not standing.hides("Spring Sale", "Audience", "conflict||", "running")  # a new verdict is news
    later = standing_decisions(store, "sheet", NOW + dt.timedelta(days=3, hours=1))
    assert not later.hides("Spring Sale", "Audience", SHOWN.signature, "running")


def test_budget_moved_after_a_snooze_stands_and_done_hides_the_test_whatever_it_says(store: StateStore) -> None:
    press(store, "snooze_week")
    moved = press(store, "moved", now=NOW + dt.timedelta(hours=2))
    assert moved.new
    standing = standing_decisions(store, "sheet", NOW + dt.timedelta(hours=3))
    assert standing.of("Spring Sale", "Audience") == moved.decision
    assert standing.hides("Spring Sale", "Audience", "conflict||", "running")
    assert not press(store, "kept", now=NOW + dt.timedelta(hours=4)).new  # done is done


def test_keep_running_is_recorded_but_hides_nothing(store: StateStore) -> None:
    kept = press(store, "kept")
    standing = standing_decisions(store, "sheet", NOW)
    assert kept.new and standing.of("Spring Sale", "Audience") == kept.decision
    assert not standing.hides("Spring Sale", "Audience", SHOWN.signature, "running")
    assert standing.speaking("Spring Sale", "Audience", SHOWN.signature, "running") == kept.decision


def test_undo_within_the_window_once_and_never_after(store: StateStore) -> None:
    moved = press(store).decision
    assert undo_decision(store, moved.id, "U0DANA", NOW + dt.timedelta(minutes=6))[0] == "too_late"
    outcome, undone = undo_decision(store, moved.id, "U0DANA", NOW + dt.timedelta(minutes=1))
    assert outcome == "undone" and undone is not None and undone.undone_by == "U0DANA"
    assert undo_decision(store, moved.id, "U0DANA", NOW + dt.timedelta(minutes=2))[0] == "already"
    assert undo_decision(store, 999_999, "U0DANA", NOW)[0] == "missing"
    # what the sheet was owed for it is dropped before it was written: nothing to write, nothing to take back
    assert claim_writes(store, "sheet", NOW + dt.timedelta(minutes=3), LEASE) == []
    assert standing_decisions(store, "sheet", NOW).of("Spring Sale", "Audience") is None
    assert press(store, now=NOW + dt.timedelta(minutes=4)).new  # decided again


def test_the_outbox_claims_each_row_once_retries_a_failure_and_takes_over_a_lapsed_lease(database_url: str) -> None:
    one = StateStore.open(database_url, worker="one")
    two = StateStore.open(database_url, worker="two")
    try:
        decision = press(one).decision
        [owed] = claim_writes(one, "sheet", NOW, LEASE)
        assert (owed.decision.id, owed.kind, owed.decision.shown) == (decision.id, "decision", SHOWN)
        assert claim_writes(two, "sheet", NOW, LEASE) == []  # leased to one
        write_failed(one, owed, "Google Sheets kept failing (HTTP 503, 3 tries)", NOW + dt.timedelta(minutes=1))
        [(listed, kind, error)] = owed_rows(one, "sheet")
        assert (listed.id, kind, error) == (decision.id, "decision", "Google Sheets kept failing (HTTP 503, 3 tries)")
        assert standing_decisions(one, "sheet", NOW).of("Spring Sale", "Audience").sheet_error is not None
        assert claim_writes(two, "sheet", NOW, LEASE) == []  # not before its retry
        [again] = claim_writes(two, "sheet", NOW + dt.timedelta(minutes=1), LEASE)
        assert again.attempts == 1
        # two stops mid-write; its lease runs out and one takes the row over
        [taken] = claim_writes(one, "sheet", NOW + dt.timedelta(minutes=3), LEASE)
        assert not wrote(two, again, NOW)  # no longer two's
        assert wrote(one, taken, NOW + dt.timedelta(minutes=3), [("Results", 2, 7, "running")])
        assert owed_rows(one, "sheet") == []
        standing = standing_decisions(one, "sheet", NOW)
        assert standing.of("Spring Sale", "Audience").sheet == WRITTEN
        assert standing.of("Spring Sale", "Audience").status_written_at == NOW + dt.timedelta(minutes=3)
    finally:
        one.close()
        two.close()


def test_an_undo_after_the_row_was_written_owes_a_row_with_the_status_cells_to_put_back(store: StateStore) -> None:
    decision = press(store).decision
    [owed] = claim_writes(store, "sheet", NOW, LEASE)
    wrote(store, owed, NOW, [("Results", 2, 7, "running"), ("Results", 3, 7, None)])
    assert undo_decision(store, decision.id, "U0DANA", NOW + dt.timedelta(minutes=1))[0] == "undone"
    [undo] = claim_writes(store, "sheet", NOW + dt.timedelta(minutes=1), LEASE)
    assert undo.kind == "undo" and undo.decision.undone_by == "U0DANA"
    assert undo.status_cells == (("Results", 2, 7, "running"), ("Results", 3, 7, None))


def test_an_undo_waits_for_the_row_it_takes_back(store: StateStore) -> None:
    decision = press(store).decision
    [owed] = claim_writes(store, "sheet", NOW, LEASE)  # being written when the undo comes
    assert undo_decision(store, decision.id, "U0DANA", NOW)[0] == "undone"
    # the lease ran out: the decision's row is claimed again, and its undo not yet
    [retaken] = claim_writes(store, "sheet", NOW + dt.timedelta(minutes=2), LEASE)
    assert (retaken.write_id, retaken.kind) == (owed.write_id, "decision")
    [again] = claim_writes(store, "sheet", NOW + dt.timedelta(minutes=4), LEASE)
    wrote(store, again, NOW + dt.timedelta(minutes=4))
    [undo] = claim_writes(store, "sheet", NOW + dt.timedelta(minutes=4), LEASE)
    assert undo.kind == "undo" and undo.status_cells == ()


def test_a_local_sheet_owes_nothing(store: StateStore) -> None:
    decision = press(store, to_sheet=False).decision
    assert decision.sheet == "local"
    assert claim_writes(store, "sheet", NOW, LEASE) == []
    assert undo_decision(store, decision.id, "U0DANA", NOW)[0] == "undone"
    assert claim_writes(store, "sheet", NOW, LEASE) == []
