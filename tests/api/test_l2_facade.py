"""The API reaches the inference layer only through funai/node/l2facade.py (L2Facade): no API
module touches the L2 node, its lock or its worker-thread plumbing itself."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import trio

import funai.api
from funai.node.l2facade import L2Facade, l2_facade

#: what only the facade may use: the runtime's queries, its gossip (lock, worker threads)
PLUMBING = {"query", "aquery", "gossip", "call"}


def _touches_l2(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr == "l2" and isinstance(node.value, ast.Name) and node.value.id == "node":
                found.append((node.lineno, "node.l2"))
            value = node.value
            if (
                node.attr == "l2"
                and isinstance(value, ast.Attribute)
                and value.attr in ("l2", "node")
            ):
                found.append((node.lineno, ast.unparse(node)))
            if node.attr in PLUMBING and "l2" in ast.unparse(node.value):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Name) and node.id in ("L2Node", "L2Runtime"):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.ImportFrom) and node.module == "funai.node.l2runtime":
            found.append((node.lineno, "import from funai.node.l2runtime"))
    return found


def test_api_modules_use_only_the_facade() -> None:
    root = Path(funai.api.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for n, what in _touches_l2(ast.parse(path.read_text())):
            found.append(f"{path.relative_to(root)}:{n}: {what}")
    assert not found, "\n".join(found)


def test_the_check_sees_the_old_ways() -> None:
    old = "node.l2.l2.key\nawait rt.aquery(f)\nself.l2.gossip.flush()\nx: L2Node\n"
    assert len(_touches_l2(ast.parse(old))) >= 4


def test_no_inference_layer_no_facade() -> None:
    assert l2_facade(None) is None
    assert l2_facade(SimpleNamespace(l2=None)) is None  # type: ignore[arg-type]
    assert l2_facade(SimpleNamespace()) is None  # type: ignore[arg-type]


class _Runtime:
    """What the facade uses of an L2Runtime for reads: ``aquery`` (the one-slot limiter)."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.calls = 0

    async def aquery(self, fn: Any) -> Any:
        self.calls += 1
        return fn(self.node)


def test_reads_run_through_the_runtime() -> None:
    acct = bytes(range(20))
    state = SimpleNamespace(
        account=lambda a: (7, 3), stake=lambda a: None, bond=lambda a: 2, height=4
    )
    rt = _Runtime(SimpleNamespace(state=state, mempool={}))
    facade = L2Facade(rt)  # type: ignore[arg-type]

    async def go() -> tuple[Any, Any]:
        return await facade.account(acct), await facade.mempool()

    account, mempool = trio.run(go)
    assert account == {"account": acct.hex(), "balance": 7, "nonce": 3, "bond": 2, "stake": None}
    assert mempool == []
    assert rt.calls == 2
