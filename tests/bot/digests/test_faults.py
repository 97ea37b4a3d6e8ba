"""Digests exactly once when things fail, with real OS processes: `python -m bot digest` against the
loopback Slack stand-in and a real PostgreSQL server of its own (SQLite too, for `kill -9`), one fault per
test, then a run every second until every channel holds its digest (tests/fakes/digest_faults.py).

Leases, retries and the client's timeout are short here so the tests finish in seconds; the benchmark
(benchmarks/bench_digest.py --faults) runs the same faults with the default settings.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.digest_faults import DATABASE, FAILING, FAULTS, KILL, run_fault
from tests.fakes.postgres import RestartablePostgres, restartable_postgres

REPO = Path(__file__).resolve().parents[3]
FAST = {
    "MICROOPT_DIGEST_LEASE_SECONDS": "3",
    "MICROOPT_DIGEST_RETRY_SECONDS": "2",
    "MICROOPT_SLACK_TIMEOUT": "1",
}
_names = itertools.count(1)


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[RestartablePostgres]:
    with restartable_postgres() as server:
        yield server


@pytest.mark.parametrize("fault", FAULTS)
def test_every_channel_holds_exactly_one_digest_within_two_minutes_of_the_fault(
    fault: str, own_postgres: RestartablePostgres, tmp_path: Path
) -> None:
    database = own_postgres.create(f"faults_{next(_names)}")
    result = run_fault(
        fault,
        code=REPO,
        workdir=tmp_path,
        database=database,
        postgres=own_postgres,
        channels=20,
        every=1.0,
        deadline=120.0,
        settings=FAST,
        stall_seconds=2.5,
    )
    assert (result.posted, result.duplicated, result.lost) == (20, 0, 0), (result, result.first_run)
    assert result.minutes is not None and result.minutes < 2
    out, err = result.first_run
    if fault == FAILING:  # the run Slack failed says so, and exits non-zero
        assert result.exits[0] == 1
        assert "#fault-00: failed (Slack answered with server errors); tries again from" in out
    if fault == KILL:
        assert result.exits[0] == -9
    if fault == DATABASE:
        assert result.exits[0] == 1, result.first_run
        (sentence,) = err.strip().splitlines()
        assert "stopped answering" in sentence and "DATABASE_URL" in sentence and "Traceback" not in err
    assert result.exits[-1] == 0  # the last run found nothing wrong


def test_kill_9_on_sqlite_too(tmp_path: Path) -> None:
    result = run_fault(
        KILL, code=REPO, workdir=tmp_path, database=f"sqlite:///{tmp_path / 'state.db'}", every=1.0, settings=FAST
    )
    assert (result.posted, result.duplicated, result.lost) == (20, 0, 0), result
    assert result.minutes is not None and result.minutes < 2
