"""p2p sync stall: missing blocks are asked of any peer whose best chain holds them.

Before the fix a block was requested only from peers whose per-connection "known" set held
its hash. A peer that dropped in the middle of the download and reconnected never
re-announced, so a node that had every header and no block waited forever (a fresh node
stayed at height 0 with 4 headers next to an honest peer at height 4). Now the first
``getheaders`` to a peer starts below our best header, so its answer names the peer's best
header, and blocks are requested from any peer whose best header chain contains them; a
block not delivered within ``p2p.block_timeout`` seconds is asked of another peer, as in
Bitcoin Core's block download window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.network.netkit import NodeProc, build_chain, wait_until
from tests.network.rawpeer import ServingPeer, load_chain

pytestmark = pytest.mark.slow


def test_peer_that_drops_mid_download_and_reconnects_without_announcing(
    nodes: Callable[..., NodeProc], tmp_path: Path
) -> None:
    build_chain(tmp_path / "source", 4)
    blocks = load_chain(tmp_path / "source")
    node = nodes("node")
    first = ServingPeer(node.p2p, "127.0.0.81", blocks, stop_after=0)
    assert first.closed.wait(30), "the node never asked for a block"
    wait_until("the node to have the 4 headers", lambda: node.status()["sync"]["headers"] == 4)
    assert node.height == 0
    # The same peer comes back and announces nothing: the node must still get the blocks.
    again = ServingPeer(node.p2p, "127.0.0.81", blocks)
    try:
        wait_until("the node to sync from the returning peer", lambda: node.height == 4, 30)
        assert node.tip == blocks[-1].hash()[::-1].hex()
        assert again.block_requests >= 1
    finally:
        again.close()


def test_stalling_peer_times_out_and_another_peer_serves_the_block(
    nodes: Callable[..., NodeProc], tmp_path: Path
) -> None:
    build_chain(tmp_path / "source", 4)
    blocks = load_chain(tmp_path / "source")
    node = nodes("node", block_timeout=2.0)
    staller = ServingPeer(node.p2p, "127.0.0.82", blocks, serve_blocks=False)
    try:
        wait_until("the staller to be asked for blocks", lambda: staller.block_requests >= 1)
        honest = ServingPeer(node.p2p, "127.0.0.83", blocks)
        try:
            began = time.monotonic()
            wait_until("the node to sync past the staller", lambda: node.height == 4, 30)
            assert time.monotonic() - began < 20
            assert honest.block_requests >= 1
            # Stalling is not misbehaviour: the slow peer is neither punished nor dropped.
            assert not staller.closed.is_set()
            assert not node.get("/bans")["bans"]
        finally:
            honest.close()
    finally:
        staller.close()
