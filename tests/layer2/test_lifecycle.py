"""The whole L2 story in-process: 5 verifiers, 2 inference nodes, a fake L1 and a gossip bus
that round-trips every message through the network encoding."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai import _core
from funai.hashing import sha256
from funai.layer2.errors import L2Error
from funai.layer2.messages import L2BlockMsg
from funai.layer2.service import Judge, L2Node, ModelNotServedError, sign_request
from funai.layer2.transactions import InferenceContent, TxKind, account_of, sign_tx
from funai.layer2.votes import Verdict
from funai.ledger.supply import l2_subsidy
from funai.ledger.tx import COIN
from funai.testing.cluster import (
    MODEL,
    MODEL_B,
    NETWORK_ID,
    VERIFIERS,
    Cluster,
    acct,
    fake_judge,
    garbage,
    good_answer,
    good_text,
    skey,
)


def always(accept: bool) -> Judge:
    def judge(model: bytes, content: InferenceContent, seed: int) -> Verdict:
        return Verdict(accept, 999_999 if accept else 0, 0)

    return judge


class World(Cluster):
    def __init__(self, tmp: Path, dishonest: bool = False) -> None:
        judges: dict[str, Judge] = dict.fromkeys(VERIFIERS, fake_judge)
        if dishonest:  # two of five: one always accepts, one always rejects
            judges["v3"] = always(True)
            judges["v4"] = always(False)
        super().__init__(tmp, judges, {"good": good_answer, "bad": garbage})


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.mark.parametrize("dishonest", [False, True], ids=["honest", "two-dishonest"])
def test_full_lifecycle(tmp_path: Path, dishonest: bool) -> None:
    world = World(tmp_path, dishonest)
    good, bad = world.nodes["good"], world.nodes["bad"]
    world.mine([[good.registration_output()], [bad.registration_output()]])
    assert good.reg_ref is not None
    assert bad.reg_ref is not None
    world.fund("user", 100 * COIN)
    world.fund("good", 50 * COIN)
    world.fund("bad", 50 * COIN)
    for n in ("good", "bad"):
        world.nodes[n].submit(sign_tx(skey(n), TxKind.BOND, 0, [20 * COIN], NETWORK_ID))
    world.pump()
    world.round({"good": 5 * COIN, "bad": 5 * COIN})
    v0 = world.nodes["v0"]
    assert v0.state.height == 0
    tip0 = v0.state.tip()
    assert all(n.finalized(tip0) for n in world.nodes.values())  # 5 votes, QC everywhere

    # immediate execution: the client gets its answer and a receipt at once
    req_a = sign_request(skey("user"), 0, MODEL, 2 * COIN, "capital of France?", NETWORK_ID)
    out_a, tx_a = good.execute(req_a, "capital of France?")
    assert out_a == good_text(MODEL, "capital of France?")
    req_b = sign_request(skey("user"), 1, MODEL, 2 * COIN, "2+2?", NETWORK_ID)
    out_b, tx_b = bad.execute(req_b, "2+2?")
    assert out_b == "zxqv garbage"
    # a node without the model never executes it
    req_c = sign_request(skey("user"), 2, MODEL_B, COIN, "hi", NETWORK_ID)
    with pytest.raises(ModelNotServedError):
        good.execute(req_c, "hi")
    # nor does it run a request its user cannot pay for, or a replay
    poor = sign_request(skey("nobody"), 0, MODEL, COIN, "hi", NETWORK_ID)
    with pytest.raises(L2Error, match="tx-insufficient-funds"):
        good.execute(poor, "hi")
    tampered = sign_request(skey("user"), 2, MODEL, COIN, "hi", NETWORK_ID)
    with pytest.raises(L2Error, match="inference-bad-request"):
        good.execute(tampered, "something else")
    world.pump()
    assert all(tx_a.txid() in n.mempool for n in world.nodes.values())

    world.round({"good": 5 * COIN, "bad": 5 * COIN})
    assert v0.state.height == 1
    tip1 = v0.state.tip()
    block1 = v0.blocks[tip1]
    assert {t.txid() for t in block1.txs} == {tx_a.txid(), tx_b.txid()}
    assert all(n.finalized(tip1) for n in world.nodes.values())
    qc = v0.qcs[tip1]
    by_tx = dict(zip([t.txid() for t in block1.txs], qc.decision, strict=True))
    assert by_tx == {tx_a.txid(): True, tx_b.txid(): False}
    assert len(qc.votes) >= 3
    # the verifiers hold the content until confirmation; blocks never contain it
    assert v0.content.get(tx_a.txid()) is not None
    assert b"capital of France" not in block1.serialize()

    producer1 = account_of(block1.header.producer_key)
    world.round({"good": 5 * COIN, "bad": 5 * COIN})  # settles block 1
    st = v0.state
    assert st.height == 2
    assert st.bond(acct("bad")) == 20 * COIN - world.params.bond_penalty
    assert st.bond(acct("good")) == 20 * COIN
    assert st.total_held() == st.total_issued()
    roots = {n.state.state_root() for n in world.nodes.values()}
    assert len(roots) == 1  # every node agrees
    assert st.balance(producer1) >= l2_subsidy(1)

    # anchors of finalized blocks go into L1; after k=2 confirmations content is reclaimed
    for _ in range(3):
        world.round({"good": 5 * COIN})
    for node in world.nodes.values():
        assert node.confirmed(tip1)
        assert node.content.get(tx_a.txid()) is None
        assert node.content.get(tx_b.txid()) is None


def test_equivocation_detected(world: World) -> None:
    good = world.nodes["good"]
    world.mine([[good.registration_output()]])
    world.fund("good", 50 * COIN)
    world.round({"good": 5 * COIN})
    v0 = world.nodes["v0"]
    first = v0.blocks[v0.state.tip()]
    # the producer signs a second, different block for the same election
    from funai.layer2.block import L2Block, L2Header, block_sig_message

    h = first.header
    twin_header = L2Header(
        h.height, h.parent, h.l1_block, h.vrf_proof, h.producer_key, h.tx_root, h.state_root, 99
    )
    sig = _core.schnorr_sign(
        skey("good"), block_sig_message(NETWORK_ID, twin_header.hash()), bytes(32)
    )
    from funai.layer2.block import BlockContents

    v0.receive(L2BlockMsg.make(L2Block(twin_header, sig, first.txs), BlockContents()))
    assert len(v0.evidence) == 1
    # the evidence, as a transaction, forfeits the election (no subsidy for the producer)
    world.fund("v0", COIN)
    v0.submit(sign_tx(skey("v0"), TxKind.EQUIVOCATION, 0, v0.evidence[0], NETWORK_ID))
    world.pump()
    world.round({"good": 5 * COIN})
    assert v0.state.height == 1
    assert v0.state.get("forfeit", h.l1_block) == [1]
    assert v0.state.balance(acct("good")) == 50 * COIN  # no subsidy for block 0


def test_next_producer_includes_equivocation_evidence(world: World) -> None:
    """In a running network nobody submits the evidence by hand: the next producer that
    holds it includes an EQUIVOCATION, which forfeits the equivocated block's subsidy."""
    good, other = world.nodes["good"], world.nodes["bad"]  # "bad" only produces here
    world.mine([[good.registration_output()], [other.registration_output()]])
    world.fund("good", 50 * COIN)
    world.fund("bad", 50 * COIN)
    world.round({"good": 5 * COIN})
    first = other.blocks[other.state.tip()]
    from funai.layer2.block import BlockContents, L2Block, L2Header, block_sig_message

    h = first.header
    twin = L2Header(
        h.height, h.parent, h.l1_block, h.vrf_proof, h.producer_key, h.tx_root, h.state_root, 7
    )
    sig = _core.schnorr_sign(skey("good"), block_sig_message(NETWORK_ID, twin.hash()), None)
    for node in world.nodes.values():
        if node is not good:
            node.receive(L2BlockMsg.make(L2Block(twin, sig, first.txs), BlockContents()))
    assert len(other.evidence) == 1
    world.round({"bad": 5 * COIN})  # the other producer wins the next election
    for name, node in world.nodes.items():
        assert node.state.height == 1, name
        block = node.blocks[node.state.tip()]
        assert [t.kind for t in block.txs] == [TxKind.EQUIVOCATION], name
        assert block.txs[0].sender == acct("bad"), name
        assert node.state.get("forfeit", h.l1_block) == [1], name
        assert node.state.balance(acct("good")) == 50 * COIN, name  # no subsidy for block 0
    # the evidence is used once: the following block does not repeat it
    world.round({"bad": 5 * COIN})
    block = other.blocks[other.state.tip()]
    assert other.state.height == 2
    assert TxKind.EQUIVOCATION not in [t.kind for t in block.txs]


def test_restart_keeps_blocks_and_qcs(world: World) -> None:
    good = world.nodes["good"]
    world.mine([[good.registration_output()]])
    world.fund("good", 50 * COIN)
    world.round({"good": 5 * COIN})
    world.round({"good": 5 * COIN})
    v0 = world.nodes["v0"]
    tip, root, qcs = v0.state.tip(), v0.state.state_root(), dict(v0.qcs)
    assert v0.state.height == 1
    assert tip in qcs
    v0.close()
    again = L2Node(
        world.tmp / "v0",
        world.params,
        skey("v0"),
        verifier=True,
        judge=fake_judge,
        synchronous="NORMAL",
    )
    again.replay_l1(world.l1_blocks)
    assert again.outbox == []  # nothing re-voted or re-produced while replaying
    assert (again.state.tip(), again.state.state_root()) == (tip, root)
    assert again.qcs == qcs
    assert set(again.blocks) == set(world.nodes["v1"].blocks)
    world.nodes["v0"] = again
    world.round({"good": 5 * COIN})
    assert again.state.height == 2
    assert again.state.state_root() == world.nodes["v1"].state.state_root()
    assert again.finalized(again.state.tip())


def test_l1_reorg_drops_anchors_and_reruns_rounds(world: World) -> None:
    good = world.nodes["good"]
    world.mine([[good.registration_output()]])
    world.fund("good", 50 * COIN)
    world.round({"good": 5 * COIN})
    v0 = world.nodes["v0"]
    tip0 = v0.state.tip()
    world.round({"good": 5 * COIN})  # carries the anchor of block 0
    assert v0.anchors.anchor_height(tip0) == world.l1_height
    # a competing L1 block at the same height, without the anchor, wins on v0
    h, prev, height, _ = world.l1_blocks[-1]
    rival = sha256(b"rival" + prev)
    rnd = v0.on_l1_block(rival, prev, height, [])
    assert rnd.winner is None
    assert v0.anchors.anchor_height(tip0) is None
    assert not v0.confirmed(tip0)
    assert v0.sortition.rounds[h].winner is not None  # the old branch's round is kept by hash
