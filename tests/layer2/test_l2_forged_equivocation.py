"""Attack: forged equivocation evidence forfeits an honest producer's election.

Before the fix ``check_equivocation`` only checked that two headers share an election and a
producer key and are signed by it, not that the key is the producer the election chose: any
key could sign two headers "for" an honest producer's election and forfeit its subsidy. Rule
``equivocation-not-elected`` now refuses such evidence in consensus, in the mempool and in
gossip."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from funai import _core
from funai.layer2.block import BlockContents, L2Block, block_sig_message
from funai.layer2.errors import L2Error
from funai.layer2.execution import BlockContext, apply_tx
from funai.layer2.messages import L2BlockMsg
from funai.layer2.transactions import TxKind, sign_tx
from funai.ledger.supply import l2_subsidy
from funai.testing.cluster import NETWORK_ID, acct, skey
from tests.layer2.attackkit import started


def _signed_by(name: str, header: object) -> bytes:
    return _core.schnorr_sign(skey(name), block_sig_message(NETWORK_ID, header.hash()), None)  # type: ignore[attr-defined]


def test_forged_evidence_cannot_forfeit_an_honest_election(tmp_path: Path) -> None:
    w = started(tmp_path)
    honest = w.v0.blocks[w.v0.state.tip()]  # block 0, elected for "good"
    mallory_key = _core.schnorr_public_key(skey("mallory"))
    # two headers "of" the honest election, signed by a key nobody elected
    a = dataclasses.replace(honest.header, producer_key=mallory_key)
    b = dataclasses.replace(a, time=a.time + 1)
    evidence = [a.serialize(), _signed_by("mallory", a), b.serialize(), _signed_by("mallory", b)]
    w.fund("mallory", 1)
    forged = sign_tx(skey("mallory"), TxKind.EQUIVOCATION, 0, evidence, NETWORK_ID)
    ctx = BlockContext(1, acct("v0"), elected=w.v0.elected_view(w.l1_height))
    root = w.v0.state.state_root()
    with pytest.raises(L2Error, match="equivocation-not-elected"):
        apply_tx(w.v0.state, forged, ctx)
    assert w.v0.state.state_root() == root
    with pytest.raises(L2Error, match="equivocation-not-elected"):
        w.v0.submit(forged)  # the mempool refuses it too: nobody relays or includes it
    # the same headers as gossip: not the elected producer, nothing kept as evidence
    for header in (a, b):
        block = L2Block(header, _signed_by("mallory", header), honest.txs, honest.parent_qc)
        msg = L2BlockMsg.make(block, BlockContents())
        with pytest.raises(L2Error, match="block-election"):
            w.v0.receive(msg, "mallory")
    assert w.v0.evidence == []
    w.round()  # block 1 settles block 0: the honest producer gets its subsidy
    for node in w.nodes.values():
        assert node.state.get("forfeit", honest.header.l1_block) is None
        assert node.state.balance(acct("good")) >= 30 * 10**8 + l2_subsidy(0)


def test_real_equivocation_by_the_elected_producer_still_forfeits(tmp_path: Path) -> None:
    w = started(tmp_path)
    honest = w.v0.blocks[w.v0.state.tip()]
    twin = dataclasses.replace(honest.header, time=honest.header.time + 1)
    msg = L2BlockMsg.make(L2Block(twin, _signed_by("good", twin), honest.txs), BlockContents())
    w.v0.receive(msg, "good")
    assert len(w.v0.evidence) == 1
    tx = sign_tx(skey("v0"), TxKind.EQUIVOCATION, 0, w.v0.evidence[0], NETWORK_ID)
    ctx = BlockContext(1, acct("v0"), elected=w.v0.elected_view(w.l1_height))
    w.fund("v0", 1)
    apply_tx(w.v0.state, tx, ctx)
    assert w.v0.state.get("forfeit", honest.header.l1_block) == [1]
