"""An inventory with more transaction ids than a peer may have outstanding
(MAX_PEER_TX_ANNOUNCEMENTS) is refused whole: the node scores the peer and requests,
remembers and looks up none of its ids. Before, it looked every id up, remembered each and
requested the first 5,000 of them (a flooding peer cost ~2.7 s of CPU per five 50,000-id
inventories); an ordinary inventory that follows is still served.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from funai.network.manager import MAX_PEER_TX_ANNOUNCEMENTS
from funai.network.messages import GetData, Inv
from tests.network.netkit import NodeProc
from tests.network.rawpeer import frame, handshake, raw_connect, read_msg


def test_oversized_tx_inventory_is_refused_whole(nodes: Callable[..., NodeProc]) -> None:
    a = nodes("a")
    sock = raw_connect(a.p2p, "127.0.1.7")
    try:
        handshake(sock)
        flood = [os.urandom(32) for _ in range(MAX_PEER_TX_ANNOUNCEMENTS + 1)]
        marker = os.urandom(32)
        sock.sendall(frame(Inv([("tx", h) for h in flood])))
        sock.sendall(frame(Inv([("tx", marker)])))
        requested: set[bytes] = set()
        deadline = time.monotonic() + 20
        while marker not in requested and time.monotonic() < deadline:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                msg = read_msg(sock)
            except TimeoutError:
                break
            if isinstance(msg, GetData):
                requested.update(h for kind, h in msg.items if kind == "tx")
        assert marker in requested, "the ordinary inventory after the flood was not served"
        assert not requested & set(flood), f"{len(requested & set(flood))} flood ids requested"
        # Scored for it (20 points), not disconnected for one such message.
        peers = a.get("/peers")["peers"]
        assert [p["score"] for p in peers if p["addr"].startswith("127.0.1.7:")] == [20], peers
    finally:
        sock.close()
