"""The digest record read for `/microopt sheet`: a database that does not answer is said so; a bug is a bug."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.deps import Deps
from bot.digests.notes import UNCHECKED, trouble_sentences
from bot.digests.record import DigestTrouble, read_trouble
from bot.settings import Settings
from bot.state.store import StateStore


def deps_with(state: object) -> Deps:
    return Deps(settings=Settings(sheet="x.csv"), read_tabs=lambda spec: [], state=state)  # type: ignore[arg-type]


def test_without_a_database_there_is_nothing_to_report() -> None:
    assert read_trouble(Deps(settings=Settings(sheet="x.csv"), read_tabs=lambda spec: [])) == DigestTrouble()


def test_a_database_that_does_not_answer_is_one_sentence(tmp_path: Path) -> None:
    unopenable = StateStore.open(f"sqlite:///{tmp_path}")  # a folder: SQLite cannot open it
    trouble = read_trouble(deps_with(lambda: unopenable))
    assert trouble.unchecked and trouble_sentences(trouble) == [UNCHECKED]


def test_a_bug_is_not_reported_as_the_database() -> None:
    def broken() -> StateStore:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        read_trouble(deps_with(broken))
