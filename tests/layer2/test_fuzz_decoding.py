"""Hostile bytes: every L2 decoder raises MalformedInputError (a FunaiError) or returns a
value, never another exception; a node drops such messages and keeps running."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funai.errors import FunaiError
from funai.layer2.anchoring import Anchor
from funai.layer2.block import BlockContents, L2Block, L2Header
from funai.layer2.messages import L2BlockMsg, L2TxMsg, L2VoteMsg
from funai.layer2.registration import Registration
from funai.layer2.service import L2Node
from funai.layer2.transactions import L2Tx
from funai.layer2.votes import QuorumCertificate, Vote
from funai.ledger.encoding import encode
from funai.testing.cluster import make_params, skey

cbor_values = st.recursive(
    st.none() | st.integers(-(2**64), 2**64 - 1) | st.binary(max_size=100) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=10),
    max_leaves=40,
)


def _decoders(raw: bytes, value: object) -> None:
    for fn in (
        L2Tx.deserialize,
        L2Block.deserialize,
        L2Header.deserialize,
        BlockContents.deserialize,
        Registration.parse,
        Anchor.parse,
    ):
        with contextlib.suppress(FunaiError):
            fn(raw)
    for cls in (L2Tx, Vote, QuorumCertificate, L2Header):
        with contextlib.suppress(FunaiError):
            cls.from_cbor(value)


@settings(max_examples=300, deadline=None)
@given(cbor_values)
def test_structured_garbage(value: object) -> None:
    _decoders(encode(value), value)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(raw: bytes) -> None:
    _decoders(raw, raw)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=120), st.binary(max_size=120))
def test_node_drops_garbage_messages(tmp_path: Path, a: bytes, b: bytes) -> None:
    node = _node(tmp_path)
    for msg in (L2TxMsg(a, b), L2BlockMsg(a, b), L2VoteMsg(a)):
        with contextlib.suppress(FunaiError):  # refused with a named rule, never a crash
            node.receive(msg)
    assert node.state.height == -1
    assert not node.mempool


_NODES: dict[Path, L2Node] = {}


def _node(tmp_path: Path) -> L2Node:
    if tmp_path not in _NODES:
        _NODES[tmp_path] = L2Node(tmp_path / "n", make_params(), skey("n"), synchronous="NORMAL")
    return _NODES[tmp_path]


def _valid_values() -> list[list[object]]:
    from funai.layer2.transactions import TxKind, sign_tx
    from funai.layer2.votes import Verdict, make_vote

    nid = b"n" * 32
    tx = sign_tx(skey("a"), TxKind.TRANSFER, 0, [b"b" * 20, 5], nid)
    inf = sign_tx(skey("a"), TxKind.STAKE, 0, [5, 1, b"p" * 20], nid)
    vote = make_vote(skey("v"), nid, b"h" * 32, [Verdict(True, 5, -7)])
    header = L2Header(1, b"p" * 32, b"l" * 32, b"v" * 80, b"k" * 32, b"t" * 32, b"s" * 32, 9)
    qc = QuorumCertificate(b"h" * 32, (True,), (vote,))
    block = L2Block(header, b"s" * 64, (tx, inf), qc)
    return [tx.to_cbor(), inf.to_cbor(), vote.to_cbor(), header.to_cbor(), block.to_cbor()]


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 4), st.integers(0, 8), st.integers(0, 8), cbor_values)
def test_mutated_valid_objects(which: int, i: int, j: int, replacement: object) -> None:
    value = _valid_values()[which]
    i %= len(value)
    if isinstance(value[i], list) and value[i]:
        inner = list(value[i])  # type: ignore[call-overload]
        inner[j % len(inner)] = replacement
        value[i] = inner
    else:
        value[i] = replacement
    _decoders(encode(value), value)
