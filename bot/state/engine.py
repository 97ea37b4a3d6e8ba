"""The database behind schedules, digest records and verdict history: one URL, one engine factory.

`DATABASE_URL` may be any SQLAlchemy URL. Heroku's `postgres://…` and plain `postgresql://…` are rewritten
to the psycopg 3 driver. A SQLite file is created (with its folder) on first use; several processes
should share PostgreSQL instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from bot.errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///microopt.db"
# A database that does not answer (stopped, unreachable, its connection lost), as against one that refuses a
# statement (a bug): what digests stop on and report as `unavailable_sentence`.
NOT_ANSWERING = (OperationalError, InterfaceError)
CONNECT_TIMEOUT_SECONDS = 10


def database_url(raw: str) -> URL:
    """The URL to connect with: `postgres://` (Heroku) and `postgresql://` use psycopg 3."""
    text = raw.strip()
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://") :]
    try:
        url = make_url(text)
    except ArgumentError as error:
        raise ConfigurationError(
            "The setting DATABASE_URL is not a database URL: use e.g. sqlite:///microopt.db "
            "or postgresql://user:password@host:5432/microopt."
        ) from error
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def redacted(url: URL | str) -> str:
    """The URL with its password hidden, for logs and messages."""
    parsed = url if isinstance(url, URL) else database_url(url)
    return parsed.render_as_string(hide_password=True)


def unavailable_sentence(raw_url: str) -> str:
    """What a user reads when the database stops answering: which one (no password), and what to do."""
    return (
        f"The database at {redacted(raw_url)} (DATABASE_URL) stopped answering: check that it is running and "
        "reachable, then run again; digests that went out before are found in Slack and not posted twice."
    )


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL points at (relative paths are relative to the working directory)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database or "")


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]  # a DB-API connection
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL's safe setting: durable across process crashes
    cursor.execute("PRAGMA busy_timeout=30000")  # a second process waits for the lock instead of failing
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_state_engine(raw_url: str = DEFAULT_DATABASE_URL) -> Engine:
    url = database_url(raw_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = sqlite_file(url)
        if path is not None:
            path.expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy pools file SQLite connections (QueuePool); a connection is used by one thread at a time.
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        # An unreachable server fails a connection in seconds, not the operating system's minutes
        # (`?connect_timeout=N` in the URL overrides this).
        connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args)
    raise ConfigurationError(
        f"The setting DATABASE_URL names an unsupported database ({backend}): use sqlite:/// or postgresql://."
    )


def upserts(conn: Connection) -> Any:
    """The dialect module whose `insert` has `on_conflict_*` (imported on first use: they cost start-up)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql
    from sqlalchemy.dialects import sqlite

    return sqlite
