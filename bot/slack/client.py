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


def create_web_client(settings: Settings, token: str | None = None, timeout: int = 10) -> WebClient:
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=retry_handlers(),
    )
