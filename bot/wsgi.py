"""WSGI entry point, for a WSGI server of your own:

    gunicorn --worker-class gthread --threads 16 --bind 0.0.0.0:$PORT 'bot.wsgi:create()'

`microopt serve` runs `bot.asgi` instead (gunicorn's asyncio worker), which idle or slow clients cannot
starve: under a threaded WSGI server each connection holds a thread while it sends its request. Settings
are read here, in each worker, which also starts its answer watch.
"""

from __future__ import annotations

from bot.deps import create_deps
from bot.settings import Settings
from bot.slack.app import WsgiApp, create_slack, intake_for, wsgi_app


def create(settings: Settings | None = None) -> WsgiApp:
    settings = settings or Settings()
    slack = create_slack(settings, create_deps(settings))
    slack.watch(settings)
    return wsgi_app(intake_for(slack.app, settings))
