"""Attack: a flood of unsigned or unelected L2 blocks and unchecked evidence.

Before the fix blocks naming an unknown L1 block were stored without any check or limit and
relayed, evidence entries were stored unchecked, and ``seen`` and ``evidence`` grew without
bound. Now such blocks wait in a bounded buffer (in all and per peer) and are never relayed,
blocks of a known election by anyone but its winner are refused (``block-election``),
evidence is kept only against the elected producer, once per election, and the gossip
layer's memories are bounded."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from funai import _core
from funai.hashing import sha256
from funai.layer2.admission import MAX_EARLY_BLOCKS, MAX_PER_SOURCE
from funai.layer2.block import BlockContents, L2Block, block_sig_message
from funai.layer2.errors import L2Error
from funai.layer2.messages import L2BlockMsg
from funai.layer2.p2p import MAX_SEEN
from funai.testing.cluster import NETWORK_ID, skey
from tests.layer2.attackkit import gossip_for, started


def _block(template: L2Block, signer: str, **changes: Any) -> L2Block:
    header = dataclasses.replace(
        template.header, producer_key=_core.schnorr_public_key(skey(signer)), **changes
    )
    sig = _core.schnorr_sign(skey(signer), block_sig_message(NETWORK_ID, header.hash()), None)
    return L2Block(header, sig, template.txs, template.parent_qc)


def test_blocks_of_unknown_elections_are_bounded_and_not_relayed(tmp_path: Path) -> None:
    w = started(tmp_path)
    v0 = w.v0
    template = v0.blocks[v0.state.tip()]
    before = len(v0.chain.entries)
    for peer in range(20):
        for i in range(100):
            b = _block(template, f"flood{peer}", l1_block=sha256(b"%d/%d" % (peer, i)))
            v0.receive(L2BlockMsg.make(b, BlockContents()), f"peer{peer}")
    assert len(v0.early_blocks) <= MAX_EARLY_BLOCKS
    assert all(n <= MAX_PER_SOURCE for n in v0.early_blocks.by_source.values())
    assert len(v0.chain.entries) == before  # nothing stored
    assert not [m for m in v0.outbox if isinstance(m, L2BlockMsg)]  # nothing relayed


def test_blocks_by_anyone_but_the_winner_are_refused(tmp_path: Path) -> None:
    w = started(tmp_path)
    v0 = w.v0
    template = v0.blocks[v0.state.tip()]
    for i in range(50):
        b = _block(template, f"intruder{i}", time=template.header.time + i)
        with pytest.raises(L2Error, match="block-election"):
            v0.receive(L2BlockMsg.make(b, BlockContents()), "intruder")
    assert v0.evidence == []
    assert len(v0.chain.by_election[template.header.l1_block]) == 1


def test_evidence_is_kept_once_per_election(tmp_path: Path) -> None:
    w = started(tmp_path)
    v0 = w.v0
    template = v0.blocks[v0.state.tip()]
    first = _block(template, "good", time=template.header.time + 1)
    v0.receive(L2BlockMsg.make(first, BlockContents()), "good")
    for i in range(2, 40):  # the elected producer signs ever more variants
        with pytest.raises(L2Error, match="equivocation"):
            v0.receive(
                L2BlockMsg.make(
                    _block(template, "good", time=template.header.time + i), BlockContents()
                ),
                "good",
            )
    assert len(v0.evidence) == 1
    assert len(v0.chain.by_election[template.header.l1_block]) == 2


def test_gossip_memories_are_bounded(tmp_path: Path) -> None:
    w = started(tmp_path)
    gossip, _net = gossip_for(w.v0)
    for i in range(MAX_SEEN + 1000):
        gossip.seen.put(i.to_bytes(32, "big"), True)  # type: ignore[attr-defined]
    assert len(gossip.seen) == MAX_SEEN  # type: ignore[attr-defined]
