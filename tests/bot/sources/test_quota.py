"""Google's read quota kept by waiting (`bot.sources.quota`), on a virtual clock; and every read try of the real
Google client, retries included, counted against it at the Sheets stand-in."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.errors import SheetUnavailable
from bot.sources.google import GoogleSheets
from bot.sources.quota import ReadQuota
from tests.bot.sources.conftest import EMAIL, KEY
from tests.fakes.virtual_time import VirtualTime, most_in_a_minute


def test_a_burst_up_to_the_quota_goes_at_once_and_the_next_waits_for_the_oldest() -> None:
    time = VirtualTime()
    quota = ReadQuota(5, clock=time, sleep=time.sleep)
    sent = []
    for _ in range(5):
        quota.take()
        sent.append(time())
    assert sent == [0.0] * 5 and quota.waited == 0
    time.sleep(10)
    quota.take()
    assert time() == 60.0  # the oldest of the last five went at 0
    assert quota.waited == 50.0


def test_many_threads_never_send_more_than_the_quota_in_any_minute() -> None:
    time = VirtualTime()
    quota = ReadQuota(7, clock=time, sleep=time.sleep)
    sent: list[float] = []
    lock = threading.Lock()

    def one() -> None:
        quota.take()
        with lock:
            sent.append(time())

    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(one) for _ in range(50)]:
            future.result()
    assert len(sent) == 50
    assert most_in_a_minute(sent) == 7
    assert max(sent) == 7 * 60  # 50 requests, 7 a minute: the last in the eighth minute


SHEET = {
    "Results": [["Campaign", "Variant", "Clicks", "Sales (macro)"], ["Spring", "A", 100, 5], ["Spring", "B", 100, 7]]
}


def test_the_google_client_keeps_every_read_within_the_quota_at_the_stand_in(sheets_api, make_settings) -> None:
    """20 whole-sheet reads (40 requests) with a quota of 6 a minute: none refused by the stand-in, which counts
    the reads on the same virtual clock; the client waited for the quota instead."""
    time = VirtualTime()
    sheets_api.clock, sheets_api.read_quota = time, 6
    sheets_api.add_spreadsheet(KEY, SHEET, shared_with={EMAIL: "reader"})
    google = GoogleSheets(make_settings(), quota=ReadQuota(6, clock=time, sleep=time.sleep))

    for _ in range(20):
        google.read(KEY)

    reads = [call.at for call in sheets_api.calls_to("metadata", "batchGet")]
    assert len(reads) == 40 and sheets_api.over_quota == 0
    assert most_in_a_minute(reads) == 6
    assert google.quota.waited == 6 * 60  # 40 requests, 6 a minute: the last ones in the seventh minute


def test_past_the_quota_the_stand_in_refuses_what_google_would(sheets_api, make_settings, sleeps) -> None:
    """The other side of the same test: a client whose quota is past Google's meets Google's 429s."""
    time = VirtualTime()
    sheets_api.clock, sheets_api.read_quota = time, 6
    sheets_api.add_spreadsheet(KEY, SHEET, shared_with={EMAIL: "reader"})
    google = GoogleSheets(make_settings(sheets_attempts=1), sleep=sleeps, quota=ReadQuota(1000, clock=time))

    failures = []
    for _ in range(5):
        try:
            google.read(KEY)
        except SheetUnavailable as error:
            failures.append(str(error))

    assert sheets_api.over_quota == 2 and len(failures) == 2
    assert failures[0].startswith("Google Sheets is rate-limiting microopt (HTTP 429, 1 try)")
