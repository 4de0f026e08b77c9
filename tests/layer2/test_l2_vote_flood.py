"""Attack: a vote flood from throwaway keys halts finality.

Before the fix a node kept up to 4 x verifier_count votes per block *before* checking that
the signer is a verifier, so 20 votes from fresh keys pushed out the real ones, no QC formed
and L2 stopped; and votes were relayed before they were validated. Now rule
``vote-not-verifier`` refuses them before anything is stored, counted or relayed."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from funai.hashing import sha256
from funai.layer2.admission import AdmissionError
from funai.layer2.errors import L2Error
from funai.layer2.messages import L2VoteMsg
from funai.layer2.votes import Verdict, make_vote
from funai.testing.cluster import NETWORK_ID, skey
from tests.layer2.attackkit import gossip_for, started


def test_flood_of_throwaway_votes_does_not_stop_the_qc(tmp_path: Path) -> None:
    w = started(tmp_path)
    w.request()
    w.deliver = lambda sender, to, msg: not isinstance(msg, L2VoteMsg)  # honest votes late
    w.round()
    good = w.good
    bh = good.state.tip()
    assert good.state.height == 1
    assert not good.finalized(bh)
    for i in range(40):  # valid signatures, right verdict count, keys nobody staked
        vote = make_vote(skey(f"throwaway{i}"), NETWORK_ID, bh, [Verdict(True)])
        with pytest.raises(L2Error, match="vote-not-verifier"):
            good.receive(L2VoteMsg.make(vote), "attacker")
    assert good.votes.get(bh, []) == []  # nothing stored or counted
    assert not [m for m in good.outbox if isinstance(m, L2VoteMsg)]  # nothing to relay
    w.release()  # the real votes arrive after the flood
    for name, node in w.nodes.items():
        assert node.finalized(bh), name
    w.round()  # and the chain goes on
    assert good.state.height == 2
    w.same_everywhere()


def test_votes_for_unknown_blocks_are_bounded_and_need_a_verifier_key(tmp_path: Path) -> None:
    w = started(tmp_path)
    v0 = w.v0
    for i in range(300):
        fake_block = sha256(b"no such block %d" % i)
        stranger = make_vote(skey(f"x{i}"), NETWORK_ID, fake_block, [])
        with pytest.raises(L2Error, match="vote-not-verifier"):
            v0.receive(L2VoteMsg.make(stranger), "attacker")
        # a real verifier's signature on garbage block hashes: kept only boundedly
        real = make_vote(skey("v1"), NETWORK_ID, fake_block, [])
        v0.receive(L2VoteMsg.make(real), "attacker")
    assert len(v0.early_votes) <= 256
    forged = make_vote(skey("x"), NETWORK_ID, v0.state.tip(), [])
    bad_sig = make_vote(skey("v1"), NETWORK_ID, v0.state.tip(), [])
    bad_sig = type(bad_sig)(forged.block_hash, bad_sig.verifier_key, (), forged.signature)
    with pytest.raises(AdmissionError, match="vote-bad-signature") as exc:
        v0.receive(L2VoteMsg.make(bad_sig), "attacker")
    assert exc.value.score == 100  # a member's key never signs that: the peer is punished


def test_refused_votes_are_neither_relayed_nor_marked_seen(tmp_path: Path) -> None:
    w = started(tmp_path)
    gossip, net = gossip_for(w.v0)
    peer = net.peers[0]
    bh = w.v0.state.tip()
    flood = L2VoteMsg.make(make_vote(skey("throwaway"), NETWORK_ID, bh, []))

    async def main() -> None:
        await gossip._on_message(peer, flood)  # type: ignore[attr-defined]

    trio.run(main)
    assert flood.id() not in gossip.seen  # type: ignore[attr-defined]
    assert not net.sent  # not announced to anyone
    assert net.punished == [(0, 10, "l2vote: vote-not-verifier")]
