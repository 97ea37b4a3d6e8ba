"""Nothing silent, as a property: any CSV with at least one numeric column either yields a test (exit 0) or exits 1
with a sentence that says what is missing; never exit 0 with nothing tested, never a crash.

The files are generated from a pool of headers people really use (hand-made, platform exports, public
datasets, row-level logs), typos of them and junk, over random cells, and run through the real CLI in-process.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli import app
from bot.sentences import NO_TESTS

REAL = (
    "Campaign",
    "Test",
    "Variant",
    "Control",
    "Date",
    "Spend",
    "Clicks",
    "Sessions",
    "Users",
    "Visitors",
    "Impressions",
    "Cart views (micro)",
    "Purchases (macro)",
    "Sign-ups (macro)",
    "Campaign name",
    "Ad set name",
    "Ad group",
    "Link clicks",
    "Adds to cart",
    "Purchases",
    "Amount spent (USD)",
    "# of Website Clicks",
    "Website Clicks",
    "# of Purchase",
    "Total_Conversion",
    "Approved_Conversion",
    "Spent",
    "group",
    "user_id",
    "converted",
    "retention_7",
)
NEAR_MISSES = ("Varient", "Clciks", "Cart views (mirco)", "Campain", "Purchace (macro)")
JUNK = ("", "x", "Notes", "Owner", "Revenue", "Column 7", "%%", "Unnamed: 0")
LABELS = ("A", "B", "Control", "Spring Sale", "gad", "ad", "TRUE", "FALSE", "", "(not set)")
NUMBERS = st.one_of(
    st.integers(0, 5000).map(str),
    st.integers(0, 5000).map(lambda n: f"{n:,}"),
    st.floats(0, 1000, allow_nan=False).map(lambda x: f"${x:,.2f}"),
    st.sampled_from(["", "0", "1", "--", "1O2", "12%", " 48 "]),
)
CELLS = st.one_of(NUMBERS, st.sampled_from(LABELS), st.text(st.sampled_from("ab1 ,\"'/-"), max_size=6))


# Columns that name things take labels; the rest mostly numbers.
NAMING = frozenset({"Campaign", "Test", "Variant", "Control", "Campaign name", "Ad set name", "Ad group", "group"})
NAMING |= {"Varient", "Campain", "user_id"}
# Most files start from a layout someone would make (a campaign, a variant, traffic, a metric), and some from
# nothing but the pool.
LAYOUTS = (
    ("Campaign", "Variant", "Clicks", "Cart views (micro)"),
    ("Campaign name", "Ad set name", "Link clicks", "Adds to cart", "Purchases"),
    ("Campaign", "Test", "Variant", "Sessions", "Purchases (macro)", "Spend"),
    ("group", "converted"),
    ("Campaign", "Ad group", "Website Clicks", "# of Purchase"),
)


def cells_for(header: str, numeric: bool) -> st.SearchStrategy[str]:
    if numeric:
        return st.integers(0, 3000).map(str)
    if header in ("Campaign", "Campaign name", "Campain"):
        return st.sampled_from(("Spring Sale",) * 12 + ("Brand", ""))
    if header == "Test":
        return st.sampled_from(("Audience",) * 6 + ("Ad copy",))
    if header in NAMING:
        return st.sampled_from(("control", "treatment") if header == "group" else ("A", "B", "A", "B", "C", ""))
    return CELLS


@st.composite
def csv_files(draw: st.DrawFn) -> list[list[str]]:
    """A header of 1 to 9 names and 0 to 12 rows; at least one column holds only numbers."""
    names = st.sampled_from(REAL + NEAR_MISSES + JUNK)
    layout = list(draw(st.sampled_from((*LAYOUTS, ()))))
    headers = draw(st.permutations([*layout, *draw(st.lists(names, min_size=0 if layout else 1, max_size=4))]))
    numeric = {i for i, header in enumerate(headers) if header not in NAMING and draw(st.integers(0, 3))}
    numeric = numeric or {draw(st.integers(0, len(headers) - 1))}
    rows = []
    for _ in range(draw(st.integers(4 if layout else 0, 12))):
        rows.append([draw(cells_for(header, i in numeric)) for i, header in enumerate(headers)])
    return [headers, *rows]


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """One folder for every generated file, and the working directory (no stray .env); no sheet set."""
    with tempfile.TemporaryDirectory() as name, pytest.MonkeyPatch.context() as patch:
        for setting in ("MICROOPT_SHEET", "MICROOPT_SETUP", "MICROOPT_ALPHA", "GOOGLE_APPLICATION_CREDENTIALS"):
            patch.delenv(setting, raising=False)
        patch.chdir(name)
        yield Path(name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=csv_files())
def test_a_csv_is_tested_or_refused_with_what_is_missing_never_silently(folder: Path, rows: list[list[str]]) -> None:
    path = folder / "sheet.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)

    result = CliRunner().invoke(app, ["status", "--sheet", str(path), "--no-history", "--format", "json"])

    event(f"exit {result.exit_code}")
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)  # 2 would be a crash
    report = json.loads(result.stdout)
    if result.exit_code == 0:
        assert report["tests"], "exit 0 with nothing tested"
        return
    assert report["tests"] == []
    unread = [t for t in report["tabs"] if not t["read"]]
    said = [t["summary"] for t in unread if t["summary"]] or [NO_TESTS]
    assert result.stderr.splitlines() == said
    for tab in unread:  # a tab that says why names the role it lacks
        assert tab["missing"] and tab["summary"]
