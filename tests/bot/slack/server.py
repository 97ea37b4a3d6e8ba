"""`microopt serve` as a real process on 127.0.0.1: started as the Procfile starts it, its log kept in a file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.bot.slack.harness import BOT_TOKEN, SIGNING_SECRET, wait_for
from tests.fakes.slack_api import SlackStandIn

ROOT = Path(__file__).resolve().parents[3]
SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """gunicorn's workers: the master's children."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def kill(self) -> None:
        """kill -9 of the master and its workers at once: nothing runs a line more."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)


def serve_env(slack: SlackStandIn, **settings: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k not in SLACK_VARIABLES},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PYTHONPATH": str(ROOT),
        **settings,
    }


@contextmanager
def microopt_serve(env: dict[str, str], cwd: Path, *args: str, name: str = "serve") -> Iterator[Server]:
    """`python -m bot serve` (the Procfile's web line) until it answers /healthz; stopped (SIGTERM) on exit."""
    port = free_port()
    log_path = cwd / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port), *args],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log_path)
    try:
        wait_for(lambda: _healthy(server), timeout=30, interval=0.05)
        assert process.poll() is None, server.log()
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _healthy(server: Server) -> bool:
    if server.process.poll() is not None:
        return True  # it died: stop waiting, the caller's assertion shows its log
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=0.5) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return conn.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        time.sleep(0.05)
        return False
