"""The Slack Web API client, built from settings with bounded retries on rate limits and faults."""

from __future__ import annotations

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


def posting_client(client: WebClient, max_retries: int = 3) -> WebClient:
    """The same client for chat.postMessage, retrying only what Slack did not store: a 429 (Retry-After).

    A 5xx or a timeout can come after Slack stored the message, so a blind retry posts it twice; digests
    ask Slack's history instead before they send again (bot.digest_posting)."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        headers=dict(client.headers),
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=max_retries)],
    )
