"""Reads through the service with a real state database (SQLite and PostgreSQL): looks recorded, calls final
across reads, totals that go down, corrected cells that reopen a call, type-I error on re-read undated sheets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest

from analysis.models import Report, Tab
from analysis.reading.workbook import parse_workbook
from bot.deps import Deps
from bot.service import STATE_UNAVAILABLE, full_report
from bot.settings import Settings
from bot.state.history import read_looks
from bot.state.store import StateStore

UNDATED = ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)"]
DATED = ["Date", "Campaign", "Test", "Variant", "Clicks", "Cart views (micro)"]
MORNING = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


class Reads:
    """Deps whose sheet and clock a test sets before each read, over one real state store."""

    def __init__(self, store: StateStore, source: str = "campaigns.xlsx", min_days: int = 3) -> None:
        self.tabs: list[Tab] = []
        self.now = MORNING
        self.store = store
        self.deps = Deps(
            settings=Settings(sheet=source, database_url="sqlite://", min_days=min_days),
            read_tabs=lambda spec: self.tabs,
            clock=lambda: self.now,
            state=lambda: store,
        )

    def read(self, rows: list[list[object]], header: list[object] = UNDATED, days_later: int = 0) -> Report:
        self.tabs = [Tab("Results", [header, *rows])]
        self.now = MORNING + dt.timedelta(days=days_later)
        return full_report(self.deps, parse_workbook(self.tabs))


@pytest.fixture
def reads(store: StateStore) -> Reads:
    return Reads(store)


def spring(a: tuple[int, int], b: tuple[int, int]) -> list[list[object]]:
    return [["Spring", "Audience", "A", *a], ["Spring", "Audience", "B", *b]]


def test_an_undated_sheet_waits_for_three_reads_with_new_figures_before_any_call(reads: Reads):
    """Re-reading unchanged totals adds no period; new figures on three reads let the reads show the swing."""
    first = reads.read(spring((2000, 100), (2000, 161)))
    again = reads.read(spring((2000, 100), (2000, 161)), days_later=1)
    assert first.tests[0].reason == again.tests[0].reason == "too_early"
    assert "so far 1;" in again.tests[0].summary
    second = reads.read(spring((4000, 200), (4000, 322)), days_later=2)
    assert second.tests[0].reason == "too_early" and "so far 2;" in second.tests[0].summary
    third = reads.read(spring((6000, 301), (6000, 482)), days_later=3)
    (cart,) = third.tests[0].comparisons
    assert cart.decision != "too_early" and cart.dispersion_df == 2 and third.tests[0].looks == 3


def test_a_call_on_an_undated_sheet_stays_made_across_reads_with_its_day_and_numbers(store: StateStore):
    reads = Reads(store, min_days=1)  # single totals called, as MICROOPT_MIN_DAYS=1 allows
    first = reads.read(spring((2000, 100), (2000, 161)))
    assert first.tests[0].verdict == "move_budget" and first.tests[0].comparisons[0].call == "better"
    later = reads.read(spring((3000, 160), (3000, 180)), days_later=1)
    test = later.tests[0]
    (cart,) = test.comparisons
    assert test.verdict == "move_budget" and test.headline == "Move budget to B."
    assert cart.call == "better" and cart.called_on == MORNING and cart.looks == 1 and test.looks == 2
    assert "Called on 2 Mar 2026 09:00 UTC after 1 look; since then: 6.0% vs 5.3% (+12%)" in test.summary
    assert test.called_on == MORNING
    # a fresh read without the history would not call it: the call is the history's, not today's numbers'
    assert (
        full_report(Deps(settings=reads.deps.settings, read_tabs=lambda s: reads.tabs), parse_workbook(reads.tabs))
        .tests[0]
        .comparisons[0]
        .call
        is None
    )


def test_every_changed_read_is_recorded_once_and_a_re_read_of_the_same_totals_is_not(reads: Reads):
    reads.read(spring((1000, 50), (1000, 55)))
    reads.read(spring((1000, 50), (1000, 55)), days_later=1)
    report = reads.read(spring((2000, 101), (2000, 108)), days_later=2)
    looks = read_looks(reads.store, "campaigns.xlsx")
    assert len(looks) == 2 and report.tests[0].looks == 2
    assert looks["conversions"].tolist() == [55.0, 108.0]
    assert "campaigns.xlsx" not in looks["campaign"].tolist()  # the sheet is kept as a hash, never its path


def test_totals_that_go_down_restart_the_history_and_reopen_the_call_saying_so(reads: Reads):
    reads.read(spring((2000, 100), (2000, 161)))
    report = reads.read(spring((1500, 75), (1500, 80)), days_later=1)
    test = report.tests[0]
    assert test.comparisons[0].call is None and test.looks == 1
    messages = [str(p) for p in report.problems]
    assert any(
        m.startswith("Spring · Audience test: the running totals went down") and "reopened" in m for m in messages
    ), messages
    assert len(messages) == 1  # one sentence, not one per mechanism
    after = read_looks(reads.store, "campaigns.xlsx")
    assert after["conversions"].tolist() == [80.0]  # the history starts again from today's numbers


def test_a_corrected_cell_before_a_dated_call_reopens_it_and_the_message_says_so(reads: Reads):
    rng = np.random.default_rng(4)
    rows: list[list[object]] = []
    for day in range(12):
        date = (dt.date(2026, 3, 1) + dt.timedelta(days=day)).isoformat()
        rows.append([date, "Spring", "Audience", "A", 1000, int(rng.binomial(1000, 0.05))])
        rows.append([date, "Spring", "Audience", "B", 1000, int(rng.binomial(1000, 0.09))])
    first = reads.read(rows, header=DATED)
    (cart,) = first.tests[0].comparisons
    assert cart.call == "better" and isinstance(cart.called_on, dt.date)
    called_day = cart.called_on.isoformat()
    corrected = [[*r[:5], 50] if r[0] <= called_day and r[3] == "B" else r for r in rows]  # B's numbers fixed
    report = reads.read(corrected, header=DATED, days_later=1)
    messages = [str(p) for p in report.problems]
    assert any("is reopened: the numbers it rested on changed" in m and "Spring · Audience test" in m for m in messages)
    again = reads.read(corrected, header=DATED, days_later=2)
    assert not any("reopened" in str(p) for p in again.problems)  # said once, then it is the new record


def test_without_a_state_database_a_read_says_it_rests_on_one_look():
    tabs = [Tab("Results", [UNDATED, *spring((2000, 100), (2000, 161))])]
    calling = Deps(settings=Settings(sheet="x.csv", min_days=1), read_tabs=lambda s: [])
    report = full_report(calling, parse_workbook(tabs))
    assert report.tests[0].path == "one_look" and "This rests on one look" in report.tests[0].summary
    waiting = full_report(Deps(settings=Settings(sheet="x.csv"), read_tabs=lambda s: []), parse_workbook(tabs))
    assert "No state database records these reads, so they never add up" in waiting.tests[0].summary


def _aa_reads(sims: int, reads_per_test: int, seed: int, read: Callable[[list[list[object]], int], Report]) -> float:
    rng = np.random.default_rng(seed)
    totals = rng.binomial(1000, 0.05, size=(sims, reads_per_test, 2)).cumsum(axis=1)
    called = np.zeros(sims, dtype=bool)
    for day in range(reads_per_test):
        rows = [
            [f"S{s}", "Audience", v, 1000 * (day + 1), int(totals[s, day, i])]
            for s in range(sims)
            for i, v in enumerate("AB")
        ]
        report = read(rows, day)
        called |= np.array([t.comparisons[0].decision in ("better", "worse") for t in report.tests])
    return float(called.mean())


def test_an_undated_aa_sheet_re_read_daily_stays_within_alpha(tmp_path):
    """150 seeded A/A tests whose totals are updated and re-read 20 times, through the service and SQLite:
    false calls at most alpha + 3 standard errors (10.3%); re-reading without the record of looks (each
    read a fixed-horizon look at its own totals) calls far more than that."""
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        reads = Reads(store)
        ours = _aa_reads(150, 20, 31, lambda rows, day: reads.read(rows, days_later=day))
    finally:
        store.close()
    assert ours <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 150)

    from scipy import stats

    rng = np.random.default_rng(31)
    totals = rng.binomial(1000, 0.05, size=(150, 20, 2)).cumsum(axis=1).astype(float)
    n = 1000 * np.arange(1, 21)[None, :]
    pooled = totals.sum(axis=2) / (2 * n)
    z = (totals[..., 1] - totals[..., 0]) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
    naive = (2 * stats.norm.sf(np.abs(z)) < 0.05).any(axis=1).mean()
    assert naive > 0.15


def test_an_as_of_replay_of_an_undated_sheet_ends_at_the_looks_recorded_by_that_day(reads: Reads):
    reads.read(spring((1000, 50), (1000, 52)))
    reads.read(spring((2000, 100), (2000, 161)), days_later=1)
    reads.read(spring((3000, 150), (3000, 200)), days_later=2)
    first_day = full_report(reads.deps, parse_workbook(reads.tabs), as_of=MORNING.date())
    (cart,) = first_day.tests[0].comparisons
    assert (cart.variant_visitors, cart.variant_conversions) == (1000, 52) and cart.call is None
    second_day = full_report(reads.deps, parse_workbook(reads.tabs), as_of=(MORNING + dt.timedelta(days=1)).date())
    (cart,) = second_day.tests[0].comparisons
    assert (cart.variant_visitors, cart.variant_conversions, cart.looks) == (2000, 161, 2)
    # Two reads whose increments disagree (+4%, then +118%) give one degree of freedom: too little to call on.
    assert cart.call is None and cart.dispersion is not None and cart.dispersion > 1 and cart.dispersion_df == 1
    assert len(read_looks(reads.store, "campaigns.xlsx")) == 3  # a replay records nothing


def test_a_database_that_cannot_be_opened_leaves_status_on_one_look_and_a_bug_surfaces(tmp_path) -> None:
    from dataclasses import replace

    from bot.deps import create_deps, state_factory

    (tmp_path / "a-file").write_text("not a folder")
    unreachable = Settings(DATABASE_URL=f"sqlite:///{tmp_path}/a-file/state.db")
    deps = replace(create_deps(unreachable), state=state_factory(unreachable))
    report = full_report(deps, parse_workbook(deps.read_tabs(deps.settings.sheet)))
    assert report.tests and {t.path for t in report.tests} <= {"one_look", "days"}
    assert STATE_UNAVAILABLE in report.problems  # the report says why it rests on one look

    def broken() -> StateStore:
        raise RuntimeError("a bug in opening the store")

    with pytest.raises(RuntimeError):
        full_report(replace(deps, state=broken), parse_workbook(deps.read_tabs(deps.settings.sheet)))
