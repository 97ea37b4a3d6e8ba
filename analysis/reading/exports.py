"""Ad-platform exports as pasted: Google Ads, Microsoft Advertising, Meta Ads Manager and GA4.

An export tab is rewritten into the hand-made layout (`Campaign`, `Variant`, a traffic column, metrics
marked `(micro)` / `(macro)`) in place: every cell keeps its row and column, so a bad cell is still reported
at its own A1 reference. Title and date lines, `#` preambles, totals and summary rows are blanked,
`--` is read as missing, and `(not set)` arms are left out with a note. A `Setup` tab (`Column`, `Role`,
optionally `Tab`) overrides the built-in column names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import cast

import pandas as pd

from analysis.models import Cell, Kind, Problem, Tab, TabReading
from analysis.reading.cells import a1, decimal_mark, is_blank, normalise_header, parse_counts, parse_text
from analysis.reading.vocabulary import ROLES, Role, did_you_mean, is_comment, key, role_of

# How specific a label column is: the most specific one names the variant, the next one the test.
_SPECIFICITY = tuple(
    frozenset(key(name) for name in group)
    for group in (
        ("Ad name", "Ad", "Ad title", "Search term"),
        ("Keyword", "Search keyword", "Session manual term"),
        ("Session manual ad content", "First user manual ad content", "Landing page", "Variant"),
        ("Ad group", "Ad group name", "Ad set name", "Ad set"),
    )
)
_CURRENCY_CODE_HEADER = re.compile(r"^(?P<name>.+?)\s*\((?P<code>[A-Za-z]{3})\)$")
_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "CA$", "AUD": "A$"}
_TOTAL_ROW = re.compile(r"^\s*(grand\s+)?totals?\b|^\s*summary\b|^\s*account\s+total", re.IGNORECASE)
_MISSING = {"--", "—", "-", "n/a"}
_NOT_SET = {"(not set)", "(not provided)", "(other)"}
# How far down a long table's header is looked for: exports' title lines and `#` preambles are far shorter.
_PREAMBLE_ROWS = 200
# How far down any export's header is looked for: past this many rows, a tab with no header is data.
_HEADER_ROWS = 1000
NO_MICRO = (
    "no micro-conversion column: add one (Add to cart, Leads…), or name one in the Setup tab (for a CSV: a "
    "--setup file)"
)
# A column marked with its role in the hand-made way: `Cart views (micro)`, `Link clicks (traffic)`.
_METRIC_SUFFIX = re.compile(r"^(?P<name>.+?)\s*\((?P<kind>micro|macro|traffic)\)$", re.IGNORECASE)
# The traffic headers the hand-made layout reads as they are; any other traffic column is rewritten as
# "<its own name> (traffic)", so that the verdicts say "link clicks" or "impressions", as the export does.
_HAND_MADE_TRAFFIC = ("visitors", "sessions", "users", "clicks")
# The column that counts each conversion action, best first: All conv. counts secondary actions too
# (add to cart usually is one), Conversions only the primary ones.
_VALUE_COLUMNS = ("all conv.", "all conversions", "event count", "conversions", "conv.", "key events")
# Conversion actions as platforms and people name them (`add_to_cart`, `Website - Purchase`, `Begin
# checkout`), compared without case, `_` or `-`: the first phrase a name contains decides.
_ACTION_PHRASES: tuple[tuple[str, Kind], ...] = (
    ("close convert lead", "macro"),
    ("add to cart", "micro"),
    ("add to basket", "micro"),
    ("addtocart", "micro"),
    ("checkout", "micro"),
    ("add payment info", "micro"),
    ("add shipping info", "micro"),
    ("view item", "micro"),
    ("view cart", "micro"),
    ("cart view", "micro"),
    ("lead", "micro"),
    ("demo", "micro"),
    ("download", "micro"),
    ("newsletter", "micro"),
    ("contact", "micro"),
    ("purchase", "macro"),
    ("transaction", "macro"),
    ("order", "macro"),
    ("sale", "macro"),
    ("sign up", "macro"),
    ("signup", "macro"),
    ("subscri", "macro"),
    ("new client", "macro"),
    ("booking", "macro"),
)


@dataclass(frozen=True)
class Override:
    column: str
    role: Role
    tab: str | None


@dataclass
class Reading:
    """An export tab rewritten into the hand-made layout, and how it was read."""

    tab: Tab
    reading: TabReading
    currency: str | None
    fractional: bool
    problems: list[Problem] = field(default_factory=list)


def parse_setup(tab: Tab, problems: list[Problem]) -> list[Override]:
    """The Setup tab: one row per column (`Column`, `Role`, optionally `Tab`)."""
    rows = [row for row in tab.rows if any(normalise_header(c) for c in row)]
    if not rows:
        return []
    header = [normalise_header(c) for c in rows[0]]
    if "column" not in header or "role" not in header:
        problems.append(Problem(cell=f"{tab.name}!A1", message="the Setup tab needs a Column and a Role column"))
        return []
    at = {name: header.index(name) for name in ("column", "role", "tab") if name in header}
    overrides = []
    for row in rows[1:]:
        cells = list(row) + [None] * (len(header) - len(row))
        column, role = normalise_header(cells[at["column"]]), normalise_header(cells[at["role"]])
        role = {"visitors": "traffic", "cost": "spend", "ignored": "ignore", "none": "ignore"}.get(role, role)
        if not column or role not in ROLES:
            continue
        where = normalise_header(cells[at["tab"]]) if "tab" in at else ""
        overrides.append(Override(column=column, role=role, tab=where or None))
    return overrides


def header_roles(headers: Sequence[object], tab: str, overrides: Sequence[Override]) -> dict[int, tuple[Role, str]]:
    """Per column of a header row, the role it plays and its label: the Setup tab's word for it, else its
    `(micro)` / `(macro)` / `(traffic)` mark, else the vocabulary's. Ignored and unknown columns are absent."""
    names = [normalise_header(h) for h in headers]
    mine = {o.column: o.role for o in overrides if o.tab in (None, normalise_header(tab))}
    roles: dict[int, tuple[Role, str]] = {}
    for index, (name, cell) in enumerate(zip(names, headers, strict=True)):
        if not name:
            continue
        label = " ".join(str(cell).split())
        if (marked := _METRIC_SUFFIX.match(label)) and name not in mine:
            roles[index] = (marked["kind"].lower(), marked["name"].strip())
            continue
        match = _CURRENCY_CODE_HEADER.match(name)
        base = match["name"] if match else name
        role = mine.get(name) or mine.get(base) or role_of(cell)
        if role and role != "ignore":
            roles[index] = (role, label)
    return roles


def _label_columns(roles: dict[int, tuple[Role, str]]) -> tuple[int | None, int | None]:
    """(variant column, test column): the most specific label, and the next one when there are two."""
    labels = [(i, key(name)) for i, (role, name) in roles.items() if role == "variant"]
    explicit_tests = [i for i, (role, _) in roles.items() if role == "test"]
    ranked = sorted(
        labels,
        key=lambda item: next((r for r, group in enumerate(_SPECIFICITY) if item[1] in group), len(_SPECIFICITY)),
    )
    variant = ranked[0][0] if ranked else None
    test = explicit_tests[0] if explicit_tests else (ranked[1][0] if len(ranked) > 1 else None)
    return variant, test


def _header(
    rows: Sequence[Sequence[object]], tab: str, overrides: Sequence[Override], needs: Sequence[str] = ("metric",)
) -> int | None:
    """The first row naming a variant (or, in a campaign-level report, a campaign), a traffic column and
    what `needs` says (a metric; an action and its count), however long the preamble above it."""
    for index, row in enumerate(rows):
        first = next((normalise_header(c) for c in row if normalise_header(c)), "")
        if not first or is_comment(first):
            continue
        roles = header_roles(row, tab, overrides)
        kinds = {role for role, _ in roles.values()}
        labelled = "variant" in kinds or ("campaign" in kinds and _campaigns_are_arms(row, roles))
        if not labelled:
            continue
        if "action" in kinds:
            if "action" in needs and _value_column(row, roles) is not None:
                return index
            continue
        if kinds & {"traffic", "impressions"} and (
            "traffic" in needs or ("metric" in needs and kinds & {"micro", "macro"})
        ):
            return index
    return None


def _campaigns_are_arms(row: Sequence[object], roles: Mapping[int, tuple[Role, str]]) -> bool:
    """A header with a campaign but no variant column is a campaign-level report (each campaign an arm): a
    known platform's, or any with no header one typo away from a variant column (`Varient` is a slip)."""
    if platform_of(_names(row)) != "Export":
        return True
    unknown = [cell for index, cell in enumerate(row) if index not in roles and normalise_header(cell)]
    return not any((near := did_you_mean(cell)) is not None and near.role == "variant" for cell in unknown)


def _names(row: Sequence[object]) -> set[str]:
    return {normalise_header(c) for c in row if normalise_header(c)}


def _value_column(row: Sequence[object], roles: Mapping[int, tuple[Role, str]]) -> int | None:
    """In a long table, the column counting each action: the Setup tab's `value`, else the best known one."""
    named = [i for i, (role, _) in roles.items() if role == "value"]
    names = {normalise_header(c): i for i, c in reversed(list(enumerate(row))) if normalise_header(c)}
    known = [names[n] for n in _VALUE_COLUMNS if n in names]
    explicit = [i for i in named if normalise_header(row[i]) not in _VALUE_COLUMNS]
    return explicit[0] if explicit else known[0] if known else None


def platform_of(names: set[str]) -> str:
    if names & {"ad set name", "link clicks", "amount spent", "adds to cart", "reporting starts"} or any(
        n.startswith("amount spent") for n in names
    ):
        return "Meta export"
    if names & {
        "session manual ad content",
        "first user manual ad content",
        "sessions",
        "ecommerce purchases",
        "event name",
        "event count",
    }:
        return "GA4 export"
    if ("spend" in names and names & {"ad group", "keyword", "campaign name", "search term"}) or "goal" in names:
        return "Microsoft Ads export"
    if names & {"ad group", "cost", "currency code", "all conv.", "search term", "conversion action", "impr."}:
        return "Google Ads export"
    return "Export"


def _is_missing(cell: object) -> bool:
    return isinstance(cell, str) and cell.strip().lower() in _MISSING


def _date_column(
    body: Sequence[Sequence[object]], header: Sequence[object], roles: Mapping[int, tuple[Role, str]]
) -> int | None:
    """The column of each row's day. Meta's `Reporting starts` is one only when it equals `Reporting ends`
    (a breakdown by day); otherwise the rows are totals over a period, undated."""
    date = next((i for i, (role, _) in roles.items() if role == "date"), None)
    if date is None or normalise_header(header[date]) != "reporting starts":
        return date
    ends = next((i for i, cell in enumerate(header) if normalise_header(cell) == "reporting ends"), None)
    if ends is None:
        return date
    spans = {(normalise_header(row[date]), normalise_header(row[ends])) for row in body if len(row) > max(date, ends)}
    return date if all(start == end for start, end in spans if start and end) else None


def _traffic_column(roles: Mapping[int, tuple[Role, str]]) -> int | None:
    """The traffic column; impressions only when there is none (never silently instead of clicks)."""
    for wanted in ("traffic", "impressions"):
        found = [i for i, (role, _) in roles.items() if role == wanted]
        if found:
            # Google Ads' Interactions count clicks and views alike: Clicks, when present, are the traffic.
            return min(found, key=lambda i: key(roles[i][1]) == "interaction")
    return None


def _amounts(roles: Mapping[int, tuple[Role, str]]) -> tuple[str, ...]:
    return tuple(name for role, name in roles.values() if role == "amount")


def amounts_said(amounts: Sequence[str]) -> str:
    """` · Revenue is an amount, not a count of conversions`: how a read line names its amount columns."""
    if not amounts:
        return ""
    names = amounts[0] if len(amounts) == 1 else ", ".join(amounts[:-1]) + " and " + amounts[-1]
    said = "is an amount, not a count" if len(amounts) == 1 else "are amounts, not counts"
    return f" · {names} {said} of conversions"


def recognise(tab: Tab, overrides: Sequence[Override] = ()) -> Reading | None:
    """The tab rewritten into the hand-made layout, or None when it is not a recognisable export."""
    header_index = _header(tab.rows[:_HEADER_ROWS], tab.name, overrides)
    if header_index is None:
        return None
    header = list(tab.rows[header_index])
    roles = header_roles(header, tab.name, overrides)
    variant, test = _label_columns(roles)
    campaign = next((i for i, (role, _) in roles.items() if role == "campaign"), None)
    if variant is None:
        if campaign is None:
            return None
        # A campaign-level report (a Meta A/B test duplicates the campaign): each campaign is an arm.
        variant, campaign = campaign, None
    traffic = _traffic_column(roles)
    assert traffic is not None  # _header found one
    spend = next((i for i, (role, _) in roles.items() if role == "spend"), None)
    split = next((i for i, (role, _) in roles.items() if role == "split"), None)
    currency_column = next((i for i, (role, _) in roles.items() if role == "currency"), None)
    date = _date_column(tab.rows[header_index + 1 :], header, roles)
    metrics = [(i, role, name) for i, (role, name) in roles.items() if role in ("micro", "macro")]
    width = max(len(row) for row in tab.rows)
    campaign_column = campaign if campaign is not None else width
    names = {normalise_header(c) for c in header if normalise_header(c)}

    new_header: list[Cell] = [None] * (width + (campaign is None))
    new_header[campaign_column] = "Campaign"
    new_header[variant] = "Variant"
    own = roles[traffic][1]
    new_header[traffic] = header[traffic] if normalise_header(own) in _HAND_MADE_TRAFFIC else f"{own} (traffic)"
    if test is not None:
        new_header[test] = "Test"
    if spend is not None:
        new_header[spend] = "Spend"
    if date is not None:
        new_header[date] = "Date"
    if split is not None:
        new_header[split] = "Split"
    for index, role, name in metrics:
        new_header[index] = f"{name} ({role})"

    rows: list[list[Cell]] = [[] for _ in range(header_index)] + [new_header]
    not_set: set[str] = set()
    currencies: dict[str, int] = {}
    labels = [c for c in (campaign, test, variant) if c is not None]
    for row in tab.rows[header_index + 1 :]:
        cells: list[Cell] = [None if _is_missing(c) else c for c in row] + [None] * (len(new_header) - len(row))
        texts = [normalise_header(cells[c]) for c in labels]
        first_text = next((normalise_header(c) for c in row if normalise_header(c)), "")
        if (
            not any(texts)
            or any(_TOTAL_ROW.match(t) for t in texts)
            or _TOTAL_ROW.match(first_text)
            or first_text.startswith("#")
        ):
            rows.append([])  # totals, summaries, footers and blank names: not rows of the test
            continue
        if all(normalise_header(cells[c]) == "" for c in (traffic, *(m[0] for m in metrics))):
            rows.append([])  # a footer or a note: no numbers to read
            continue
        if normalise_header(cells[variant]) in _NOT_SET:
            not_set.add(str(cells[variant]).strip())
            rows.append([])
            continue
        if campaign is None:
            cells[campaign_column] = tab.name
        written = cells[currency_column] if currency_column is not None else None
        if isinstance(written, str) and written.strip():
            currencies[written.strip().upper()] = currencies.get(written.strip().upper(), 0) + 1
        rows.append(cells)

    code = max(currencies, key=lambda c: currencies[c]) if currencies else None
    if code is None and spend is not None and (match := _CURRENCY_CODE_HEADER.match(normalise_header(header[spend]))):
        code = match["code"].upper()
    currency = _CURRENCY_SYMBOLS.get(code, f"{code} ") if code else None
    platform = platform_of(names)
    micro = tuple(name for _, role, name in metrics if role == "micro")
    macro = tuple(name for _, role, name in metrics if role == "macro")
    fractional = platform in ("Google Ads export", "Microsoft Ads export", "GA4 export") or any(
        normalise_header(name) == "conversions" for name in macro
    )
    parts = [f"variant = {header[variant]}"]
    if test is not None:
        parts.insert(0, f"test = {header[test]}")
    parts.append(f"traffic = {header[traffic]}")
    if micro:
        parts.append(f"micro = {', '.join(micro)}")
    if macro:
        parts.append(f"macro = {', '.join(macro)}")
    if spend is not None:
        shown_code = code and code.lower() not in normalise_header(header[spend])
        parts.append(f"spend = {header[spend]}" + (f" ({code})" if shown_code else ""))
    if split is not None:
        parts.append(f"split = {header[split]}")
    if campaign is None and role_of(header[variant]) == "campaign":
        parts[0] += " (campaign level: each campaign is an arm)"
    amounts = _amounts(roles)
    summary = f"{tab.name}: {platform} · " + ", ".join(parts) + amounts_said(amounts)
    if not micro:
        summary += f" · {NO_MICRO}"
    problems = []
    if not_set:
        problems.append(
            Problem(
                cell=tab.name,
                message=f"rows whose {header[variant]} is {', '.join(sorted(not_set))} were left out: "
                "they are not an arm of the test",
            )
        )
    reading = TabReading(
        tab=tab.name,
        layout=platform,
        variant=str(header[variant]),
        traffic=str(header[traffic]),
        micro=micro,
        macro=macro,
        spend=str(header[spend]) if spend is not None else None,
        currency=currency,
        fractional=fractional,
        summary=summary,
        amounts=amounts,
    )
    return Reading(
        tab=replace(tab, rows=rows),
        reading=reading,
        currency=currency,
        fractional=fractional,
        problems=problems,
    )


# -- long format: one row per conversion action ------------------------------------------------------
@dataclass(frozen=True)
class Pivot:
    """How the rows of one conversion action each became metric columns of a tab."""

    tab: str  # the tab with one row per action
    action: str  # its column naming the action ("Conversion action", "Event name")
    value: str  # its column counting it ("All conv.", "Event count")
    traffic_tab: str | None  # the tab whose rows carry the traffic; None: the unsegmented rows of `tab`
    micro: tuple[str, ...] = ()
    macro: tuple[str, ...] = ()
    not_read: tuple[str, ...] = ()
    platform: str = "Export"


@dataclass
class Pivoted:
    """The workbook with every long table pivoted, how, and the problems found on the way."""

    tabs: list[Tab]
    pivots: dict[str, Pivot]  # by the name of the tab that now holds the metrics
    consumed: dict[str, Pivot]  # long tabs whose actions went onto another tab's rows
    problems: list[Problem]


def classify_action(name: str, overrides: Mapping[str, Role] | None = None) -> Kind | None:
    """An action's kind: the Setup tab's word for it, else the first known phrase its name contains."""
    key = normalise_header(name)
    if overrides and key in overrides:
        role = overrides[key]
        return "micro" if role == "micro" else "macro" if role == "macro" else None
    text = " ".join(re.sub(r"[_\-–]+", " ", key).split())
    return next((kind for phrase, kind in _ACTION_PHRASES if phrase in text), None)


@dataclass(frozen=True)
class _Frame:
    """A tab's rows under its header as a frame of label texts, keyed by the sheet's row index."""

    header_index: int
    header: list[Cell]
    roles: dict[int, tuple[Role, str]]
    body: pd.DataFrame
    keys: pd.DataFrame  # campaign, test, variant, date texts
    valid: pd.Series  # a row of the test: named, not a total, a preamble line or a note
    traffic: int | None
    columns: dict[str, int | None]


def _frame(tab: Tab, header_index: int, overrides: Sequence[Override]) -> _Frame:
    header = list(tab.rows[header_index])
    roles = header_roles(header, tab.name, overrides)
    variant, test = _label_columns(roles)
    campaign = next((i for i, (role, _) in roles.items() if role == "campaign"), None)
    if variant is None:
        variant, campaign = campaign, None
    date = _date_column(tab.rows[header_index + 1 :], header, roles)
    traffic = _traffic_column(roles)
    width = max(len(row) for row in tab.rows)
    body = pd.DataFrame(
        [list(row) + [None] * (width - len(row)) for row in tab.rows[header_index + 1 :]],
        columns=range(width),
        dtype="object",
    )
    body.index = body.index + header_index + 1
    blank = pd.Series("", index=body.index, dtype="object")
    keys = pd.DataFrame(
        {
            name: parse_text(body[column]).str.lower() if column is not None else blank
            for name, column in (("campaign", campaign), ("test", test), ("variant", variant), ("date", date))
        }
    )
    blank_cells = pd.DataFrame({c: is_blank(body[c]) for c in body.columns}, index=body.index)
    first = parse_text(body.where(~blank_cells).bfill(axis=1)[0]) if width else blank
    labels = keys[["campaign", "test", "variant"]]
    total = labels.apply(lambda column: column.str.match(_TOTAL_ROW.pattern, case=False)).any(axis=1)
    valid = (
        (keys["variant"] != "")
        & ~keys["variant"].isin(_MISSING | _NOT_SET)
        & ~total
        & ~first.str.match(_TOTAL_ROW.pattern, case=False)
        & ~first.str.startswith("#")
    )
    columns = {"campaign": campaign, "test": test, "variant": variant, "date": date}
    return _Frame(header_index, header, roles, body, keys, valid, traffic, columns)


def _present(values: pd.Series) -> pd.Series:
    """Cells holding something other than blank or `--`."""
    text = parse_text(values).str.lower()
    return (text != "") & ~text.isin(_MISSING)


def _appended(tab: Tab, frame: _Frame, sums: pd.DataFrame, kinds: Mapping[str, Kind | None], keys: list[str]) -> Tab:
    """`tab` with one metric column per action at its right, filled on the first row of each key."""
    width = len(frame.body.columns)
    carriers = frame.valid & (_present(frame.body[frame.traffic]) if frame.traffic is not None else False)
    rows_keys = frame.keys[carriers]
    first = ~rows_keys.duplicated(keys)
    matched = rows_keys[first].merge(sums, left_on=keys, right_index=True, how="left")
    values = matched[list(sums.columns)].fillna(0.0).to_numpy(dtype=float).tolist()
    rows: list[list[Cell]] = [list(row) + [None] * (width - len(row)) for row in tab.rows]
    rows[frame.header_index] = rows[frame.header_index] + [f"{a} ({kinds[a]})" for a in sums.columns]
    filler: list[Cell] = [None] * len(sums.columns)
    for row_index in range(frame.header_index + 1, len(rows)):
        rows[row_index] = rows[row_index] + filler
    for row_index, numbers in zip(rows_keys.index[first], values, strict=True):
        rows[int(row_index)][width:] = numbers
    return replace(tab, rows=rows)


def _no_traffic(tab: Tab, frame: _Frame, action: int, actions: Sequence[str], platform: str) -> Problem:
    """The one sentence for a long tab with no traffic anywhere: which tab to add."""
    traffic = "Sessions" if platform == "GA4 export" else "Clicks"
    variant = frame.columns["variant"]
    label = " ".join(str(frame.header[variant]).split()) if variant is not None else "Variant"
    named = ", ".join(actions[:4]) + ("…" if len(actions) > 4 else "")
    segment = " ".join(str(frame.header[action]).split())
    return Problem(
        cell=tab.name,
        message=f"Tab {tab.name} has one row per {segment} ({named}) but no traffic: add a tab with {label} and "
        f"{traffic} for the same campaigns and variants (the same report without {segment})",
    )


def _none_read(tab: Tab, pivot: Pivot) -> Problem:
    named = ", ".join(pivot.not_read[:4]) + ("…" if len(pivot.not_read) > 4 else "")
    return Problem(
        cell=tab.name,
        message=f"Tab {tab.name} has one row per {pivot.action}, but none of its actions ({named}) is a known micro "
        "or macro conversion: name them in the Setup tab (Column = the action, Role = micro or macro)",
    )


def pivot_conversion_actions(tabs: Sequence[Tab], overrides: Sequence[Override] = ()) -> Pivoted:
    """Every tab of one row per conversion action (an action column and a count column) pivoted into one
    metric column per action, micro or macro by name (`add_to_cart` micro, `Purchase` macro) or by the
    Setup tab. The traffic comes from the same tab's unsegmented rows (action empty, Clicks given), else
    from another tab with the same campaign and variant names, whose rows then carry the metrics."""
    out = list(tabs)
    result = Pivoted(tabs=out, pivots={}, consumed={}, problems=[])
    for position, tab in enumerate(tabs):
        if not tab.rows or normalise_header(tab.name) in ("setup", "channels", "verdicts"):
            continue
        header_index = _header(tab.rows[:_PREAMBLE_ROWS], tab.name, overrides, needs=("action",))
        if header_index is None:
            continue
        frame = _frame(tab, header_index, overrides)
        action = next(i for i, (role, _) in frame.roles.items() if role == "action")
        value = _value_column(frame.header, frame.roles)
        assert value is not None  # _header found one
        mine = {o.column: o.role for o in overrides if o.tab in (None, normalise_header(tab.name))}
        names = parse_text(frame.body[action])
        is_action = frame.valid & _present(frame.body[action])
        counted = frame.body.loc[is_action, value].where(_present(frame.body.loc[is_action, value]), None)
        numbers, messages = parse_counts(
            counted, str(frame.header[value]).lower(), decimal_mark(tab.locale), fractional_ok=True
        )
        bad = messages[messages != ""]
        result.problems.extend(
            Problem(cell=a1(tab.name, cast(int, row), value), message=f"{message}; row left out")
            for row, message in bad.items()
        )
        distinct = list(dict.fromkeys(names[is_action]))
        kinds = {name: classify_action(name, mine) for name in distinct}
        read = [name for name in distinct if kinds[name] is not None]
        rows = frame.keys[is_action].assign(action=names[is_action], value=numbers)
        rows = rows[rows["value"].notna() & rows["action"].isin(read)]
        keys = ["campaign", "test", "variant", "date"]
        sums = rows.groupby([*keys, "action"], sort=False)["value"].sum().unstack("action").fillna(0.0)
        sums = sums.reindex(columns=[name for name in read if name in sums.columns])
        platform = platform_of(_names(frame.header))
        pivot = Pivot(
            tab=tab.name,
            action=" ".join(str(frame.header[action]).split()),
            value=" ".join(str(frame.header[value]).split()),
            traffic_tab=None,
            micro=tuple(n for n in sums.columns if kinds[n] == "micro"),
            macro=tuple(n for n in sums.columns if kinds[n] == "macro"),
            not_read=tuple(name for name in distinct if kinds[name] is None),
            platform=platform,
        )
        # The long tab's own metric columns count every action at once: only the pivoted ones are read.
        cleared = [
            None if i in frame.roles and frame.roles[i][0] in ("micro", "macro", "value", "action") else cell
            for i, cell in enumerate(tab.rows[header_index])
        ]
        action_rows = set(is_action.index[is_action.to_numpy()])
        blanked = [[] if i in action_rows else list(row) for i, row in enumerate(tab.rows)]
        blanked[header_index] = cleared
        own = replace(tab, rows=blanked)
        has_carriers = frame.traffic is not None and bool(
            (frame.valid & ~is_action & _present(frame.body[frame.traffic])).any()
        )
        if sums.empty:
            out[position] = replace(tab, rows=[]) if distinct else own
            if distinct:
                result.problems.append(_none_read(tab, pivot))
                result.consumed[tab.name] = pivot
            continue
        if has_carriers:
            out[position] = _appended(own, _frame(own, header_index, overrides), sums, kinds, keys)
            result.pivots[tab.name] = pivot
            continue
        found = _traffic_tab(out, position, frame, sums, overrides)
        out[position] = replace(tab, rows=[])
        if found is None:
            result.problems.append(_no_traffic(tab, frame, action, read or distinct, platform))
            result.consumed[tab.name] = pivot
            continue
        other_position, other_frame, shared = found
        matched = sums.groupby(level=shared, sort=False).sum()
        other = out[other_position]
        out[other_position] = _appended(other, other_frame, matched, kinds, shared)
        result.pivots[other.name] = replace(pivot, traffic_tab=other.name)
        result.consumed[tab.name] = replace(pivot, traffic_tab=other.name)
    return result


def _traffic_tab(
    tabs: Sequence[Tab], position: int, frame: _Frame, sums: pd.DataFrame, overrides: Sequence[Override]
) -> tuple[int, _Frame, list[str]] | None:
    """The other tab whose rows name the most of the long tab's campaigns and variants, with traffic (as
    already rewritten: two long tabs may add their actions to the same traffic tab)."""
    best: tuple[int, int, _Frame, list[str]] | None = None
    wanted = sums.index.to_frame(index=False)
    for index, other in enumerate(tabs):
        if index == position or not other.rows or normalise_header(other.name) in ("setup", "channels", "verdicts"):
            continue
        header_index = _header(other.rows[:_PREAMBLE_ROWS], other.name, overrides, needs=("traffic",))
        if header_index is None:
            continue
        candidate = _frame(other, header_index, overrides)
        shared = ["variant"] + [
            k for k in ("campaign", "test", "date") if frame.columns[k] is not None and candidate.columns[k] is not None
        ]
        theirs = candidate.keys[candidate.valid][shared].drop_duplicates()
        hits = len(theirs.merge(wanted[shared].drop_duplicates(), on=shared))
        if hits and (best is None or hits > best[0]):
            best = (hits, index, candidate, shared)
    return None if best is None else (best[1], best[2], best[3])


def _not_read(pivot: Pivot) -> str:
    if not pivot.not_read:
        return ""
    them = "it" if len(pivot.not_read) == 1 else "them"
    return f" · not read: {', '.join(pivot.not_read)} (name {them} micro or macro in the Setup tab)"


def with_pivot(reading: TabReading, pivot: Pivot | None) -> TabReading:
    """A tab line that also says its metrics came from rows of one conversion action each, and from where."""
    if pivot is None:
        return reading
    rows = f"one row per {pivot.action} ({pivot.value})"
    if pivot.traffic_tab is None:
        said = f"{rows}, traffic from its unsegmented rows"
    else:
        said = f"micro and macro from tab {pivot.tab}, {rows}"
    summary = reading.summary.replace(f" · {NO_MICRO}", "") if pivot.micro else reading.summary
    return reading.model_copy(
        update={
            "summary": f"{summary} · {said}{_not_read(pivot)}",
            "actions": pivot.action,
            "action_counts": pivot.value,
            "traffic_tab": None if pivot.traffic_tab == reading.tab else pivot.traffic_tab,
            "not_read": pivot.not_read,
        }
    )


def consumed_reading(pivot: Pivot) -> TabReading:
    """The tab line of a long tab whose actions were read onto another tab's traffic (or found none)."""
    parts = [f"one row per {pivot.action} ({pivot.value})"]
    if pivot.micro:
        parts.append(f"micro = {', '.join(pivot.micro)}")
    if pivot.macro:
        parts.append(f"macro = {', '.join(pivot.macro)}")
    if pivot.traffic_tab:
        parts.append(f"traffic from tab {pivot.traffic_tab}")
    else:
        parts.append("no traffic found, not analysed" if pivot.micro or pivot.macro else "not analysed")
    return TabReading(
        tab=pivot.tab,
        layout=pivot.platform,
        micro=pivot.micro,
        macro=pivot.macro,
        fractional=True,
        summary=f"{pivot.tab}: {pivot.platform} · " + ", ".join(parts) + _not_read(pivot),
        actions=pivot.action,
        action_counts=pivot.value,
        traffic_tab=pivot.traffic_tab,
        not_read=pivot.not_read,
    )
