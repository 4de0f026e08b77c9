"""Fuzz targets (hypothesis) for every decoder of peer input.

Each target feeds arbitrary and structure-aware input to one decoder and requires that it
either returns a value or raises :class:`~funai.errors.MalformedInputError` (the network
layer's :class:`~funai.network.errors.ProtocolError` is one), never anything else: a
``TypeError``, ``RecursionError`` or ``OverflowError`` from peer bytes would cost a
connection task at best. Targets: frames (:class:`FrameReader`), CBOR messages
(:meth:`Registry.decode`, with the inference layer's messages registered), block headers,
blocks and transactions of both layers. ``FUZZ_EXAMPLES`` sets the executions per target;
docs/performance.md records a run.
"""

from __future__ import annotations

import contextlib
import os
import struct
from typing import Any

import cbor2
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funai.layer2.messages  # registers the inference layer's message types
from funai.errors import MalformedInputError
from funai.layer2.block import L2Block
from funai.layer2.transactions import L2Tx
from funai.ledger.block import Block
from funai.ledger.genesis import genesis_block, genesis_hash
from funai.ledger.header import BlockHeader
from funai.ledger.params import REGTEST
from funai.ledger.tx import Transaction
from funai.network.framing import FrameReader, network_magic
from funai.network.messages import REGISTRY

assert funai.layer2.messages
MAGIC = network_magic(genesis_hash(REGTEST))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.binary(max_size=100)
    | st.text(max_size=20)
)
CBORISH = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=30,
)
TYPES = sorted(REGISTRY.classes)


def decoded_or_malformed(fn: Any, *args: Any) -> None:
    with contextlib.suppress(MalformedInputError):
        fn(*args)


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_message_bytes(data: bytes) -> None:
    decoded_or_malformed(REGISTRY.decode, data)


@FUZZ
@given(st.sampled_from([*TYPES, "unknown"]), st.dictionaries(st.text(max_size=10), CBORISH))
def test_fuzz_message_bodies(msg_type: str, body: dict[str, Any]) -> None:
    decoded_or_malformed(REGISTRY.decode, cbor2.dumps([msg_type, body]))


@FUZZ
@given(st.sampled_from(TYPES), st.data())
def test_fuzz_message_fields(msg_type: str, data: st.DataObject) -> None:
    """Bodies with the type's own field names and arbitrary values."""
    cls = REGISTRY.classes[msg_type]
    names = list(getattr(cls, "__dataclass_fields__", {}))
    body = {n: data.draw(CBORISH) for n in names}
    decoded_or_malformed(REGISTRY.decode, cbor2.dumps([msg_type, body]))


@FUZZ
@given(st.binary(max_size=2048), st.integers(0, 3))
def test_fuzz_frames(data: bytes, mode: int) -> None:
    if mode == 1:
        data = MAGIC + data
    elif mode == 2:
        data = MAGIC + struct.pack(">I", len(data)) + data
    elif mode == 3:
        data = MAGIC + struct.pack(">I", len(data) + 5) + data

    async def run() -> None:
        stream = trio.testing.MemoryReceiveStream()
        stream.put_data(data)
        stream.put_eof()
        reader = FrameReader(stream, MAGIC, max_frame=4096)
        while True:
            try:
                payload = await reader.read()
            except MalformedInputError:
                return
            if payload is None:
                return
            decoded_or_malformed(REGISTRY.decode, payload)

    trio.run(run)


@FUZZ
@given(st.binary(min_size=0, max_size=200))
def test_fuzz_headers(data: bytes) -> None:
    decoded_or_malformed(BlockHeader.parse, data)


def _mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    def flip(pos: int, value: int) -> bytes:
        b = bytearray(seed)
        if b:
            b[pos % len(b)] = value
        return bytes(b)

    return (
        st.binary(max_size=2048)
        | st.builds(flip, st.integers(0, 10_000), st.integers(0, 255))
        | st.builds(lambda n: seed[:n], st.integers(0, len(seed)))
        | st.builds(lambda extra: seed + extra, st.binary(max_size=20))
    )


GENESIS = genesis_block(REGTEST).serialize()
COINBASE = genesis_block(REGTEST).txs[0].serialize()


@FUZZ
@given(_mutations(GENESIS))
def test_fuzz_blocks(data: bytes) -> None:
    decoded_or_malformed(Block.deserialize, data)


@FUZZ
@given(_mutations(COINBASE) | CBORISH.map(cbor2.dumps))
def test_fuzz_transactions(data: bytes) -> None:
    decoded_or_malformed(Transaction.deserialize, data)


@FUZZ
@given(st.binary(max_size=2048) | CBORISH.map(cbor2.dumps))
def test_fuzz_l2_transactions_and_blocks(data: bytes) -> None:
    decoded_or_malformed(L2Tx.deserialize, data)
    decoded_or_malformed(L2Block.deserialize, data)
