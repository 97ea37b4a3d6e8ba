from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.bot.slack.harness import CHANNELS, write_book
from tests.fakes.slack_api import SlackStandIn

HEADER = ["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)", "Purchases (macro)"]


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(channels=dict(CHANNELS)) as stand_in:
        yield stand_in


@pytest.fixture
def write_sheet(tmp_path: Path) -> Callable[..., Path]:
    """A one-tab .csv sheet from rows under the usual header."""

    def write(rows: list[list[object]], header: list[str] = HEADER, name: str = "Results.csv") -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return write


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """Campaigns.xlsx with Results and Channels tabs."""
    return write_book(tmp_path / "campaigns.xlsx")
