"""A hostile peer is disconnected and discouraged; honest peers keep syncing; the API answers."""

from __future__ import annotations

import contextlib
import functools
import socket
import struct
from collections.abc import Callable
from typing import Any

import pytest

from funai.ledger.compact import decode_compact, hash_to_int
from funai.ledger.genesis import genesis_block
from funai.ledger.header import BlockHeader
from funai.ledger.params import REGTEST
from funai.network.messages import Headers, Ping
from tests.network.netkit import NodeProc, grind, wait_until
from tests.network.rawpeer import MAGIC, closed_by_peer, frame, handshake, raw_connect

pytestmark = pytest.mark.slow


def _bad_pow_header() -> bytes:
    genesis = genesis_block(REGTEST).header
    header = BlockHeader(1, genesis.hash(), bytes(32), genesis.time + 600, genesis.bits, 0)
    target = decode_compact(header.bits).target
    nonce = 0
    while hash_to_int(header.with_nonce(nonce).hash()) <= target:
        nonce += 1
    assert grind(header) != header.with_nonce(nonce)
    return header.with_nonce(nonce).serialize()


def test_hostile_peers_are_banned(nodes: Callable[..., NodeProc]) -> None:
    a = nodes("a")
    a.post("/generate", {"blocks": 20})
    b = nodes("b", peers=[a.p2p])
    wait_until("b to sync", lambda: b.tip == a.tip)

    flood = b"".join(frame(Ping(i)) for i in range(3000))
    attacks: dict[str, Callable[[socket.socket], object]] = {
        "127.0.0.61": lambda s: s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 10),
        "127.0.0.62": lambda s: s.sendall(
            struct.pack(">4sI", MAGIC, 64 * 1024 * 1024) + b"x" * 1024
        ),
        "127.0.0.63": lambda s: s.sendall(frame(Ping(1), magic=b"\xde\xad\xbe\xef")),
        "127.0.0.64": _after_handshake(frame(Headers([_bad_pow_header()]))),
        "127.0.0.65": _after_handshake(flood),
        "127.0.0.66": _after_handshake(MAGIC + struct.pack(">I", 5) + b"\xff" * 5),
    }
    for source, attack in attacks.items():
        sock = raw_connect(a.p2p, source)
        try:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                attack(sock)
            assert closed_by_peer(sock), f"{source} was not disconnected"
        finally:
            sock.close()
        wait_until(f"{source} banned", functools.partial(_banned, a, source))
        # A banned host is refused at once.
        again = raw_connect(a.p2p, source)
        try:
            assert closed_by_peer(again, timeout=10)
        finally:
            again.close()
        assert a.status()["l1_height"] == 20  # the node keeps answering
    reasons = {x["who"]: x["reason"] for x in a.get("/bans")["bans"]}
    assert reasons["127.0.0.62"] == "oversize-frame"
    assert reasons["127.0.0.63"] == "wrong-magic"
    assert reasons["127.0.0.64"].startswith("invalid-header: high-hash")
    assert reasons["127.0.0.65"] == "rate-limit"
    # The honest peer is still connected, unbanned, and keeps syncing.
    assert "127.0.0.1" not in reasons
    a.post("/generate", {"blocks": 5})
    wait_until("b to follow a", lambda: b.tip == a.tip)
    assert b.status()["peers"] == 1


def _banned(node: Any, source: str) -> bool:
    return source in {x["who"] for x in node.get("/bans")["bans"]}


def _after_handshake(payload: bytes) -> Callable[[socket.socket], None]:
    """An attack that completes the handshake, then sends ``payload``."""

    def attack(s: socket.socket) -> None:
        handshake(s)
        s.sendall(payload)

    return attack
