"""A command's answer as claimed in `microopt_answers`: who answers it, and what a process taking it over needs."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from bot.state.tables import ANSWER_KEY_LENGTH


def stored_answer_key(key: str) -> str:
    """A delivery key as stored: as is when it fits the column, else its SHA-256 (still unique per request)."""
    return key if len(key) <= ANSWER_KEY_LENGTH else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class AnswerClaim:
    key: str  # as stored (`bot.state.store`: the delivery key, or its SHA-256 when longer than the column)
    received_at: dt.datetime  # when the first process claimed it: the command's time
    attempts: int = 1  # 1 for the process that got the request; 2 and up for processes that took it over
    check_first: bool = False  # it may be in Slack already: ask the channel's history before sending
    request: str | None = None  # what it takes to answer again (JSON), for a process taking it over
