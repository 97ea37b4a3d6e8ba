"""Where sheets come from: a local .csv/.xlsx file or a Google Sheet, all returning `Tab`s."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from analysis.models import Tab
from bot.settings import Settings
from bot.sources.limits import ReadLimit
from bot.sources.local import read_local

if TYPE_CHECKING:
    from bot.sources.google import GoogleSheets

_GOOGLE_URL = re.compile(r"docs\.google\.com/spreadsheets/d/(?P<key>[A-Za-z0-9_-]+)")
_GOOGLE_KEY = re.compile(r"^[A-Za-z0-9_-]{25,}$")


def google_key(spec: str) -> str | None:
    """The spreadsheet key of a Google Sheet URL or bare key; None for a local path."""
    if match := _GOOGLE_URL.search(spec):
        return match["key"]
    if _GOOGLE_KEY.match(spec.strip()) and "." not in spec and "/" not in spec:
        return spec.strip()
    return None


def read_tabs(spec: str, settings: Settings, google: Callable[[], GoogleSheets] | None = None) -> list[Tab]:
    """Every tab of the sheet `spec` names, as raw cells, as much of it as the settings' read limit allows.

    `google` gives the process's shared Google client (signed in once); without it a one-off client is used.
    """
    key = google_key(spec)
    if key is None:
        return read_local(spec, ReadLimit.of(settings))
    from bot.sources.google import read_google_sheet

    return read_google_sheet(key, settings, google() if google else None)
