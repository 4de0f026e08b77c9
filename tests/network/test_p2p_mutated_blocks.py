"""p2p_mutated_blocks: a block with a genuine header and a wrong body does not poison it.

As Bitcoin Core's ``p2p_mutated_blocks.py``: a peer sends the genuine header of the next
block and then a body that does not match it (the coinbase changed, so the Merkle root no
longer matches). The node drops the body and punishes that peer, but it must not mark the
header invalid: the genuine block, from an honest node, is then accepted and the node
follows the honest chain. Before the fix the header was cached as invalid, so the honest
block was refused and the honest peer banned ("descends from an invalid block").
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest

from funai.ledger.block import Block
from funai.ledger.tx import Transaction, TxOut
from funai.ledger.validation import block_mutation
from funai.network.messages import BlockMsg, Headers
from tests.network.netkit import NodeProc, wait_until
from tests.network.rawpeer import closed_by_peer, frame, handshake, raw_connect

pytestmark = pytest.mark.slow


def mutate(block: Block) -> Block:
    """The same header with a coinbase that pays one unit more (the body no longer matches)."""
    cb = block.txs[0]
    out = cb.outputs[0]
    changed = Transaction(
        cb.version,
        cb.inputs,
        (TxOut(out.kind, out.value + 1, out.payload), *cb.outputs[1:]),
        cb.lock_time,
        cb.coinbase,
        cb.witnesses,
    )
    return Block(block.header, (changed, *block.txs[1:]))


def bans(node: NodeProc) -> dict[str, str]:
    return {b["who"]: b["reason"] for b in node.get("/bans")["bans"]}


def test_mutated_block_is_dropped_and_the_genuine_one_accepted(
    nodes: Callable[..., NodeProc],
) -> None:
    honest = nodes("honest")
    honest.post("/generate", {"blocks": 5})
    node = nodes("node")
    genuine = Block.deserialize(bytes.fromhex(honest.get("/blocks/height/1?hex=1")["hex"]))
    bad = mutate(genuine)
    assert bad.hash() == genuine.hash()
    assert block_mutation(bad) == "bad-txnmrklroot"

    sock = raw_connect(node.p2p, "127.0.0.71")
    try:
        handshake(sock)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(frame(Headers([genuine.header.serialize()])))
            sock.sendall(frame(BlockMsg(bad.serialize())))
        assert closed_by_peer(sock), "the sender of a mutated block was not disconnected"
    finally:
        sock.close()
    wait_until("the mutated block's sender discouraged", lambda: "127.0.0.71" in bans(node))
    assert bans(node)["127.0.0.71"] == "mutated-block: bad-txnmrklroot"
    assert node.height == 0

    # The header is still valid: the honest node's genuine block is accepted.
    node.connect(honest)
    wait_until("the node to sync the honest chain", lambda: node.tip == honest.tip, timeout=60)
    assert node.height == 5
    assert "127.0.0.1" not in bans(node)
    assert not bans(honest)
    honest.post("/generate", {"blocks": 2})
    wait_until("the node to keep following", lambda: node.tip == honest.tip, timeout=60)


def test_mutated_block_during_download_is_fetched_again_from_an_honest_peer(
    nodes: Callable[..., NodeProc],
) -> None:
    """The mutated body arrives while the node is downloading from an honest peer: the
    node still ends on the honest tip, and only the sender of the mutated body is punished."""
    honest = nodes("honest")
    honest.post("/generate", {"blocks": 3})
    node = nodes("node", peers=[honest.p2p])
    blocks = [
        Block.deserialize(bytes.fromhex(honest.get(f"/blocks/height/{h}?hex=1")["hex"]))
        for h in range(1, 4)
    ]
    honest.post("/generate", {"blocks": 3})
    sock = raw_connect(node.p2p, "127.0.0.72")
    try:
        handshake(sock)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(frame(Headers([b.header.serialize() for b in blocks])))
            for b in blocks:
                sock.sendall(frame(BlockMsg(mutate(b).serialize())))
        closed_by_peer(sock, timeout=10)
    finally:
        sock.close()
    wait_until("the node to sync the honest chain", lambda: node.tip == honest.tip, timeout=60)
    assert "127.0.0.1" not in bans(node)
