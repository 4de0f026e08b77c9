"""Fixtures for the network tests: node processes that are always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.network.netkit import NodeProc, start_node


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[Callable[..., NodeProc]]:
    """``nodes(name, **config)`` starts a regtest node; all are stopped after the test."""
    started: list[NodeProc] = []

    def start(name: str, **config: Any) -> NodeProc:
        node = start_node(tmp_path, name, **config)
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()
