"""`as_json` writes exactly what the standard library writes for a model's JSON dump."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.models import Frozen
from bot.deps import create_deps
from bot.render import as_json as as_json_module
from bot.render.as_json import as_json
from bot.service import status_report
from bot.settings import Settings


class Leaf(Frozen):
    value: float
    values: tuple[float | None, ...]
    text: str
    count: int


class Tree(Frozen):
    name: str
    leaves: tuple[Leaf, ...]
    empty: tuple[int, ...] = ()
    maybe: Leaf | None = None


def standard(model: Frozen) -> str:
    return json.dumps(model.model_dump(mode="json"), indent=2)


FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.floats(min_value=1e-9, max_value=1e-3)
# Text that looks like the numbers the patterns rewrite, at a line's end, and any other character.
TEXTS = st.text() | st.sampled_from(["0.00001", " 0.00001", "x 3e-7", "1e-05,", "-0.0000123", "\x7f", "é · ≈ 😀"])
LEAVES = st.builds(
    Leaf, value=FLOATS, values=st.lists(FLOATS | st.none(), max_size=3).map(tuple), text=TEXTS, count=st.integers()
)


@settings(max_examples=400, deadline=None)
@given(st.builds(Tree, name=TEXTS, leaves=st.lists(LEAVES, max_size=3).map(tuple), maybe=LEAVES | st.none()))
def test_any_model_is_written_as_the_standard_library_writes_it(tree: Tree) -> None:
    assert as_json(tree) == standard(tree)


def test_every_float_of_the_small_and_exponent_ranges_is_written_alike() -> None:
    values = tuple(m * 10.0**e for e in range(-12, 20) for m in (1.0, 1.5, 9.99, 3.0000000000000004))
    leaf = Leaf(value=0.0, values=values + tuple(-v for v in values), text="", count=0)
    assert as_json(leaf) == standard(leaf)


def test_the_bundled_example_report_is_unchanged(tmp_path) -> None:
    report = status_report(create_deps(Settings(DATABASE_URL=f"sqlite:///{tmp_path}/s.db")), record=False)
    assert as_json(report) == standard(report)


def test_written_a_chunk_at_a_time_it_is_the_same_text(tmp_path, monkeypatch) -> None:
    report = status_report(create_deps(Settings(DATABASE_URL=f"sqlite:///{tmp_path}/s.db")), record=False)
    assert len(report.tests) > 3
    monkeypatch.setattr(as_json_module, "CHUNK_ITEMS", 2)
    out = io.StringIO()
    as_json_module.write_json(report, out)
    assert out.getvalue() == standard(report) + "\n"


@settings(max_examples=200, deadline=None)
@given(st.builds(Tree, name=TEXTS, leaves=st.lists(LEAVES, max_size=5).map(tuple), maybe=LEAVES | st.none()))
def test_any_model_written_in_chunks_of_one_is_the_same_text(tree: Tree) -> None:
    original = as_json_module.CHUNK_ITEMS
    as_json_module.CHUNK_ITEMS = 1  # every longer tuple of models a model at a time (no monkeypatch in @given)
    try:
        out = io.StringIO()
        as_json_module.write_json(tree, out)
    finally:
        as_json_module.CHUNK_ITEMS = original
    assert out.getvalue() == standard(tree) + "\n"
