"""Creating and upgrading microopt's tables: every step so far adds tables or nullable columns, or widens one."""

from __future__ import annotations

import logging

from sqlalchemy import Connection, insert, inspect, select, text, update

from bot.state import (
    decision_tables,  # noqa: F401  # its tables join `t.metadata` before `create_all`
    link_tables,  # noqa: F401  # its tables join `t.metadata` before `create_all`
)
from bot.state import tables as t

logger = logging.getLogger("microopt.state")


def upgrade_schema(conn: Connection) -> None:
    """Create missing tables and columns and record the schema version; the caller holds the schema lock."""
    t.metadata.create_all(conn, checkfirst=True)
    _add_missing_columns(conn)
    _widen_conversion_columns(conn)
    found = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")).scalar()
    if found is None:
        conn.execute(insert(t.meta).values(key="schema_version", value=str(t.SCHEMA_VERSION)))
    elif _version(found) < t.SCHEMA_VERSION:
        # Every step so far only adds tables (created by `create_all`) and nullable columns (added by
        # `_add_missing_columns`), both done just now (see `tables`).
        conn.execute(update(t.meta).where(t.meta.c.key == "schema_version").values(value=str(t.SCHEMA_VERSION)))
        logger.info("state schema upgraded from version %s to %s", found, t.SCHEMA_VERSION)
    # A newer version is left as recorded: its release only added tables this one does not use.


def _add_missing_columns(conn: Connection) -> None:
    """Version 5's columns of `microopt_digests` and version 7's of `microopt_answers`, on tables created by an
    earlier version (SQLite and PostgreSQL alike)."""
    for table, names in ((t.digests, t.ADDED_COLUMNS), (t.answers, t.ADDED_ANSWER_COLUMNS)):
        present = {column["name"] for column in inspect(conn).get_columns(table.name)}
        for name in names:
            if name in present:
                continue
            ddl = table.c[name].type.compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {ddl}"))
            logger.info("added column %s to %s", name, table.name)


def _widen_conversion_columns(conn: Connection) -> None:
    """Version 6: conversion counts as floats. SQLite stores a fraction in an integer column as given; a
    PostgreSQL BIGINT column of an earlier version is changed to DOUBLE PRECISION (every count fits)."""
    if conn.dialect.name != "postgresql":
        return
    for table, name in t.WIDENED_COLUMNS:
        column = next(c for c in inspect(conn).get_columns(table) if c["name"] == name)
        if column["type"].python_type is int:
            conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {name} TYPE DOUBLE PRECISION"))
            logger.info("column %s.%s now holds fractional conversions", table, name)


def _version(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0
