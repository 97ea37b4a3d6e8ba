"""A small stand-in of the Google Sheets API v4 and of Google's OAuth token endpoint, on 127.0.0.1.

Real gspread and google-auth talk to it over HTTP: a service-account key whose `token_uri` points here gets
a real JWT-bearer exchange (the assertion's RS256 signature is checked against the key's public half), and
`MICROOPT_SHEETS_ENDPOINT` points the Sheets calls here. It answers the calls microopt makes:

- `GET  /v4/spreadsheets/{key}`                   metadata (locale, tabs, sizes, merges)
- `GET  /v4/spreadsheets/{key}/values:batchGet`   values as the API renders them (trailing blanks trimmed), of
                                                  whole tabs or their rows `'Tab'!1:N` (a range past the grid
                                                  is refused, as the API does)
- `GET  /v4/spreadsheets/{key}/values/{range}`    one tab's values (gspread's per-worksheet reads)
- `POST /v4/spreadsheets/{key}:batchUpdate`       addSheet, appendDimension, updateCells (a whole tab, or from a
                                                  `start` cell), appendCells (after the last row with data,
                                                  adding rows as needed); all or nothing

with Google's error bodies for 401/403/404/429, sharing per service-account email (reader or writer), scope
checks, scripted failures and delays, Google's per-minute read quota (`read_quota`, counted on an injectable
`clock`), and a record of every request (refused ones are not recorded: `over_quota` counts them).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import itertools
import json
import re
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SHEET_EPOCH = dt.date(1899, 12, 30)
READ_SCOPE = "https://www.googleapis.com/auth/spreadsheets.readonly"
WRITE_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # what google-auth signs, whatever token_uri is
ROUTES = ("token", "metadata", "batchGet", "valuesGet", "batchUpdate")
READ_ROUTES = ("metadata", "batchGet", "valuesGet")  # what Google counts as read requests


# -- service-account keys ----------------------------------------------------------------------------
def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_account_info(private_key: rsa.RSAPrivateKey, token_uri: str, email: str) -> dict[str, str]:
    """A service-account key file's contents, as Google's console would download it."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    project = email.split("@", 1)[1].split(".", 1)[0]
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "universe_domain": "googleapis.com",
    }


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# -- the spreadsheet model -----------------------------------------------------------------------------
@dataclass
class Sheet:
    title: str
    rows: list[list[Any]]
    sheet_id: int
    merges: list[dict[str, int]] = field(default_factory=list)
    sheet_type: str = "GRID"
    row_count: int = 1000
    column_count: int = 26
    # Each formatted cell's number format, as `CellFormat.numberFormat` holds it: (row, column) -> {"type":
    # "CURRENCY", "pattern": "[$€-407]#,##0.00"}. Cells not here have no user-entered number format.
    formats: dict[tuple[int, int], dict[str, str]] = field(default_factory=dict)


@dataclass
class Spreadsheet:
    key: str
    title: str
    sheets: list[Sheet]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    shared_with: dict[str, str] = field(default_factory=dict)  # email -> "reader" | "writer"

    def sheet(self, title: str) -> Sheet | None:
        return next((s for s in self.sheets if s.title == title), None)

    def rows_of(self, title: str) -> list[list[Any]]:
        sheet = self.sheet(title)
        assert sheet is not None, title
        return sheet.rows


@dataclass
class Call:
    route: str
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class Scripted:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Grant:
    email: str
    scopes: tuple[str, ...]


def google_error(status: int, message: str, state: str, details: list[dict[str, Any]] | None = None) -> Scripted:
    error: dict[str, Any] = {"code": status, "message": message, "status": state}
    if details:
        error["details"] = details
    return Scripted(status, {"error": error})


def rate_limited() -> Scripted:
    return google_error(
        429,
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service "
        "'sheets.googleapis.com'.",
        "RESOURCE_EXHAUSTED",
        [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED"}],
    )


def _render(value: Any, unformatted: bool, locale: str) -> Any:
    """One cell as the API renders it."""
    if isinstance(value, dt.datetime | dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        serial = (day - SHEET_EPOCH).days
        return serial if unformatted else day.strftime("%m/%d/%Y" if locale == "en_US" else "%d.%m.%Y")
    if unformatted or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace(".", ",") if not locale.startswith("en") else text


def _trimmed(rows: list[list[Any]], unformatted: bool, locale: str) -> list[list[Any]]:
    """Rows without trailing blank cells, and without trailing blank rows, as Sheets returns them."""
    out: list[list[Any]] = []
    for row in rows:
        cells = ["" if cell is None else _render(cell, unformatted, locale) for cell in row]
        while cells and cells[-1] == "":
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out


def _range_title(a1_range: str) -> str:
    title = a1_range.rsplit("!", 1)[0] if "!" in a1_range else a1_range
    if title.startswith("'") and title.endswith("'"):
        title = title[1:-1].replace("''", "'")
    return title


_ROWS = re.compile(r"^(?P<first>[0-9]+):(?P<last>[0-9]+)$")


def _range_rows(a1_range: str) -> tuple[int, int] | None:
    """The 1-based first and last row of a rows-only range (`'Results'!1:1001`); None for a whole tab."""
    if "!" not in a1_range or a1_range.endswith("'"):
        return None
    match = _ROWS.match(a1_range.rsplit("!", 1)[1])
    if match is None:
        raise ValueError(f"Unable to parse range: {a1_range}")
    return int(match["first"]), int(match["last"])


# -- the server ----------------------------------------------------------------------------------------
class SheetsStandIn:
    def __init__(
        self,
        public_key: rsa.RSAPublicKey | None = None,
        clock: Callable[[], float] = time.monotonic,
        read_quota: int | None = None,
    ) -> None:
        self.public_key = public_key
        # Google's per-minute read quota, where a test sets one: a read past `read_quota` in the last 60 s of
        # `clock` is refused with Google's 429 (and counted in `over_quota`).
        self.clock = clock
        self.read_quota = read_quota
        self.over_quota = 0
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.calls: list[Call] = []
        self.rows_served = 0  # rows of values returned by value reads, over every range asked
        self.grants: dict[str, Grant] = {}
        self.token_claims: list[dict[str, Any]] = []
        self.api_disabled = False
        self.token_error: tuple[str, str] | None = None  # (error, error_description) for every token request
        self._script: dict[str, deque[Scripted]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._tokens = itertools.count(1)
        self._sheet_ids = itertools.count(1001)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_uri(self) -> str:
        return f"{self.base}/token"

    def start(self) -> SheetsStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # delayed answers give up at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SheetsStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- content ---------------------------------------------------------------------------------
    def add_spreadsheet(
        self,
        key: str,
        tabs: dict[str, list[list[Any]]],
        *,
        shared_with: dict[str, str] | None = None,
        locale: str = "en_US",
        merges: dict[str, list[dict[str, int]]] | None = None,
        charts: tuple[str, ...] = (),
        title: str = "Campaign tests",
        formats: dict[str, dict[tuple[int, int], dict[str, str]]] | None = None,
    ) -> Spreadsheet:
        sheets = [
            Sheet(
                title=name,
                rows=[list(r) for r in rows],
                sheet_id=next(self._sheet_ids),
                merges=(merges or {}).get(name, []),
                formats=dict((formats or {}).get(name, {})),
                # A new tab's grid is 1000 x 26, and grows with what is pasted into it.
                row_count=max(1000, len(rows)),
                column_count=max(26, max((len(r) for r in rows), default=0)),
            )
            for name, rows in tabs.items()
        ]
        sheets += [Sheet(title=name, rows=[], sheet_id=next(self._sheet_ids), sheet_type="OBJECT") for name in charts]
        spreadsheet = Spreadsheet(key, title, sheets, locale=locale, shared_with=dict(shared_with or {}))
        with self._lock:
            self.spreadsheets[key] = spreadsheet
        return spreadsheet

    # -- scripting and inspection ----------------------------------------------------------------
    def fail_next(self, route: str, answer: Scripted, times: int = 1) -> None:
        """The next `times` requests to `route` (one of ROUTES) get `answer` instead of the normal one."""
        assert route in ROUTES, route
        self._script[route].extend([answer] * times)

    def delay_next(self, route: str, seconds: float, times: int = 1) -> None:
        """The next `times` requests to `route` are answered only after `seconds`."""
        assert route in ROUTES, route
        self._delays[route].extend([seconds] * times)

    def calls_to(self, *routes: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.route in routes]

    @property
    def sheets_calls(self) -> list[Call]:
        """Every request to the Sheets API (not the token endpoint)."""
        return self.calls_to("metadata", "batchGet", "valuesGet", "batchUpdate")

    # -- behaviour -------------------------------------------------------------------------------
    def _token(self, form: dict[str, list[str]]) -> Scripted:
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or "assertion" not in form:
            return Scripted(400, {"error": "unsupported_grant_type"})
        assertion = form["assertion"][0]
        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64decode(header_b64))
            claims = json.loads(_b64decode(payload_b64))
            if self.public_key is not None:
                self.public_key.verify(
                    _b64decode(signature_b64),
                    f"{header_b64}.{payload_b64}".encode(),
                    padding.PKCS1v15(),
                    hashes.SHA256(),
                )
        except (ValueError, InvalidSignature):
            return Scripted(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        if header.get("alg") != "RS256" or claims.get("aud") not in (GOOGLE_TOKEN_AUDIENCE, self.token_uri):
            return Scripted(400, {"error": "invalid_grant", "error_description": "Invalid JWT: bad audience."})
        with self._lock:
            self.token_claims.append(claims)
        if self.token_error is not None:
            error, description = self.token_error
            return Scripted(400, {"error": error, "error_description": description})
        token = f"ya29.stand-in-{next(self._tokens)}"
        with self._lock:
            self.grants[token] = Grant(email=claims["iss"], scopes=tuple(str(claims.get("scope", "")).split()))
        return Scripted(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _authorise(self, headers: dict[str, str], key: str, write: bool) -> tuple[Spreadsheet | None, Scripted | None]:
        auth = headers.get("authorization", "")
        grant = self.grants.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if grant is None:
            return None, google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
                "UNAUTHENTICATED",
            )
        if self.api_disabled:
            return None, google_error(
                403,
                "Google Sheets API has not been used in project 123456789 before or it is disabled. Enable it by "
                "visiting https://console.developers.google.com/apis/api/sheets.googleapis.com/overview?"
                "project=123456789 then retry.",
                "PERMISSION_DENIED",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "SERVICE_DISABLED",
                        "metadata": {
                            "activationUrl": "https://console.developers.google.com/apis/api/sheets.googleapis.com/"
                            "overview?project=123456789"
                        },
                    }
                ],
            )
        needed = {WRITE_SCOPE} if write else {READ_SCOPE, WRITE_SCOPE}
        if not needed & set(grant.scopes):
            return None, google_error(
                403,
                "Request had insufficient authentication scopes.",
                "PERMISSION_DENIED",
                [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}],
            )
        spreadsheet = self.spreadsheets.get(key)
        if spreadsheet is None:
            return None, google_error(404, "Requested entity was not found.", "NOT_FOUND")
        role = spreadsheet.shared_with.get(grant.email)
        if role is None or (write and role != "writer"):
            return None, google_error(403, "The caller does not have permission", "PERMISSION_DENIED")
        return spreadsheet, None

    def _metadata(self, spreadsheet: Spreadsheet, params: dict[str, list[str]]) -> Scripted:
        # A field mask naming grid data returns it whatever `includeGridData` says (the API ignores that
        # parameter once `fields` is set); this stand-in knows cells' number formats and nothing else.
        fields = params.get("fields", [""])[0]
        formats_asked = next((f for f in ("userEnteredFormat", "effectiveFormat") if f in fields), None)
        if fields and "numberFormat" not in fields:
            formats_asked = None
        sheets = []
        for index, sheet in enumerate(spreadsheet.sheets):
            properties: dict[str, Any] = {
                "sheetId": sheet.sheet_id,
                "title": sheet.title,
                "index": index,
                "sheetType": sheet.sheet_type,
            }
            if sheet.sheet_type == "GRID":
                properties["gridProperties"] = {"rowCount": sheet.row_count, "columnCount": sheet.column_count}
            entry: dict[str, Any] = {"properties": properties}
            if sheet.merges:
                entry["merges"] = [{"sheetId": sheet.sheet_id, **m} for m in sheet.merges]
            if formats_asked and sheet.sheet_type == "GRID":
                entry["data"] = [_grid_formats(sheet.formats, formats_asked)]
            sheets.append(entry)
        return Scripted(
            200,
            {
                "spreadsheetId": spreadsheet.key,
                "properties": {
                    "title": spreadsheet.title,
                    "locale": spreadsheet.locale,
                    "timeZone": spreadsheet.time_zone,
                },
                "sheets": sheets,
            },
        )

    def _batch_get(self, spreadsheet: Spreadsheet, params: dict[str, list[str]]) -> Scripted:
        unformatted = params.get("valueRenderOption", ["FORMATTED_VALUE"])[0] == "UNFORMATTED_VALUE"
        value_ranges = []
        for a1_range in params.get("ranges", []):
            sheet = spreadsheet.sheet(_range_title(a1_range))
            try:
                bounds = _range_rows(a1_range)
            except ValueError as error:
                return google_error(400, str(error), "INVALID_ARGUMENT")
            if sheet is None or sheet.sheet_type != "GRID":
                return google_error(400, f"Unable to parse range: {a1_range}", "INVALID_ARGUMENT")
            rows = sheet.rows
            if bounds is not None:
                first, last = bounds
                if last > sheet.row_count:  # as the API refuses a range past the grid
                    message = (
                        f"Range ({a1_range}) exceeds grid limits. Max rows: {sheet.row_count}, "
                        f"max columns: {sheet.column_count}"
                    )
                    return google_error(400, message, "INVALID_ARGUMENT")
                rows = rows[first - 1 : last]
            self.rows_served += len(rows)
            value_range: dict[str, Any] = {"range": a1_range, "majorDimension": "ROWS"}
            values = _trimmed(rows, unformatted, spreadsheet.locale)
            if values:
                value_range["values"] = values
            value_ranges.append(value_range)
        return Scripted(200, {"spreadsheetId": spreadsheet.key, "valueRanges": value_ranges})

    def _batch_update(self, spreadsheet: Spreadsheet, body: dict[str, Any]) -> Scripted:
        sheets = copy.deepcopy(spreadsheet.sheets)  # all or nothing, like the API
        replies: list[dict[str, Any]] = []
        for index, request in enumerate(body.get("requests", [])):
            (kind, spec), *_ = request.items()
            problem = self._apply(sheets, kind, spec, replies)
            if problem:
                return google_error(400, f"Invalid requests[{index}].{kind}: {problem}", "INVALID_ARGUMENT")
        spreadsheet.sheets = sheets
        return Scripted(200, {"spreadsheetId": spreadsheet.key, "replies": replies})

    def _apply(self, sheets: list[Sheet], kind: str, spec: dict[str, Any], replies: list[dict[str, Any]]) -> str:
        by_id = {sheet.sheet_id: sheet for sheet in sheets}
        if kind == "addSheet":
            props = spec.get("properties", {})
            title = props.get("title", f"Sheet{len(sheets) + 1}")
            if any(s.title == title for s in sheets):
                return f'A sheet with the name "{title}" already exists. Please enter another name.'
            sheet_id = props.get("sheetId", next(self._sheet_ids))
            if sheet_id in by_id:
                return f"A sheet with the id {sheet_id} already exists."
            grid = props.get("gridProperties", {})
            sheets.append(
                Sheet(
                    title, [], sheet_id, row_count=grid.get("rowCount", 1000), column_count=grid.get("columnCount", 26)
                )
            )
            replies.append({"addSheet": {"properties": {"sheetId": sheet_id, "title": title}}})
            return ""
        if kind == "appendDimension":
            sheet = by_id.get(spec.get("sheetId"))
            if sheet is None:
                return f"No grid with id: {spec.get('sheetId')}"
            if spec.get("dimension") == "ROWS":
                sheet.row_count += int(spec["length"])
            else:
                sheet.column_count += int(spec["length"])
            replies.append({})
            return ""
        if kind == "updateCells":
            where = spec.get("start") or spec.get("range") or {}
            sheet = by_id.get(where.get("sheetId"))
            if sheet is None:
                return f"No grid with id: {where.get('sheetId')}"
            rows = [
                [_entered(cell.get("userEnteredValue", {})) for cell in row.get("values", [])]
                for row in spec.get("rows", [])
            ]
            if spec.get("fields") not in ("userEnteredValue", "*"):
                return "Unsupported field mask."
            if "start" in spec:  # the given cells from one corner: other cells keep their values
                top, left = int(where.get("rowIndex", 0)), int(where.get("columnIndex", 0))
                if top + len(rows) > sheet.row_count or any(left + len(r) > sheet.column_count for r in rows):
                    return "Range exceeds grid limits."
                _write(sheet.rows, top, left, rows)
                replies.append({})
                return ""
            if len(rows) > sheet.row_count or any(len(r) > sheet.column_count for r in rows):
                return "Range exceeds grid limits."
            sheet.rows = rows  # the whole tab is the range: cells not given are cleared
            replies.append({})
            return ""
        if kind == "appendCells":
            sheet = by_id.get(spec.get("sheetId"))
            if sheet is None:
                return f"No grid with id: {spec.get('sheetId')}"
            if spec.get("fields") not in ("userEnteredValue", "*"):
                return "Unsupported field mask."
            rows = [
                [_entered(cell.get("userEnteredValue", {})) for cell in row.get("values", [])]
                for row in spec.get("rows", [])
            ]
            if any(len(r) > sheet.column_count for r in rows):
                return "Range exceeds grid limits."
            filled = [i for i, row in enumerate(sheet.rows) if any(c not in (None, "") for c in row)]
            top = filled[-1] + 1 if filled else 0
            sheet.row_count = max(sheet.row_count, top + len(rows))  # the API inserts rows as needed
            _write(sheet.rows, top, 0, rows)
            replies.append({})
            return ""
        return f"Unsupported request {kind}."

    # -- HTTP ------------------------------------------------------------------------------------
    def _route(self, method: str, path: str) -> tuple[str, str]:
        if method == "POST" and path == "/token":
            return "token", ""
        prefix = "/v4/spreadsheets/"
        if not path.startswith(prefix):
            return "", ""
        rest = unquote(path[len(prefix) :])
        if method == "GET" and rest.endswith("/values:batchGet"):
            return "batchGet", rest.removesuffix("/values:batchGet")
        if method == "GET" and "/values/" in rest:
            return "valuesGet", rest.split("/values/", 1)[0]
        if method == "POST" and rest.endswith(":batchUpdate"):
            return "batchUpdate", rest.removesuffix(":batchUpdate")
        if method == "GET" and "/" not in rest:
            return "metadata", rest
        return "", ""

    def _answer(
        self, method: str, path: str, params: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> Scripted:
        route, key = self._route(method, path)
        with self._lock:
            now = self.clock()
            if self.read_quota is not None and route in READ_ROUTES:
                recent = sum(1 for c in self.calls if c.route in READ_ROUTES and now - c.at < 60)
                if recent >= self.read_quota:
                    self.over_quota += 1
                    return rate_limited()
            self.calls.append(Call(route, method, path, params, headers, body, now))
            delay = self._delays[route].popleft() if self._delays[route] else 0.0
            scripted = self._script[route].popleft() if self._script[route] else None
        if delay:
            self._stopping.wait(delay)
        if scripted is not None:
            return scripted
        if route == "token":
            return self._token(body)
        if not route:  # Google's front end answers unknown paths with an HTML page, not an API error
            return Scripted(
                404, f"<html><title>Error 404 (Not Found)!!1</title><p>The requested URL {path} was not found."
            )
        spreadsheet, refusal = self._authorise(headers, key, write=route == "batchUpdate")
        if refusal is not None or spreadsheet is None:
            return refusal or google_error(500, "unreachable", "INTERNAL")
        with self._lock:
            if route == "metadata":
                return self._metadata(spreadsheet, params)
            if route == "batchGet":
                return self._batch_get(spreadsheet, params)
            if route == "valuesGet":  # one range, the way gspread's Worksheet.get_all_values asks
                answer = self._batch_get(spreadsheet, {**params, "ranges": [unquote(path.split("/values/", 1)[1])]})
                ranges = answer.body.get("valueRanges") if isinstance(answer.body, dict) else None
                return Scripted(200, ranges[0]) if ranges else answer
            return self._batch_update(spreadsheet, body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as two writes; without this, Nagle + delayed ACK add ~40 ms each.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length) if length else b""
                parsed = urlparse(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                content_type = headers.get("content-type", "")
                if content_type.startswith("application/json"):
                    body: Any = json.loads(raw or b"{}")
                else:
                    body = parse_qs(raw.decode())
                answer = stand_in._answer(method, parsed.path, parse_qs(parsed.query), headers, body)
                is_text = isinstance(answer.body, str)
                data = (answer.body if is_text else json.dumps(answer.body)).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "text/html" if is_text else "application/json; charset=UTF-8")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and hung up
                    self.close_connection = True

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler


def _grid_formats(formats: dict[tuple[int, int], dict[str, str]], which: str) -> dict[str, Any]:
    """`GridData` under a mask of number formats alone: a row per sheet row up to the last formatted one,
    `{}` for a cell (or a row) without one, trailing empty cells left out, as the API trims them."""
    if not formats:
        return {}
    last_row = max(row for row, _ in formats)
    row_data: list[dict[str, Any]] = []
    for row in range(last_row + 1):
        columns = [column for r, column in formats if r == row]
        if not columns:
            row_data.append({})
            continue
        values = [
            {which: {"numberFormat": dict(formats[(row, column)])}} if (row, column) in formats else {}
            for column in range(max(columns) + 1)
        ]
        row_data.append({"values": values})
    return {"rowData": row_data}


def _write(grid: list[list[Any]], top: int, left: int, rows: list[list[Any]]) -> None:
    """`rows` written into `grid` from (top, left), growing it as needed."""
    while len(grid) < top + len(rows):
        grid.append([])
    for offset, values in enumerate(rows):
        target = grid[top + offset]
        while len(target) < left + len(values):
            target.append(None)
        target[left : left + len(values)] = values


def _entered(value: dict[str, Any]) -> Any:
    for name in ("stringValue", "numberValue", "boolValue", "formulaValue"):
        if name in value:
            return value[name]
    return None
