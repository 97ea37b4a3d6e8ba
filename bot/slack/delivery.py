"""Posting an answer: `chat.postMessage` into the channel, then its charts, `response_url` as fallback.

A channel the bot is not in still gets its verdicts through the command's `response_url` (which needs
no membership); charts need membership, so the asker is told how to get them. Each message goes into the
channel once (`bot.slack.posting.OncePoster`: no blind retry after a 5xx, the channel's history asked
instead). Rate limits are honoured (`Retry-After`). Nothing here ends in silence: if posting fails, or
Slack cannot say whether a message arrived, the asker gets one sentence saying so.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.render.blocks import COMMAND, escape, render_notice
from bot.slack.command_answer import Answer, Chart, Post
from bot.slack.posting import NotPosted, OncePoster, Unconfirmed
from bot.slack_api.client import posting_client

logger = logging.getLogger("microopt.slack")

Respond = Callable[..., Any]

# Slack accepts at most five posts to one command's response_url.
RESPONSE_URL_POSTS = 5
# A message's plain `text` may be this long (Slack truncates past 40,000 characters).
MAX_FOLDED_TEXT = 39_000


class ResponseUrl:
    """`respond` with a count: past `RESPONSE_URL_POSTS` posts Slack drops the rest, so nothing is sent past it."""

    def __init__(self, respond: Respond, limit: int = RESPONSE_URL_POSTS) -> None:
        self._respond = respond
        self.left = limit

    def __call__(self, **payload: Any) -> Any:
        if self.left <= 0:
            logger.warning("response_url budget spent; a message was not sent")
            return None
        self.left -= 1
        return self._respond(**payload)


def fold(posts: list[Post], room: int, reserve: int = 0) -> list[Post]:
    """At most `room - reserve` posts carrying every message of `posts`: the first ones as they are, the rest
    folded into one last message of their plain texts, which lose their layout but no test and no problem."""
    room = max(1, room - reserve)
    if len(posts) <= room:
        return posts
    kept, rest = posts[: room - 1], posts[room - 1 :]
    text = "\n\n".join(str(p.payload.get("text", "")) for p in rest)
    if len(text) > MAX_FOLDED_TEXT:
        text = text[:MAX_FOLDED_TEXT].rsplit("\n", 1)[0] + (
            f"\n…and more: ask `{COMMAND} status <campaign>` for one campaign at a time."
        )
    return [*kept, Post({"text": text})]


def _error(error: SlackClientError | NotPosted) -> str:
    if isinstance(error, NotPosted):
        return error.code
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "unknown_error"))
    return type(error).__name__


def upload_charts(client: WebClient, channel_id: str, charts: tuple[Chart, ...]) -> None:
    """One `files_upload_v2` of every chart; a title is shown in the channel like a message's text, so the
    sheet's names in it are escaped like everywhere else (the alt text is read out, never parsed)."""
    client.files_upload_v2(
        channel=channel_id,
        file_uploads=[
            {
                "content": chart.draw(),
                "filename": chart.filename,
                "title": escape(chart.title),
                "alt_txt": chart.alt(),
            }
            for chart in charts
        ],
    )


def deliver(
    answer: Answer,
    *,
    client: WebClient,
    respond: Respond,
    channel_id: str,
    charts: Executor | None = None,
    poster: OncePoster | None = None,
) -> None:
    """Post every message of `answer` with `poster`, then its charts, drawn and uploaded on `charts` when given.

    Drawing a chart is CPU work; on a pool of its own it cannot delay other channels' verdicts. Without a
    `poster`, messages are posted once each, and one Slack did not answer clearly is not sent again.
    """
    respond = ResponseUrl(respond)
    poster = poster or OncePoster(posting_client(client), channel_id, None, dt.datetime.now(dt.UTC))
    try:
        if answer.visibility == "ephemeral":
            for post in fold([*answer.posts, *answer.private], RESPONSE_URL_POSTS):
                _reply(respond, post, "ephemeral")
            return
        pending = _deliver_in_channel(answer, poster, respond)
    except (SlackClientError, NotPosted) as error:
        logger.warning("could not post an answer in channel %s: %s", channel_id, _error(error))
        _tell(respond, f":warning: microopt could not post here ({_error(error)}): try again in a minute.")
        return
    except Unconfirmed as unsure:
        logger.warning(
            "Slack did not confirm an answer in channel %s (%s) and its history could not be read (%s)",
            channel_id,
            unsure.code,
            unsure.lookup,
        )
        _tell(respond, unconfirmed_sentence(unsure))
        return
    finally:
        tell_admins(client, channel_id, answer)
    if not pending:
        return
    if charts is None:
        post_charts(client, respond, channel_id, pending)
    else:
        charts.submit(post_charts, client, respond, channel_id, pending)


def unconfirmed_sentence(unsure: Unconfirmed) -> str:
    trouble = {
        "slack_5xx": "Slack answered with a server error while microopt posted its answer",
        "timeout": "Slack did not answer in time while microopt posted its answer",
        "taken_over": "microopt stopped while posting its answer",
    }.get(unsure.code, "Slack could not be reached while microopt posted its answer")
    check = (
        "microopt may not read this channel's history to check (the app needs the channels:history and "
        "groups:history scopes)"
        if unsure.lookup == "missing_scope"
        else "microopt could not read this channel's history to check"
    )
    return f":warning: {trouble}, and {check}: if the answer is not above, ask again."


def _deliver_in_channel(answer: Answer, poster: OncePoster, respond: Respond) -> list[Chart]:
    """Post the messages; return the charts still to upload (none when the bot is not in the channel)."""
    charts: list[Chart] = []
    posts = list(answer.posts)
    sent = 0
    for part, post in enumerate(posts):
        if not poster.post(part, len(posts), post.payload):
            break
        charts.extend(post.charts)
        sent += 1
    rest = posts[sent:]
    private = list(answer.private)
    if rest:
        # Not a member: response_url takes the rest, folded to fit its five posts with the tip and details.
        tip = any(p.charts for p in rest)
        reserve = int(tip) + min(len(private), 1)
        for post in fold(rest, RESPONSE_URL_POSTS, reserve):
            _reply(respond, post, "in_channel")
        if tip:
            _tell(respond, "To get a chart beside each verdict, invite microopt to this channel: `/invite @microopt`.")
    for post in fold(private, max(1, getattr(respond, "left", 1))):
        _reply(respond, post, "ephemeral")
    return charts


def tell_admins(client: WebClient, channel_id: str, answer: Answer) -> None:
    """The fault's details to each admin: ephemeral in the channel when they are in it, else by direct
    message (chat.postMessage to the user's ID). A failure here is logged, never the asker's problem."""
    if answer.admin_post is None:
        return
    payload = answer.admin_post.payload
    for admin in answer.admins:
        try:
            try:
                client.chat_postEphemeral(channel=channel_id, user=admin, **payload)
            except SlackApiError:
                client.chat_postMessage(channel=admin, unfurl_links=False, unfurl_media=False, **payload)
        except SlackClientError as error:
            logger.warning("could not tell admin %s about a sheet fault: %s", admin, _error(error))


def post_charts(client: WebClient, respond: Respond, channel_id: str, charts: list[Chart]) -> None:
    """Draw and upload the charts in one `files_upload_v2` call; a failure costs the charts, not the verdicts."""
    try:
        upload_charts(client, channel_id, tuple(charts))
    except SlackClientError as error:
        logger.warning("chart upload failed in channel %s: %s", channel_id, _error(error), exc_info=True)
        _tell(respond, f"The charts could not be uploaded ({_error(error)}); the verdicts above stand.")
    except Exception:
        logger.exception("charts failed in channel %s", channel_id)
        _tell(respond, "The charts could not be drawn this time; the verdicts above stand.")


def _reply(respond: Respond, post: Post, response_type: str) -> None:
    """Answer through `response_url` (up to five times per command, for 30 minutes)."""
    response = respond(**post.payload, response_type=response_type, replace_original=False)
    if response is None:
        return
    status = getattr(response, "status_code", 200)
    if status != 200:
        logger.warning("response_url answered %s: %s", status, getattr(response, "body", ""))


def _tell(respond: Respond, sentence: str) -> None:
    try:
        respond(**render_notice(sentence), response_type="ephemeral", replace_original=False)
    except Exception:
        logger.exception("could not tell the asker about a failed post")
