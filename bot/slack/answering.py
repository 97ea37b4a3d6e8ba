"""A command's answer from its claim to the channel, once, and the answers of processes that stopped.

`CommandAnswers.run` is what the lazy listener does: claim the command (`bot.slack.retries.AnswerClaims`,
with a lease), answer it (`bot.slack.answers.Answers`), post it once (`bot.slack.delivery.deliver` with a
`bot.slack.posting.OncePoster`) and record it answered, which also erases its `response_url`.

`AnswerWatch` is a thread every serving process runs: each third of the lease it renews this process's
claims, and takes over those whose process stopped (their lease ran out). A taken-over command is answered
again from the request kept with its claim, its channel's history asked first if the first process had
begun posting; one that processes stopped on twice, or older than its `response_url` lives, is not tried
again: the channel is told the answer was lost, and to ask again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.render.blocks import COMMAND, escape, render_notice
from bot.sentences import mention, shorten
from bot.slack.answers import Answers
from bot.slack.command_answer import SlashCommand
from bot.slack.delivery import deliver
from bot.slack.posting import NotPosted, OncePoster, Unconfirmed, answer_tag
from bot.slack.retries import AnswerClaims
from bot.slack_api.client import posting_client
from bot.state.answers import AnswerClaim
from bot.state.tables import ANSWERED, LOST

logger = logging.getLogger("microopt.slack")

# A command whose processes stopped this many times is not tried again (it may be what stops them).
MAX_ATTEMPTS = 2
# Slack accepts a command's response_url for 30 minutes; past this an answer is not tried again.
ANSWER_AGE_LIMIT = dt.timedelta(minutes=25)
LOST_PART = -1  # the metadata part of the "answer lost" message


def lost_sentence(command: SlashCommand) -> str:
    who = mention(command.user_id)
    asked = f"`{COMMAND} {escape(shorten(command.text))}`" if command.text else f"`{COMMAND}`"
    return (
        f":warning: microopt stopped while answering {asked}{' for ' + who if who else ''}, and the answer was "
        "lost: please ask again."
    )


class CommandAnswers:
    """The slow part of every command for one app, exactly once across processes."""

    def __init__(
        self,
        answers: Answers,
        claims: AnswerClaims,
        client_for: Callable[[str | None], WebClient],
        charts: Executor,
        executor: Executor,
    ) -> None:
        self.answers = answers
        self.claims = claims
        # The client of a workspace, for answers taken over from a stopped process (no request to give one).
        self.client_for = client_for
        self.charts = charts
        self.executor = executor

    def run(self, body: Mapping[str, Any], client: WebClient, respond: Respond) -> None:
        """Answer one command (its body as Slack sent it), unless another live process answers it."""
        command = SlashCommand.from_body(body)
        if not command.answered_later:
            return  # the acknowledgement was the whole answer
        claim = self.claims.claim(body)
        if claim is None:
            return  # Slack's retry of a command that another process is answering
        self.give(command, claim, client, respond)

    def give(self, command: SlashCommand, claim: AnswerClaim, client: WebClient, respond: Respond) -> None:
        """Answer and post; the claim ends answered, or lost if a bug stopped it (its heartbeat would otherwise
        keep it this process's for good)."""
        status = LOST
        try:
            reply = self.answers.answer(command)
            self.claims.sending(claim)
            poster = OncePoster(
                posting_client(client),
                command.channel_id,
                answer_tag(claim.key) if claim.key else None,
                claim.received_at,
                check_first=claim.check_first,
            )
            deliver(
                reply, client=client, respond=respond, channel_id=command.channel_id, charts=self.charts, poster=poster
            )
            status = ANSWERED
        finally:
            self.claims.finish(claim, status)

    # -- answers of stopped processes ------------------------------------------------------------
    def recover(self) -> int:
        """Take over the answers whose process stopped; each is answered on the answer pool. How many."""
        taken = self.claims.expired()
        for claim in taken:
            self.executor.submit(self._take_over, claim)
        return len(taken)

    def _take_over(self, claim: AnswerClaim) -> None:
        try:
            request = json.loads(claim.request or "{}")
        except ValueError:
            request = {}
        command = SlashCommand.from_body(request)
        respond = Respond(response_url=request.get("response_url"))
        age = self.claims.clock() - claim.received_at
        try:
            if claim.attempts > MAX_ATTEMPTS or age > ANSWER_AGE_LIMIT or not command.channel_id:
                logger.warning(
                    "processes stopped %s times answering %s %s in channel %s: the channel is told to ask again",
                    claim.attempts - 1,
                    COMMAND,
                    command.verb,
                    command.channel_id,
                )
                self.tell_lost(command, claim, respond)
                self.claims.finish(claim, LOST)
                return
            logger.warning(
                "answering %s %s in channel %s in place of a process that stopped",
                COMMAND,
                command.verb,
                command.channel_id,
            )
            self.give(command, claim, self.client_for(command.team_id), respond)
        except Exception:
            logger.exception("could not take over an answer in channel %s", command.channel_id)

    def tell_lost(self, command: SlashCommand, claim: AnswerClaim, respond: Respond) -> None:
        payload = render_notice(lost_sentence(command))
        client = posting_client(self.client_for(command.team_id))
        poster = OncePoster(client, command.channel_id, answer_tag(claim.key), claim.received_at)
        try:
            if command.channel_id and poster.post(LOST_PART, 0, payload):
                return
        except (SlackClientError, NotPosted, Unconfirmed) as error:
            logger.warning("could not post 'answer lost' in channel %s: %s", command.channel_id, error)
        if respond.response_url:
            try:
                respond(**payload, response_type="in_channel", replace_original=False)
            except Exception as error:  # the response_url may have expired: nothing more can be done
                logger.warning("could not tell the asker that the answer was lost: %s", type(error).__name__)


class AnswerWatch:
    """Each third of the lease: renew this process's answer claims, and take over those of stopped processes."""

    def __init__(self, answering: CommandAnswers, lease: dt.timedelta) -> None:
        self.answering = answering
        self.interval = max(lease.total_seconds() / 3, 0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="microopt-answer-watch", daemon=True)

    def start(self) -> AnswerWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _beat(self) -> None:
        while True:
            try:
                self.answering.claims.renew()
                self.answering.recover()
            except Exception:  # the watch must outlive any one failure
                logger.exception("the answer watch failed once")
            if self._stop.wait(self.interval):
                return
