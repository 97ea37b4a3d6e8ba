"""A tab nothing was tested from, in one sentence: what it holds, what is missing, and what would read it.

The sentence names the headers seen (all of them, or the first 12 and a count), the role that is missing
(variant, traffic, conversions), the candidate columns (numeric by sampling the body, and near misses with a
"did you mean"), and the Setup rows that would read the tab. An empty tab, a header-only tab and a tab of
text have sentences of their own; so does a tab whose only outcome is an amount (sales, revenue).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.models import SetupRow, Tab, TabReading
from analysis.reading.cells import decimal_mark, is_blank, normalise_header, parse_numbers
from analysis.reading.exports import Override, amounts_said, classify_action, header_roles, platform_of
from analysis.reading.vocabulary import NearMiss, did_you_mean, role_of

# Tabs microopt writes or reads for itself: never "not read".
RESERVED_TABS = frozenset({"verdicts", "decisions", "channels", "setup"})
_HEADERS_SHOWN = 12
_HEADER_SEARCH_ROWS = 200
_SAMPLE_ROWS = 2000
# Near misses are looked for in the top rows only: a typo is in a header, and a header is near the top.
_NEAR_MISS_ROWS = 20
_LABEL_MAX_DISTINCT = 20
_LARGEST = 1e15  # column totals are compared, not reported: a cell of 1e308 must not overflow them
_NAMED_CANDIDATES = 8
# What a tab needs to be tested, as `TabReading.missing` names it; a tab whose columns are all there can still
# lack its `rows` (a header alone) or its `numbers` (text under the header).
_ROLES_NEEDED = ("variant", "traffic", "conversion")
_SETUP_WHERE = "a Setup tab (for a CSV: a --setup file or MICROOPT_SETUP)"
_WHAT = {
    "variant": "variant column (Variant, Ad group, Ad set name, Ad name…)",
    "traffic": "traffic column (Clicks, Link clicks, Sessions, Users, Impressions…)",
    "conversion": "conversion column (a count such as Adds to cart or Purchases, or a column marked (micro) or "
    "(macro), e.g. “Cart views (micro)”)",
}


@dataclass(frozen=True)
class _Column:
    index: int
    name: str
    role: str | None
    numeric: bool
    whole: bool
    distinct: int
    count: int
    total: float
    near: NearMiss | None


def is_reserved(tab: Tab) -> bool:
    return normalise_header(tab.name) in RESERVED_TABS


def _text(cell: object) -> str:
    return " ".join(str(cell).split()) if cell is not None and not isinstance(cell, bool) else ""


def _header_index(rows: Sequence[Sequence[object]], tab: str, overrides: Sequence[Override]) -> int | None:
    """The row naming the most known columns (or near misses) among the top rows; else the first row of two or
    more text cells; else the first row with anything in it."""
    best: tuple[int, int] | None = None
    first_text: int | None = None
    first_any: int | None = None
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        texts = [_text(c) for c in row if isinstance(c, str) and c.strip()]
        if any(_text(c) for c in row) and first_any is None:
            first_any = index
        if not texts or (texts[0].startswith("#") and len(texts) == 1):
            continue
        if len(texts) >= 2 and first_text is None:
            first_text = index
        known = len(header_roles(row, tab, overrides))
        if index < _NEAR_MISS_ROWS:
            known += sum(did_you_mean(t) is not None for t in texts)
        if known and (best is None or known > best[0]):
            best = (known, index)
    if best is not None:
        return best[1]
    return first_text if first_text is not None else first_any


def _columns(tab: Tab, header_index: int, overrides: Sequence[Override]) -> list[_Column]:
    header = list(tab.rows[header_index])
    below = tab.rows[header_index + 1 :]
    sample = [row for row in below[:: max(1, len(below) // _SAMPLE_ROWS)] if any(_text(c) for c in row)]
    width = max([len(header), *(len(row) for row in sample)])
    frame = pd.DataFrame(
        [list(row) + [None] * (width - len(row)) for row in sample], columns=range(width), dtype="object"
    )
    roles = header_roles(header, tab.name, overrides)
    columns = []
    for index, cell in enumerate(header):
        name = _text(cell)
        if not name:
            continue
        values = frame[index] if index in frame.columns else pd.Series([], dtype="object")
        present = values[~is_blank(values)]
        numbers, _ = parse_numbers(present, decimal_mark(tab.locale))
        numeric = bool(len(present)) and bool(numbers.notna().mean() >= 0.5)
        parsed = numbers[np.isfinite(numbers)].astype(float)
        columns.append(
            _Column(
                index=index,
                name=name,
                role=roles[index][0] if index in roles else role_of(name),
                numeric=numeric,
                whole=bool(numeric and (parsed % 1 == 0).all() and (parsed >= 0).all()),
                distinct=int(present.map(_text).nunique()),
                count=len(present),
                total=float(parsed.clip(-_LARGEST, _LARGEST).sum()) if numeric else 0.0,
                near=did_you_mean(name) if index not in roles else None,
            )
        )
    return columns


def _listed(names: Sequence[str]) -> str:
    names = list(names)
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _headers(names: Sequence[str]) -> str:
    if len(names) <= _HEADERS_SHOWN:
        return ", ".join(names)
    return f"{len(names)} columns (first {_HEADERS_SHOWN}: {', '.join(names[:_HEADERS_SHOWN])})"


def _rows(setup: Sequence[SetupRow]) -> str:
    said = [f"(Column={row.column}, Role={row.role}, Tab={row.tab})" for row in setup]
    return f"the row {said[0]}" if len(said) == 1 else f"the rows {_listed(said)}"


def _unread(
    tab: Tab,
    headers: Sequence[str],
    summary: str,
    missing: Sequence[str] = (),
    candidates: Sequence[str] = (),
    setup: Sequence[SetupRow] = (),
    amounts: Sequence[str] = (),
) -> TabReading:
    return TabReading(
        tab=tab.name,
        layout="not read",
        read=False,
        headers=tuple(headers),
        summary=summary,
        missing=tuple(missing),
        candidates=tuple(candidates),
        setup=tuple(setup),
        amounts=tuple(amounts),
    )


def not_read(tab: Tab, overrides: Sequence[Override] = ()) -> TabReading:
    """The one sentence, and the Setup rows that would read it, for a tab nothing was tested from."""
    header_index = _header_index(tab.rows, tab.name, overrides)
    if header_index is None:
        return _unread(
            tab,
            (),
            f"Tab {tab.name} is empty: paste a report into it (a header row, then one row per variant) or delete it.",
            missing=_ROLES_NEEDED,
        )
    columns = _columns(tab, header_index, overrides)
    headers = [c.name for c in columns]
    if not any(isinstance(c, str) and c.strip() for c in tab.rows[header_index]):
        return _unread(
            tab,
            (),
            f"Tab {tab.name} has no header row (its first row is {_headers(headers)}): add a row above the numbers "
            "that names each column (Campaign, Variant, Clicks, Purchases…).",
            missing=_ROLES_NEEDED,
        )
    if not any(any(_text(c) for c in row) for row in tab.rows[header_index + 1 :]):
        return _unread(
            tab,
            headers,
            f"Tab {tab.name} has only a header ({_headers(headers)}) and no rows under it: add one row per variant "
            "(and per day, with a Date column) under the header.",
            missing=_missing(headers, columns) or ("rows",),
        )
    if not any(c.numeric for c in columns):
        return _unread(
            tab,
            headers,
            f"Tab {tab.name} has {_headers(headers)} but no numbers under them: microopt tests counts of traffic "
            "and conversions, so it needs columns of them, such as Clicks and Purchases.",
            missing=_missing(headers, columns) or ("numbers",),
        )
    return _diagnosed(tab, headers, columns)


def _missing(headers: Sequence[str], columns: Sequence[_Column]) -> tuple[str, ...]:
    """The roles no column plays: variant (or a campaign in a platform's export), traffic, conversion."""
    roles = {c.role for c in columns if c.role}
    platform = platform_of({normalise_header(h) for h in headers})
    present = {
        "variant": "variant" in roles or ("campaign" in roles and platform != "Export"),
        "traffic": bool(roles & {"traffic", "impressions"}),
        "conversion": bool(roles & {"micro", "macro"}),
    }
    return tuple(role for role in _ROLES_NEEDED if not present[role])


def _diagnosed(tab: Tab, headers: list[str], columns: list[_Column]) -> TabReading:
    amounts = [c.name for c in columns if c.role == "amount"]
    platform = platform_of({normalise_header(h) for h in headers})
    missing = _missing(headers, columns)
    only_amounts = "conversion" in missing and bool(amounts)
    near = [c.near for c in columns if c.near is not None]
    setup = _proposed(tab, columns, missing, near, guess=not only_amounts)
    looks = f"it looks like a {platform} with" if platform != "Export" else "it has"
    if missing:
        said = f"{looks} " + _listed([f"no {_WHAT[role]}" for role in missing])
    else:
        said = f"{looks} every column microopt needs, but no row under its header could be read"
    if near:
        said += " (did you mean " + _listed([f"{n.meant} for {n.column}" for n in near]) + "?)"
    if only_amounts:
        said += f";{amounts_said(amounts).removeprefix(' ·')}, and microopt tests counts of traffic and conversions"
    proposed = {row.column for row in setup}
    spare = [c.name for c in columns if c.numeric and c.role in (None, "id") and c.name not in proposed]
    if spare:
        shown = spare[:_NAMED_CANDIDATES]
        rest = f" and {len(spare) - len(shown)} more" if len(spare) > len(shown) else ""
        said += f"; its other numeric columns are {', '.join(shown) + rest if rest else _listed(shown)}"
    return _unread(
        tab,
        headers,
        f"Tab {tab.name} has {_headers(headers)}: {said}{_todo(missing, setup, only_amounts, len(near))}.",
        missing=missing,
        candidates=list(dict.fromkeys([*(n.column for n in near), *proposed, *spare])),
        setup=setup,
        amounts=amounts,
    )


def _todo(missing: Sequence[str], setup: Sequence[SetupRow], only_amounts: bool, near: int) -> str:
    """What to do, after a `;` or a `?`: the Setup rows to add, and the columns no row can stand for."""
    lead = "; "
    covered = {_covers(row.role) for row in setup}
    uncovered = [role for role in missing if role not in covered]
    wanted = _listed(
        [
            "a column counting conversions per row (orders, purchases, sign-ups…)"
            if role == "conversion" and only_amounts
            else f"a {_WHAT[role].split(' (')[0]}"
            for role in uncovered
        ]
    )
    if setup:
        add = f"add to {_SETUP_WHERE} {_rows(setup)}" + (f", and add {wanted}" if uncovered else "")
        # Near misses are always among the rows.
        return lead + (f"{'rename it' if near == 1 else 'rename them'}, or {add}" if near else add)
    if uncovered:
        them = "one" if len(uncovered) == 1 else "them"
        roles = _listed(["micro or macro" if role == "conversion" else role for role in uncovered]).replace(
            " and micro or macro", ", micro or macro"
        )
        return f"{lead}add {wanted}, or name {them} in {_SETUP_WHERE} with Column = the header and Role = {roles}"
    return f"{lead}check its header row, or map its columns in {_SETUP_WHERE}"


def _covers(role: str) -> str:
    return "conversion" if role in ("micro", "macro") else "variant" if role == "campaign" else role


def _proposed(
    tab: Tab, columns: Sequence[_Column], missing: Sequence[str], near: Sequence[NearMiss], guess: bool
) -> list[SetupRow]:
    """The Setup rows that would read the tab: every near miss as what it was meant to be, then, for a role
    still missing, the likeliest column (unless `guess` is off: an amount is no conversion to guess at)."""
    rows = [SetupRow(column=n.column, role=n.role, tab=tab.name) for n in near]
    covered = {_covers(n.role) for n in near}
    taken = {n.column for n in near}
    for role in missing:
        if role in covered or not guess:
            continue
        choice = _likeliest(columns, role, taken)
        if choice is None:
            continue
        taken.add(choice)
        kind = (classify_action(choice) or "micro") if role == "conversion" else role
        rows.append(SetupRow(column=choice, role=kind, tab=tab.name))
    return rows


def _likeliest(columns: Sequence[_Column], role: str, taken: set[str]) -> str | None:
    free = [c for c in columns if c.role is None and c.near is None and c.name not in taken]
    if role == "variant":
        campaign = next((c for c in columns if c.role == "campaign"), None)
        # A label repeats: a few distinct values (arms), each on several rows.
        labels = [
            c
            for c in free
            if 2 <= c.distinct <= _LABEL_MAX_DISTINCT and c.distinct < c.count and (c.whole or not c.numeric)
        ]
        chosen = campaign or next(iter(labels), None)
        return chosen.name if chosen else None
    counts = [c for c in free if c.numeric and c.whole and c.total > 0]
    if not counts:
        return None
    # Traffic is the largest count of a row; a conversion, the first other count in the sheet's order.
    return (max(counts, key=lambda c: c.total) if role == "traffic" else counts[0]).name


_DATA_ROLES = frozenset({"variant", "traffic", "impressions", "micro", "macro", "amount", "action", "value"})


def looks_like_data(reading: TabReading) -> bool:
    """Whether a tab that was not read deserves a problem line too: it has numbers and names a column microopt
    knows (or nearly knows) as a variant, traffic, a conversion or an amount, so someone meant it to be read."""
    return bool(reading.missing) and any(
        role_of(h) in _DATA_ROLES or did_you_mean(h) is not None for h in reading.headers
    )


def with_amounts(reading: TabReading, header: Sequence[object]) -> TabReading:
    """A read tab's line naming its amount columns (revenue, sales): an amount, not a count of conversions."""
    amounts = tuple(_text(c) for c in header if _text(c) and role_of(c) == "amount")
    if not amounts:
        return reading
    return reading.model_copy(update={"amounts": amounts, "summary": reading.summary + amounts_said(amounts)})
