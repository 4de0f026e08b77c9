"""Unit tests: framing, the message registry, handshake failures, scores and bans."""

from __future__ import annotations

import dataclasses
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import cbor2
import pytest
import trio
import trio.testing

from funai import _core
from funai.ledger.genesis import genesis_block, genesis_hash
from funai.ledger.params import DEVNET, REGTEST
from funai.network.addrbook import AddrBook, parse_hostport
from funai.network.errors import HandshakeError, Misbehaviour, ProtocolError
from funai.network.framing import MAX_FRAME, FrameReader, encode_frame, network_magic
from funai.network.handshake import LocalIdentity
from funai.network.headertree import HeaderTree
from funai.network.messages import (
    REGISTRY,
    GetHeaders,
    Headers,
    Hello,
    Inv,
    Message,
    Ping,
    Registry,
    decode_payload,
    encode_payload,
)
from funai.network.peer import Peer, TokenBucket

MAGIC = network_magic(genesis_hash(REGTEST))


def _read_all(data: bytes, max_frame: int = MAX_FRAME) -> list[bytes]:
    async def main() -> list[bytes]:
        send, recv = trio.testing.memory_stream_pair()
        await send.send_all(data)
        await send.aclose()
        reader = FrameReader(recv, MAGIC, max_frame)
        out = []
        while (payload := await reader.read()) is not None:
            out.append(payload)
        return out

    return trio.run(main)


# --- framing ------------------------------------------------------------------------------


def test_frames_round_trip() -> None:
    payloads = [b"", b"x", bytes(range(256)) * 100]
    assert _read_all(b"".join(encode_frame(MAGIC, p) for p in payloads)) == payloads


def test_magic_differs_per_network() -> None:
    assert network_magic(genesis_hash(REGTEST)) != network_magic(genesis_hash(DEVNET))
    assert len(MAGIC) == 4


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\x01\x02\x03" + struct.pack(">I", 1) + b"x", "wrong-magic"),
        (MAGIC + struct.pack(">I", 1001), "oversize-frame"),
        (MAGIC + struct.pack(">I", 10) + b"abc", "truncated-frame"),
        (MAGIC[:2], "truncated-frame"),
    ],
)
def test_bad_frames(data: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError) as info:
        _read_all(data, max_frame=1000)
    assert info.value.reason == reason


def test_oversize_refused_before_reading_payload() -> None:
    # Only the 8-byte head arrives: the cap is enforced without waiting for the body.
    with pytest.raises(ProtocolError, match="oversize"):
        _read_all(MAGIC + struct.pack(">I", MAX_FRAME + 1))
    with pytest.raises(ValueError, match="exceeds"):
        encode_frame(MAGIC, b"x" * 11, max_frame=10)


# --- registry -----------------------------------------------------------------------------


def test_messages_round_trip() -> None:
    msgs: list[Message] = [
        Ping(7),
        Inv([("block", bytes(32)), ("tx", b"\x01" * 32)]),
        GetHeaders([bytes(32)], bytes(32)),
        Headers([bytes(80)]),
    ]
    for msg in msgs:
        assert decode_payload(encode_payload(msg)) == msg


def test_unknown_types_are_returned_not_rejected() -> None:
    payload = cbor2.dumps(["vote", {"x": 1}])
    assert decode_payload(payload) == ("vote", {"x": 1})


def test_a_later_layer_plugs_in_a_message() -> None:
    registry = Registry()
    for cls in REGISTRY.classes.values():
        registry.register(cls)

    @registry.register
    @dataclass
    class Vote(Message):
        TYPE: ClassVar[str] = "vote"
        block: bytes

        @classmethod
        def from_body(cls, body: dict[str, Any]) -> Vote:
            cls.check_fields(body, {"block": bytes})
            return cls(body["block"])

    assert registry.decode(encode_payload(Vote(b"\x05" * 32))) == Vote(b"\x05" * 32)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Vote)


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xff",
        cbor2.dumps([1, {}]),
        cbor2.dumps(["ping"]),
        cbor2.dumps(["ping", {"nonce": "x"}]),
        cbor2.dumps(["ping", {}]),
        cbor2.dumps(["inv", {"items": [["block", b"short"]]}]),
        cbor2.dumps(["headers", {"headers": [b"x" * 79]}]),
        cbor2.dumps(["headers", {"headers": [b"x" * 80] * 2001}]),
        cbor2.dumps(["hello", {"version": 1}]),
    ],
)
def test_malformed_payloads(payload: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_payload(payload)
    assert info.value.score == 100


# --- handshake ----------------------------------------------------------------------------


def _identity(network: str = "regtest", genesis: bytes | None = None) -> LocalIdentity:
    return LocalIdentity.generate(network, genesis or genesis_hash(REGTEST))


def _pair_handshake(a: LocalIdentity, b: LocalIdentity) -> tuple[object, object]:
    async def main() -> tuple[object, object]:
        sa, sb = trio.testing.memory_stream_pair()
        pa = Peer(sa, MAGIC, host="a", port=1, inbound=False)
        pb = Peer(sb, MAGIC, host="b", port=2, inbound=True)
        results: list[object] = [None, None]

        async def run(i: int, peer: Peer, ident: LocalIdentity) -> None:
            try:
                results[i] = await peer.handshake(ident, 5)
            except (HandshakeError, ProtocolError) as exc:
                results[i] = exc
            finally:
                await peer.aclose()

        async with trio.open_nursery() as n:
            n.start_soon(run, 0, pa, a)
            n.start_soon(run, 1, pb, b)
        return results[0], results[1]

    return trio.run(main)


def test_handshake_succeeds_and_authenticates_keys() -> None:
    a, b = _identity(), _identity()
    ha, hb = _pair_handshake(a, b)
    assert isinstance(ha, Hello)
    assert ha.key == b.public_key
    assert ha.height == 5
    assert isinstance(hb, Hello)
    assert hb.key == a.public_key


@pytest.mark.parametrize(
    ("other", "reason"),
    [
        (lambda: _identity("devnet"), "wrong-network"),
        (lambda: _identity("regtest", genesis_hash(DEVNET)), "wrong-genesis"),
    ],
)
def test_handshake_refuses_other_networks(other: Any, reason: str) -> None:
    ha, _ = _pair_handshake(_identity(), other())
    assert isinstance(ha, HandshakeError)
    assert ha.reason == reason


def test_handshake_refuses_self_connection() -> None:
    a = _identity()
    ha, _ = _pair_handshake(a, a)
    assert isinstance(ha, HandshakeError)
    assert ha.reason == "self-connection"


def test_handshake_refuses_a_stolen_key() -> None:
    # b claims a's public key without its secret: the signature cannot verify.
    a = _identity()
    b = _identity()
    thief = dataclasses.replace(b, public_key=_core.ed25519_public_key(_identity().secret_key))
    ha, _ = _pair_handshake(a, thief)
    assert isinstance(ha, HandshakeError)
    assert ha.reason == "bad-signature"
    assert ha.score == 100


# --- scores, rate limits, bans --------------------------------------------------------------


def test_token_bucket() -> None:
    bucket = TokenBucket(rate=0.0001, burst=5)
    assert [bucket.take() for _ in range(7)] == [True] * 5 + [False] * 2


def test_bans_persist_and_expire(tmp_path: Path) -> None:
    path = tmp_path / "peers.json"
    book = AddrBook(path)
    book.add("127.0.0.1:1234", "test")
    book.ban("10.0.0.1", 3600, "wrong-magic")
    book.ban("10.0.0.2", -1, "expired")
    book.save()
    again = AddrBook(path)
    assert again.is_banned("10.0.0.1")
    assert not again.is_banned("10.0.0.2")
    assert "127.0.0.1:1234" in again.addrs
    assert again.ban_list()[0]["reason"] == "wrong-magic"
    assert again.failed("127.0.0.1:1234") > 0
    assert not again.ready("127.0.0.1:1234")
    assert again.candidates(set()) == []
    assert parse_hostport("[::1]:8") == ("::1", 8)
    with pytest.raises(ValueError, match="host:port"):
        parse_hostport("nohost")


def test_header_tree_scores() -> None:
    tree = HeaderTree(REGTEST)
    g = genesis_block(REGTEST).header
    tree.seed(g.hash(), g.prev_hash, 0, g, 1)
    from funai.ledger.header import BlockHeader
    from tests.network.netkit import grind

    good = grind(BlockHeader(1, g.hash(), bytes(32), g.time + 600, g.bits, 0))
    bad = good.with_nonce(good.nonce)
    while bad.hash() == good.hash() or _meets(bad):
        bad = bad.with_nonce(bad.nonce + 1)
    with pytest.raises(Misbehaviour) as info:
        tree.add([bad], int(time.time()))
    assert info.value.score == 100
    assert "high-hash" in info.value.reason
    orphan = BlockHeader(1, b"\x07" * 32, bytes(32), g.time + 600, g.bits, 0)
    with pytest.raises(Misbehaviour) as info:
        tree.add([orphan], int(time.time()))
    assert info.value.score < 100
    assert [e.height for e in tree.add([good], int(time.time()))] == [1]
    assert tree.best is not None
    assert tree.best.hash == good.hash()
    tree.mark_invalid(good.hash())
    assert tree.best.hash == g.hash()


def _meets(header: Any) -> bool:
    from funai.ledger.compact import decode_compact, hash_to_int

    return hash_to_int(header.hash()) <= decode_compact(header.bits).target


# --- discouragement, bounded inventory, message sizes, eviction --------------------------------


def test_discouragement_is_memory_only_and_never_loopback(tmp_path: Path) -> None:
    path = tmp_path / "peers.json"
    book = AddrBook(path)
    assert book.discourage("10.0.0.5", 3600, "invalid-header")
    for host in ("127.0.0.1", "::1", "localhost"):
        assert not book.discourage(host, 3600, "wrong-magic")
        assert not book.is_refused(host)
    book.ban("10.0.0.6", 3600, "manual")
    assert book.is_refused("10.0.0.5")
    assert book.is_refused("10.0.0.6")
    book.save()
    again = AddrBook(path)
    assert not again.is_refused("10.0.0.5")
    assert again.is_banned("10.0.0.6")
    assert [b["manual"] for b in again.ban_list()] == [True]


def test_old_automatic_bans_are_not_loaded(tmp_path: Path) -> None:
    import json

    path = tmp_path / "peers.json"
    path.write_text(json.dumps({"addrs": {}, "bans": {"127.0.0.1": time.time() + 3600}}))
    book = AddrBook(path)
    assert not book.is_refused("127.0.0.1")
    book.save()
    assert "bans" not in json.loads(path.read_text())


def test_known_set_is_bounded() -> None:
    from funai.network.peer import KnownSet

    known = KnownSet(limit=1000)
    ids = [i.to_bytes(32, "little") for i in range(5000)]
    for h in ids:
        known.add(h)
    assert len(known) == 1000
    assert ids[-1] in known
    assert ids[0] not in known


def test_type_is_read_before_the_body() -> None:
    from funai.network.messages import MAX_UNKNOWN_DECODE, peek_type

    assert peek_type(encode_payload(Ping(1))) == "ping"
    assert peek_type(b"") is None
    big = cbor2.dumps(["ping", {"nonce": 1, "pad": b"x" * 1000}])
    with pytest.raises(ProtocolError, match="oversized-message"):
        REGISTRY.decode(big)
    unknown = cbor2.dumps(["vote", {"pad": b"x" * MAX_UNKNOWN_DECODE}])
    assert decode_payload(unknown) == ("vote", None)


def test_eviction_protects_good_peers() -> None:
    from types import SimpleNamespace

    from funai.network.manager import PeerManager, netgroup

    assert netgroup("10.1.2.3") == "10.1"
    assert netgroup("2001:db8::1") == "2001:db8"

    def peer(host: str, age: float, **kw: Any) -> Any:
        base: dict[str, Any] = {"inbound": True, "closed": False, "latency": None, "last_tx": 0.0}
        base |= {"last_block": 0.0, "connected_at": 1000.0 - age, "host": host}
        return SimpleNamespace(**(base | kw))

    good = peer("10.0.0.1", 1, last_block=5.0)
    fillers = [peer(f"10.9.0.{k}", 10 + k) for k in range(12)]
    mgr = SimpleNamespace(
        peers=dict(enumerate([good, *fillers])),
        config=SimpleNamespace(whitelist=[]),
    )
    victim = PeerManager.select_eviction(mgr)  # type: ignore[arg-type]
    assert victim is not None
    assert victim is not good
    assert victim.host.startswith("10.9.")
    # The youngest filler of the biggest netgroup goes first.
    assert victim is min(fillers, key=lambda p: 1000.0 - p.connected_at)


def test_large_payload_without_a_readable_type_is_refused_undecoded() -> None:
    from funai.network.messages import peek_type

    long_name = "x" * 300
    assert peek_type(cbor2.dumps([long_name, {}])) == long_name
    assert decode_payload(cbor2.dumps([long_name, {"pad": b"x" * 5000}])) == (long_name, None)
    with pytest.raises(ProtocolError, match="malformed-payload"):
        decode_payload(cbor2.dumps({"pad": [{}] * 5000}))


def test_punishment_spares_loopback_whitelisted_and_manual_peers(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from funai.network.manager import PeerManager

    closed: list[str] = []
    book = AddrBook(tmp_path / "peers.json")
    mgr: Any = SimpleNamespace(
        config=SimpleNamespace(whitelist=["10.0.0.7"], ban_seconds=60.0),
        addrbook=book,
        _close=lambda p: closed.append(p.host),
    )

    def peer(host: str, manual: bool = False) -> Any:
        return SimpleNamespace(
            host=host, addr=f"{host}:1", manual=manual, score=0, key=bytes([len(host)]) * 32
        )

    for p in (peer("127.0.0.1"), peer("10.0.0.7"), peer("10.0.0.8", manual=True), peer("10.0.0.9")):
        PeerManager._punish(mgr, p, 100, "test")
    assert closed == ["127.0.0.1", "10.0.0.9"]  # whitelisted and manual peers stay
    assert set(book.discouraged) == {"10.0.0.9", "key:" + (bytes([8]) * 32).hex()}
    assert not book.bans  # nothing is saved
