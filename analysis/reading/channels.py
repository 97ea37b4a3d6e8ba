"""The Channels tab: which Slack channel each campaign's verdicts and digests go to, on which schedule."""

from __future__ import annotations

from typing import cast

import pandas as pd

from analysis.models import (
    ChannelRoute,
    Problem,
    Tab,
)
from analysis.reading.cells import (
    a1,
    normalise_header,
    parse_text,
)
from analysis.reading.hand_made import body_cells, first_header_row

CHANNEL_COLUMNS = ("campaign", "channel", "schedule", "timezone")


def parse_channels(tab: Tab, problems: list[Problem]) -> list[ChannelRoute]:
    header_index = first_header_row(tab.rows)
    if header_index is None:
        return []
    headers = {normalise_header(cell): i for i, cell in reversed(list(enumerate(tab.rows[header_index])))}
    if "channel" not in headers:
        problems.append(Problem(cell=a1(tab.name, header_index, 0), message="the Channels tab has no Channel column"))
        return []
    cells = body_cells(tab, header_index)
    blank = pd.Series("", index=cells.index, dtype="object")
    columns = {name: parse_text(cells[headers[name]]) if name in headers else blank for name in CHANNEL_COLUMNS}
    routes: list[ChannelRoute] = []
    for row_index, campaign, channel, schedule, timezone in zip(
        cells.index, *(columns[name] for name in CHANNEL_COLUMNS), strict=True
    ):
        if not campaign and not channel:
            continue
        if not channel:
            problems.append(
                Problem(
                    cell=a1(tab.name, cast(int, row_index), headers["channel"]),
                    message=f"no channel given for campaign “{campaign}”; row left out",
                )
            )
            continue
        routes.append(
            ChannelRoute(
                campaign=campaign or "*",
                channel=channel,
                schedule=schedule or None,
                timezone=timezone or None,
                cell=a1(tab.name, cast(int, row_index), headers["channel"]),
            )
        )
    return routes
