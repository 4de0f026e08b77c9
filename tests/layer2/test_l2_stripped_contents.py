"""Attack: a relay strips or swaps a block's contents to get honest answers rejected.

Before the fix verifiers judged only the contents travelling with the block: a relay that
stripped them got every honest answer rejected and the executor's bond paid to the user; and
the gossip layer marked an id as seen before validating it, so a malleated copy with the
same id blocked the real one. Now (rule ``block-contents``) content is checked against its
transaction's hash, missing or mismatching content is fetched from peers and never judged,
and ids are marked seen only once admitted."""

from __future__ import annotations

from pathlib import Path

import trio

from funai.layer2.block import BlockContents, L2Block
from funai.layer2.messages import L2BlockMsg, L2TxMsg
from funai.layer2.transactions import InferenceContent, L2Tx
from funai.ledger.tx import COIN
from funai.network.messages import Message
from funai.testing.cluster import acct
from tests.layer2.attackkit import gossip_for, started

VERIFIER_NAMES = {"v0", "v1", "v2", "v3", "v4"}


def _stripped(msg: L2BlockMsg, swap: bool) -> L2BlockMsg:
    block, contents = msg.parse()
    if not swap:
        return L2BlockMsg(msg.block, BlockContents().serialize())
    fake = {t: InferenceContent(c.input, "a different answer") for t, c in contents.items.items()}
    return L2BlockMsg(block.serialize(), BlockContents(fake).serialize())


def _relay_strips(w: object, swap: bool) -> None:
    """Verifiers never see the transactions' own gossip, and get the block through a relay
    that strips (or swaps) its contents."""

    def deliver(sender: str, to: str, msg: Message) -> bool:
        if to not in VERIFIER_NAMES:
            return True
        if isinstance(msg, L2TxMsg):
            return False
        if isinstance(msg, L2BlockMsg):
            w.send(sender, to, _stripped(msg, swap))  # type: ignore[attr-defined]
            return False
        return True

    w.deliver = deliver  # type: ignore[attr-defined]


def _honest_answer_accepted(tmp: Path, swap: bool) -> None:
    w = started(tmp)
    tx = w.request()
    _relay_strips(w, swap)
    w.round()
    bh = w.v0.state.tip()
    block: L2Block = w.v0.blocks[bh]
    assert [t.txid() for t in block.txs] == [tx.txid()]
    for name in VERIFIER_NAMES:  # each fetched the content from a peer and judged that
        assert w.nodes[name].content.get(tx.txid()) == w.good.content.get(tx.txid())
    for node in w.nodes.values():
        assert node.qcs[bh].decision == (True,)  # the honest answer is accepted
    w.deliver = None
    w.round()  # settles block 1: the executor is paid, never fined
    for node in w.nodes.values():
        assert node.state.bond(acct("good")) == 20 * COIN
        assert node.state.balance(acct("user")) < 100 * COIN


def test_stripped_contents_never_fine_an_honest_executor(tmp_path: Path) -> None:
    _honest_answer_accepted(tmp_path, swap=False)


def test_swapped_contents_are_not_judged(tmp_path: Path) -> None:
    _honest_answer_accepted(tmp_path, swap=True)


def test_unavailable_content_means_no_vote_not_a_rejection(tmp_path: Path) -> None:
    w = started(tmp_path)
    tx = w.request()
    w.good.content.delete([tx.txid()])  # nobody can serve it any more
    _relay_strips(w, swap=False)
    w.round()
    bh = w.v0.state.tip()
    assert w.v0.state.height == 1
    for name in VERIFIER_NAMES:
        node = w.nodes[name]
        assert not node.finalized(bh)  # no QC: nobody voted on what it could not read
        assert tx.txid() in node.wanted_contents()
    assert w.v0.state.bond(acct("good")) == 20 * COIN


def test_a_malleated_copy_does_not_block_the_real_message(tmp_path: Path) -> None:
    w = started(tmp_path)
    tx = w.request()
    content = w.good.content.get(tx.txid())
    assert content is not None
    gossip, net = gossip_for(w.v0)
    peer = net.peers[0]
    # same txid (the user's signature is not in it), but the signature is broken
    bad = L2Tx(tx.kind, tx.sender_key, tx.nonce, tx.fee, tx.payload, bytes(64))
    assert bad.txid() == tx.txid()

    async def main() -> None:
        await gossip._on_message(peer, L2TxMsg.make(bad, content))  # type: ignore[attr-defined]
        assert tx.txid() not in w.v0.mempool
        assert tx.txid() not in gossip.seen  # type: ignore[attr-defined]
        await gossip._on_message(peer, L2TxMsg.make(tx, content))  # type: ignore[attr-defined]

    trio.run(main)
    assert net.punished == [(0, 100, "l2tx: tx-bad-signature")]  # the forger's relay
    assert tx.txid() in w.v0.mempool
    assert tx.txid() in gossip.seen  # type: ignore[attr-defined]
