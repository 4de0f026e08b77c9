"""Benchmarks of the network layer (real node processes on loopback).

* Initial sync: a node syncs 1000 prebuilt regtest blocks from a peer (headers first,
  parallel download, connection); blocks per second against connecting the same blocks
  locally in-process (the network overhead ratio = sync time / local validation time).
* Block propagation: 5 nodes in a line-and-mesh devnet; latency from ``generate`` on node0
  until every node has the new tip, averaged over blocks.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from funai.ledger.chainstate import Chainstate
from funai.ledger.datadir import chain_path
from funai.ledger.params import REGTEST
from tests.network.netkit import NodeProc, build_chain, start_node, wait_until

BLOCKS = 1000


def _local_validation_seconds(src: Path, dst: Path) -> float:
    source = Chainstate(chain_path(src, REGTEST), REGTEST, synchronous="NORMAL")
    blocks = [source.block_at(h) for h in range(1, source.height + 1)]
    source.close()
    target = Chainstate(chain_path(dst, REGTEST), REGTEST, synchronous="NORMAL")
    began = time.perf_counter()
    for block in blocks:
        assert block is not None
        target.submit_block(block)
    took = time.perf_counter() - began
    target.close()
    return took


def test_initial_sync_1000_blocks(benchmark: Any, tmp_path: Path) -> None:
    tip = build_chain(tmp_path / "src", BLOCKS)
    local = _local_validation_seconds(tmp_path / "src", tmp_path / "local")
    nodes: list[NodeProc] = []
    try:
        nodes.append(start_node(tmp_path, "src", log_level="info"))
        rounds = iter(range(100))

        def sync() -> float:
            node = start_node(
                tmp_path, f"dst{next(rounds)}", log_level="info", peers=[nodes[0].p2p]
            )
            nodes.append(node)
            began = time.perf_counter()
            wait_until("sync", lambda: node.tip == tip, timeout=300)
            took = time.perf_counter() - began
            node.stop()
            return took

        took = benchmark.pedantic(sync, rounds=2, iterations=1)
    finally:
        for n in nodes:
            n.stop()
    benchmark.extra_info.update(
        blocks=BLOCKS,
        sync_blocks_per_s=round(BLOCKS / took, 1),
        local_blocks_per_s=round(BLOCKS / local, 1),
        network_overhead_ratio=round(took / local, 2),
    )


@pytest.mark.parametrize("n_nodes", [5])
def test_block_propagation_latency(benchmark: Any, tmp_path: Path, n_nodes: int) -> None:
    nodes: list[NodeProc] = []
    try:
        for k in range(n_nodes):
            nodes.append(start_node(tmp_path, f"n{k}", log_level="info"))
            for j in range(k):
                nodes[k].connect(nodes[j])
        wait_until("mesh", lambda: all(n.status()["peers"] == n_nodes - 1 for n in nodes))

        def propagate() -> float:
            began = time.perf_counter()
            tip = nodes[0].post("/generate", {"blocks": 1})["hashes"][0]
            deadline = began + 60
            pending = list(nodes[1:])
            while pending and time.perf_counter() < deadline:
                pending = [n for n in pending if n.tip != tip]
                time.sleep(0.005)
            assert not pending, "block did not propagate"
            return time.perf_counter() - began

        benchmark.pedantic(propagate, rounds=10, iterations=1)
    finally:
        for n in nodes:
            n.stop()
    benchmark.extra_info.update(nodes=n_nodes)
