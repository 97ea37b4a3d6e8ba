"""Every way a Google read can fail ends, after bounded retries, in one sentence the team can act on."""

from __future__ import annotations

import json
import time

import pytest

from bot.errors import SheetUnavailable
from tests.bot.sources.conftest import EMAIL, KEY
from tests.fakes.sheets_api import Scripted, google_error, rate_limited

RESULTS = {"Results": [["Campaign", "Variant", "Clicks", "Buys (macro)"], ["S", "A", 100, 3], ["S", "B", 100, 5]]}


@pytest.fixture
def shared(sheets_api):
    return sheets_api.add_spreadsheet(KEY, RESULTS, shared_with={EMAIL: "reader"})


def failure(google, **settings) -> str:
    with pytest.raises(SheetUnavailable) as caught:
        google(**settings).read(KEY)
    return str(caught.value)


def test_a_429_then_success_is_retried_after_a_jittered_backoff(sheets_api, shared, google, sleeps):
    sheets_api.fail_next("batchGet", rate_limited())
    tabs = google().read(KEY)
    assert tabs[0].name == "Results"
    assert [c.route for c in sheets_api.sheets_calls] == ["metadata", "batchGet", "batchGet"]
    (wait,) = sleeps
    assert 1.0 <= wait <= 2.0  # 1 s plus up to 1 s of jitter


def test_retry_after_is_honoured(sheets_api, shared, google, sleeps):
    answer = rate_limited()
    sheets_api.fail_next("metadata", Scripted(answer.status, answer.body, {"Retry-After": "7"}))
    google().read(KEY)
    assert sleeps == [7.0]


def test_a_persistent_429_stops_after_the_configured_attempts(sheets_api, shared, google, sleeps):
    sheets_api.fail_next("metadata", rate_limited(), times=10)
    sentence = failure(google, sheets_attempts=4)
    assert sentence == (
        "Google Sheets is rate-limiting microopt (HTTP 429, 4 tries): wait a minute and ask again; if it keeps "
        "happening, raise MICROOPT_SHEET_CACHE_SECONDS so the sheet is read less often."
    )
    assert len(sheets_api.sheets_calls) == 4
    assert len(sleeps) == 3 and sleeps == sorted(sleeps) and sleeps[-1] <= 5.0  # 1, 2, 4 s (+ jitter)


def test_server_errors_are_retried_then_explained(sheets_api, shared, google):
    sheets_api.fail_next("batchGet", google_error(503, "The service is currently unavailable.", "UNAVAILABLE"), 9)
    sentence = failure(google, sheets_attempts=2)
    assert sentence.startswith("Google Sheets kept failing (HTTP 503, 2 tries)")
    assert len(sheets_api.calls_to("batchGet")) == 2


def test_a_sheet_not_shared_names_the_service_account_to_share_with(sheets_api, google):
    sheets_api.add_spreadsheet(KEY, RESULTS, shared_with={"someone-else@example.com": "writer"})
    assert failure(google) == (
        f"The Google Sheet {KEY} is not shared with microopt's service account: open the sheet, click Share, "
        f"and add {EMAIL} as a Viewer."
    )
    assert len(sheets_api.sheets_calls) == 1  # a 403 is not retried


def test_with_write_back_on_the_account_must_be_an_editor(sheets_api, google):
    sheets_api.add_spreadsheet(KEY, RESULTS, shared_with={})
    assert failure(google, write_verdicts=True).endswith(
        f"add {EMAIL} as an Editor (microopt writes its Verdicts tab)."
    )


def test_a_missing_sheet_says_so_with_its_key(sheets_api, google):
    assert failure(google) == (
        f"No Google Sheet has the key {KEY}: check MICROOPT_SHEET (copy the sheet's URL from the browser's "
        "address bar), or whether the sheet was deleted."
    )


def test_a_wrong_endpoint_is_named(sheets_api, shared, google):
    sentence = failure(google, sheets_endpoint=sheets_api.base + "/not-sheets")
    assert sentence.startswith(f"The Sheets endpoint {sheets_api.base}/not-sheets answered 404")


def test_the_api_turned_off_in_the_project(sheets_api, shared, google):
    sheets_api.api_disabled = True
    assert failure(google) == (
        "The Google Sheets API is turned off in the service account's Google Cloud project: enable it at "
        "https://console.developers.google.com/apis/api/sheets.googleapis.com/overview?project=123456789, "
        "wait a minute, and try again."
    )


def test_a_request_that_hangs_times_out_and_is_retried(sheets_api, shared, google):
    sheets_api.delay_next("batchGet", 5.0, times=2)
    started = time.monotonic()
    sentence = failure(google, sheets_timeout_seconds=0.3, sheets_attempts=2)
    assert time.monotonic() - started < 3.0
    assert sentence == (
        "Google Sheets did not answer within 0.3 s (2 tries): check this host's network or "
        "MICROOPT_SHEETS_ENDPOINT, or raise MICROOPT_SHEETS_TIMEOUT."
    )
    assert len(sheets_api.calls_to("batchGet")) == 2


def test_a_timeout_then_an_answer_succeeds(sheets_api, shared, google):
    sheets_api.delay_next("metadata", 5.0)
    assert google(sheets_timeout_seconds=0.3).read(KEY)[0].name == "Results"


def test_an_unreachable_endpoint(sheets_api, shared, google):
    sentence = failure(google, sheets_endpoint="http://127.0.0.1:9", sheets_attempts=2)
    assert sentence.startswith("Could not reach Google Sheets at http://127.0.0.1:9 (2 tries)")


def test_expired_or_revoked_key(sheets_api, shared, google):
    sheets_api.token_error = ("invalid_grant", "Invalid JWT Signature.")
    assert failure(google) == (
        f"Google refused the key of {EMAIL} (invalid_grant: Invalid JWT Signature): the key was deleted, "
        "disabled or has expired, or the service account is gone; create a new JSON key and update "
        "GOOGLE_APPLICATION_CREDENTIALS (or MICROOPT_GOOGLE_CREDENTIALS)."
    )
    assert sheets_api.sheets_calls == []


def test_a_skewed_clock_is_named(sheets_api, shared, google):
    sheets_api.token_error = (
        "invalid_grant",
        "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
        "Check your iat and exp values in the JWT claim.",
    )
    assert "this host's clock is off" in failure(google)


def test_a_token_endpoint_that_hangs(sheets_api, shared, google):
    sheets_api.delay_next("token", 5.0, times=2)
    sentence = failure(google, sheets_timeout_seconds=0.3, sheets_attempts=2)
    assert sentence.startswith("Google's sign-in service did not answer in time (2 tries)")


@pytest.mark.parametrize(
    ("contents", "phrase"),
    [
        (None, "which does not exist"),
        ("not json at all", "is not a readable JSON key"),
        ('{"type": "authorized_user", "client_id": "x"}', "is not a service-account key (it is a 'authorized_user'"),
        ('["a list"]', "is not a service-account key"),
        ('{"type": "service_account", "client_email": "a@b.c"}', "is incomplete (no private_key, token_uri)"),
    ],
)
def test_a_bad_key_file_gets_its_own_sentence(tmp_path, google, contents, phrase):
    path = tmp_path / "key.json"
    if contents is not None:
        path.write_text(contents)
    sentence = failure(google, google_credentials_file=path)
    assert phrase in sentence
    assert "GOOGLE_APPLICATION_CREDENTIALS" in sentence or "Service accounts" in sentence


def test_a_damaged_private_key_is_reported_without_quoting_it(tmp_path, google, key_info):
    damaged = dict(key_info, private_key=key_info["private_key"].replace("A", "*")[:400])
    path = tmp_path / "key.json"
    path.write_text(json.dumps(damaged))
    sentence = failure(google, google_credentials_file=path)
    assert "has a private key that cannot be read" in sentence
    assert "PRIVATE KEY" not in sentence and damaged["private_key"][40:80] not in sentence


def test_bad_key_json_in_the_environment(google):
    sentence = failure(google, google_credentials_file=None, google_credentials_json="{not json")
    assert sentence.startswith("MICROOPT_GOOGLE_CREDENTIALS is not valid JSON")


def test_no_credentials_at_all(google):
    sentence = failure(google, google_credentials_file=None, google_credentials_json=None)
    assert sentence.startswith("MICROOPT_SHEET is a Google Sheet but no service account is set")


def test_no_secret_reaches_a_sentence_or_the_log(sheets_api, shared, google, key_info, caplog):
    caplog.set_level("DEBUG")
    sheets_api.fail_next("batchGet", rate_limited(), times=5)
    sentence = failure(google, sheets_attempts=2)
    logged = caplog.text
    for secret in (key_info["private_key"][30:70], "ya29.stand-in"):
        assert secret not in sentence and secret not in logged
