"""The structure the code promises: no import cycles, one composition root, one key owner.

Read from the source with ``ast``, so function-level and ``TYPE_CHECKING`` imports count too:
an import hidden inside a function is still a dependency, and a cycle through it is still a
cycle (it only fails later, at the first call).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGES = ("bot", "handlers", "formatters", "config", "sandbox")


def _modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _targets(name: str, importer: str) -> Iterator[str]:
    """The project modules importing ``name`` from ``importer`` loads.

    The module and its parent packages, except the packages ``importer`` itself is part of: a
    package's ``__init__`` re-exporting its own modules is no cycle.
    """
    parts = name.split(".")
    for end in range(1, len(parts) + 1):
        prefix = ".".join(parts[:end])
        inside = importer == prefix or importer.startswith(prefix + ".")
        if prefix in MODULES and (end == len(parts) or not inside):
            yield prefix


def imports_of(module: str) -> set[str]:
    """The project modules ``module`` imports anywhere in its source."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.update(_targets(alias.name, module))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = [f"{node.module}.{a.name}" for a in node.names]
            submodules = [name for name in submodules if name in MODULES]
            if len(submodules) < len(node.names):  # names defined by the module itself
                found.update(_targets(node.module, module))
            for name in submodules:  # ``from pkg import submodule`` loads pkg, then it
                found.update(_targets(name, module))
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    return {module: imports_of(module) for module in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    graph = import_graph()
    graph["formatters.alert"] = graph["formatters.alert"] | {"bot.runtime"}
    assert any("bot.runtime" in c and "formatters.alert" in c for c in cycles(graph))


def test_no_import_cycles_counting_function_level_imports() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("package", ["handlers", "bot.ingest", "bot.delivery", "formatters"])
def test_entry_points_and_parts_never_import_the_composition_root(package: str) -> None:
    offenders = {
        module: sorted(deps & {"bot.runtime", "bot.local_stack", "bot.cli", "bot.demo"})
        for module, deps in import_graph().items()
        if module == package or module.startswith(package + ".")
    }
    assert {m: d for m, d in offenders.items() if d} == {}


def test_formatters_stay_pure() -> None:
    graph = import_graph()
    impure = {
        module: sorted(d for d in deps if not d.startswith("formatters"))
        for module, deps in graph.items()
        if module.startswith("formatters")
    }
    # The model is shared data, not a dependency on Redis, Telegram or the engine.
    allowed = {"bot.models", "bot", "bot.search_text"}
    assert {m: [d for d in deps if d not in allowed] for m, deps in impure.items()} == {
        m: [] for m in impure
    }


def _production_sources() -> Iterator[tuple[str, str]]:
    for module, path in MODULES.items():
        yield module, path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("pattern", "owner"),
    [
        (r"\bStore\.create\(", "bot.runtime"),
        (r"\bDeliveryService\(", "bot.runtime"),
        (r"\bbuild_application\(", "bot.runtime"),
        (r"\bIngestor\(", "bot.runtime"),
        (r"\bApplication\.builder\(", "bot.app"),
    ],
)
def test_the_parts_are_constructed_in_one_production_module(pattern: str, owner: str) -> None:
    where = {
        module
        for module, source in _production_sources()
        if re.search(pattern, source) and not _only_in_definition(source, pattern)
    }
    assert where == {owner}


def _only_in_definition(source: str, pattern: str) -> bool:
    """Whether every match is the ``def``/``class`` line of the thing itself."""
    lines = [line for line in source.splitlines() if re.search(pattern, line)]
    return all(re.match(r"\s*(async\s+)?(def|class)\s", line) for line in lines)


def test_delivery_keys_are_spelled_only_by_the_engine() -> None:
    # The engine's key families; the store must not spell them, nor anyone else.
    families = ("alert:", "alerts:by_time", ":q:", "rl:", ":worker:", ":workers", "delivery:")
    spelled = {
        module
        for module, source in _production_sources()
        if not module.startswith(("bot.delivery", "sandbox"))
        and any(f"{{self.ns}}:{family.strip(':')}" in source for family in families)
    }
    assert spelled == set()
    store_keys = (REPO_ROOT / "bot" / "store" / "keys.py").read_text(encoding="utf-8")
    assert "def alert(" not in store_keys and "rate_global" not in store_keys
