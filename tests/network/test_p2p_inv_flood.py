"""Inventory flood: announcements of unknown transactions are bounded per peer and cost.

Before the fix 40 peers announcing 50,000 unknown transaction ids each cost no penalty and
raised the node's memory from 99 to 361 MB for good (every id was remembered per peer and
requested). Now a peer has at most 5,000 transaction requests outstanding (Core's
MAX_PEER_TX_ANNOUNCEMENTS), the ids remembered per peer are bounded, and a flood costs
points until the peer is disconnected and discouraged; memory stays bounded.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

import pytest

from funai.network.messages import Inv
from tests.network.netkit import NodeProc, wait_until
from tests.network.rawpeer import closed_by_peer, frame, handshake, raw_connect

pytestmark = pytest.mark.slow

PEERS = 40
INVS = 6  # per peer, of 50,000 ids each (the issue: 40 peers x 50,000 ids)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_unknown_tx_announcement_flood_is_punished_and_memory_bounded(
    nodes: Callable[..., NodeProc],
) -> None:
    a = nodes("a")
    b = nodes("b", peers=[a.p2p])
    a.post("/generate", {"blocks": 2})
    wait_until("b to sync", lambda: b.tip == a.tip)
    before = rss_mb(a.proc.pid)
    for k in range(PEERS):
        source = f"127.0.1.{10 + k}"
        sock = raw_connect(a.p2p, source)
        try:
            handshake(sock)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for _ in range(INVS):
                    sock.sendall(frame(Inv([("tx", os.urandom(32)) for _ in range(50_000)])))
            assert closed_by_peer(sock, timeout=30), f"{source} was not disconnected"
        finally:
            sock.close()
    reasons = {x["who"]: x["reason"] for x in a.get("/bans")["bans"]}
    for k in range(PEERS):
        assert reasons[f"127.0.1.{10 + k}"].startswith("inv-flood"), reasons
    grown = rss_mb(a.proc.pid) - before
    assert grown < 80, f"memory grew by {grown:.0f} MB"
    # The honest peer is untouched and keeps syncing.
    a.post("/generate", {"blocks": 2})
    wait_until("b to follow a", lambda: b.tip == a.tip)
    assert "127.0.0.1" not in reasons
