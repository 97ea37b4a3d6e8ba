"""The one-way rule of docs/architecture.md: imports in bot/ only run down the layers, and never in a circle.

Every import counts, lazy ones inside functions too; imports under `if TYPE_CHECKING:` (annotations, never
executed) are left out. `python -m tests.architecture.imports` prints the graph.
"""

from __future__ import annotations

import graphlib

from tests.architecture.imports import (
    LAYERS,
    ROOT,
    folders,
    graph,
    layer_of,
    package_graph,
    repeated_prefixes,
    top_level,
    upward,
)


def test_every_bot_module_has_a_layer() -> None:
    assert [m for m in graph() if layer_of(m) >= len(LAYERS)] == []


def test_imports_only_run_down_the_layers() -> None:
    assert upward(graph()) == []


def test_no_module_imports_itself_in_a_circle() -> None:
    edges = {m: {t for t in targets if t in graph()} for m, targets in graph().items()}
    graphlib.TopologicalSorter(edges).prepare()  # raises CycleError naming the circle


def test_rendering_touches_neither_slack_nor_state() -> None:
    rendering = {m: t for m, t in graph().items() if m.startswith("bot.render")}
    assert {m: sorted(x for x in t if x.startswith(("bot.slack", "bot.state"))) for m, t in rendering.items()} == {
        m: [] for m in rendering
    }


def test_the_layer_check_catches_a_back_import() -> None:
    """The rule can fail: the entry layer is above the Slack surface, which is above the services."""
    assert layer_of("bot.cli.status") < layer_of("bot.slack.answers") < layer_of("bot.schedules.slots")
    assert layer_of("bot.schedules.slots") < layer_of("bot.render.blocks") < layer_of("bot.sources.google")
    assert layer_of("bot.digests.recovery") == layer_of("bot.digests.run") == layer_of("bot.slack.app")


def test_no_two_packages_import_each_other() -> None:
    """Module cycles are not the only tangle: the Slack edge and the digest engine must not lean on each other."""
    graphlib.TopologicalSorter(package_graph(graph())).prepare()


def test_no_module_repeats_the_name_of_a_package_beside_it() -> None:
    """In bot/ and in every package of it: bot/digest_x.py beside bot/digests/, bot/slack/decision_x.py beside
    bot/slack/decisions/."""
    assert {str(f.relative_to(ROOT)): repeated_prefixes(*top_level(f)) for f in folders()} == {
        str(f.relative_to(ROOT)): [] for f in folders()
    }


def test_the_prefix_check_catches_a_module_beside_its_folder() -> None:
    modules = ["digest_notes", "digest", "scheduler", "schedules_by_channel", "service", "slack_api"]
    assert repeated_prefixes(modules, ["digests", "schedules", "slack_api"]) == [
        "digest_notes.py belongs in digests/",
        "digest.py belongs in digests/",
        "schedules_by_channel.py belongs in schedules/",
        "slack_api.py belongs in slack_api/",
    ]
