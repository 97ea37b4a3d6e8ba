from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.state.store import StateStore
from tests.fakes import postgres

# From tests/fakes/postgres.py: one PostgreSQL server per session; state tests run on SQLite and on it.
postgres_server = postgres.postgres_server
postgres_url = postgres.postgres_url
database_url = postgres.database_url


@pytest.fixture
def store(database_url: str) -> Iterator[StateStore]:
    opened = StateStore.open(database_url, worker="test-worker")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def rsa_key():
    """One service-account key pair for the session (generating one takes a moment)."""
    from tests.fakes.sheets_api import new_rsa_key

    return new_rsa_key()
