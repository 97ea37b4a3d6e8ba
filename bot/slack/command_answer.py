"""A slash command as it arrives and an answer as it leaves: the data every step of a command's path shares
(`answers` makes the answer, `answering` claims it once, `delivery` posts it and its charts)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from analysis.models import TestResult
from analysis.range_paths import RangePath
from bot.render.blocks import COMMAND, Payload, escape
from bot.render.chart import resting_path
from bot.routing import Where

logger = logging.getLogger("microopt.slack")

Visibility = Literal["in_channel", "ephemeral"]
Verb = Literal["status", "plan", "sheet", "schedule", "connect", "disconnect", "help", "unknown"]

# Longer command text is refused whole, in one sentence, and never echoed.
MAX_ARGUMENT = 500
TOO_LONG = (
    f"That is more than {MAX_ARGUMENT} characters, longer than any campaign, test or schedule: "
    f"try `{COMMAND} help` for what I understand."
)


@dataclass(frozen=True)
class SlashCommand:
    channel_id: str
    channel_name: str | None
    user_id: str
    text: str
    team_id: str | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> SlashCommand:
        raw = str(body.get("text", ""))
        # Never split (or keep) more than we could ever accept: the length check below needs only a hint.
        text = " ".join(raw[: MAX_ARGUMENT * 2].split())
        if len(raw) > MAX_ARGUMENT * 2:
            text += " …"
        return cls(
            channel_id=str(body.get("channel_id", "")),
            channel_name=body.get("channel_name"),
            user_id=str(body.get("user_id", "")),
            text=text,
            team_id=str(body["team_id"]) if body.get("team_id") else None,
        )

    @property
    def too_long(self) -> bool:
        return len(self.text) > MAX_ARGUMENT

    @property
    def where_from(self) -> Where:
        return Where(self.channel_id or None, self.channel_name, self.team_id)

    @property
    def verb(self) -> Verb:
        word = self.text.split(" ", 1)[0].lower() if self.text else "status"
        known: tuple[Verb, ...] = ("status", "plan", "sheet", "schedule", "connect", "disconnect", "help")
        return next((verb for verb in known if verb == word), "unknown")

    @property
    def answered_later(self) -> bool:
        """Whether the answer comes after the acknowledgement (help is the acknowledgement itself)."""
        return self.verb in ("status", "plan", "sheet", "schedule", "connect", "disconnect")

    @property
    def argument(self) -> str:
        return self.text.split(" ", 1)[1].strip() if " " in self.text else ""

    @property
    def where(self) -> str:
        """How a message names this channel: `#spring-sale`, or "this channel" for DMs and unnamed ones."""
        name = self.channel_name or ""
        return f"#{escape(name)}" if name and name not in ("directmessage", "privategroup") else "this channel"


@dataclass(frozen=True)
class Chart:
    filename: str
    title: str
    alt_text: str
    draw: Callable[[], bytes]
    # The path chart's words, known once it is drawn (its range over time is computed then, not before posting).
    path_alt: Callable[[], str] = lambda: ""

    def alt(self) -> str:
        return (self.alt_text + " " + self.path_alt()).strip()[:MAX_ALT_TEXT]


class ReadPaths:
    """The decision's range over time of the charted tests of one answer, computed once (vectorised over them
    all) by the first chart drawn, on the chart pool: the verdicts are posted before it."""

    def __init__(self, compute: Callable[[], Mapping[tuple[str, str, str, str], RangePath]]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._paths: Mapping[tuple[str, str, str, str], RangePath] | None = None

    def of(self, test: TestResult) -> RangePath | None:
        with self._lock:
            if self._paths is None:
                try:
                    self._paths = self._compute()
                except Exception:
                    logger.warning("could not compute the decision's range over time", exc_info=True)
                    self._paths = {}
        return resting_path(test, self._paths)


@dataclass(frozen=True)
class Post:
    payload: Payload
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True)
class Answer:
    posts: tuple[Post, ...]
    visibility: Visibility = "in_channel"
    # Details for the asker only (ephemeral), after the posts: what a channel must not see.
    private: tuple[Post, ...] = ()
    # The same details for MICROOPT_ADMINS (ephemeral in the channel, else in a direct message).
    admins: tuple[str, ...] = ()
    admin_post: Post | None = None


DrawChart = Callable[..., bytes]  # (test) -> PNG, or (test, path) when a path chart is known
MAX_ALT_TEXT = 1000

NOTHING = Answer(posts=())
