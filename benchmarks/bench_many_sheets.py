"""A digest run over many linked sheets (a sheet per channel, `/microopt connect`), against the Sheets stand-in,
which answers like Google: 60 read requests a minute per service account, a 429 past that.

Each of N channels reads a Google Sheet of its own and has a digest due at 09:00; one `post_digests` run reads
the sheets through real gspread and posts to the Slack stand-in. Time at the Sheets stand-in and in the quota is
virtual (a clock that moves when someone waits on it), so the minutes Google's quota costs are counted, not slept.
Compared in one run, on the same sheets and stand-ins:

- microopt: every read request within MICROOPT_SHEETS_READS_PER_MINUTE (50), waiting for the quota;
- without the quota (the code before it): reads sent as they come, Google's 429s retried with backoff (4 tries).

    python benchmarks/bench_many_sheets.py [--sheets 200]

Prints, for each: digests posted, sheets read, 429s met, the virtual minutes the run took, and the wall seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.deps import Deps
from bot.digests.run import ChannelPacer, post_digests
from bot.settings import Settings
from bot.slack_api.client import create_web_client
from bot.sources import read_tabs
from bot.sources.cache import SheetCache
from bot.sources.google import GoogleSheets
from bot.sources.quota import ReadQuota
from bot.state.links import link_channel
from bot.state.store import StateStore
from tests.fakes.sheets_api import SheetsStandIn, new_rsa_key, service_account_info
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.virtual_time import VirtualTime, most_in_a_minute

EMAIL = "microopt@agency.iam.gserviceaccount.com"
NINE = dt.datetime(2026, 3, 2, 9, 1, tzinfo=dt.UTC)
HEADER = ["Campaign", "Test", "Variant", "Visitors", "Purchases (macro)"]


def run(sheets: int, paced: bool, rsa_key: Any, workdir: Path) -> dict[str, Any]:
    time_ = VirtualTime()
    channels = {f"C1{n:06d}": f"client-{n}" for n in range(sheets)}
    with (
        SlackStandIn(channels=channels) as slack,
        SheetsStandIn(rsa_key.public_key(), clock=time_, read_quota=60) as google_api,
    ):
        key_file = workdir / f"key-{paced}.json"
        key_file.write_text(json.dumps(service_account_info(rsa_key, token_uri=google_api.token_uri, email=EMAIL)))
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=slack.token,
            slack_api_url=slack.api_url,
            sheet=str(Path(__file__).resolve().parent.parent / "examples" / "campaigns.xlsx"),
            sheets_endpoint=google_api.base,
            google_credentials_file=key_file,
            min_days=1,
            schedule_sync_minutes=24 * 60,
        )
        quota = ReadQuota(settings.sheets_reads_per_minute if paced else 1_000_000, clock=time_, sleep=time_.sleep)
        google = GoogleSheets(settings, sleep=time_.sleep, quota=quota)
        cache = SheetCache(partial(read_tabs, settings=settings, google=lambda: google), 60, clock=lambda: NINE)
        store = StateStore.open(f"sqlite:///{workdir / f'state-{paced}.db'}")
        deps = Deps(
            settings=settings,
            read_tabs=cache.read,
            clock=lambda: NINE,
            last_read=cache.last_read,
            state=lambda: store,
            slack_client=lambda: create_web_client(settings),
        )
        for n, channel in enumerate(channels):
            key = (f"Client{n:04d}" + "_0123456789abcdefghijklmnopqrstuvwxyzABCDEF")[:44]
            rows = [HEADER, [f"Client {n}", "Audience", "A", 20000, 400], [f"Client {n}", "Audience", "B", 20000, 470]]
            google_api.add_spreadsheet(key, {"Results": rows}, shared_with={EMAIL: "reader"})
            link_channel(store, channel, "T0TEAM", key, "U0ANA", NINE)
            store.set_slack_schedule(channel, "", "daily 09:00", "UTC", NINE - dt.timedelta(days=1))
        started = time.perf_counter()
        result = post_digests(deps, NINE, pacer=ChannelPacer(0), sleep=lambda s: None, refresh_schedules=False)
        wall = time.perf_counter() - started
        reads = [c.at for c in google_api.calls_to("metadata", "batchGet")]
        read = len({c.path.split("/values")[0] for c in google_api.calls_to("batchGet")})
        store.close()
        return {
            "posted": result.count("posted"),
            "sheets read": read,
            "429s": google_api.over_quota,
            "most reads in a minute": most_in_a_minute(reads),
            "virtual minutes": round(time_() / 60, 1),
            "wall seconds": round(wall, 1),
        }


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the 429s of the run without the quota, one line each, are counted
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sheets", type=int, default=200)
    args = parser.parse_args()
    rsa_key = new_rsa_key()
    with tempfile.TemporaryDirectory() as tmp:
        rows = {
            "microopt (within the quota)": run(args.sheets, True, rsa_key, Path(tmp)),
            "without the quota (before)": run(args.sheets, False, rsa_key, Path(tmp)),
        }
    print(f"A digest run over {args.sheets} linked sheets, one digest due per sheet; Google: 60 reads a minute")
    columns = list(next(iter(rows.values())))
    print(f"{'':30}" + "".join(f"{c:>24}" for c in columns))
    for name, row in rows.items():
        print(f"{name:30}" + "".join(f"{row[c]!s:>24}" for c in columns))


if __name__ == "__main__":
    main()
