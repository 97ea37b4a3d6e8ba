"""WSGI entry point for running microopt under your own gunicorn settings:

    gunicorn --worker-class gthread --threads 16 --bind 0.0.0.0:$PORT 'bot.wsgi:create()'

`microopt serve` does the same with sensible defaults. Settings are read here, in each worker.
"""

from __future__ import annotations

from bot.deps import create_deps
from bot.settings import Settings
from bot.slack.app import WsgiApp, create_app, wsgi_app


def create(settings: Settings | None = None) -> WsgiApp:
    settings = settings or Settings()
    return wsgi_app(create_app(settings, create_deps(settings)))
