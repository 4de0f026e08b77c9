"""Fault: content of an inference that never reaches a block is kept for good.

Before the fix the content of a transaction that never got into a block stayed on every
node, and the gossip cache (up to 100k messages) still served full contents by id after the
content store deleted them. Now rule ``tx-expiry`` drops a transaction that waited
``tx_expiry`` L1 blocks and rule ``content-expiry`` securely deletes its content on every
node; the gossip layer serves transactions and blocks from the node's own state only, so
what was deleted is gone from the network too."""

from __future__ import annotations

from pathlib import Path

import trio

from funai.layer2.messages import L2TxMsg
from tests.layer2.attackkit import gossip_for, started


def _raw(node_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in node_dir.glob("content.sqlite*"))


def test_unmined_inference_content_is_deleted_everywhere(tmp_path: Path) -> None:
    w = started(tmp_path)
    secret = "my very private question 31337"
    tx = w.request(secret)
    w.pump()
    _gossip, net = gossip_for(w.v0)
    for name, node in w.nodes.items():
        assert tx.txid() in node.mempool, name
        assert node.content.get(tx.txid()) is not None, name
        assert secret.encode() in _raw(tmp_path / name)
    for _ in range(w.params.tx_expiry):  # L1 goes on, nobody is elected: no L2 block
        w.mine([])
    for name, node in w.nodes.items():
        assert tx.txid() not in node.mempool, name
        assert node.content.get(tx.txid()) is None, name
        assert node.content.count() == 0, name
        assert secret.encode() not in _raw(tmp_path / name), name  # secure_delete + checkpoint

    async def fetch() -> object:
        return await net.inv_kinds["l2tx"].fetch(tx.txid())  # type: ignore[attr-defined]

    assert trio.run(fetch) is None  # nothing left to serve


def test_content_of_a_reorganised_away_block_expires(tmp_path: Path) -> None:
    w = started(tmp_path)
    tx = w.request("question that lands in a block")
    w.round()  # block 1 holds it
    v0 = w.v0
    assert v0.tx_block[tx.txid()] == v0.state.tip()
    # L1 reorganises the election of block 1 away, and nobody bids any more
    w.reorg(1, [[], []])
    assert v0.state.height == 0
    assert tx.txid() in v0.mempool  # back in the mempool with its content
    for _ in range(w.params.tx_expiry):
        w.mine([])
    assert v0.content.get(tx.txid()) is None
    assert all(not isinstance(m, L2TxMsg) or m.parse()[0].txid() != tx.txid() for m in v0.outbox)
