"""The package's layers: no import cycle, and no import from a lower layer to a higher one.

Every ``import`` of a skyclass module in ``src/skyclass`` counts, at the top of a
file or inside a function (a lazy import still ties the two modules together). A
lower layer may import only from its own layer or below; the few exceptions are
listed in :data:`ALLOWED` with the reason they stand.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: From the bottom up; a name is a top-level module or package of skyclass ("" is
#: the package itself, which hands on the light curve and the version).
LAYERS: list[set[str]] = [
    {"_util", "exceptions"},
    {"", "config", "lightcurve", "locking", "density"},
    {"io", "preprocess", "represent", "augment", "datasets", "images", "pretrained"},
    {"models"},
    {"training"},
    {"evaluate"},
    {"estimator", "baselines"},
    {"experiments", "runs", "search", "predict", "study"},
    {"cli"},
]

#: (importer, imported) -> why the upward import stands for now.
ALLOWED: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / "skyclass").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(modules: dict[str, Path]) -> list[tuple[str, str, int]]:
    """(importer, imported module, line) for every import of a skyclass module."""
    edges = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]  # a name inside a module
                if target in modules and target != name:
                    edges.append((name, target, node.lineno))
    return edges


def _layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else ""
    for level, names in enumerate(LAYERS):
        if part in names:
            return level
    raise AssertionError(f"{module} is on no layer; add skyclass.{part} to LAYERS")


MODULES = _modules()
EDGES = _imports(MODULES)


def test_every_module_is_on_a_layer():
    for module in MODULES:
        _layer(module)


def test_no_module_imports_from_a_higher_layer():
    upward = [
        f"{a} (line {line}) imports {b}: layer {_layer(a)} -> {_layer(b)}"
        for a, b, line in EDGES
        if _layer(b) > _layer(a) and (a, b) not in ALLOWED
    ]
    assert not upward, "\n".join(upward)


def test_every_allowed_upward_import_still_exists():
    present = {(a, b) for a, b, _ in EDGES}
    assert set(ALLOWED) <= present, set(ALLOWED) - present


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b, _ in EDGES:
        graph[a].add(b)
        # importing skyclass.p.m runs skyclass/p/__init__.py first, unless from inside p
        parent = b.rsplit(".", 1)[0]
        while parent != "skyclass" and not a.startswith(parent + "."):
            graph[a].add(parent)
            parent = parent.rsplit(".", 1)[0]
    graph.update({m: graph[m] for m in MODULES})
    assert _cycles(graph) == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ],
)
def test_the_cycle_finder_finds_a_cycle_of_three_and_none_in_a_chain(edges, expected):
    assert _cycles(defaultdict(set, edges)) == expected
