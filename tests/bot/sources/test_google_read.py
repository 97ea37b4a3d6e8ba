"""Reading a whole Google Sheet with real gspread and google-auth, over HTTP, from the Sheets API stand-in."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from analysis.reading.workbook import parse_workbook
from analysis.report import analyse
from bot.settings import EXAMPLE_SHEET
from bot.sources.google import GoogleSheets, read_google_sheet
from bot.sources.google_http import SheetsHTTPClient
from bot.sources.local import read_local
from tests.bot.sources.conftest import EMAIL, KEY

READ_ONLY = "https://www.googleapis.com/auth/spreadsheets.readonly"


def as_google_sheet(tabs):
    """The example workbook as a team would keep it in Google Sheets: ISO date text typed into a date column
    becomes a date (a serial number to the API); everything else stays as typed."""
    out = {}
    for tab in tabs:
        rows = [list(row) for row in tab.rows]
        if rows and rows[0] and rows[0][0] == "Date":
            for row in rows[1:]:
                row[0] = dt.date.fromisoformat(row[0])
        out[tab.name] = rows
    return out


def report_json(tabs):
    return analyse(parse_workbook(tabs), source="sheet").model_dump(mode="json")


def test_a_google_sheet_gives_the_same_results_as_the_same_data_in_a_local_file(sheets_api, google):
    local_tabs = read_local(str(EXAMPLE_SHEET))
    sheets_api.add_spreadsheet(KEY, as_google_sheet(local_tabs), shared_with={EMAIL: "reader"})

    google_tabs = google().read(KEY)

    assert [t.name for t in google_tabs] == [t.name for t in local_tabs]
    assert google_tabs[0].locale == "en_US"
    daily = next(t for t in google_tabs if t.name == "Daily")
    assert isinstance(daily.rows[1][0], int)  # the date arrived as a serial number
    assert report_json(google_tabs) == report_json(local_tabs)


@pytest.mark.parametrize("tab_count", [1, 4, 12])
def test_a_whole_spreadsheet_costs_two_sheets_requests_whatever_the_number_of_tabs(sheets_api, google, tab_count):
    header = ["Campaign", "Variant", "Clicks", "Buys (macro)"]
    tabs = {f"Results {n}": [header, [f"C{n}", "A", 100, 3], [f"C{n}", "B", 100, 5]] for n in range(tab_count)}
    sheets_api.add_spreadsheet(KEY, tabs, shared_with={EMAIL: "reader"}, charts=("A chart",))

    tabs_read = google().read(KEY)

    assert len(tabs_read) == tab_count  # the chart sheet has no cells and is not asked for
    assert [c.route for c in sheets_api.sheets_calls] == ["metadata", "batchGet"]
    assert len(parse_workbook(tabs_read).tests) == tab_count


def test_values_are_asked_for_unformatted_with_dates_as_serial_numbers(sheets_api, google):
    sheets_api.add_spreadsheet(KEY, {"Results": [["Campaign"]], "It's Q2": [["x"]]}, shared_with={EMAIL: "reader"})
    google().read(KEY)
    metadata, batch_get = sheets_api.sheets_calls
    assert metadata.params["includeGridData"] == ["false"]
    assert "locale" in metadata.params["fields"][0] and "merges" in metadata.params["fields"][0]
    assert batch_get.params["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert batch_get.params["dateTimeRenderOption"] == ["SERIAL_NUMBER"]
    assert batch_get.params["ranges"] == ["'Results'", "'It''s Q2'"]


def test_the_service_account_signs_in_with_a_real_jwt_exchange_and_read_only_scope(sheets_api, google):
    sheets_api.add_spreadsheet(KEY, {"Results": [["Campaign"]]}, shared_with={EMAIL: "reader"})
    sheets = google()
    sheets.read(KEY)
    sheets.read(KEY)

    (claims,) = sheets_api.token_claims  # one token, reused by the second read
    assert claims["iss"] == EMAIL and claims["scope"] == READ_ONLY
    assert all(c.headers["authorization"].startswith("Bearer ya29.stand-in-") for c in sheets_api.sheets_calls)
    assert len(sheets_api.sheets_calls) == 4


def test_the_key_json_can_come_from_the_environment_instead_of_a_file(sheets_api, google, key_info):
    sheets_api.add_spreadsheet(KEY, {"Results": [["Campaign"]]}, shared_with={EMAIL: "reader"})
    tabs = google(google_credentials_file=None, google_credentials_json=json.dumps(key_info)).read(KEY)
    assert tabs[0].rows == [["Campaign"]]


def test_every_sheets_call_goes_to_the_configured_endpoint(sheets_api, make_settings):
    settings = make_settings(sheets_endpoint=sheets_api.base + "/")
    client = GoogleSheets(settings).client()
    assert isinstance(client, SheetsHTTPClient)
    assert (
        client.url_for("https://sheets.googleapis.com/v4/spreadsheets/abc/values:batchGet")
        == f"{sheets_api.base}/v4/spreadsheets/abc/values:batchGet"
    )
    with pytest.raises(ValueError, match="only calls the Sheets API"):
        client.url_for("https://www.googleapis.com/drive/v3/files/abc")


def test_an_endpoint_with_a_path_prefix_is_kept(sheets_api, make_settings):
    client = GoogleSheets(make_settings(sheets_endpoint="https://proxy.example/google-sheets")).client()
    assert (
        client.url_for("https://sheets.googleapis.com/v4/spreadsheets/abc")
        == "https://proxy.example/google-sheets/v4/spreadsheets/abc"
    )


def test_an_empty_spreadsheet_is_read_in_one_request(sheets_api, google):
    sheets_api.add_spreadsheet(KEY, {}, shared_with={EMAIL: "reader"}, charts=("Only a chart",))
    assert google().read(KEY) == []
    assert [c.route for c in sheets_api.sheets_calls] == ["metadata"]


def test_the_one_off_reader_used_by_the_plain_dispatcher(sheets_api, make_settings):
    sheets_api.add_spreadsheet(KEY, {"Results": [["Campaign"]]}, shared_with={EMAIL: "reader"})
    assert read_google_sheet(KEY, make_settings())[0].name == "Results"
