"""Fault: a block's validity depended on each node's own L1 tip.

Before the fix peg-in confirmations were counted against the validating node's L1 tip, not
the block's electing L1 block: a producer could credit a peg-in that had too few
confirmations at its election, and nodes whose L1 tip was further ahead accepted the block
while the others refused it. Rule ``pegin-as-of-election``: confirmations are counted at
the electing L1 block, so every node decides alike, whatever its L1 tip."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai import _core
from funai.layer2.block import BlockContents
from funai.layer2.commitment import Commitment
from funai.layer2.consensus import build_block
from funai.layer2.errors import L2Error
from funai.layer2.execution import BlockContext, apply_tx
from funai.layer2.messages import L2BlockMsg
from funai.layer2.pegs import pegin_output
from funai.layer2.registration import Registration, RegRef
from funai.layer2.transactions import PegInPayload, sign_payload
from funai.ledger.tx import COIN, OutputKind, TxOut
from funai.testing.cluster import NETWORK_ID, acct, skey, vkey
from tests.layer2.attackkit import started


def test_pegin_confirmations_count_at_the_election(tmp_path: Path) -> None:
    w = started(tmp_path)
    v0, v1 = w.v0, w.nodes["v1"]
    # "evil" registers (it is not a node: the test builds its block by hand)
    reg = Registration(_core.vrf_public_key(vkey("evil")), acct("evil"))
    w.mine([[TxOut(int(OutputKind.DATA), 0, reg.encode())]])
    ref = RegRef(w.l1_height, 0, 0)
    parent = v0.state.tip()
    payouts = v0.payouts_for(parent)
    assert payouts is not None
    proof = _core.vrf_prove(vkey("evil"), v0.sortition.seed_after(w.l1_tip))
    bid = [TxOut(k, COIN, p) for k, p in payouts] + Commitment(parent, ref, proof).outputs()
    kind, pool = w.params.genesis_pool()
    peg = [TxOut(kind, 3 * COIN, pool), pegin_output(acct("carol"))]
    w.mine([bid, peg])  # the peg-in and evil's election in one L1 block: 1 confirmation
    election = w.l1_tip
    rnd = v0.sortition.rounds[election]
    assert rnd.winner is not None
    assert rnd.winner.registration.l2_account == acct("evil")
    pegin_txid = w.l1_blocks[-1][3][1].txid()
    credit = sign_payload(
        skey("evil"), PegInPayload(pegin_txid, 0, acct("carol"), 3 * COIN), 0, NETWORK_ID
    )

    def claims_two(txid: bytes, index: int) -> tuple[int, bytes, int, int, bytes] | None:
        seen = v0.pegin_view(txid, index)  # the producer lies: "2 confirmations"
        return None if seen is None else (seen[0], seen[1], 2, seen[3], seen[4])

    block = build_block(v0.state, skey("evil"), rnd, [credit], v0.qcs[parent], pegins=claims_two)
    assert [t.txid() for t in block.txs] == [credit.txid()]
    w.mine([])
    w.mine([])  # v1's L1 tip is now 3 blocks past the peg-in
    msg = L2BlockMsg.make(block, BlockContents())
    for node in (v0, v1):  # a node whose tip is far ahead decides like one at the election
        node.receive(msg, "evil")
        assert node.chain.entries[block.hash()].status == 2  # invalid, for good
        assert node.state.tip() == parent
        assert node.state.balance(acct("carol")) == 0
    # at its election the peg-in had 1 confirmation (the rule that refused the block)
    ctx = BlockContext(1, acct("evil"), pegins=v0.pegin_view_at(rnd.height))
    with pytest.raises(L2Error, match="pegin-unconfirmed"):
        apply_tx(v0.state, credit, ctx)
    # the same peg-in, credited by an honest producer once it has its confirmations
    w.round()
    w.round()
    for node in w.nodes.values():
        assert node.state.balance(acct("carol")) == 3 * COIN
    w.same_everywhere()
