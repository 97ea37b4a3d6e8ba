"""`microopt serve`'s front: an ASGI application, served by gunicorn's asyncio worker (`-k asgi`).

Why not threads (gunicorn gthread, today's WSGI path): a thread reads each request, so eight clients that
open a connection, send a byte and wait held all eight threads, and no command was acknowledged. Here a
connection costs a coroutine while it sends its request, hundreds of them nothing a command notices. Only a
request whose headers passed `bot.slack.intake` and whose body came in full, within the limit, reaches a
thread: bolt is synchronous, and acknowledges on one of `threads` threads in a few milliseconds.

Lifespan: `on_start` runs when the worker starts serving (after gunicorn forked it), `on_stop` when it stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.slack.intake import Intake, Reply, refusal

logger = logging.getLogger("microopt.slack")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Requests being acknowledged at once; each takes a few milliseconds of bolt's synchronous code.
ACK_THREADS = 8


class SlackAsgi:
    def __init__(
        self,
        intake: Intake,
        threads: int = ACK_THREADS,
        on_start: Callable[[], None] = lambda: None,
        on_stop: Callable[[], None] = lambda: None,
    ) -> None:
        self.intake = intake
        self.on_start = on_start
        self.on_stop = on_stop
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="microopt-ack")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.on_start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.on_stop()
                self._threads.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[str, list[str]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        method, path = scope["method"], scope["path"]
        loop = asyncio.get_running_loop()
        if self.intake.installs(method, path):  # a browser's step of an install: bolt's OAuth flow, on a thread
            query = scope.get("query_string", b"").decode("latin-1")
            page = await loop.run_in_executor(self._threads, self.intake.install, path, query, headers)
            await _respond(send, page)
            return
        reply = self.intake.before_body(method, path, headers)
        if reply is None:
            raw = await self._body(receive)
            if raw is None:  # the client went away, or stopped sending its body for gunicorn's `timeout`
                reply = refusal(408, "its body did not arrive in full", path)
            elif len(raw) > self.intake.max_body:
                reply = self.intake.too_large(path)
            else:
                query = scope.get("query_string", b"").decode("latin-1")
                reply = await loop.run_in_executor(self._threads, self.intake.dispatch, raw, query, headers)
        try:
            await _respond(send, reply, with_body=method != "HEAD")
        except OSError:  # the client is gone (ASGI's http.disconnect): nothing to tell it
            return

    async def _body(self, receive: Receive) -> bytes | None:
        """The body, or its first `max_body + 1` bytes when longer (no more is read); None if it never came."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self.intake.max_body:
                return b"".join(chunks)[: self.intake.max_body + 1]
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _respond(send: Send, reply: Reply, with_body: bool = True) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers]
    headers.append((b"content-length", str(len(reply.body)).encode()))
    if reply.status in (400, 408, 413):
        headers.append((b"connection", b"close"))  # what is left of the body is not read
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body if with_body else b""})
