"""Reading a Google Sheet: Sheets requests and wall time per read, side by side.

- microopt's reader: metadata + one `values:batchGet` over every tab (2 requests, whatever the tab count);
- the usual gspread loop: `open_by_key`, `worksheets()`, then `get_all_values()` per tab (2 + N requests);
- the same reader behind the 60 s cache: repeated commands cost no request at all.

Against the loopback Sheets stand-in, so the times are client-side cost plus loopback round trips; on the
real API each request adds ~100-300 ms and counts against the 60-reads-per-minute quota.
Run: python -m benchmarks.bench_sheet_read
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

import gspread

from bot.settings import Settings
from bot.sources.cache import SheetCache
from bot.sources.google import GoogleSheets
from bot.sources.google_credentials import load_credentials
from bot.sources.google_http import SheetsHTTPClient
from tests.fakes.sheets_api import SheetsStandIn, new_rsa_key, service_account_info

KEY = "1BenchBenchBenchBenchBenchBench0123456789"
EMAIL = "bench@bench-project.iam.gserviceaccount.com"
REPEATS = 20
HEADER = ["Date", "Campaign", "Test", "Variant", "Clicks", "Spend", "Cart views (micro)", "Purchases (macro)"]


def tabs(count: int) -> dict[str, list[list[object]]]:
    day0 = dt.date(2026, 3, 1)
    return {
        f"Results {n}": [HEADER]
        + [[day0 + dt.timedelta(days=d), f"C{n}", "T", v, 1000, 420.0, 50, 4] for d in range(30) for v in "AB"]
        for n in range(count)
    }


def median_ms(action, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def gspread_loop(client: gspread.Client) -> None:
    """The way most gspread code reads a spreadsheet: one request per worksheet."""
    spreadsheet = client.open_by_key(KEY)
    for worksheet in spreadsheet.worksheets():
        worksheet.get_all_values()


def measure(api: SheetsStandIn, settings: Settings, count: int) -> tuple[float, float, float, float, float]:
    api.add_spreadsheet(KEY, tabs(count), shared_with={EMAIL: "reader"})
    sheets = GoogleSheets(settings)
    sheets.read(KEY)  # sign in once, outside the timing

    before = len(api.sheets_calls)
    ours = median_ms(lambda: sheets.read(KEY))
    ours_requests = (len(api.sheets_calls) - before) / REPEATS

    client = gspread.Client(None, session=sheets.client().session)  # the same signed-in session
    client.http_client = SheetsHTTPClient(load_credentials(settings), endpoint=api.base, timeout=20, attempts=1)
    gspread_loop(client)
    before = len(api.sheets_calls)
    theirs = median_ms(lambda: gspread_loop(client))
    theirs_requests = (len(api.sheets_calls) - before) / REPEATS

    cache = SheetCache(sheets.read, ttl_seconds=60, clock=lambda: dt.datetime(2026, 3, 9, tzinfo=dt.UTC))
    cache.read(KEY)
    cached = median_ms(lambda: cache.read(KEY), repeats=1000)
    return ours_requests, ours, theirs_requests, theirs, cached


def main() -> None:
    key = new_rsa_key()
    with SheetsStandIn(public_key=key.public_key()) as api, tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "key.json"
        key_file.write_text(json.dumps(service_account_info(key, api.token_uri, EMAIL)))
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, sheet=KEY, sheets_endpoint=api.base, google_credentials_file=key_file
        )
        print(f"{'tabs':>5} | {'microopt reqs':>13} {'ms':>7} | {'gspread loop reqs':>17} {'ms':>7} | {'cached ms':>9}")
        for count in (1, 4, 12):
            ours_requests, ours, theirs_requests, theirs, cached = measure(api, settings, count)
            print(
                f"{count:>5} | {ours_requests:>13.0f} {ours:>7.1f} | {theirs_requests:>17.0f} {theirs:>7.1f} |"
                f" {cached:>9.4f}"
            )


if __name__ == "__main__":
    main()
