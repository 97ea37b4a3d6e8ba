"""The tables of sheets linked to channels (`/microopt connect`): one link per channel, and every change made.

A link holds the Google Sheet's key (never its URL), the workspace it was made in, who made it and when.
Added in schema version 9 (`bot.state.tables`); they join `tables.metadata`, so `create_all` makes them.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from bot.state.tables import UtcDateTime, metadata

CONNECT, DISCONNECT, UNINSTALLED = "connect", "disconnect", "uninstalled"

# One row per linked channel: the channel reads this sheet instead of MICROOPT_SHEET.
sheet_links = Table(
    "microopt_sheet_links",
    metadata,
    Column("channel", String(40), primary_key=True),
    Column("team_id", String(40), nullable=True),  # the workspace the link was made in (None: unknown)
    Column("sheet", String(200), nullable=False),  # the spreadsheet key
    Column("linked_by", String(40), nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
)
Index("microopt_sheet_links_sheet", sheet_links.c.sheet)
Index("microopt_sheet_links_team", sheet_links.c.team_id)

# Every connect and disconnect, and links removed when a workspace uninstalled microopt.
sheet_link_changes = Table(
    "microopt_sheet_link_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(40), nullable=False),
    Column("team_id", String(40), nullable=True),
    Column("action", String(12), nullable=False),  # CONNECT | DISCONNECT | UNINSTALLED
    Column("sheet", String(200), nullable=True),
    Column("changed_by", String(40), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)
Index("microopt_sheet_link_changes_channel", sheet_link_changes.c.channel, sheet_link_changes.c.changed_at)
