"""ASGI entry point: what `microopt serve` runs in each gunicorn worker, and what to run under your own settings:

    gunicorn --worker-class asgi --bind 0.0.0.0:$PORT 'bot.asgi:create()'

Settings are read here, in each worker. When the worker starts serving, it starts its answer watch
(`bot.slack.answering.AnswerWatch`: leases renewed, the answers of stopped processes taken over).
"""

from __future__ import annotations

from bot.deps import create_deps
from bot.settings import Settings
from bot.slack.answering import AnswerWatch
from bot.slack.app import create_slack, intake_for
from bot.slack.asgi import ACK_THREADS, SlackAsgi


def create(settings: Settings | None = None, threads: int = ACK_THREADS) -> SlackAsgi:
    settings = settings or Settings()
    slack = create_slack(settings, create_deps(settings))
    watches: list[AnswerWatch] = []

    def start() -> None:
        watches.append(slack.watch(settings))

    def stop() -> None:
        for watch in watches:
            watch.stop()

    return SlackAsgi(intake_for(slack.app, settings), threads=threads, on_start=start, on_stop=stop)
