"""The looks microopt took of undated tests, and the calls it made: what keeps decisions final.

Plain functions over a `StateStore`. A sheet is known by the SHA-256 of its key or path, so no sheet URL
or file path is stored. Only looks whose totals changed since the comparison's last look are recorded: a
re-read of the same numbers adds no evidence, and `looks` then counts what microopt actually saw.

Looks are read and written through the driver (`exec_driver_sql`), their values converted a column at a
time: a sheet of 60,000 tests records 60,000 looks per read, and SQLAlchemy's per-row type processing
would take seconds of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Connection, and_, delete, insert, or_, select

from analysis.paths import COUNTS, HISTORY_COLUMNS, empty_history
from bot.state import tables as t
from bot.state.store import StateStore

COMPARISON = ["campaign", "test", "variant", "metric"]
CALL_COLUMNS = [*COMPARISON, "call", "called_on", *COUNTS]


def source_id(spec: str) -> str:
    return hashlib.sha256(spec.strip().encode()).hexdigest()


def _tests_clause(tests: Iterable[tuple[str, str]]) -> ColumnElement[bool]:
    return or_(*(and_(t.looks.c.campaign == c, t.looks.c.test == name) for c, name in tests))


LOOK_COLUMNS = ["source", *COMPARISON, "looked_at", *COUNTS, "decision", "decision_p_value"]


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def read_looks(store: StateStore, source: str) -> pd.DataFrame:
    """Every recorded look of the sheet's comparisons (HISTORY_COLUMNS), oldest first."""
    store.ensure_schema()
    with store.engine.connect() as conn:
        query = (
            f"SELECT {', '.join(HISTORY_COLUMNS)} FROM {t.looks.name} "
            f"WHERE source = {_placeholder(conn)} ORDER BY looked_at, id"
        )
        rows = conn.exec_driver_sql(query, (source_id(source),)).all()
    if not rows:
        return empty_history()
    frame = pd.DataFrame([tuple(row) for row in rows], columns=HISTORY_COLUMNS)
    # Stored as UTC without a zone (bot.state.tables.UtcDateTime); SQLite returns text, PostgreSQL datetimes.
    frame["looked_at"] = pd.to_datetime(frame["looked_at"], utc=True, format="ISO8601").astype("datetime64[us, UTC]")
    frame[COUNTS] = frame[COUNTS].astype("float64")
    return frame


def record_looks(
    store: StateStore,
    source: str,
    current: pd.DataFrame,
    history: pd.DataFrame,
    now: dt.datetime,
    restart: Iterable[tuple[str, str]] = (),
) -> int:
    """Record today's look of each comparison in `current` (COMPARISON, COUNTS, `decision`,
    `decision_p_value`) whose totals differ from its last look in `history`; first forget every look of the
    tests in `restart`. Returns how many looks were recorded."""
    restart = list(restart)
    if not history.empty:
        last = history.groupby(COMPARISON, sort=False).tail(1)[[*COMPARISON, *COUNTS]]
        paired = current.merge(last, on=COMPARISON, how="left", suffixes=("", "_last"), indicator=True)
        unchanged = paired["_merge"] == "both"
        for name in COUNTS:
            unchanged &= paired[name] == paired[f"{name}_last"]
        current = current[~unchanged.to_numpy()]
    rows = _look_rows(source, current, now, store.engine.dialect.name == "sqlite")
    if not rows and not restart:
        return 0
    store.ensure_schema()
    with store.writing() as conn:
        if restart:
            conn.execute(
                delete(t.looks).where(
                    t.looks.c.source == source_id(source),
                    _tests_clause(restart),
                )
            )
        if rows:
            placeholders = ", ".join([_placeholder(conn)] * len(LOOK_COLUMNS))
            insert_looks = f"INSERT INTO {t.looks.name} ({', '.join(LOOK_COLUMNS)}) VALUES ({placeholders})"
            conn.exec_driver_sql(insert_looks, rows)
    return len(rows)


def _look_rows(source: str, current: pd.DataFrame, now: dt.datetime, sqlite: bool) -> list[tuple[object, ...]]:
    """The rows to insert, in LOOK_COLUMNS order, as the driver takes them: the time in UTC without a zone,
    as bot.state.tables.UtcDateTime stores it (on SQLite as the text SQLAlchemy writes)."""
    if current.empty:
        return []
    moment: object = now.astimezone(dt.UTC).replace(tzinfo=None)
    if sqlite:
        moment = f"{moment:%Y-%m-%d %H:%M:%S.%f}"
    size = len(current)
    p_values = current["decision_p_value"].to_numpy(dtype=np.float64)
    boxed = p_values.astype(object)
    boxed[np.isnan(p_values)] = None
    columns = [
        [source_id(source)] * size,
        *(current[name].astype(str).tolist() for name in COMPARISON),
        [moment] * size,
        *(_counts(current[name], name) for name in COUNTS),
        current["decision"].astype(str).tolist(),
        boxed.tolist(),
    ]
    return list(zip(*columns, strict=True))


def _counts(values: pd.Series, name: str) -> list[int] | list[float]:
    """Visitors as whole numbers; conversions as given, attribution's fractions (61.5) included."""
    numbers = values.to_numpy(dtype=np.float64)
    if name.startswith("visitors"):
        whole: list[int] = numbers.astype(np.int64).tolist()
        return whole
    given: list[float] = numbers.tolist()
    return given


def read_calls(store: StateStore, source: str) -> pd.DataFrame:
    """The last call recorded for each comparison of the sheet (CALL_COLUMNS)."""
    store.ensure_schema()
    columns = [getattr(t.calls.c, name) for name in CALL_COLUMNS]
    with store.engine.connect() as conn:
        rows = conn.execute(select(*columns).where(t.calls.c.source == source_id(source))).all()
    return pd.DataFrame(rows, columns=CALL_COLUMNS)


def record_calls(store: StateStore, source: str, calls: pd.DataFrame, now: dt.datetime) -> None:
    """Replace the sheet's recorded calls with `calls` (CALL_COLUMNS; rows whose `call` is None are dropped),
    in one transaction and one bulk insert."""
    key = source_id(source)
    rows = [
        {
            "source": key,
            **{name: str(r[name]) for name in COMPARISON},
            "call": r["call"],
            "called_on": r["called_on"],
            **{name: int(r[name]) if name.startswith("visitors") else float(r[name]) for name in COUNTS},
            "recorded_at": now,
        }
        for r in calls.to_dict("records")
        if r["call"] is not None and not pd.isna(r["call"])
    ]
    store.ensure_schema()
    with store.writing() as conn:
        conn.execute(delete(t.calls).where(t.calls.c.source == key))
        if rows:
            conn.execute(insert(t.calls), rows)
