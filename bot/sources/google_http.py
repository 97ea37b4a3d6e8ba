"""gspread's HTTP client with what it lacks: a configurable endpoint, timeouts, bounded retries, and a read quota.

gspread sends every call, Sheets and Drive alike, through `HTTPClient.request(method, url, ...)` with URLs
built from constants in `gspread.urls` (`https://sheets.googleapis.com/v4/spreadsheets/...`). Those constants
are copied into each gspread module at import, so patching them is unreliable and global; overriding
`request` in a subclass (gspread's documented `http_client` extension point) catches every call in one
place, per client. There, each URL is moved onto `MICROOPT_SHEETS_ENDPOINT`, each request gets a timeout
(gspread sets none), and transient failures (429, 5xx, timeouts, dropped connections) are retried a bounded
number of times with exponential backoff and jitter through tenacity. gspread's own `BackOffHTTPClient` is
not used: it retries forever. Each try of a read (a GET) first waits for Google's per-minute read quota
(`bot.sources.quota`), shared by every client of the process that is given the same `ReadQuota`.

microopt needs only the Sheets API, so a call for any other Google host (Drive) is refused rather than sent
around the endpoint setting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import requests
from google.auth.credentials import Credentials
from google.auth.exceptions import RefreshError, TransportError
from gspread.exceptions import APIError
from gspread.http_client import FileType, HTTPClient, ParamsType
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.wait import wait_base

from bot.sources.quota import ReadQuota

logger = logging.getLogger("microopt.sheets")

GOOGLE_SHEETS_ENDPOINT = "https://sheets.googleapis.com"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_RATE_LIMIT_REASONS = ("RATE_LIMIT_EXCEEDED", "rateLimitExceeded", "userRateLimitExceeded", "RESOURCE_EXHAUSTED")
MAX_RETRY_AFTER_SECONDS = 30.0


def status_of(error: APIError) -> int:
    """The HTTP status (gspread's `code` is -1 when a proxy answers with a non-JSON body)."""
    return int(error.response.status_code)


def error_text(error: APIError) -> str:
    """The Google error's status, reasons and message as one searchable string."""
    body = error.error if isinstance(error.error, Mapping) else {}
    parts = [str(body.get("status", "")), str(body.get("message", ""))]
    for detail in body.get("details", []) or []:
        if isinstance(detail, Mapping):
            parts.append(str(detail.get("reason", "")))
    for item in body.get("errors", []) or []:
        if isinstance(item, Mapping):
            parts.append(str(item.get("reason", "")))
    return " ".join(parts)


def is_transient(error: BaseException) -> bool:
    """Worth another try: rate limits, server errors, timeouts and dropped connections."""
    if isinstance(error, APIError):
        status = status_of(error)
        if status in RETRY_STATUSES:
            return True
        return status == 403 and any(reason in error_text(error) for reason in _RATE_LIMIT_REASONS)
    if isinstance(error, requests.exceptions.Timeout | requests.exceptions.ConnectionError):
        return True
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return True
    if isinstance(error, TransportError):  # the token endpoint could not be reached
        return True
    return isinstance(error, RefreshError) and error.retryable


class wait_retry_after(wait_base):
    """The server's Retry-After when it sends one (capped), otherwise the fallback backoff."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = self.fallback(retry_state)
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, APIError):
            header = error.response.headers.get("Retry-After", "")
            try:
                return max(backoff, min(float(header), MAX_RETRY_AFTER_SECONDS))
            except ValueError:
                pass
        return backoff


def default_backoff() -> wait_base:
    """1 s, 2 s, 4 s… up to 16 s, each plus up to 1 s of jitter so parallel bots do not retry in step."""
    return wait_exponential_jitter(initial=1, max=16, exp_base=2, jitter=1)


def _describe(error: BaseException | None) -> str:
    if isinstance(error, APIError):
        return f"HTTP {status_of(error)}"
    return type(error).__name__ if error is not None else "unknown"


def _log_retry(retry_state: RetryCallState) -> None:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    logger.warning(
        "Google Sheets request failed (%s); try %d, next in %.1f s", _describe(error), retry_state.attempt_number, wait
    )


def _paced(send: Callable[..., requests.Response], quota: ReadQuota) -> Callable[..., requests.Response]:
    def within_quota(*args: Any, **kwargs: Any) -> requests.Response:
        quota.take()
        return send(*args, **kwargs)

    return within_quota


class SheetsHTTPClient(HTTPClient):
    """A gspread `HTTPClient` bound to one endpoint, with a timeout and bounded retries on every request."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        endpoint: str = GOOGLE_SHEETS_ENDPOINT,
        timeout: float,
        attempts: int,
        backoff: wait_base | None = None,
        sleep: Callable[[float], None] = time.sleep,
        quota: ReadQuota | None = None,
    ) -> None:
        super().__init__(credentials)
        self.quota = quota
        self.endpoint = endpoint.rstrip("/")
        self.attempts = attempts
        self.set_timeout(timeout)
        self._retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_retry_after(backoff or default_backoff()),
            retry=retry_if_exception(is_transient),
            sleep=sleep,
            before_sleep=_log_retry,
            reraise=True,
        )

    def url_for(self, url: str) -> str:
        """gspread's `https://sheets.googleapis.com/v4/...` moved onto the configured endpoint."""
        if url.startswith(GOOGLE_SHEETS_ENDPOINT + "/"):
            return self.endpoint + url[len(GOOGLE_SHEETS_ENDPOINT) :]
        if url.startswith(self.endpoint + "/"):
            return url
        raise ValueError(f"microopt only calls the Sheets API through {self.endpoint}, not {url.split('?')[0]}")

    def request(
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: FileType = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> requests.Response:
        url = self.url_for(endpoint)
        send = super().request
        if self.quota is not None and method.upper() == "GET":  # Google's read quota counts every try
            send = _paced(send, self.quota)
        # A copy per call: tenacity keeps per-run state on the Retrying object, and reads run concurrently.
        return self._retrying.copy()(
            send, method, url, params=params, data=data, json=json, files=files, headers=headers
        )
