"""The block producer's side of a node (DESIGN 4.2-4.4): registration, commitments, block
assembly and the transactions only a producer puts in its block.

Rule ``commit-parent``: a producer's commitment names the canonical tip when the tip has a
quorum certificate, when there is no block yet, or when the tip was elected by the latest L1
block (its votes are on their way); else the tip's parent. So a block that never gets its QC
costs at most the one election whose commitments trusted it: the commitments of the next L1
block build around it.
When its registration wins a round, the producer builds on the commitment's parent if that
is the canonical tip or the tip's parent (the new block then competes with the tip under
``l2-fork-choice``), with the parent's QC, its own ``PEG_IN`` and ``EQUIVOCATION``
transactions first and then the mempool's selection (``mempool.select``: fee priority).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from funai import _core
from funai.layer2 import rewards
from funai.layer2.block import BlockContents, L2Block
from funai.layer2.chain import GENESIS_PARENT
from funai.layer2.commitment import Commitment
from funai.layer2.consensus import build_block
from funai.layer2.equivocation import check_equivocation
from funai.layer2.errors import L2Error
from funai.layer2.registration import Registration
from funai.layer2.sortition import Round
from funai.layer2.transactions import L2Tx, PegInPayload, sign_payload
from funai.ledger.tx import OutputKind, TxOut

if TYPE_CHECKING:
    from funai.layer2.node import L2Node

__all__ = ["Producer"]

log = logging.getLogger("funai.layer2")


class Producer:
    """What an inference node does as a block producer (``L2Node.producer``)."""

    def __init__(self, node: L2Node) -> None:
        self.node = node
        self.produced: set[bytes] = set()  # elections (L1 hashes) this node built for

    def registration_output(self) -> TxOut:
        node = self.node
        if node.vrf_sk is None:
            raise L2Error("not-a-producer", "this node has no VRF key")
        reg = Registration(_core.vrf_public_key(node.vrf_sk), node.account)
        return TxOut(int(OutputKind.DATA), 0, reg.encode())

    def commit_parent(self) -> bytes:
        """Rule ``commit-parent``."""
        node = self.node
        chain = node.chain
        tip = chain.tip
        if tip == GENESIS_PARENT or tip in chain.qcs:
            return tip
        if chain.entries[tip].block.header.l1_block == node.l1_tip:
            return tip  # elected by the latest L1 block: its votes are on their way
        return chain.entries[tip].parent

    def commitment_outputs(self, bid: int) -> list[TxOut]:
        """A bid of ``bid``, split evenly over the verifiers who vote on the next block."""
        node = self.node
        if node.vrf_sk is None or node.reg_ref is None:
            raise L2Error("not-registered", "no confirmed registration yet")
        parent = self.commit_parent()
        payouts = node.payouts_for(parent)
        if not payouts:
            raise L2Error("commit-even-split", "no verifier set to pay")
        each = bid // len(payouts)
        if each <= 0:
            raise L2Error("commit-even-split", "bid too small for the verifier set")
        proof = _core.vrf_prove(node.vrf_sk, node.sortition.seed_after(node.l1_tip))
        commit = Commitment(parent, node.reg_ref, proof)
        return [TxOut(k, each, p) for k, p in payouts] + commit.outputs()

    def maybe_produce(self, rnd: Round) -> None:
        """Builds this node's block when its registration won ``rnd``."""
        node = self.node
        w = rnd.winner
        if w is None or node.reg_ref != w.reg or rnd.l1_hash in self.produced:
            return
        mine = [
            h
            for h in node.chain.by_election.get(rnd.l1_hash, [])
            if node.chain.entries[h].block.header.producer_key == node.key
        ]
        if mine:  # built before a restart: never a second block for one election
            self.produced.add(rnd.l1_hash)
            return
        chain = node.chain
        parent = w.commitment.parent
        tip = chain.tip
        if parent != tip:
            if tip == GENESIS_PARENT or chain.entries[tip].parent != parent:
                log.info("elected on a parent that is not the tip or its parent: skipping")
                return
            if tip in chain.qcs:
                log.info("elected on the tip's parent but the tip has its QC: skipping")
                return
        qc = None
        if parent != GENESIS_PARENT:
            qc = chain.qcs.get(parent)
            if qc is None:
                log.info("elected but the parent has no QC yet; skipping this round")
                return
        self.produced.add(rnd.l1_hash)
        while chain.tip != parent:  # build beside a tip that got no QC (rule commit-parent)
            chain.disconnect_tip(node)
        if rewards.pending(node.state) is None:
            qc = None  # nothing to settle (the first block)
        pegins = node.pegin_view_at(rnd.height)
        pegs = self.producer_txs(rnd.height)  # first; the producer's own txs wait (nonces)
        selected = node.mempool.select(node.state, node.params.max_block_txs)
        candidates = pegs + [t for t in selected if not pegs or t.sender != node.account]
        block = build_block(
            node.state,
            node.sk,
            rnd,
            candidates,
            qc,
            pegins=pegins,
            elected=node.elected_view(rnd.height),
            burn=node.burn_view_at(rnd.height),
        )
        log.info(
            "produced L2 block",
            extra={"fields": {"height": block.header.height, "txs": len(block.txs)}},
        )
        node.store_own_block(block)

    def contents_of(self, block: L2Block) -> BlockContents:
        content = self.node.content
        return BlockContents(
            {t.txid(): c for t in block.txs if (c := content.get(t.txid())) is not None}
        )

    def producer_txs(self, as_of: int) -> list[L2Tx]:
        """What a producer puts first in its block, signed with its own key: a ``PEG_IN``
        for each peg-in with ``confirmations`` at the electing L1 block, not yet credited,
        then an ``EQUIVOCATION`` for each election whose producer the node caught signing
        two blocks and that is not forfeited yet."""
        node = self.node
        nonce = node.state.account(node.account)[1]
        out = self._pegin_txs(nonce, as_of)
        nonce += len(out)
        forfeited: set[bytes] = set()
        elected = node.elected_view(as_of)
        for evidence in node.evidence:
            try:
                election = check_equivocation(node.params.network_id, evidence, elected)
            except L2Error:
                continue
            if election in forfeited or node.state.get("forfeit", election) is not None:
                continue
            forfeited.add(election)
            out.append(sign_payload(node.sk, evidence, nonce, node.params.network_id))
            nonce += 1
        return out

    def _pegin_txs(self, nonce: int, as_of: int) -> list[L2Tx]:
        node = self.node
        out: list[L2Tx] = []
        for (txid, index), (amount, account, height, kind, pool) in sorted(node.pegins.items()):
            outpoint = txid + index.to_bytes(4, "big")
            if height > as_of or as_of - height + 1 < node.params.confirmations:
                continue
            if node.state.get("pegin", outpoint) is not None:
                continue
            if kind != OutputKind.PAY_TO_QUORUM or not node.known_pool(pool):
                continue  # rule ``pegin-pool``: not a known set's pool
            body = PegInPayload(txid, index, account, amount)
            out.append(sign_payload(node.sk, body, nonce, node.params.network_id))
            nonce += 1
        return out
