"""Where sheets come from: a local .csv/.xlsx file or a Google Sheet, all returning `Tab`s."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from analysis.models import Tab
from bot.settings import Settings
from bot.sources.keys import google_key
from bot.sources.limits import ReadLimit
from bot.sources.local import read_local

__all__ = ["google_key", "read_tabs"]

if TYPE_CHECKING:
    from bot.sources.google import GoogleSheets


def read_tabs(spec: str, settings: Settings, google: Callable[[], GoogleSheets] | None = None) -> list[Tab]:
    """Every tab of the sheet `spec` names, as raw cells, as much of it as the settings' read limit allows.

    `google` gives the process's shared Google client (signed in once); without it a one-off client is used.
    """
    key = google_key(spec)
    if key is None:
        return read_local(spec, ReadLimit.of(settings))
    from bot.sources.google import read_google_sheet

    return read_google_sheet(key, settings, google() if google else None)
