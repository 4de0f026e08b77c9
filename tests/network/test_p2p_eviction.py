"""p2p_eviction: full inbound slots do not lock honest nodes out.

Before the fix peers that completed the handshake filled the inbound slots and an honest
node was refused until they left. Now, as in Bitcoin Core's ``p2p_eviction.py``, a newcomer
evicts an inbound peer that is not protected; peers that recently gave us blocks (or
transactions), have the lowest ping, come from distinct netgroups or have been connected
longest are protected, so an honest node that serves blocks keeps its slot.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable

import pytest

from tests.network.netkit import NodeProc, wait_until
from tests.network.rawpeer import handshake, raw_connect

pytestmark = pytest.mark.slow

SLOTS = 8


def occupy(p2p: str, source: str) -> socket.socket | None:
    """A raw peer that completes the handshake and then just sits in a slot."""
    sock = raw_connect(p2p, source)
    try:
        handshake(sock)
    except (ConnectionError, OSError, AssertionError):
        sock.close()
        return None
    time.sleep(0.2)
    return sock


def test_honest_node_gets_a_slot_and_keeps_it(nodes: Callable[..., NodeProc]) -> None:
    a = nodes("a", inbound=SLOTS)
    socks: list[socket.socket] = []
    try:
        for k in range(SLOTS):
            sock = occupy(a.p2p, f"127.0.0.{120 + k}")
            assert sock is not None
            socks.append(sock)
        wait_until("the slots to fill", lambda: a.status()["peers"] == SLOTS)

        honest = nodes("honest")
        honest.post("/generate", {"blocks": 4})
        honest.post("/peers/connect", {"addr": a.p2p})
        wait_until("the honest node to get a slot", lambda: honest.status()["peers"] == 1, 30)
        wait_until("a to sync from the honest node", lambda: a.tip == honest.tip)
        since = honest.get("/peers")["peers"][0]["connected_at"]

        # More attackers keep arriving; each evicts an unprotected peer, never the honest one.
        for k in range(12):
            sock = occupy(a.p2p, f"127.0.0.{140 + k}")
            if sock is not None:
                socks.append(sock)
        assert a.status()["peers"] <= SLOTS + 1
        peers = honest.get("/peers")["peers"]
        assert len(peers) == 1, "the honest node was evicted"
        assert peers[0]["connected_at"] == since, "the honest node was evicted"
        honest.post("/generate", {"blocks": 2})
        wait_until("a to keep following the honest node", lambda: a.tip == honest.tip)
    finally:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()
