"""p2p_invalid_messages: unknown types, oversized messages and empty frames cost points.

Before the fix unknown message types of 1 MB each and 4 MiB frames of empty CBOR maps cost
no penalty, and each such frame took 0.29 s of the event loop to decode (API latency went
from 45 to 240 ms). Now a payload larger than its type allows is refused before decoding
(``oversized-message``), the body of a large unknown type is never decoded, and unknown
types draw on a per-peer byte budget (4 MiB, then 64 KiB/s) past which each costs points.
"""

from __future__ import annotations

import contextlib
import struct
import time
from collections.abc import Callable

import pytest

from funai.network.errors import ProtocolError
from funai.network.messages import REGISTRY
from tests.network.netkit import NodeProc, wait_until
from tests.network.rawpeer import MAGIC, closed_by_peer, handshake, raw_connect

FRAME_LIMIT = 4 * 1024 * 1024


def empty_maps(msg_type: bytes, size: int) -> bytes:
    """``[msg_type, {"pad": [{}, {}, ...]}]`` of ``size`` bytes (CBOR, built by hand)."""
    head = b"\x82" + bytes([0x60 + len(msg_type)]) + msg_type + b"\xa1\x63pad"
    n = size - len(head) - 5
    return head + b"\x9a" + struct.pack(">I", n) + b"\xa0" * n


def raw_frame(payload: bytes) -> bytes:
    return MAGIC + struct.pack(">I", len(payload)) + payload


def test_large_payloads_are_not_decoded() -> None:
    """The decoder reads the type first: no large decode for unknown or oversized types."""
    unknown = empty_maps(b"zzz", FRAME_LIMIT - 64)
    began = time.perf_counter()
    assert REGISTRY.decode(unknown) == ("zzz", None)
    with pytest.raises(ProtocolError, match="oversized-message"):
        REGISTRY.decode(empty_maps(b"ping", FRAME_LIMIT - 64))
    assert time.perf_counter() - began < 0.05


def attack(node: NodeProc, source: str, frames: list[bytes]) -> None:
    sock = raw_connect(node.p2p, source)
    try:
        handshake(sock)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for f in frames:
                sock.sendall(f)
        assert closed_by_peer(sock, timeout=30), f"{source} was not disconnected"
    finally:
        sock.close()


@pytest.mark.slow
def test_unknown_oversized_and_empty_messages_are_punished(
    nodes: Callable[..., NodeProc],
) -> None:
    a = nodes("a")
    b = nodes("b", peers=[a.p2p])
    a.post("/generate", {"blocks": 2})
    wait_until("b to sync", lambda: b.tip == a.tip)
    one_mb = raw_frame(empty_maps(b"xyzzy", 1024 * 1024))
    attack(a, "127.0.0.131", [one_mb] * 30)
    attack(a, "127.0.0.132", [raw_frame(empty_maps(b"ping", FRAME_LIMIT - 64))])
    attack(a, "127.0.0.133", [raw_frame(b"")])
    attack(a, "127.0.0.134", [raw_frame(empty_maps(b"zz", FRAME_LIMIT - 64))] * 4)
    reasons = {x["who"]: x["reason"] for x in a.get("/bans")["bans"]}
    assert reasons["127.0.0.131"].startswith("unknown-message-flood")
    assert reasons["127.0.0.132"].startswith("oversized-message")
    assert reasons["127.0.0.133"].startswith("malformed-payload")
    assert reasons["127.0.0.134"].startswith("unknown-message-flood")
    # The node answers quickly and the honest peer keeps syncing.
    began = time.perf_counter()
    a.status()
    assert time.perf_counter() - began < 1.0
    a.post("/generate", {"blocks": 2})
    wait_until("b to follow a", lambda: b.tip == a.tip)
