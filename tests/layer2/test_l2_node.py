"""The node's L2 service (funai/layer2/service.py, class L2Node): what gossip and local
requests change, the outbox, and what survives a close and reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai.errors import FunaiError, MalformedInputError
from funai.layer2.admission import Admission, AdmissionError
from funai.layer2.messages import (
    L2AdMsg,
    L2BlockMsg,
    L2GetBlocksMsg,
    L2PegSigMsg,
    L2TxMsg,
    L2VoteMsg,
)
from funai.layer2.service import L2Node, ModelNotServedError, sign_request
from funai.layer2.transactions import InferenceContent, L2Tx, TxKind, sign_tx
from funai.ledger.tx import COIN
from funai.network.messages import Message
from funai.testing.cluster import (
    MODEL,
    MODEL_B,
    NETWORK_ID,
    Cluster,
    acct,
    fake_judge,
    good_answer,
    good_text,
    skey,
)

BID = 5 * COIN


def started(tmp: Path) -> Cluster:
    """One verifier ``v0`` (quorum 1) and ``good``, an executor and producer with a 20 FAI
    bond; ``user`` holds 100 FAI; L2 block 0 is applied and certified."""
    w = Cluster(tmp, {"v0": fake_judge}, {"good": good_answer})
    good = w.nodes["good"]
    w.mine([[good.registration_output()]])
    w.fund("user", 100 * COIN)
    w.fund("good", 50 * COIN)
    good.submit(sign_tx(skey("good"), TxKind.BOND, 0, [20 * COIN], NETWORK_ID))
    w.pump()
    w.round({"good": BID})
    v0 = w.nodes["v0"]
    assert v0.state.height == 0
    assert v0.finalized(v0.state.tip())
    assert v0.state.bond(acct("good")) == 20 * COIN
    return w


@pytest.fixture
def world(tmp_path: Path) -> Cluster:
    return started(tmp_path)


def snapshot(node: L2Node) -> tuple[object, ...]:
    """Everything gossip may change."""
    return (
        node.state.state_root(),
        node.state.height,
        node.state.tip(),
        sorted(node.mempool),
        list(node.outbox),
        sorted(node.chain.entries),
        sorted(node.qcs),
        {h: len(v) for h, v in node.votes.items()},
        {h: len(v) for h, v in node.early_votes.items()},
        node.early_blocks.count,
        node.orphans.count,
        set(node.sync_wanted),
        list(node.evidence),
        dict(node.unbonded_ads),
        len(node.pegsigs_accepted),
    )


def transfer(nonce: int, amount: int = COIN) -> L2Tx:
    return sign_tx(skey("user"), TxKind.TRANSFER, nonce, [acct("bob"), amount], NETWORK_ID)


# --- malformed and unknown messages --------------------------------------------------------


def _malformed() -> dict[str, Message]:
    good_tx = transfer(0).serialize()
    return {
        "tx-garbage": L2TxMsg(b"\x00", b""),
        "tx-trailing-byte": L2TxMsg(good_tx + b"\x00", b""),
        "tx-content-not-a-list": L2TxMsg(good_tx, b"\xa0"),
        "block-garbage": L2BlockMsg(b"junk", b""),
        "block-wrong-fields": L2BlockMsg(b"\x84" + bytes(4), b"\x80"),
        "vote-garbage": L2VoteMsg(b"\xff"),
        "vote-short-fields": L2VoteMsg(b"\x84\x40\x40\x80\x40"),
        "ad-garbage": L2AdMsg(b"\x00"),
        "pegsig-garbage": L2PegSigMsg(b"\x00", bytes(32), b""),
    }


def test_a_malformed_message_changes_nothing(world: Cluster) -> None:
    v0 = world.nodes["v0"]
    before = snapshot(v0)
    for name, msg in _malformed().items():  # one world for all: each must change nothing
        with pytest.raises(FunaiError):
            v0.receive(msg, "peer")
        assert snapshot(v0) == before, name


def test_malformed_tx_message_is_malformed_input(world: Cluster) -> None:
    with pytest.raises(MalformedInputError):
        world.nodes["v0"].receive(L2TxMsg(b"\x00", b""), "peer")


def test_an_unknown_message_is_refused_and_changes_nothing(world: Cluster) -> None:
    v0 = world.nodes["v0"]
    before = snapshot(v0)
    with pytest.raises(AdmissionError) as err:
        v0.receive(L2GetBlocksMsg(v0.locator()), "peer")
    assert err.value.rule == "unknown-message"
    assert snapshot(v0) == before


def test_a_forged_tx_is_refused_and_scored(world: Cluster) -> None:
    v0 = world.nodes["v0"]
    good = transfer(0)
    forged = L2Tx(good.kind, good.sender_key, 0, 0, (acct("mallory"), COIN), good.signature)
    before = snapshot(v0)
    with pytest.raises(AdmissionError) as err:
        v0.receive(L2TxMsg.make(forged, None), "peer")
    assert (err.value.rule, err.value.score) == ("tx-bad-signature", 100)
    # a merely stale transaction costs the peer nothing
    with pytest.raises(AdmissionError) as err:
        v0.receive(L2TxMsg.make(transfer(0, 200 * COIN), None), "peer")
    assert err.value.score == 0
    assert snapshot(v0) == before


# --- a transaction is admitted once -----------------------------------------------------------


def test_a_transaction_is_admitted_once(world: Cluster) -> None:
    v0 = world.nodes["v0"]
    tx = transfer(0)
    msg = L2TxMsg.make(tx, None)
    assert v0.receive(msg, "peer") == Admission(True, True)
    assert list(v0.mempool) == [tx.txid()]
    after_first = snapshot(v0)
    assert v0.receive(msg, "other peer") == Admission(True, False, "tx-known")
    assert snapshot(v0) == after_first  # not relayed, nothing new
    with pytest.raises(FunaiError, match="mempool-duplicate"):
        v0.submit(tx)
    assert snapshot(v0) == after_first


def test_a_transaction_in_a_block_is_not_admitted_again(world: Cluster) -> None:
    good = world.nodes["good"]
    tx = transfer(0)
    good.submit(tx)
    world.pump()
    world.round({"good": BID})  # block 1 includes it
    v0 = world.nodes["v0"]
    assert v0.state.height == 1
    assert v0.tx_block[tx.txid()] == v0.state.tip()
    assert tx.txid() not in v0.mempool
    before = snapshot(v0)
    assert v0.receive(L2TxMsg.make(tx, None), "peer") == Admission(True, False, "tx-known")
    assert snapshot(v0) == before
    assert v0.state.account(acct("user")) == (99 * COIN, 1)


# --- the outbox after local requests ----------------------------------------------------------


def test_submit_queues_exactly_one_tx_message(world: Cluster) -> None:
    v0 = world.nodes["v0"]
    assert v0.outbox == []
    tx = transfer(0)
    v0.submit(tx)
    assert v0.outbox == [L2TxMsg.make(tx, None)]
    assert v0.outbox[0].parse() == (tx, None)


def test_a_refused_submit_queues_nothing(world: Cluster) -> None:
    v0 = world.nodes["v0"]
    with pytest.raises(FunaiError, match="mempool-nonce-gap"):
        v0.submit(transfer(1_000))
    good = transfer(0)
    forged = L2Tx(good.kind, good.sender_key, 0, 0, (acct("mallory"), COIN), good.signature)
    with pytest.raises(FunaiError, match="tx-bad-signature"):
        v0.submit(forged)
    assert v0.outbox == []
    assert len(v0.mempool) == 0


def test_execute_queues_the_completed_inference_with_its_content(world: Cluster) -> None:
    good = world.nodes["good"]
    text = "capital of France?"
    req = sign_request(skey("user"), 0, MODEL, COIN, text, NETWORK_ID)
    output, tx = good.execute(req, text)
    assert output == good_text(MODEL, text)
    content = InferenceContent(text, output)
    assert tx.payload[4] == content.hash()
    assert tx.payload[3] == good.key  # the executor's receipt
    assert good.outbox == [L2TxMsg.make(tx, content)]
    assert list(good.mempool) == [tx.txid()]
    assert good.content.get(tx.txid()) == content


def test_a_request_for_a_model_not_served_queues_nothing(world: Cluster) -> None:
    good = world.nodes["good"]
    req = sign_request(skey("user"), 0, MODEL_B, COIN, "hi", NETWORK_ID)
    before = snapshot(good)
    with pytest.raises(ModelNotServedError) as err:
        good.execute(req, "hi")
    assert err.value.rule == "model-not-served"
    assert snapshot(good) == before


# --- close and reopen --------------------------------------------------------------------------


def test_close_and_reopen_keeps_height_and_tip(world: Cluster, tmp_path: Path) -> None:
    world.nodes["good"].submit(transfer(0))
    world.pump()
    world.round({"good": BID})
    v0 = world.nodes["v0"]
    assert v0.state.height == 1
    kept = (
        v0.state.height,
        v0.state.tip(),
        v0.state.state_root(),
        list(v0.chain.canonical),
        sorted(v0.qcs),
        dict(v0.tx_block),
        v0.finalized(v0.state.tip()),
    )
    v0.close()
    again = L2Node(
        tmp_path / "v0",
        world.params,
        skey("v0"),
        verifier=True,
        judge=fake_judge,
        synchronous="NORMAL",
    )
    try:
        got = (
            again.state.height,
            again.state.tip(),
            again.state.state_root(),
            list(again.chain.canonical),
            sorted(again.qcs),
            dict(again.tx_block),
            again.finalized(again.state.tip()),
        )
        assert got == kept
        assert len(kept[3]) == 2  # blocks 0 and 1
        assert again.voted == set(kept[3])  # its own votes on both are kept too
        # replaying the L1 chain after the restart changes neither
        again.replay_l1(world.l1_blocks)
        assert (again.state.height, again.state.tip()) == (1, kept[1])
        assert again.state.state_root() == kept[2]
    finally:
        again.close()
