"""Fault: an L1 reorganisation did not undo L2.

Before the fix only anchors, peg-ins, registrations and peg-outs were reset on an L1 reorg:
L2 state credited from orphaned L1 blocks stayed, and blocks elected by orphaned L1 blocks
were kept for good. Now (rules ``l1-follow``, ``l2-fork-choice``, ``l2-undo``) the blocks
whose election left the active L1 chain leave the canonical chain with their state undone,
the new branch's rounds elect new blocks, and every node agrees."""

from __future__ import annotations

from pathlib import Path

from funai.layer2.pegs import pegin_output
from funai.ledger.tx import COIN, TxOut
from funai.testing.cluster import acct
from tests.layer2.attackkit import started


def test_l1_reorg_across_a_pegin_undoes_its_credit(tmp_path: Path) -> None:
    w = started(tmp_path)
    kind, pool = w.params.genesis_pool()
    peg = [TxOut(kind, 3 * COIN, pool), pegin_output(acct("carol"))]
    w.mine([peg])  # the peg-in
    start_height = w.v0.state.height
    before_root = w.v0.state.state_root()
    for _ in range(3):
        w.round()  # 2 confirmations: an L2 block credits it
    assert all(n.state.balance(acct("carol")) == 3 * COIN for n in w.nodes.values())
    grown = w.v0.state.height
    assert grown > start_height
    # L1 reorganises from below the peg-in: a longer branch without it
    w.reorg(4, [[], [], [], [], []])
    for name, node in w.nodes.items():
        assert node.state.balance(acct("carol")) == 0, name
        assert node.state.height == start_height, name  # elected on the orphaned branch
        assert node.state.state_root() == before_root, name  # undone exactly
        assert node.state.total_held() == node.state.total_issued(), name
    w.same_everywhere()
    # the chain goes on from there on the new branch; the peg-in mined again counts once
    w.mine([peg])
    for _ in range(3):
        w.round()
    for node in w.nodes.values():
        assert node.state.balance(acct("carol")) == 3 * COIN
        assert node.state.height > start_height
    w.same_everywhere()


def test_blocks_of_an_orphaned_election_come_back_with_it(tmp_path: Path) -> None:
    """A reorg to a branch that holds the same election again is not possible (the L1 block
    hash differs), but a reorg back to the original branch restores its blocks."""
    w = started(tmp_path)
    w.round()
    w.round()
    tip, height = w.v0.state.tip(), w.v0.state.height
    original = list(w.l1_blocks)
    w.reorg(2, [[], [], []])
    assert w.v0.state.height == height - 2
    # the original branch comes back (and grows longer): its L2 blocks, kept in the block
    # tree, are applied again
    fork = len(original) - 2
    w.l1_blocks = original[:]
    for node in w.nodes.values():
        for h, prev, l1_height, txs in original[fork:]:
            node.on_l1_block(h, prev, l1_height, txs)
    w.l1_tip, w.l1_height = original[-1][0], original[-1][2]
    w.mine([])
    for node in w.nodes.values():
        assert node.state.tip() == tip
    w.same_everywhere()
