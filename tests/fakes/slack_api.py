"""A small stand-in of the Slack Web API (and of response_url) on 127.0.0.1, for real slack_sdk clients.

It answers the methods microopt calls, checks the bot token, records every call, can be scripted to
fail (`fail_next`), and can rate-limit chat.postMessage per channel the way Slack does.

It also keeps every message it accepted, per channel, replaces one in place on `chat.update` (by channel
ID and `ts`; `message_not_found` for any other, `cant_update_message` for one another app posted),
keeps the modals it opened (`views.open` with a trigger ID, `views.update` by view ID with Slack's `hash`
check: `hash_conflict` for a stale one), and returns messages from `conversations.history` the way Slack
does (newest first, by channel ID only,
`metadata` only with `include_all_metadata`, `missing_scope` without `channels:history` /
`groups:history`). Its post faults (`PostFaults`) are the ones that make a sender guess: store a message
and then answer 500, store it and answer only after the client gave up, or
fail a channel (500, nothing stored) until it recovers.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

ALL_SCOPES = (
    "commands",
    "chat:write",
    "files:write",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
    "users:read",
)
FAIL, STORE_THEN_500, STORE_THEN_STALL = "fail", "store_then_500", "store_then_stall"


class PostFaults:
    """What chat.postMessage does wrong, and to which posts: the faults that leave a sender unsure.

    - `add(kind, times, channel)`: the next `times` posts (to `channel`, or any) get `kind`:
      FAIL (500, nothing stored), STORE_THEN_500 (stored, then 500) or STORE_THEN_STALL (stored, answered
      after `stall_seconds`, longer than the client waits).
    - `fail_channel(channel, seconds)`: every post to that channel answers 500, nothing stored, until
      `seconds` have passed (or `recover(channel)`).
    - `answer_delay_seconds`: every post is stored at once and answered that much later (posts in flight).
    """

    def __init__(self) -> None:
        self.stall_seconds = 3.0
        self.answer_delay_seconds = 0.0
        self._planned: list[tuple[str, str | None]] = []
        self._failing: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, kind: str, times: int = 1, channel: str | None = None) -> None:
        with self._lock:
            self._planned.extend([(kind, channel)] * times)

    def fail_channel(self, channel: str, seconds: float) -> None:
        with self._lock:
            self._failing[channel] = time.monotonic() + seconds

    def recover(self, channel: str) -> None:
        with self._lock:
            self._failing.pop(channel, None)

    def take(self, channel: str) -> str | None:
        with self._lock:
            if self._failing.get(channel, 0.0) > time.monotonic():
                return FAIL
            for index, (kind, only) in enumerate(self._planned):
                if only is None or only == channel:
                    del self._planned[index]
                    return kind
        return None


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class SlackStandIn:
    def __init__(
        self,
        token: str = "xoxb-test-token",
        channels: dict[str, str] | None = None,
        post_interval_seconds: float | None = None,
        private: dict[str, str] | None = None,
        scopes: Iterable[str] = ALL_SCOPES,
        page_size: int | None = None,
    ) -> None:
        self.token = token
        # Workspaces and their bot tokens: `token` is T0TEAM's; installs (`oauth.v2.access`) add others.
        self.tokens: dict[str, str] = {token: "T0TEAM"}
        self.team_names: dict[str, str] = {"T0TEAM": "Team"}
        # A channel listed here belongs to that workspace alone: only its token lists it or posts there.
        self.channel_teams: dict[str, str] = {}
        self.oauth = OAuthStandIn(self)
        self.channels = channels or {"C0SPRING": "spring-sale", "C0SEARCH": "search-team"}
        # Private channels the bot was invited to: listed only with groups:read, like Slack.
        self.private = private or {}
        self.channels.update(self.private)
        # The bot token's scopes: methods that need another answer missing_scope, like Slack's.
        self.scopes: set[str] = set(scopes)
        # At most this many channels per conversations.list page (Slack may return fewer than `limit`).
        self.page_size = page_size
        # Who is in which channel, where a test says so: chat.postEphemeral to anyone else fails like Slack's,
        # and users.conversations lists a user's channels from it.
        self.members: dict[str, set[str]] = {}
        # The workspace of each user who is not of the token's own (users.info): Slack Connect guests, say.
        self.user_teams: dict[str, str] = {}
        # The Home view last published for each user (views.publish), with the hash Slack gave it.
        self.views: dict[str, dict[str, Any]] = {}
        self.post_interval_seconds = post_interval_seconds
        self.calls: list[Call] = []
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.uploads: dict[str, bytes] = {}
        self.rate_limited = 0
        self._script: dict[str, deque[Scripted]] = defaultdict(deque)
        self._last_post: dict[str, float] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.faults = PostFaults()
        self.stored: dict[str, list[dict[str, Any]]] = defaultdict(list)
        # Open modals by view ID (`views.open`, `views.update`), and the trigger IDs already used.
        self.views: dict[str, dict[str, Any]] = {}
        self._triggers_used: set[str] = set()
        self._stored_changed = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base}/response/{name}"

    def start(self) -> SlackStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def scope_header(self) -> dict[str, str]:
        """What Slack says of a token's scopes on every Web API answer."""
        return {"X-OAuth-Scopes": ",".join(sorted(self.scopes))}

    # -- scripting and inspection ----------------------------------------------------------------
    def fail_next(self, method: str, status: int, body: dict[str, Any] | None = None, **headers: str) -> None:
        """The next call of `method` gets this answer instead of the normal one."""
        self._script[method].append(Scripted(status, body or {"ok": False, "error": "scripted"}, headers))

    def channel_id(self, channel: str) -> str | None:
        """The ID a `#name`, name or ID means here (what chat.postMessage would post to)."""
        return self._channel_id(channel)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    # -- behaviour -------------------------------------------------------------------------------
    def _answer(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> Scripted:
        with self._lock:
            self.calls.append(Call(method, params, headers, time.monotonic()))
            if self._script[method]:
                return self._script[method].popleft()
        if method == "oauth.v2.access":
            return self.oauth.access(params, headers.get("authorization", ""))
        auth = headers.get("authorization", "")
        team = self.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if team is None:
            revoked = auth.removeprefix("Bearer ") in self.oauth.revoked
            return Scripted(200, {"ok": False, "error": "token_revoked" if revoked else "invalid_auth"})
        channel = str(params.get("channel", ""))
        if channel in self.channel_teams and self.channel_teams[channel] != team:
            return Scripted(200, {"ok": False, "error": "channel_not_found"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if method == "auth.test":
            return self._auth_test_of(team)
        if method == "conversations.list":
            return self._conversations_list(params, team)
        if method in ("users.conversations", "users.info"):
            return (
                self._users_conversations(params, team)
                if method == "users.conversations"
                else self._users_info(params, team)
            )
        return handler(params) if handler else Scripted(200, {"ok": True})

    def _auth_test_of(self, team: str) -> Scripted:
        bot = "B0BOT" if team == "T0TEAM" else f"B{team[1:]}"
        user = "U0BOT" if team == "T0TEAM" else f"U{team[1:]}BOT"
        name = self.team_names.get(team, team)
        return Scripted(200, {"ok": True, "user_id": user, "bot_id": bot, "team_id": team, "team": name})

    def _channel_id(self, channel: str) -> str | None:
        name = channel.lstrip("#")
        if channel in self.channels:
            return channel
        return next((cid for cid, n in self.channels.items() if n == name), None)

    def _chat_postMessage(self, params: dict[str, Any]) -> Scripted:
        written = str(params.get("channel", ""))
        if written[:1] in ("U", "W"):  # a user's ID: the app's direct message with them
            return Scripted(200, {"ok": True, "channel": "D" + written[1:], "ts": f"{time.time():.6f}"})
        channel = self._channel_id(written)
        if channel is None:
            return Scripted(200, {"ok": False, "error": "channel_not_found"})
        if self.post_interval_seconds is not None:
            with self._lock:
                now = time.monotonic()
                last = self._last_post.get(channel)
                if last is not None and now - last < self.post_interval_seconds:
                    self.rate_limited += 1
                    wait = max(1, round(self.post_interval_seconds - (now - last) + 0.5))
                    return Scripted(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
                self._last_post[channel] = now
        return self._deliver(channel, params)

    def _chat_postEphemeral(self, params: dict[str, Any]) -> Scripted:
        channel = self._channel_id(str(params.get("channel", "")))
        if channel is None:
            return Scripted(200, {"ok": False, "error": "channel_not_found"})
        if channel in self.members and str(params.get("user", "")) not in self.members[channel]:
            return Scripted(200, {"ok": False, "error": "user_not_in_channel"})
        return Scripted(200, {"ok": True, "message_ts": f"{time.time():.6f}"})

    def _chat_update(self, params: dict[str, Any]) -> Scripted:
        channel = str(params.get("channel", ""))
        ts = str(params.get("ts", ""))
        with self._lock:
            message = next((m for m in self.stored.get(channel, []) if m["ts"] == ts), None)
            if message is None:
                return Scripted(200, {"ok": False, "error": "message_not_found"})
            if message.get("app_id") != "A0APP":
                return Scripted(200, {"ok": False, "error": "cant_update_message"})
            for key in ("text", "blocks"):
                if key in params:
                    value = params[key]
                    message[key] = json.loads(value) if key == "blocks" and isinstance(value, str) else value
            message["edited"] = {"user": "U0BOT", "ts": f"{time.time():.6f}"}
            updated = dict(message)
        return Scripted(
            200, {"ok": True, "channel": channel, "ts": ts, "text": updated.get("text", ""), "message": updated}
        )

    def _views_open(self, params: dict[str, Any]) -> Scripted:
        trigger = str(params.get("trigger_id", ""))
        view = params.get("view")
        if not trigger or trigger in self._triggers_used:
            return Scripted(200, {"ok": False, "error": "invalid_trigger_id" if not trigger else "expired_trigger_id"})
        if view is None:
            return Scripted(200, {"ok": False, "error": "invalid_arguments"})
        with self._lock:
            self._triggers_used.add(trigger)
            view_id = f"V{next(self._ids):08d}"
            self.views[view_id] = self._view(view_id, view)
            return Scripted(200, {"ok": True, "view": dict(self.views[view_id])})

    def _views_update(self, params: dict[str, Any]) -> Scripted:
        view_id = str(params.get("view_id", ""))
        view = params.get("view")
        with self._lock:
            current = self.views.get(view_id)
            if current is None or view is None:
                return Scripted(200, {"ok": False, "error": "not_found" if current is None else "invalid_arguments"})
            if params.get("hash") and params["hash"] != current["hash"]:
                return Scripted(200, {"ok": False, "error": "hash_conflict"})
            self.views[view_id] = self._view(view_id, view)
            return Scripted(200, {"ok": True, "view": dict(self.views[view_id])})

    def _view(self, view_id: str, view: Any) -> dict[str, Any]:
        decoded = json.loads(view) if isinstance(view, str) else dict(view)
        return {**decoded, "id": view_id, "hash": f"{time.time():.6f}.{next(self._ids)}"}

    def view(self, view_id: str) -> dict[str, Any] | None:
        """The modal `view_id` as it is now (after any views.update)."""
        with self._lock:
            found = self.views.get(view_id)
            return dict(found) if found is not None else None

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The stored message `ts` of `channel` as it is now (after any chat.update), blocks decoded."""
        with self._lock:
            found = next((m for m in self.stored.get(channel, []) if m["ts"] == ts), None)
            if found is None:
                return None
            message = dict(found)
        if isinstance(message.get("blocks"), str):
            message["blocks"] = json.loads(message["blocks"])
        return message

    def _conversations_list(self, params: dict[str, Any], team: str = "T0TEAM") -> Scripted:
        types = set(str(params.get("types", "public_channel")).split(","))
        needed = {"public_channel": "channels:read", "private_channel": "groups:read"}
        missing = [needed[kind] for kind in sorted(types) if kind in needed and needed[kind] not in self.scopes]
        if missing:
            return Scripted(200, {"ok": False, "error": "missing_scope", "needed": ",".join(missing)})
        everything = [
            {"id": cid, "name": name, "is_private": cid in self.private, "is_member": True}
            for cid, name in self.channels.items()
            if ("private_channel" if cid in self.private else "public_channel") in types
            and self.channel_teams.get(cid, team) == team
        ]
        limit = min(int(params.get("limit", 100)), self.page_size or 1000)
        start = int(str(params.get("cursor") or "0").removeprefix("page:"))
        page = everything[start : start + limit]
        more = start + limit < len(everything)
        cursor = f"page:{start + limit}" if more else ""
        return Scripted(200, {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}})

    def _users_info(self, params: dict[str, Any], team: str) -> Scripted:
        if "users:read" not in self.scopes:
            return Scripted(200, {"ok": False, "error": "missing_scope", "needed": "users:read"})
        user = str(params.get("user", ""))
        return Scripted(200, {"ok": True, "user": {"id": user, "team_id": self.user_teams.get(user, team)}})

    def _users_conversations(self, params: dict[str, Any], team: str) -> Scripted:
        """The channels `user` is in (`members`), as the token's workspace sees them, a page at a time."""
        user = str(params.get("user", ""))
        mine = [
            {"id": cid, "name": self.channels.get(cid, cid), "is_private": cid in self.private}
            for cid, people in sorted(self.members.items())
            if user in people and self.channel_teams.get(cid, team) == team
        ]
        limit = min(int(params.get("limit", 100)), self.page_size or 1000)
        start = int(str(params.get("cursor") or "0").removeprefix("page:"))
        more = start + limit < len(mine)
        cursor = f"page:{start + limit}" if more else ""
        return Scripted(
            200, {"ok": True, "channels": mine[start : start + limit], "response_metadata": {"next_cursor": cursor}}
        )

    def _views_publish(self, params: dict[str, Any]) -> Scripted:
        """Keep the user's Home view; more than 100 blocks is refused, as Slack does."""
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if not isinstance(view, dict) or view.get("type") != "home" or len(view.get("blocks") or []) > 100:
            return Scripted(200, {"ok": False, "error": "invalid_arguments"})
        user = str(params.get("user_id", ""))
        with self._lock:
            published = {**view, "id": f"V{next(self._ids):08d}", "hash": f"{time.time():.6f}.{next(self._ids)}"}
            self.views[user] = published
        return Scripted(200, {"ok": True, "view": published})

    def _conversations_info(self, params: dict[str, Any]) -> Scripted:
        channel = self._channel_id(str(params.get("channel", "")))
        if channel is None:
            return Scripted(200, {"ok": False, "error": "channel_not_found"})
        return Scripted(200, {"ok": True, "channel": {"id": channel, "name": self.channels[channel]}})

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> Scripted:
        file_id = f"F{next(self._ids):06d}"
        return Scripted(200, {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id})

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> Scripted:
        files = params.get("files", "[]")
        files = json.loads(files) if isinstance(files, str) else files
        return Scripted(200, {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]})

    # -- stored messages, history and post faults ----------------------------------------------------
    def _deliver(self, channel: str, params: dict[str, Any]) -> Scripted:
        """chat.postMessage past auth and rate limits: the fault for this post, if any, else store and answer."""
        fault = self.faults.take(channel)
        if fault == FAIL:
            return Scripted(500, {"ok": False, "error": "fatal_error"})
        message = self._store(channel, params)
        if self.faults.answer_delay_seconds:
            time.sleep(self.faults.answer_delay_seconds)
        if fault == STORE_THEN_500:
            return Scripted(500, {"ok": False, "error": "fatal_error"})
        if fault == STORE_THEN_STALL:
            time.sleep(self.faults.stall_seconds)
        return Scripted(200, {"ok": True, "channel": channel, "ts": message["ts"], "message": message})

    def _store(self, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        with self._lock:
            history = self.stored[channel]
            ts = f"{time.time():.6f}"
            if history and float(ts) <= float(history[-1]["ts"]):
                ts = f"{float(history[-1]['ts']) + 0.000001:.6f}"
            message = {"type": "message", "user": "U0BOT", "bot_id": "B0BOT", "app_id": "A0APP", "ts": ts}
            message.update({k: params[k] for k in ("text", "blocks") if k in params})
            if metadata:
                message["metadata"] = metadata
            history.append(message)
            self._stored_changed.notify_all()
        return message

    def stored_count(self) -> int:
        with self._lock:
            return sum(len(messages) for messages in self.stored.values())

    def wait_for_stored(self, count: int, timeout: float) -> bool:
        """Until `count` messages are stored (any channels); False after `timeout` seconds."""
        with self._stored_changed:
            return self._stored_changed.wait_for(
                lambda: sum(len(m) for m in self.stored.values()) >= count, timeout=timeout
            )

    def digest_copies(self) -> Counter[tuple[str, str, int]]:
        """How many times each digest message (channel ID, slot, part) is in Slack, from its metadata."""
        with self._lock:
            messages = [(channel, m) for channel, ms in self.stored.items() for m in ms]
        copies: Counter[tuple[str, str, int]] = Counter()
        for channel, message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if "slot" in payload:
                copies[(channel, str(payload["slot"]), int(payload.get("part", 0)))] += 1
        return copies

    def _conversations_history(self, params: dict[str, Any]) -> Scripted:
        channel = str(params.get("channel", ""))
        if channel not in self.channels:  # Slack wants the ID here; a name is not found
            return Scripted(200, {"ok": False, "error": "channel_not_found"})
        needed = "groups:history" if channel.startswith("G") else "channels:history"
        if needed not in self.scopes:
            provided = ",".join(sorted(self.scopes))
            return Scripted(200, {"ok": False, "error": "missing_scope", "needed": needed, "provided": provided})
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or "inf")
        inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = min(int(params.get("limit") or 100), 999)
        start = int(params.get("cursor") or 0)
        with self._lock:
            history = list(reversed(self.stored.get(channel, [])))
        in_range = [
            m
            for m in history
            if (oldest <= float(m["ts"]) <= latest if inclusive else oldest < float(m["ts"]) < latest)
        ]
        page = in_range[start : start + limit]
        more = start + limit < len(in_range)
        messages = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in page]
        return Scripted(
            200,
            {
                "ok": True,
                "messages": messages,
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            },
        )

    # -- HTTP ------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up or was killed: as Slack would
                    self.close_connection = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                path = urlparse(self.path).path
                headers = {k.lower(): v for k, v in self.headers.items()}
                if path.startswith("/upload/"):
                    with stand_in._lock:
                        stand_in.uploads[path.rsplit("/", 1)[1]] = raw
                    self._send(200, "OK")
                    return
                if path.startswith("/response/"):
                    with stand_in._lock:
                        stand_in.responses.append((path.rsplit("/", 1)[1], json.loads(raw or b"{}")))
                    self._send(200, "ok")
                    return
                if not path.startswith("/api/"):
                    self._send(404, {"ok": False, "error": "unknown_path"})
                    return
                method = path[len("/api/") :]
                if headers.get("content-type", "").startswith("application/json"):
                    params = json.loads(raw or b"{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                answer = stand_in._answer(method, params, headers)
                self._send(answer.status, answer.body, {**stand_in.scope_header(), **answer.headers})

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                method = parsed.path[len("/api/") :]
                params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = stand_in._answer(method, params, headers)
                self._send(answer.status, answer.body, answer.headers)

        return Handler


class OAuthStandIn:
    """Slack's side of OAuth v2 for the stand-in: the app's client ID and secret, the codes Slack hands a browser
    when someone approves an install (`approve`), `oauth.v2.access` exchanging a code for the workspace's bot
    token (rotating tokens, with a refresh token, when `rotation` is on) or a refresh token for a new one, and
    `uninstall`, which revokes a workspace's tokens the way removing the app does."""

    def __init__(self, stand_in: SlackStandIn) -> None:
        self.stand_in = stand_in
        self.client_id = "1111.2222"
        self.client_secret = "0123456789abcdef0123456789abcdef"
        self.rotation = False
        self.expires_in = 43_200  # a rotating token lives twelve hours
        self._codes: dict[str, tuple[str, str]] = {}  # code -> (team, scopes)
        self._refresh: dict[str, str] = {}  # refresh token -> team
        self.revoked: set[str] = set()
        self._ids = itertools.count(1)

    def approve(self, team: str, name: str, scopes: Iterable[str] = ALL_SCOPES) -> str:
        """Someone of `team` pressed Allow on Slack's install page: the code Slack puts in the redirect."""
        code = f"code-{team}-{next(self._ids)}"
        self._codes[code] = (team, ",".join(scopes))
        self.stand_in.team_names[team] = name
        return code

    def access(self, params: dict[str, Any], authorization: str) -> Scripted:
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != expected:
            return Scripted(200, {"ok": False, "error": "invalid_client_id"})
        if params.get("grant_type") == "refresh_token":
            team = self._refresh.pop(str(params.get("refresh_token", "")), None)
            if team is None:
                return Scripted(200, {"ok": False, "error": "invalid_refresh_token"})
            return Scripted(200, self._grant(team, self._scopes_of(team)))
        found = self._codes.pop(str(params.get("code", "")), None)
        if found is None:
            return Scripted(200, {"ok": False, "error": "invalid_code"})
        team, scopes = found
        return Scripted(200, self._grant(team, scopes))

    def _scopes_of(self, team: str) -> str:
        return ",".join(sorted(self.stand_in.scopes))

    def _grant(self, team: str, scopes: str) -> dict[str, Any]:
        with self.stand_in._lock:
            for token, owner in list(self.stand_in.tokens.items()):
                if owner == team and token != self.stand_in.token:
                    del self.stand_in.tokens[token]  # a new token replaces the workspace's old one
            number = next(self._ids)
            token = f"xoxe.xoxb-{team}-{number}" if self.rotation else f"xoxb-{team}-{number}"
            self.stand_in.tokens[token] = team
        grant: dict[str, Any] = {
            "ok": True,
            "app_id": "A0APP",
            "authed_user": {"id": f"U{team[1:]}ADMIN"},
            "scope": scopes,
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": f"U{team[1:]}BOT",
            "team": {"id": team, "name": self.stand_in.team_names.get(team, team)},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if self.rotation:
            refresh = f"xoxe-1-{team}-{number}"
            self._refresh[refresh] = team
            grant.update(refresh_token=refresh, expires_in=self.expires_in)
        return grant

    def uninstall(self, team: str) -> None:
        """The workspace removed the app: its tokens stop working (`token_revoked`)."""
        with self.stand_in._lock:
            for token, owner in list(self.stand_in.tokens.items()):
                if owner == team:
                    del self.stand_in.tokens[token]
                    self.revoked.add(token)
