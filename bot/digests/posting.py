"""Posting one digest so that it is in Slack once, even when Slack's answer does not say what happened.

chat.postMessage is not idempotent, and its answer can lie by omission: a 500 or a timeout may come after
Slack stored the message. So a post is retried blindly only on a 429 (Slack stored nothing; see
`bot.slack_api.client.posting_client`). After a 5xx, a timeout or a dropped connection, the channel's history
is asked whether the message is there (`bot.digests.recovery.find_parts`): found, it counts as posted; not
found, it is sent again, a bounded number of times with backoff and jitter (tenacity); history unreadable,
nothing more is sent and the digest is `unknown` until a later run can ask. Before each message the claim is
renewed, so a process that lost its claim (it stalled past its lease) stops instead of posting beside the
new owner.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential, wait_random

from bot.digests.pacing import ChannelPacer
from bot.digests.recovery import ChannelIds, LeaseKeeper, find_parts, metadata
from bot.slack_api.client import posting_client
from bot.slack_api.history import LookupFailed
from bot.state.digest_rows import Claim
from bot.state.store import StateStore
from bot.state.tables import ARRIVED, FAILED, NOT_ARRIVED, NOT_KNOWN, POSTED, UNKNOWN

Payload = dict[str, Any]
TAKEN = "taken"  # another process holds the claim now
ATTEMPTS = 3  # posts of one message in one run (each after the first only once history says it is not there)


@dataclass(frozen=True)
class Delivery:
    status: str  # posted | failed | unknown | taken
    sent: int  # messages of the digest in Slack
    first_ts: str | None
    channel_id: str | None
    error: str | None = None
    arrival: str | None = None
    found: int = 0  # messages found in Slack's history instead of being sent (again)


class Refused(Exception):
    """Slack answered and did not store the message (channel_not_found, not_in_channel, ratelimited…)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class NotThere(Exception):
    """No clear answer came, and the channel's history does not have the message: it may be sent again."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Unsure(Exception):
    """No clear answer came, and the channel's history could not be read: nothing more may be sent."""

    def __init__(self, code: str, lookup: str) -> None:
        super().__init__(code)
        self.code = code
        self.lookup = lookup


@dataclass
class _Progress:
    parts: dict[int, str] = field(default_factory=dict)  # part → ts, of the messages in Slack
    channel_id: str | None = None
    found: int = 0

    def first_ts(self) -> str | None:
        return self.parts[min(self.parts)] if self.parts else None


def _worth_saying(lookup: str, otherwise: str | None) -> str:
    """Why a digest is `unknown`: what stopped the history lookup when someone can fix it (a missing scope),
    else what went wrong with the post."""
    return otherwise if lookup == "not_checked" and otherwise else lookup


def _uncertain_code(error: BaseException) -> str:
    return "timeout" if isinstance(error, TimeoutError) else "connection_error"


class Poster:
    """Posts digests for one run: paced per channel, each message checked against history when in doubt."""

    def __init__(
        self,
        client: WebClient,
        pacer: ChannelPacer,
        store: StateStore,
        keeper: LeaseKeeper,
        retry_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.read_client = client
        self.post_client = posting_client(client)
        self.pacer = pacer
        self.store = store
        self.keeper = keeper
        self.channel_ids = ChannelIds(client)
        self.wait = retry_seconds / 30
        self.sleep = sleep

    def deliver(self, claim: Claim, messages: Sequence[Payload]) -> Delivery:
        progress = _Progress(channel_id=claim.channel_id)
        if claim.check_first:
            try:
                progress.parts.update(self._look(claim, progress))
            except LookupFailed as failed:
                return self._result(
                    UNKNOWN, progress, error=_worth_saying(failed.code, claim.previous_error), arrival=NOT_KNOWN
                )
            progress.found = len(progress.parts)
        for part, payload in enumerate(messages):
            if part in progress.parts:
                continue
            if not self.store.hold(
                claim,
                self.keeper.until(),
                messages=len(progress.parts),
                message_ts=progress.first_ts(),
                channel_id=progress.channel_id,
            ):
                return self._result(TAKEN, progress)
            try:
                self._post_part(claim, part, payload, len(messages), progress)
            except Refused as refused:
                return self._result(FAILED, progress, error=refused.code, arrival=NOT_ARRIVED)
            except NotThere as missing:
                return self._result(FAILED, progress, error=missing.code, arrival=NOT_ARRIVED)
            except Unsure as unsure:
                return self._result(
                    UNKNOWN, progress, error=_worth_saying(unsure.lookup, unsure.code), arrival=NOT_KNOWN
                )
        return self._result(POSTED, progress, arrival=ARRIVED)

    def _result(self, status: str, progress: _Progress, **extra: Any) -> Delivery:
        return Delivery(
            status, len(progress.parts), progress.first_ts(), progress.channel_id, found=progress.found, **extra
        )

    def _look(self, claim: Claim, progress: _Progress) -> dict[int, str]:
        progress.channel_id = self.channel_ids.resolve(claim.target, progress.channel_id)
        return find_parts(self.read_client, progress.channel_id, claim).parts

    def _post_part(self, claim: Claim, part: int, payload: Payload, parts: int, progress: _Progress) -> None:
        retrying = Retrying(
            stop=stop_after_attempt(ATTEMPTS),
            wait=wait_exponential(multiplier=self.wait, max=4 * self.wait) + wait_random(0, self.wait / 2),
            retry=retry_if_exception_type(NotThere),
            sleep=self.sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self._try_once(claim, part, payload, parts, progress)

    def _try_once(self, claim: Claim, part: int, payload: Payload, parts: int, progress: _Progress) -> None:
        self.pacer.wait(claim.target)
        try:
            response = self.post_client.chat_postMessage(
                channel=claim.target,
                text=payload["text"],
                blocks=payload["blocks"],
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata(claim, part, parts),
            )
        except SlackApiError as error:
            self.pacer.posted(claim.target)
            answer = error.response
            if answer is not None and answer.status_code < 500:
                raise Refused(str(answer.get("error") or "slack_error")) from error
            code = "slack_5xx"
        except (OSError, http.client.HTTPException) as error:  # timeouts, resets, refused connections
            self.pacer.posted(claim.target)
            code = _uncertain_code(error)
        else:
            self.pacer.posted(claim.target)
            progress.parts[part] = str(response.get("ts"))
            progress.channel_id = progress.channel_id or response.get("channel")
            return
        # No clear answer: the message may be in Slack. Let Slack settle, then look.
        self.sleep(self.wait)
        try:
            found = self._look(claim, progress)
        except LookupFailed as failed:
            raise Unsure(code, failed.code) from None
        if part in found:
            progress.parts[part] = found[part]
            progress.found += 1
            return
        raise NotThere(code)
