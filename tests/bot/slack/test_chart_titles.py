"""A chart's file title is shown by Slack beside the file like a message's text: names from the sheet in it are
escaped like every other text, so `<!channel>` in a campaign name cannot ping anyone."""

from __future__ import annotations

import json

from tests.bot.slack.harness import deps_for, send_command, serve, settings_for, tiny_chart
from tests.fakes.slack_api import SlackStandIn


def test_chart_titles_carry_sheet_names_escaped(slack: SlackStandIn, write_sheet) -> None:
    rows = [
        ["<!channel> Sale", "Ad & copy", "<@U0BOSS>", 2000, 100, 8],
        ["<!channel> Sale", "Ad & copy", "B", 2000, 161, 11],
    ]
    settings = settings_for(slack, sheet=write_sheet(rows))
    with serve(settings, deps_for(settings), draw_chart=tiny_chart) as served:
        send_command(served, slack, "status", channel_id="C0RANDOM", channel_name="random")
        served.drain()

    [complete] = slack.calls_to("files.completeUploadExternal")
    [title] = [f["title"] for f in json.loads(complete.params["files"])]
    assert title == "&lt;!channel&gt; Sale · Ad &amp; copy test: lift vs &lt;@U0BOSS&gt;"
