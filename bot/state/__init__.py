"""Shared state: schedules, a record of every digest, and what each digest said (SQLite or PostgreSQL)."""

from bot.state.engine import DEFAULT_DATABASE_URL, create_state_engine, database_url, redacted
from bot.state.store import StateStore

__all__ = ["DEFAULT_DATABASE_URL", "StateStore", "create_state_engine", "database_url", "redacted"]
