"""The package's layers import only downward, and no modules import each other in a cycle.

docs/architecture.md draws the layers. Every import counts for the layer rule: at module
level, inside a function (a lazy import), or under ``if TYPE_CHECKING:`` (a type is a
dependency too). The cycle rule ignores ``TYPE_CHECKING``-only imports (they never run) but
counts lazy ones. Read from the source with :mod:`ast`; nothing is imported.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "funai"

#: Top to bottom. A module may import modules of its own group or of any group below it;
#: groups listed together on one line are siblings and may not import each other.
LAYERS: list[set[str]] = [
    {"cli"},
    {"testing"},
    {"devnet"},
    {"daemon"},
    {"api"},
    {"node"},
    {"layer2"},
    {"network"},
    {"ledger", "inference", "clarity"},
    {"storage"},
    {"core"},  # funai/*.py (hashing, keys, pow, vrf, errors, ...) and the Rust extension
]


def group_of(module: str) -> str:
    """``funai.ledger.block`` -> ``ledger``; top-level modules other than packages -> core."""
    parts = module.split(".")
    if len(parts) >= 2 and (PACKAGE / parts[1]).is_dir():
        return parts[1]
    if len(parts) >= 2 and parts[1] == "daemon":
        return "daemon"
    return "core"


def rank_of(group: str) -> int:
    for i, layer in enumerate(LAYERS):
        if group in layer:
            return i
    raise AssertionError(f"package funai.{group} is in no layer of tests/test_architecture.py")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    typing_only: bool


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """The ``funai`` modules ``module`` imports (the most precise known module per name)."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[Import] = []

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing_only)
            return
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            # ``from pkg import submodule`` imports the submodule; ``from m import name``, m
            names = [
                f"{source}.{a.name}" if f"{source}.{a.name}" in known else source
                for a in node.names
            ]
        for name in names:
            target = resolve(name) if name.startswith("funai") else None
            if target is not None and target != module:
                found.append(Import(module, target, getattr(node, "lineno", 0), typing_only))
        for sub in ast.iter_child_nodes(node):
            visit(sub, typing_only)

    visit(tree, False)
    return found


def all_imports() -> list[Import]:
    modules = _modules()
    known = set(modules)
    return [imp for name, path in modules.items() for imp in imports_of(name, path, known)]


def layer_violations(imports: list[Import]) -> list[str]:
    out = []
    for imp in imports:
        a, b = group_of(imp.importer), group_of(imp.imported)
        if a == b:
            continue
        ra, rb = rank_of(a), rank_of(b)
        if rb <= ra:
            kind = "sibling" if ra == rb else "upward"
            out.append(f"{imp.importer}:{imp.line} imports {imp.imported} ({kind}: {a} -> {b})")
    return out


def cycles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), runtime imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        if not imp.typing_only:
            graph[imp.importer].add(imp.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
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
            connect(v)
    return found


def test_every_package_has_a_layer() -> None:
    for name in _modules():
        rank_of(group_of(name))


def test_layers_import_only_downward() -> None:
    bad = layer_violations(all_imports())
    assert not bad, "imports against the layers (docs/architecture.md):\n" + "\n".join(bad)


def test_no_import_cycles() -> None:
    found = cycles(all_imports())
    assert not found, "modules importing each other:\n" + "\n".join(map(str, found))


# --- the checks themselves reject what they must --------------------------------------------


def _imports_from_source(tmp_path: Path, module: str, source: str) -> list[Import]:
    path = tmp_path / "m.py"
    path.write_text(source)
    known = {"funai.api.app", "funai.node.node", "funai.ledger", "funai.ledger.block"}
    return imports_of(module, path, known)


@pytest.mark.parametrize(
    "source",
    [
        "from funai.api.app import build_app\n",
        "def f():\n    from funai.api import app\n",  # lazy
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from funai.api.app import x\n",
        "import funai.api.app\n",
    ],
)
def test_an_upward_import_is_reported(tmp_path: Path, source: str) -> None:
    found = _imports_from_source(tmp_path, "funai.node.node", source)
    assert layer_violations(found) == [
        f"funai.node.node:{found[0].line} imports funai.api.app (upward: node -> api)"
    ]


def test_a_sibling_import_is_reported(tmp_path: Path) -> None:
    found = imports_of(
        "funai.inference.model",
        _write(tmp_path, "from funai.ledger import block\n"),
        {"funai.ledger", "funai.ledger.block", "funai.inference.model"},
    )
    assert [v.split(" (")[1] for v in layer_violations(found)] == ["sibling: inference -> ledger)"]


def test_a_downward_import_passes(tmp_path: Path) -> None:
    found = _imports_from_source(tmp_path, "funai.api.app", "from funai.node.node import Node\n")
    assert found
    assert layer_violations(found) == []


def test_a_cycle_is_reported_and_typing_only_back_references_are_not() -> None:
    runtime = [Import("a", "b", 1, False), Import("b", "c", 1, False), Import("c", "a", 3, False)]
    assert cycles(runtime) == [["a", "b", "c"]]
    typing = [Import("a", "b", 1, False), Import("b", "a", 1, True)]
    assert cycles(typing) == []


def _write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "s.py"
    path.write_text(source)
    return path
