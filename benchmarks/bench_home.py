"""Opening the Home tab: a member of 20 channels, 500 tests routed among them, the sheet behind Google's latency.

    python benchmarks/bench_home.py [--opens 15] [--sheet-seconds 0.3] [--channels 20] [--tests 500]

Both configurations build the same view for the same member in one run, against the Slack stand-in (users.info,
users.conversations, views.publish) and the Sheets stand-in through real gspread, whose reads (`batchGet`) each
take `--sheet-seconds`; one SQLite state database. The member opens the tab `--opens` times in a row (a few
seconds apart in real life: within the sheet cache's minute).

  per channel  the obvious way: on every open, read the sheet of each of the member's channels (uncached),
               analyse it and keep what is routed to that channel; then render and publish.
  microopt     `HomeTab.publish` (bot.slack.home): the member's channels cached two minutes, each sheet read once
               through the shared cached read and analysed once per read (`SharedReports`), the needs-action
               rows' ranges in words once per read, and an unchanged view not published again.

Printed: the first open and the median of the later ones, per configuration, their ratio, and the sheet reads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEY = "1BenchHomeBenchHomeBenchHome0123456789ab"
EMAIL = "microopt-bench@bench-project.iam.gserviceaccount.com"
MEMBER = "U0MEMBER"


def sheet_tabs(tests: int, channels: list[str]) -> dict[str, list[list[Any]]]:
    """`tests` undated tests in campaigns of 25, each campaign routed to one of `channels` by ID."""
    rows: list[list[Any]] = [["Campaign", "Test", "Variant", "Clicks", "Cart views (micro)", "Purchases (macro)"]]
    for n in range(tests):
        campaign = f"Campaign {n // 25:02d}"
        lift = 60 if n % 3 == 0 else 3
        rows.append([campaign, f"Test {n}", "A", 2000, 100, 8])
        rows.append([campaign, f"Test {n}", "B", 2000, 100 + lift, 9])
    routes: list[list[Any]] = [["Campaign", "Channel"]]
    routes += [[f"Campaign {c:02d}", channels[c % len(channels)]] for c in range((tests + 24) // 25)]
    return {"Results": rows, "Channels": routes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opens", type=int, default=15)
    parser.add_argument("--sheet-seconds", type=float, default=0.3)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--tests", type=int, default=500)
    args = parser.parse_args()

    from slack_sdk import WebClient

    from bot.deps import create_deps
    from bot.render.home import HomeTest, render_home
    from bot.routing import Where, access_for
    from bot.service import analysed
    from bot.settings import Settings
    from bot.slack.home import HomePaths, HomeTab
    from bot.slack.shared_reads import SharedReports
    from bot.slack_api.directory import ChannelNames
    from bot.slack_api.members import Members
    from bot.sources import read_tabs
    from tests.bot.slack.harness import BOT_TOKEN
    from tests.fakes.sheets_api import SheetsStandIn, new_rsa_key, service_account_info
    from tests.fakes.slack_api import SlackStandIn

    channels = [f"C0HOME{i:03d}" for i in range(args.channels)]
    key = new_rsa_key()
    with (
        SlackStandIn(token=BOT_TOKEN, channels={c: c.lower() for c in channels}) as slack,
        SheetsStandIn(public_key=key.public_key()) as sheets,
        tempfile.TemporaryDirectory() as folder,
    ):
        slack.members = {c: {MEMBER} for c in channels}
        sheets.add_spreadsheet(KEY, sheet_tabs(args.tests, channels), shared_with={EMAIL: "reader"})
        key_file = Path(folder) / "key.json"
        key_file.write_text(json.dumps(service_account_info(key, token_uri=sheets.token_uri, email=EMAIL)))
        sheets.delay_next("batchGet", args.sheet_seconds, times=100_000)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            sheet=KEY,
            sheets_endpoint=sheets.base,
            google_credentials_file=key_file,
            slack_bot_token=BOT_TOKEN,
            slack_api_url=slack.api_url,
            database_url=f"sqlite:///{Path(folder) / 'state.db'}",
            min_days=1,
            write_verdicts=False,
        )
        client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)

        def per_channel() -> None:
            deps = create_deps(settings)
            tests: list[HomeTest] = []
            for channel in sorted(client.users_conversations(user=MEMBER, limit=200)["channels"], key=str):
                spec = settings.sheet
                data, report = analysed(deps, read_tabs(spec, settings), spec)
                access = access_for(data.channels, Where(channel["id"]), names={}, home_team="T0TEAM")
                tests += [HomeTest(t, channel["id"]) for t in access.tests(report.tests)]
            client.views_publish(user_id=MEMBER, view=render_home(tests, deps.clock()))

        deps = create_deps(settings)
        reports = SharedReports()
        home = HomeTab(
            deps,
            Members(lambda team: client, deps.clock),
            reports.get,
            lambda team: "T0TEAM",
            lambda team: ChannelNames(),
            lambda: "T0TEAM",
            HomePaths(deps),
        )
        shown: list[str | None] = [None]

        def microopt() -> None:
            home.publish(client, "T0TEAM", MEMBER, shown[0])
            shown[0] = slack.views[MEMBER]["hash"]

        results: dict[str, tuple[float, float, int]] = {}
        for name, open_tab in (("per channel", per_channel), ("microopt", microopt)):
            reads = len(sheets.calls_to("batchGet"))
            times = []
            for _ in range(args.opens):
                started = time.perf_counter()
                open_tab()
                times.append(time.perf_counter() - started)
            results[name] = (times[0], statistics.median(times[1:]), len(sheets.calls_to("batchGet")) - reads)
        blocks = len(slack.views[MEMBER]["blocks"])

    print(
        f"Home tab: a member of {args.channels} channels, {args.tests} tests, sheet reads of {args.sheet_seconds}s, "
        f"{args.opens} opens ({blocks} blocks in the view)"
    )
    print(f"{'configuration':<14}{'first open':>12}{'later opens (median)':>24}{'sheet reads':>14}")
    for name, (first, median, reads) in results.items():
        print(f"{name:<14}{first * 1000:>10.0f} ms{median * 1000:>21.0f} ms{reads:>14}")
    naive, ours = results["per channel"], results["microopt"]
    print(f"ratio (per channel / microopt): first {naive[0] / ours[0]:.1f}x, later opens {naive[1] / ours[1]:.0f}x")


if __name__ == "__main__":
    main()
