"""What a request to `/slack/events` must be before any work is done for it, for every HTTP front.

In order, each step cheap and each refusal one log line without the body, a token or a `response_url`:

1. the headers (nothing read yet): a path and method bolt serves; a declared body within `max_body`
   (413); a signature and a timestamp that is a number within five minutes of now (401);
2. the body, read up to `max_body` and no further (413 past it): UTF-8 (400), signed with the signing
   secret (401), a form or JSON object bolt can parse (400);
3. only then bolt (`App.dispatch`), which acknowledges.

With installs in many workspaces, two unsigned GETs are a browser's steps of an install, not Slack's requests:
the install page and Slack's redirect back (`installs`, `install`: bolt's OAuth flow, which checks its own state).

The fronts (`bot.slack.asgi` for `microopt serve`, `wsgi_app` in `bot.slack.app` for WSGI servers and the
tests' in-process server) differ only in how they read; the rules are here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

logger = logging.getLogger("microopt.slack")

# Slack's requests are small (a slash command is under 4 KB; a block action that carries its message rarely
# passes 100 KB): past this a request is refused unread.
MAX_BODY_BYTES = 512 * 1024
# Slack signs each request with its time; older ones are replays (bolt and slack_sdk use five minutes too).
SIGNATURE_AGE_SECONDS = 60 * 5
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, headers and body, for either front."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = field(default=(("content-type", TEXT),))

    @classmethod
    def of(cls, response: BoltResponse) -> Reply:
        body = response.body.encode() if isinstance(response.body, str) else bytes(response.body or b"")
        headers = tuple(
            (name, value)
            for name, values in response.headers.items()
            if name.lower() != "content-length"
            for value in values
        )
        return cls(response.status, body, headers)


def refusal(status: int, why: str, path: str) -> Reply:
    """One log line for a refused request (never its body or headers), and its plain answer."""
    logger.warning("refused a request to %s with %s: %s", path, status, why)
    words = {400: "bad request", 401: "unauthorized", 408: "request timeout", 413: "too large"}
    return Reply(status, words.get(status, "refused").encode())


OK = Reply(200, b"ok")
NOT_FOUND = Reply(404, b"not found")


def first_header(headers: Mapping[str, str | Sequence[str]], name: str) -> str | None:
    value = headers.get(name)
    if value is None or isinstance(value, str):
        return value
    return value[0] if value else None


class Intake:
    """The checks of one app: its path, body limit and signing secret; `dispatch` hands a clean request to bolt."""

    def __init__(
        self,
        app: App,
        signing_secret: str,
        path: str = "/slack/events",
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.path = path
        self.max_body = max_body
        self._verifier = SignatureVerifier(signing_secret)

    def before_body(self, method: str, path: str, headers: Mapping[str, str | Sequence[str]]) -> Reply | None:
        """The answer to give without reading the body (health checks and refusals), else None: read it."""
        if path == "/healthz" and method in ("GET", "HEAD"):
            return OK
        if path != self.path:
            return NOT_FOUND
        if method != "POST":
            return Reply(405, b"method not allowed", (("content-type", TEXT), ("allow", "POST")))
        length = first_header(headers, "content-length")
        if length is not None:
            if not length.strip().isdigit():
                return refusal(400, "its Content-Length is not a number", path)
            if int(length) > self.max_body:
                return refusal(413, f"its body of {int(length):,} bytes is over the {self.max_body:,}-byte limit", path)
        stamp = (first_header(headers, "x-slack-request-timestamp") or "").strip()
        if not first_header(headers, "x-slack-signature") or not stamp:
            return refusal(401, "it is not signed", path)
        if not (stamp.isdigit() and len(stamp) <= 12):
            return refusal(401, "its X-Slack-Request-Timestamp is not a number", path)
        if abs(time.time() - int(stamp)) > SIGNATURE_AGE_SECONDS:
            return refusal(401, "its signature is more than five minutes old", path)
        return None

    def installs(self, method: str, path: str) -> bool:
        """Whether this is a browser's step of an install (installs in many workspaces): the install page or
        Slack's redirect back, unsigned GETs that bolt's OAuth flow answers (`install`)."""
        flow = self.app.oauth_flow
        return flow is not None and method == "GET" and path in (flow.install_path, flow.redirect_uri_path)

    def install(self, path: str, query: str, headers: Mapping[str, str | Sequence[str]]) -> Reply:
        """The install page, or the end of an install (the code exchanged, the installation kept): bolt's OAuth
        flow, which checks the state it issued (in the database, signed, and in the browser's cookie)."""
        flow = self.app.oauth_flow
        assert flow is not None
        request = BoltRequest(body="", query=query, headers=dict(headers))
        if path == flow.install_path:
            return Reply.of(flow.handle_installation(request))
        return Reply.of(flow.handle_callback(request))

    def too_large(self, path: str) -> Reply:
        return refusal(413, f"its body is over the {self.max_body:,}-byte limit", path)

    def dispatch(self, raw: bytes, query: str, headers: Mapping[str, str | Sequence[str]]) -> Reply:
        """The rest of the checks on a body read in full (at most `max_body`), then bolt's answer."""
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return refusal(400, "its body is not UTF-8", self.path)
        stamp = first_header(headers, "x-slack-request-timestamp") or ""
        signature = first_header(headers, "x-slack-signature") or ""
        if not self._verifier.is_valid(body, stamp, signature):
            return refusal(401, "its signature does not match SLACK_SIGNING_SECRET", self.path)
        try:
            request = BoltRequest(body=body, query=query, headers=dict(headers))
        except (ValueError, TypeError, AttributeError, KeyError):
            return refusal(400, "its body is neither a form nor a JSON object", self.path)
        if not isinstance(request.body, dict):
            return refusal(400, "its body is neither a form nor a JSON object", self.path)
        return Reply.of(self.app.dispatch(request))
