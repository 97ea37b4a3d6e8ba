"""Hostile and broken clients against the real `microopt serve` (gunicorn, its asyncio worker) on 127.0.0.1.

Each test says what the client sends, what it gets back, and what the server's log says: one line, no
traceback, never the body, a token or a response_url.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.bot.slack.harness import (
    CHANNELS,
    SIGNING_SECRET,
    command_body,
    post,
    posted_messages,
    signed_headers,
    wait_for,
    write_book,
)
from tests.bot.slack.server import Server, microopt_serve, serve_env
from tests.fakes.slack_api import SlackStandIn

IDLE_CONNECTIONS = 200
MB = 1024 * 1024


@pytest.fixture(scope="module")
def shared_slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(channels=dict(CHANNELS)) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def running(shared_slack: SlackStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("hostile")
    book = write_book(folder / "campaigns.xlsx")
    with microopt_serve(serve_env(shared_slack, MICROOPT_SHEET=str(book)), folder) as server:
        yield server


class Watched:
    """The shared server, and what its log and the Slack stand-in got since this test began."""

    def __init__(self, server: Server, slack: SlackStandIn) -> None:
        self.server = server
        self.port, self.url = server.port, server.url
        self._log_from = len(server.log())
        self._posts_from = len(posted_messages(slack))
        self._slack = slack

    def log(self) -> str:
        return self.server.log()[self._log_from :]

    def posted(self) -> list[dict[str, object]]:
        return posted_messages(self._slack)[self._posts_from :]


@pytest.fixture
def slack(shared_slack: SlackStandIn) -> SlackStandIn:
    return shared_slack


@pytest.fixture
def server(running: Server, shared_slack: SlackStandIn) -> Watched:
    return Watched(running, shared_slack)


def raw_request(port: int, head: bytes, body_chunks: Iterator[bytes], timeout: float = 20) -> tuple[bytes, int]:
    """Send `head`, then the body chunks while the server reads them; the server's answer and the bytes sent.

    The answer may come before the body is all sent (a refusal): sending then stops, as a client would."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(head)
        sent = 0
        answer = b""
        conn.settimeout(0.0)
        for chunk in body_chunks:
            with contextlib.suppress(BlockingIOError):
                answer += conn.recv(65536)
            if answer:
                break
            try:
                conn.settimeout(timeout)
                conn.sendall(chunk)
                conn.settimeout(0.0)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        conn.settimeout(timeout)
        try:
            while b"\r\n\r\n" not in answer:
                data = conn.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
        return answer, sent


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def refusals(log: str) -> list[str]:
    return [line for line in log.splitlines() if "refused a request" in line]


def assert_clean(log: str, *secrets: str) -> None:
    assert "Traceback" not in log
    for secret in (SIGNING_SECRET, *secrets):
        assert secret not in log


def test_200_idle_connections_do_not_hold_back_a_signed_command(server: Watched, slack: SlackStandIn) -> None:
    """Each idle client opens a connection, sends one byte and waits (with gthread, 8 of them stopped every ack)."""
    idle = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            conn = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            conn.sendall(b"P")
            idle.append(conn)
        time.sleep(0.5)  # let the server take them all in
        acks = []
        for _ in range(5):
            body = command_body(slack, "status")
            reply = post(server.url, body, signed_headers(body), timeout=10)
            assert reply.status == 200
            assert reply.json()["text"] == "Reading the sheet…"
            acks.append(reply.seconds)
        assert max(acks) < 3.0, acks  # Slack's limit
        wait_for(lambda: len(server.posted()) >= 5, timeout=30)
        # the idle connections are still open, and the server kept them
        idle[0].sendall(b"OST /healthz HTTP/1.1\r\n")
    finally:
        for conn in idle:
            conn.close()


def test_a_60_mb_signed_body_is_refused_with_413_unread(server: Watched) -> None:
    body = b"text=" + b"a" * (60 * MB)
    stamp = str(int(time.time()))
    signature = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {stamp}\r\n"
        f"X-Slack-Signature: v0={signature}\r\n\r\n"
    ).encode()
    answer, sent = raw_request(server.port, head, iter(body[i : i + MB] for i in range(0, len(body), MB)))
    assert status_of(answer) == 413
    assert sent < 20 * MB  # refused on its Content-Length: at most what the sockets' buffers took
    (line,) = refusals(server.log())
    assert "413" in line and "62,914,565 bytes" in line
    assert_clean(server.log(), "aaaaaaaa")


def test_a_60_mb_chunked_body_is_refused_with_413_after_the_limit(server: Watched) -> None:
    """No Content-Length: the body is read up to the limit (512 KB), then refused."""
    stamp = str(int(time.time()))
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Transfer-Encoding: chunked\r\nX-Slack-Request-Timestamp: {stamp}\r\nX-Slack-Signature: v0=00\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n" % (MB // 4) + b"a" * (MB // 4) + b"\r\n"
    answer, sent = raw_request(server.port, head, iter([chunk] * 240))
    assert status_of(answer) == 413
    assert sent < 20 * MB
    (line,) = refusals(server.log())
    assert "413" in line and "over the 524,288-byte limit" in line
    assert_clean(server.log(), "aaaaaaaa")


def test_ten_unsigned_10_mb_bodies_at_once_are_refused_before_a_byte_is_read(server: Watched) -> None:
    head = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n"
    answers: list[int] = []

    def one() -> None:
        answer, _ = raw_request(server.port, head, iter([b"b" * MB] * 10))
        answers.append(status_of(answer))

    threads = [threading.Thread(target=one) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [413] * 10
    assert len(refusals(server.log())) == 10


@pytest.mark.parametrize("signed", [True, False])
def test_a_body_that_is_not_utf8_gets_400_and_one_log_line(server: Watched, slack: SlackStandIn, signed: bool) -> None:
    body = command_body(slack, "status").encode() + b"&text=\xff\xfe\xc3\x28"
    stamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {stamp}\r\n"
        f"X-Slack-Signature: v0={digest if signed else '0' * 64}\r\n\r\n"
    ).encode()
    answer, _ = raw_request(server.port, head, iter([body]))
    assert status_of(answer) == 400
    assert answer.split(b"\r\n\r\n", 1)[1].startswith(b"bad request")
    (line,) = refusals(server.log())
    assert "400" in line and "not UTF-8" in line
    assert_clean(server.log(), "deprecated-verification-token", slack.response_url("r1"))
    assert server.posted() == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"command": "/microopt", "text": '),
        ("application/x-www-form-urlencoded", "payload=%7Bnot%20json"),
        ("application/json", '["a", "list"]'),
    ],
)
def test_a_signed_malformed_body_gets_400_and_one_log_line(server: Watched, content_type: str, body: str) -> None:
    reply = post(server.url, body, {**signed_headers(body), "Content-Type": content_type})
    assert reply.status == 400
    (line,) = refusals(server.log())
    assert "neither a form nor a JSON object" in line
    assert_clean(server.log(), body)


def test_a_bad_signature_is_refused_with_401_and_the_body_is_not_logged(server: Watched, slack: SlackStandIn) -> None:
    body = command_body(slack, "status", response="secret-response")
    reply = post(server.url, body, signed_headers(body, secret="f" * 32))
    assert reply.status == 401
    (line,) = refusals(server.log())
    assert "signature does not match" in line
    assert_clean(server.log(), "deprecated-verification-token", "secret-response", "response_url", "trigger")


def test_stale_and_unsigned_requests_are_refused_before_the_body_is_read(server: Watched, slack: SlackStandIn) -> None:
    body = command_body(slack, "status")
    old = post(server.url, body, signed_headers(body, timestamp=int(time.time()) - 3600))
    unsigned = post(server.url, body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert (old.status, unsigned.status) == (401, 401)
    lines = refusals(server.log())
    assert len(lines) == 2
    assert "more than five minutes old" in lines[0] and "not signed" in lines[1]
    assert_clean(server.log(), "deprecated-verification-token")
