"""Shared state on one database (SQLite or PostgreSQL): each concern its tables and its functions.

- `engine`, `schema`   the engine from MICROOPT_DATABASE_URL; creating and upgrading the tables (a step per change)
- `store`              `StateStore`: schedules, digest slots claimed and finished, what each digest said
- `tables`, `digest_rows`  the core tables; a digest slot's row and the rules for taking one over
- `answers`            each answer to a Slack request given once (a `StateStore` mixin)
- `channels`           who changed a channel's digests; `history` the looks and calls of undated tests
- `decisions`          decisions taken from Slack and the rows they owe the sheet (tables in `decision_tables`)
- `links`              which channel reads which sheet (tables in `link_tables`)
- `installs`           slack_sdk's installation and OAuth state stores on the same database
"""

from bot.state.engine import DEFAULT_DATABASE_URL, create_state_engine, database_url, redacted
from bot.state.store import StateStore

__all__ = ["DEFAULT_DATABASE_URL", "StateStore", "create_state_engine", "database_url", "redacted"]
