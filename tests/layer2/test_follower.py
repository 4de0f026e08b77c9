"""L2 nodes following a real (regtest) L1 chainstate: registrations, commitments and peg-ins
carried in L1 blocks, elections, a producer including confirmed peg-ins, and L1 reorgs."""

from __future__ import annotations

from pathlib import Path

from funai.layer2.follower import L1Follower
from funai.layer2.pegs import pegin_output
from funai.ledger.tx import COIN, TxOut
from funai.testing.cluster import VERIFIERS, Cluster, acct, fake_judge, good_answer
from tests.layer2.l1kit import L1


def setup(tmp_path: Path) -> tuple[L1, Cluster, list[L1Follower]]:
    l1 = L1(tmp_path / "l1.sqlite")
    cluster = Cluster(tmp_path, dict.fromkeys(VERIFIERS, fake_judge), {"x": good_answer})
    followers = [L1Follower(l1.chain, n) for n in cluster.nodes.values()]
    return l1, cluster, followers


def step(cluster: Cluster, followers: list[L1Follower]) -> None:
    for f in followers:
        f.sync()
    cluster.pump()


def test_follow_l1_elect_and_peg_in(tmp_path: Path) -> None:
    l1, cluster, followers = setup(tmp_path)
    x = cluster.nodes["x"]
    l1.mine([x.registration_output()])
    step(cluster, followers)
    assert x.reg_ref is not None
    pool_kind, pool = cluster.params.genesis_pool()
    l1.mine([TxOut(pool_kind, COIN, pool), pegin_output(acct("user"))])
    step(cluster, followers)
    v0 = cluster.nodes["v0"]
    assert v0.pegin_view(*next(iter(v0.pegins))) == (COIN, acct("user"), 1, pool_kind, pool)
    l1.mine(x.commitment_outputs(COIN // 2))  # the peg-in now has 2 confirmations
    step(cluster, followers)
    assert v0.state.height == 0
    block0 = v0.blocks[v0.state.tip()]
    assert [t.kind.name for t in block0.txs] == ["PEG_IN"]
    for node in cluster.nodes.values():
        assert node.state.balance(acct("user")) == COIN
        assert node.state.total_held() == node.state.total_issued()
        assert node.finalized(block0.hash())
    assert len({n.state.state_root() for n in cluster.nodes.values()}) == 1
    # the verifiers were paid the bid on L1, evenly
    cb = l1.chain.block_at(l1.chain.height).txs[0]  # type: ignore[union-attr]
    paid = [o.value for o in cb.outputs if (o.kind, o.payload) in v0.payout_sets[bytes(32)]]
    assert paid == [COIN // 10] * 5
    # a second round with an anchor of block 0; after k=2 confirmations it is confirmed
    l1.mine(x.commitment_outputs(COIN // 2) + v0.anchor_outputs())
    step(cluster, followers)
    l1.mine([])
    step(cluster, followers)
    assert all(n.confirmed(block0.hash()) for n in cluster.nodes.values())


def test_l1_reorg_refeeds_from_the_fork(tmp_path: Path) -> None:
    l1, cluster, followers = setup(tmp_path)
    x = cluster.nodes["x"]
    b1 = l1.mine([x.registration_output()])
    pool_kind, pool = cluster.params.genesis_pool()
    b2 = l1.mine([TxOut(pool_kind, COIN, pool), pegin_output(acct("user"))])
    step(cluster, followers)
    v0 = cluster.nodes["v0"]
    assert len(v0.pegins) == 1
    # a longer branch from b1 without the peg-in
    c2 = l1.mine([], parent=b1.hash(), salt=1)
    c3 = l1.mine([], parent=c2.hash(), salt=1)
    assert l1.chain.active[-1] == c3.hash()
    step(cluster, followers)
    assert v0.pegins == {}
    assert followers[0].processed == [b1.hash(), c2.hash(), c3.hash()]
    assert v0.l1_tip == c3.hash()
    assert b2.hash() in v0.sortition.rounds  # kept by hash, off the active chain
    assert v0.sortition.rounds[c3.hash()].prev_seed == v0.sortition.seed_after(c2.hash())
    assert x.reg_ref is not None  # the registration (in b1) survived the reorg
