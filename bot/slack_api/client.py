"""The Slack Web API client, built from settings with bounded retries on rate limits and faults."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import RandomJitter

from bot.settings import Settings
from bot.slack_api.auth import WorkerClient


def retry_handlers(max_retries: int = 3) -> list[RetryHandler]:
    """Honour Retry-After on 429; back off with jitter on 5xx and connection errors."""
    backoff = BackoffRetryIntervalCalculator(backoff_factor=0.5, jitter=RandomJitter())
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries, interval_calculator=backoff),
        ConnectionErrorRetryHandler(max_retry_count=max_retries, interval_calculator=backoff),
    ]


def create_web_client(settings: Settings, token: str | None = None, timeout: int | None = None) -> WebClient:
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=base_url,
        timeout=timeout or settings.slack_timeout_seconds,
        retry_handlers=retry_handlers(),
    )


class _SaidByTheCaller(logging.Filter):
    """slack_sdk logs an ERROR line for each try that could not reach Slack, then raises; the worker says
    what happened once, in its own words (`bot.slack_api.auth`, `bot.digests.notes`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to send a request to Slack API server")


def worker_logger() -> logging.Logger:
    """slack_sdk's log for the worker's client: its warnings (a retry's INFO lines are routine, even in a
    worker's INFO log), without the ERROR lines the worker says in its own words."""
    log = logging.getLogger("microopt.slack.worker")
    log.setLevel(logging.WARNING)
    if not any(isinstance(f, _SaidByTheCaller) for f in log.filters):
        log.addFilter(_SaidByTheCaller())
    return log


def create_worker_client(settings: Settings) -> WorkerClient:
    """The digest worker's client: the same retries, a refused token raised as `SlackTokenRefused` by any call,
    and no slack_sdk ERROR line for a Slack it could not reach (the failure is worded once by the caller)."""
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WorkerClient(
        token=settings.slack_bot_token,
        base_url=base_url,
        timeout=settings.slack_timeout_seconds,
        retry_handlers=retry_handlers(),
        logger=worker_logger(),
    )


def posting_client(client: WebClient, max_retries: int = 3) -> WebClient:
    """The same client for chat.postMessage, retrying only what Slack did not store: a 429 (Retry-After).

    A 5xx or a timeout can come after Slack stored the message, so a blind retry posts it twice; digests
    ask Slack's history instead before they send again (bot.digests.posting)."""
    return type(client)(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        headers=dict(client.headers),
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=max_retries)],
        logger=client._logger,  # a worker's client stays one: its logger, and SlackTokenRefused
    )
