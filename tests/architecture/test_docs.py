"""docs/architecture.md stays short and true: "Where a change goes" fits on one screen, and every path the
document names is in the tree."""

from __future__ import annotations

import re

from tests.architecture.imports import ROOT

DOC = ROOT / "docs" / "architecture.md"


def section(title: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    body = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return body.strip("\n").splitlines()


def test_where_a_change_goes_fits_on_one_screen() -> None:
    lines = section("Where a change goes")
    assert len(lines) <= 30
    assert [line for line in lines if len(line) > 100] == []


def test_every_path_named_exists() -> None:
    named = set(re.findall(r"`((?:bot|analysis|docs|tests)/[\w/.]*)`", DOC.read_text(encoding="utf-8")))
    assert len(named) > 20
    assert sorted(p for p in named if not (ROOT / p).exists()) == []


def test_every_module_named_alone_exists_in_the_tree() -> None:
    """`answers.py` in a sentence about bot/slack: a bare module name must be some module's name."""
    bare = set(re.findall(r"`(\w+\.py)`", DOC.read_text(encoding="utf-8")))
    files = {p.name for p in (ROOT / "bot").rglob("*.py")} | {p.name for p in (ROOT / "analysis").rglob("*.py")}
    assert sorted(bare - files) == []
