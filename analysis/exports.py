"""Ad-platform exports as pasted: Google Ads, Microsoft Advertising, Meta Ads Manager and GA4.

An export tab is rewritten into the hand-made layout (`Campaign`, `Variant`, a traffic column, metrics
marked `(micro)` / `(macro)`) in place: every cell keeps its row and column, so a bad cell is still reported
at its own A1 reference. Title and date lines, `#` preambles, totals and summary rows are blanked,
`--` is read as missing, and `(not set)` arms are left out with a note. A `Setup` tab (`Column`, `Role`,
optionally `Tab`) overrides the built-in column names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from analysis.cells import normalise_header
from analysis.models import Cell, Problem, Tab, TabReading

Role = str  # campaign, test, variant, traffic, spend, currency, date, micro, macro, ignore

_NAMES: dict[str, Role] = {
    # labels
    **dict.fromkeys(("campaign", "campaign name", "session campaign", "session manual campaign name"), "campaign"),
    **dict.fromkeys(
        (
            "ad group",
            "ad group name",
            "ad set name",
            "ad set",
            "ad name",
            "ad",
            "keyword",
            "search term",
            "ad title",
            "session manual ad content",
            "first user manual ad content",
            "session manual term",
            "landing page",
            "variant",
        ),
        "variant",
    ),
    # traffic
    **dict.fromkeys(("clicks", "link clicks", "sessions", "users", "total users", "visitors"), "traffic"),
    # money
    **dict.fromkeys(("cost", "spend", "amount spent", "cost (usd)"), "spend"),
    **dict.fromkeys(("currency code", "currency"), "currency"),
    **dict.fromkeys(("day", "date", "reporting starts"), "date"),
    # micro-conversions
    **dict.fromkeys(
        (
            "add to cart",
            "adds to cart",
            "add to carts",
            "add-to-carts",
            "website adds to cart",
            "begin checkout",
            "checkouts",
            "checkouts initiated",
            "checkouts initiated on website",
            "leads",
            "landing page views",
            "cart views",
            "demo requests",
            "content views",
        ),
        "micro",
    ),
    # macro-conversions
    **dict.fromkeys(
        (
            "purchases",
            "website purchases",
            "conversions",
            "ecommerce purchases",
            "transactions",
            "sign-ups",
            "signups",
            "sign ups",
            "key events",
            "new clients",
        ),
        "macro",
    ),
}
# How specific a label column is: the most specific one names the variant, the next one the test.
_SPECIFICITY = (
    ("ad name", "ad", "ad title", "search term", "keyword", "session manual term"),
    ("session manual ad content", "first user manual ad content", "landing page", "variant"),
    ("ad group", "ad group name", "ad set name", "ad set"),
)
_CURRENCY_CODE_HEADER = re.compile(r"^(?P<name>.+?)\s*\((?P<code>[A-Za-z]{3})\)$")
_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "CA$", "AUD": "A$"}
_TOTAL_ROW = re.compile(r"^\s*(grand\s+)?totals?\b|^\s*summary\b|^\s*account\s+total", re.IGNORECASE)
_MISSING = {"--", "—", "-", "n/a"}
_NOT_SET = {"(not set)", "(not provided)", "(other)"}


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
        if not column or role not in {*_NAMES.values(), "test", "ignore"}:
            continue
        where = normalise_header(cells[at["tab"]]) if "tab" in at else ""
        overrides.append(Override(column=column, role=role, tab=where or None))
    return overrides


def _roles(headers: Sequence[object], tab: str, overrides: Sequence[Override]) -> dict[int, tuple[Role, str]]:
    names = [normalise_header(h) for h in headers]
    mine = {o.column: o.role for o in overrides if o.tab in (None, normalise_header(tab))}
    roles: dict[int, tuple[Role, str]] = {}
    for index, (name, cell) in enumerate(zip(names, headers, strict=True)):
        if not name:
            continue
        match = _CURRENCY_CODE_HEADER.match(name)
        base = match["name"] if match else name
        role = mine.get(name) or mine.get(base) or _NAMES.get(name) or _NAMES.get(base)
        if role and role != "ignore":
            roles[index] = (role, " ".join(str(cell).split()))
    return roles


def _label_columns(roles: dict[int, tuple[Role, str]]) -> tuple[int | None, int | None]:
    """(variant column, test column): the most specific label, and the next one when there are two."""
    labels = [(i, normalise_header(name)) for i, (role, name) in roles.items() if role == "variant"]
    explicit_tests = [i for i, (role, _) in roles.items() if role == "test"]
    ranked = sorted(
        labels,
        key=lambda item: next((r for r, group in enumerate(_SPECIFICITY) if item[1] in group), len(_SPECIFICITY)),
    )
    variant = ranked[0][0] if ranked else None
    test = explicit_tests[0] if explicit_tests else (ranked[1][0] if len(ranked) > 1 else None)
    return variant, test


def _header(rows: Sequence[Sequence[object]], tab: str, overrides: Sequence[Override]) -> int | None:
    """The first row naming a variant, a traffic column and a metric, however long the preamble above it."""
    for index, row in enumerate(rows):
        first = next((normalise_header(c) for c in row if normalise_header(c)), "")
        if not first or first.startswith("#"):
            continue
        kinds = {role for role, _ in _roles(row, tab, overrides).values()}
        if "variant" in kinds and "traffic" in kinds and kinds & {"micro", "macro"}:
            return index
    return None


def _platform(names: set[str]) -> str:
    if names & {"ad set name", "link clicks", "amount spent", "adds to cart", "reporting starts"} or any(
        n.startswith("amount spent") for n in names
    ):
        return "Meta export"
    if names & {"session manual ad content", "first user manual ad content", "sessions", "ecommerce purchases"}:
        return "GA4 export"
    if "spend" in names and names & {"ad group", "keyword", "campaign name"}:
        return "Microsoft Ads export"
    if names & {"ad group", "cost", "currency code", "all conv.", "search term"}:
        return "Google Ads export"
    return "Export"


def _is_missing(cell: object) -> bool:
    return isinstance(cell, str) and cell.strip().lower() in _MISSING


def describe_unrecognised(tab: Tab) -> Problem | None:
    """For a tab with numbers but no layout: what was seen, and the nearest mapping."""
    for index, row in enumerate(tab.rows[:50]):
        texts = [" ".join(str(c).split()) for c in row if isinstance(c, str) and c.strip()]
        if len(texts) < 2 or texts[0].startswith("#"):
            continue
        roles = {_NAMES.get(normalise_header(t)) or _NAMES.get(normalise_header(t).split(" (")[0]) for t in texts}
        if not roles & {"variant", "traffic", "micro", "macro"}:
            continue
        body = tab.rows[index + 1 : index + 4]
        if not any(
            (isinstance(c, int | float) and not isinstance(c, bool)) or _numeric_text(c) for r in body for c in r
        ):
            return None
        lacking = [
            what
            for role, what in (
                ("variant", "a variant column (Ad group, Ad set name, Ad name…)"),
                ("traffic", "a traffic column (Clicks, Link clicks, Sessions…)"),
                ("micro", "a micro-conversion column"),
                ("macro", "a macro-conversion column"),
            )
            if role not in roles
        ]
        platform = _platform({normalise_header(t) for t in texts})
        looks = f"it looks like a {platform.replace(' export', '')} export" if platform != "Export" else "it"
        return Problem(
            cell=f"{tab.name}",
            message=f"Tab {tab.name} has {', '.join(texts[:6])}: {looks} without {' or '.join(lacking) or 'a metric'}"
            "; add one, or name one in the Setup tab",
        )
    return None


def _numeric_text(cell: object) -> bool:
    return isinstance(cell, str) and bool(re.fullmatch(r"[\s$€£\d.,%-]+", cell)) and any(ch.isdigit() for ch in cell)


def recognise(tab: Tab, overrides: Sequence[Override] = ()) -> Reading | None:
    """The tab rewritten into the hand-made layout, or None when it is not a recognisable export."""
    header_index = _header(tab.rows, tab.name, overrides)
    if header_index is None:
        return None
    header = list(tab.rows[header_index])
    roles = _roles(header, tab.name, overrides)
    variant, test = _label_columns(roles)
    if variant is None:
        return None
    campaign = next((i for i, (role, _) in roles.items() if role == "campaign"), None)
    traffic = next(i for i, (role, _) in roles.items() if role == "traffic")
    spend = next((i for i, (role, _) in roles.items() if role == "spend"), None)
    currency_column = next((i for i, (role, _) in roles.items() if role == "currency"), None)
    date = next((i for i, (role, _) in roles.items() if role == "date"), None)
    metrics = [(i, role, name) for i, (role, name) in roles.items() if role in ("micro", "macro")]
    width = max(len(row) for row in tab.rows)
    campaign_column = campaign if campaign is not None else width
    names = {normalise_header(c) for c in header if normalise_header(c)}

    new_header: list[Cell] = [None] * (width + (campaign is None))
    new_header[campaign_column] = "Campaign"
    new_header[variant] = "Variant"
    new_header[traffic] = "Clicks" if normalise_header(header[traffic]) in ("link clicks",) else header[traffic]
    if normalise_header(new_header[traffic]) not in ("visitors", "sessions", "users", "clicks"):
        new_header[traffic] = "Users" if "users" in normalise_header(header[traffic]) else "Clicks"
    if test is not None:
        new_header[test] = "Test"
    if spend is not None:
        new_header[spend] = "Spend"
    if date is not None:
        new_header[date] = "Date"
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
    platform = _platform(names)
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
    summary = f"{tab.name}: {platform} · " + ", ".join(parts)
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
    )
    return Reading(
        tab=Tab(name=tab.name, rows=rows, locale=tab.locale),
        reading=reading,
        currency=currency,
        fractional=fractional,
        problems=problems,
    )
