"""bot/'s import graph, read from the source: `python -m tests.architecture.imports` prints it, one module
per line with the bot/ and analysis/ modules it imports and its layer (docs/architecture.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Top to bottom; a module may import its own layer and the ones below, never one above.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entry points", ("bot.__main__", "bot.cli", "bot.wsgi", "bot.asgi", "bot.scheduler")),
    ("surfaces", ("bot.slack", "bot.digests")),
    (
        "services",
        (
            "bot.service",
            "bot.channel_sheets",
            "bot.workspaces",
            "bot.routing",
            "bot.schedules",
            "bot.state",
            "bot.deps",
        ),
    ),
    ("rendering", ("bot.render",)),
    ("sources and clients", ("bot.sources", "bot.slack_api")),
    ("analysis", ("analysis",)),
    ("base", ("bot.settings", "bot.errors", "bot.sentences", "bot.said", "bot.decided")),
)


def layer_of(module: str) -> int:
    """The index in LAYERS of the longest prefix naming `module`: a package and what is in it, or modules
    whose name starts so (`bot.digests` covers bot.digests.run and bot.digests.recovery). `bot` itself is base."""
    if module == "bot":
        return len(LAYERS) - 1
    best, index = -1, len(LAYERS)
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module.startswith(prefix) and len(prefix) > best:
                best, index = len(prefix), i
    return index


def module_name(path: Path) -> str:
    """`bot/slack/app.py` → `bot.slack.app`, `bot/state/__init__.py` → `bot.state`."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _is_module(name: str) -> bool:
    path = ROOT / Path(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_of(path: Path) -> Iterator[str]:
    """The modules `path` imports at run time, lazy imports included (the project uses no relative ones)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_blocks(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                yield candidate if _is_module(candidate) else node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        name = module_name(path)
        edges[name] = {m for m in imports_of(path) if m.split(".")[0] in ("bot", "analysis") and m != name}
    return edges


def package_of(module: str) -> str:
    """The unit a reader thinks in: a package of bot/ (`bot.slack`, `bot.digests`) or a top-level module, and
    analysis as one."""
    parts = module.split(".")
    return "analysis" if parts[0] == "analysis" else ".".join(parts[:2])


def package_graph(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph folded into packages: which package imports which."""
    folded: dict[str, set[str]] = {}
    for module, targets in edges.items():
        folded.setdefault(package_of(module), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(module)
        )
    return folded


def folders() -> list[Path]:
    """bot/ and every package below it."""
    bot = ROOT / "bot"
    return [bot, *sorted(p.parent for p in bot.rglob("*/__init__.py"))]


def top_level(folder: Path | None = None) -> tuple[list[str], list[str]]:
    """A folder's own modules and its packages, by name (`digests`, `schedules`); bot/ by default."""
    folder = folder or ROOT / "bot"
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
    packages = sorted(p.parent.name for p in folder.glob("*/__init__.py"))
    return modules, packages


def repeated_prefixes(modules: list[str], packages: list[str]) -> list[str]:
    """Each top-level module whose name repeats a package's (`digest_notes` beside `digests/`, `schedules_x` beside
    `schedules/`): a prefix is a folder waiting to happen, and here the folder exists."""
    stems = {package: {package, package.removesuffix("s")} for package in packages}
    return [
        f"{module}.py belongs in {package}/"
        for module in modules
        for package, names in stems.items()
        if module in names or any(module.startswith(f"{name}_") for name in names)
    ]


def upward(edges: dict[str, set[str]]) -> list[str]:
    """Every import that runs up a layer, in words."""
    return [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in edges.items()
        for target in sorted(targets)
        if layer_of(target) < layer_of(module)
    ]


def main() -> None:
    edges = graph()
    for module, targets in edges.items():
        layer = LAYERS[layer_of(module)][0]
        print(f"{module} [{layer}] -> {', '.join(sorted(targets)) or '-'}")
    back = upward(edges)
    print("\nPackages:")
    for package, targets in package_graph(edges).items():
        print(f"{package} [{LAYERS[layer_of(package)][0]}] -> {', '.join(sorted(targets)) or '-'}")
    print(f"\n{len(edges)} modules, {sum(map(len, edges.values()))} imports, {len(back)} up a layer")
    for line in back:
        print(f"  up: {line}")


if __name__ == "__main__":
    main()
