"""Which sheet a spec names: a Google Sheet (by URL or key) or a local file."""

from __future__ import annotations

import re

_GOOGLE_URL = re.compile(r"docs\.google\.com/spreadsheets/d/(?P<key>[A-Za-z0-9_-]+)")
_GOOGLE_KEY = re.compile(r"^[A-Za-z0-9_-]{25,}$")


def google_key(spec: str) -> str | None:
    """The spreadsheet key of a Google Sheet URL or bare key; None for a local path."""
    if match := _GOOGLE_URL.search(spec):
        return match["key"]
    if _GOOGLE_KEY.match(spec.strip()) and "." not in spec and "/" not in spec:
        return spec.strip()
    return None
