"""microopt's own messages in a channel's history, found by the message metadata they carry.

Every message microopt posts where it may have to post again carries metadata (an event type and a payload
naming what it is and which part). When Slack's answer to a post never came (a 5xx after storing, a
timeout), `find_parts` reads the channel's history since then (`conversations.history` with
`include_all_metadata`; scopes `channels:history` / `groups:history`) and returns the parts already there,
so nothing is posted twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

HISTORY_PAGE = 200
HISTORY_PAGES = 10  # 2,000 messages: far more than a channel gets while one answer is being posted
HISTORY_MARGIN = dt.timedelta(minutes=5)  # clocks differ: look a little before `since`


class LookupFailed(Exception):
    """The channel's history could not be read; `code` says why (missing_scope, channel_not_found, not_checked…)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def matching_payloads(
    client: WebClient, channel_id: str, event_type: str, wanted: Mapping[str, Any], since: dt.datetime
) -> Iterator[tuple[dict[str, Any], str]]:
    """(payload, ts) of each message in `channel_id` since `since` whose metadata is `event_type` with `wanted`,
    newest first, page by page (raises LookupFailed when the history cannot be read)."""
    oldest = f"{(since - HISTORY_MARGIN).timestamp():.6f}"
    cursor: str | None = None
    for _page in range(HISTORY_PAGES):
        try:
            response = client.conversations_history(
                channel=channel_id, oldest=oldest, include_all_metadata=True, limit=HISTORY_PAGE, cursor=cursor
            )
        except SlackApiError as error:
            code = str(error.response.get("error") or "slack_error") if error.response is not None else "slack_error"
            raise LookupFailed(code) from error
        except OSError as error:  # timeouts, refused and reset connections (URLError is an OSError)
            raise LookupFailed("not_checked") from error
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") != event_type:
                continue
            if any(str(payload.get(key)) != str(value) for key, value in wanted.items()):
                continue
            yield dict(payload), str(message.get("ts"))
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not response.get("has_more") or not cursor:
            break


def find_parts(
    client: WebClient, channel_id: str, event_type: str, wanted: Mapping[str, Any], since: dt.datetime
) -> dict[int, str]:
    """part → ts of the messages in `channel_id` since `since` whose metadata is `event_type` with `wanted`."""
    parts: dict[int, str] = {}
    for payload, ts in matching_payloads(client, channel_id, event_type, wanted, since):
        parts.setdefault(int(payload.get("part", 0)), ts)
    return parts
