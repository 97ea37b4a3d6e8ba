"""Posting a command's answer into its channel so that each message is there once.

chat.postMessage is not idempotent, and a 5xx or a timeout may come after Slack stored the message: the Web
client's blind retries would post it again. So answers are posted with a client that retries only a 429
(`bot.slack_api.client.posting_client`), each message carries message metadata naming its request and part
(event type `microopt_answer`), and after an answer that did not say what happened the channel's history is
asked (`bot.slack_api.history.find_parts`) before anything is sent again: found, the message counts as
posted; not found, it is sent again (at most `ATTEMPTS` times, backing off); history unreadable, nothing more
is sent and the asker is told (`Unconfirmed`). An answer taken over from a stopped process asks the history
first (`check_first`), so the messages that process got out are not sent twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack_api.history import LookupFailed, find_parts

EVENT_TYPE = "microopt_answer"
ATTEMPTS = 3
# Errors meaning "post through response_url instead": the bot is not a member, or cannot see the channel.
NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


def answer_tag(key: str) -> str:
    """What an answer's messages say about their request: a short hash of its delivery key."""
    return hashlib.sha256(key.encode()).hexdigest()[:20]


class Unconfirmed(Exception):
    """Slack gave no clear answer to a post, and its history could not be read to see whether it arrived."""

    def __init__(self, code: str, lookup: str) -> None:
        super().__init__(code)
        self.code = code
        self.lookup = lookup


class NotPosted(Exception):
    """Slack gave no clear answer, `ATTEMPTS` times, and its history shows the message never arrived."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class OncePoster:
    """Posts one answer's messages into one channel, each once (see the module's docstring).

    `tag` names the request in the messages' metadata (None: nothing to look for, so a post Slack did not
    answer clearly is not sent again); `since` is when the request came; `settle` is how long Slack is given
    to store a message before its history is read.
    """

    def __init__(
        self,
        client: WebClient,
        channel_id: str,
        tag: str | None,
        since: dt.datetime,
        *,
        check_first: bool = False,
        settle: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.channel_id = channel_id
        self.tag = tag
        self.since = since
        self.check_first = check_first and tag is not None
        self.settle = settle
        self.sleep = sleep
        self.found = 0  # messages found in the history instead of being sent (again)
        self._there: dict[int, str] | None = None
        self._lock = threading.Lock()

    def _look(self, code: str) -> dict[int, str]:
        assert self.tag is not None
        try:
            return find_parts(self.client, self.channel_id, EVENT_TYPE, {"request": self.tag}, self.since)
        except LookupFailed as failed:
            raise Unconfirmed(code, failed.code) from None

    def post(self, part: int, parts: int, payload: dict[str, Any]) -> bool:
        """Post message `part` of `parts`; False when the bot cannot post in this channel (use response_url).

        Raises SlackApiError when Slack refused it, `Unconfirmed` or `NotPosted` when no clear answer came.
        """
        if self.check_first:
            with self._lock:
                if self._there is None:
                    self._there = self._look("taken_over")
            if part in self._there:
                self.found += 1
                return True
        extra: dict[str, Any] = {}
        if self.tag is not None:
            extra["metadata"] = {
                "event_type": EVENT_TYPE,
                "event_payload": {"request": self.tag, "part": part, "parts": parts},
            }
        code = "slack_5xx"
        for attempt in range(ATTEMPTS):
            try:
                self.client.chat_postMessage(
                    channel=self.channel_id,
                    unfurl_links=False,
                    unfurl_media=False,
                    **payload,
                    **extra,
                )
            except SlackApiError as error:
                answer = error.response
                if answer is not None and answer.status_code < 500:
                    if str(answer.get("error")) in NOT_A_MEMBER:
                        return False
                    raise
                code = "slack_5xx"
            except (OSError, http.client.HTTPException) as error:  # timeouts, resets, refused connections
                code = "timeout" if isinstance(error, TimeoutError) else "connection_error"
            else:
                return True
            if self.tag is None:
                raise Unconfirmed(code, "not_checked")
            # No clear answer: the message may be in Slack. Let Slack settle, then look.
            self.sleep(self.settle * 2**attempt)
            if part in self._look(code):
                self.found += 1
                return True
        raise NotPosted(code)
