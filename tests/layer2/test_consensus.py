"""L2 blocks, votes, quorum certificates, rewards, penalties, equivocation, supply."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai import _core
from funai.layer2.block import L2Block, L2Header, block_sig_message, qc_hash
from funai.layer2.consensus import apply_block, build_block
from funai.layer2.errors import L2Error
from funai.layer2.transactions import (
    BondPayload,
    EquivocationPayload,
    InferenceContent,
    L2Tx,
    make_inference,
    sign_payload,
)
from funai.layer2.votes import QuorumCertificate, Verdict, make_vote, try_form_qc
from funai.ledger.supply import l2_subsidy
from funai.ledger.tx import COIN
from funai.testing.cluster import MODEL, VERIFIER_NAMES, Net, acct, skey

NID = None  # filled per net


def setup_net(tmp_path: Path) -> Net:
    net = Net(tmp_path / "l2.sqlite")
    net.register("prod")
    net.register("prod2")
    net.fund("user", 100 * COIN)
    net.fund("exec", 50 * COIN)
    net.fund("evil", 50 * COIN)
    return net


def bond(name: str, nonce: int, amount: int, net: Net) -> L2Tx:
    return sign_payload(skey(name), BondPayload(amount), nonce, net.params.network_id)


def infer(net: Net, nonce: int, executor: str = "exec", out: str = "Paris.") -> L2Tx:
    content = InferenceContent("Capital of France?", out)
    return make_inference(
        skey("user"), skey(executor), nonce, MODEL, content, 2 * COIN, net.params.network_id
    )


HONEST = VERIFIER_NAMES[:3]
DISHONEST = VERIFIER_NAMES[3:]


def test_lifecycle_rewards_and_supply(tmp_path: Path) -> None:
    net = setup_net(tmp_path)
    r0 = net.elect({"prod": 5 * COIN})
    block0 = net.produce(r0, [bond("exec", 0, 20 * COIN, net), infer(net, 0)])
    assert len(block0.txs) == 2
    assert net.state.height == 0
    assert net.state.total_held() == net.state.total_issued()
    # 3 honest accept, 2 dishonest always reject: the honest decision wins
    votes = {n: [True] for n in HONEST} | {n: [False] for n in DISHONEST}
    qc = net.vote_all(block0, votes)
    assert qc is not None
    assert qc.decision == (True,)
    r1 = net.elect({"prod2": 5 * COIN})
    net.produce(r1, [], qc)
    assert net.state.balance(acct("prod")) == l2_subsidy(0)
    assert net.state.balance(acct("exec")) == 30 * COIN + 2 * COIN
    assert net.state.balance(acct("user")) == 98 * COIN
    assert net.state.total_held() == net.state.total_issued()
    assert net.state.meta("minted") == l2_subsidy(0)


def test_rejected_executor_loses_bond(tmp_path: Path) -> None:
    net = setup_net(tmp_path)
    r0 = net.elect({"prod": 5 * COIN})
    garbage = infer(net, 0, out="zxqv garbage")
    block0 = net.produce(r0, [bond("exec", 0, 20 * COIN, net), garbage])
    # honest verifiers reject, dishonest ones always accept
    votes = {n: [False] for n in HONEST} | {n: [True] for n in DISHONEST}
    qc = net.vote_all(block0, votes)
    assert qc is not None
    assert qc.decision == (False,)
    net.produce(net.elect({"prod2": 5 * COIN}), [], qc)
    penalty = net.params.bond_penalty
    assert net.state.bond(acct("exec")) == 20 * COIN - penalty
    assert net.state.balance(acct("exec")) == 30 * COIN  # no gas
    assert net.state.balance(acct("user")) == 100 * COIN + penalty  # refund + penalty
    assert net.state.total_held() == net.state.total_issued()


@pytest.mark.parametrize("honest", [True, False])
@pytest.mark.parametrize("order", ["dishonest-first", "honest-first"])
def test_two_dishonest_verifiers_cannot_change_outcome(
    tmp_path: Path, honest: bool, order: str
) -> None:
    net = setup_net(tmp_path)
    block0 = net.produce(net.elect({"prod": 5 * COIN}), [bond("exec", 0, 20 * COIN, net)])
    bh = block0.hash()
    nid = net.params.network_id
    keys = [v.key for v in net.state.verifiers()]
    good = [make_vote(skey(n), nid, bh, [Verdict(honest)]) for n in HONEST]
    bad = [make_vote(skey(n), nid, bh, [Verdict(not honest)]) for n in DISHONEST]
    votes = bad + good if order == "dishonest-first" else good + bad
    qc = try_form_qc(nid, bh, keys, votes)
    assert qc is not None
    assert qc.decision == (honest,)
    assert try_form_qc(nid, bh, keys, bad) is None
    # the dishonest pair cannot forge a quorum: duplicate votes, an outsider, a bad signature
    forged = QuorumCertificate(bh, (not honest,), (bad[0], bad[1], bad[1]))
    with pytest.raises(L2Error, match="qc-duplicate-vote"):
        forged.verify(nid, bh, keys, 1)
    outsider = make_vote(skey("evil"), nid, bh, [Verdict(not honest)])
    with pytest.raises(L2Error, match="qc-not-verifier"):
        QuorumCertificate(bh, (not honest,), (bad[0], bad[1], outsider)).verify(nid, bh, keys, 1)
    with pytest.raises(L2Error, match="qc-no-quorum"):
        QuorumCertificate(bh, (not honest,), tuple(bad)).verify(nid, bh, keys, 1)
    tampered = make_vote(skey(HONEST[0]), nid, bh, [Verdict(honest)])
    tampered = type(tampered)(bh, tampered.verifier_key, (Verdict(not honest),), tampered.signature)
    with pytest.raises(L2Error, match="qc-bad-signature"):
        QuorumCertificate(bh, (not honest,), (bad[0], bad[1], tampered)).verify(nid, bh, keys, 1)
    with pytest.raises(L2Error, match="qc-mismatched-vote"):
        QuorumCertificate(bh, (not honest,), (bad[0], bad[1], good[0])).verify(nid, bh, keys, 1)


def test_equivocation_forfeits_subsidy(tmp_path: Path) -> None:
    net = setup_net(tmp_path)
    r0 = net.elect({"prod": 5 * COIN})
    nid = net.params.network_id
    other = build_block(net.state, skey("prod"), r0, [bond("exec", 0, 20 * COIN, net)], None)
    block0 = net.produce(r0, [])
    assert other.hash() != block0.hash()
    qc = net.vote_all(block0, {n: [] for n in VERIFIER_NAMES})
    assert qc is not None
    evidence_payload = EquivocationPayload(
        block0.header.serialize(), block0.signature, other.header.serialize(), other.signature
    )
    evidence = sign_payload(skey("evil"), evidence_payload, 0, nid)
    net.produce(net.elect({"prod2": 5 * COIN}), [evidence], qc)
    assert net.state.balance(acct("prod")) == 0  # no subsidy: the election was forfeited
    assert net.state.get("forfeit", r0.l1_hash) == [1]
    again = sign_payload(skey("evil"), evidence_payload, 1, nid)
    from funai.layer2.execution import BlockContext, apply_tx

    with pytest.raises(L2Error, match="equivocation-duplicate"):
        apply_tx(net.state, again, BlockContext(5, acct("prod2"), elected=net.elected))
    header0 = block0.header.serialize()
    same = sign_payload(
        skey("evil"),
        EquivocationPayload(header0, block0.signature, header0, block0.signature),
        1,
        nid,
    )
    with pytest.raises(L2Error, match="equivocation-same-block"):
        apply_tx(net.state, same, BlockContext(5, acct("prod2")))


def _resign(block: L2Block, header: L2Header, name: str, nid: bytes) -> L2Block:
    sig = _core.schnorr_sign(skey(name), block_sig_message(nid, header.hash()), bytes(32))
    return L2Block(header, sig, block.txs, block.parent_qc)


def _header(h: L2Header, **kw: object) -> L2Header:
    fields = {
        "height": h.height,
        "parent": h.parent,
        "l1_block": h.l1_block,
        "vrf_proof": h.vrf_proof,
        "producer_key": h.producer_key,
        "tx_root": h.tx_root,
        "state_root": h.state_root,
        "time": h.time,
        "qc_hash": h.qc_hash,
    }
    fields.update(kw)
    return L2Header(**fields)  # type: ignore[arg-type]


def test_block_rules_reject_without_state_change(tmp_path: Path) -> None:
    net = setup_net(tmp_path)
    nid = net.params.network_id
    r0 = net.elect({"prod": 5 * COIN})
    good = build_block(net.state, skey("prod"), r0, [bond("exec", 0, 20 * COIN, net)], None)
    root = net.state.state_root()
    h = good.header
    stray_qc = QuorumCertificate(bytes(32), (), ())
    cases = {
        "block-state-root": _resign(good, _header(h, state_root=bytes(32)), "prod", nid),
        "block-bad-signature": L2Block(h, bytes(64), good.txs),
        "block-tx-root": _resign(good, _header(h, tx_root=bytes(32)), "prod", nid),
        "block-election": _resign(
            good, _header(h, producer_key=_core.schnorr_public_key(skey("prod2"))), "prod2", nid
        ),
        "block-parent": _resign(good, _header(h, height=5), "prod", nid),
        "block-time": _resign(good, _header(h, time=h.time + 1), "prod", nid),
        "block-unexpected-qc": _resign(
            L2Block(h, good.signature, good.txs, stray_qc),
            _header(h, qc_hash=qc_hash(stray_qc)),
            "prod",
            nid,
        ),
        "block-qc-hash": L2Block(h, good.signature, good.txs, stray_qc),
        "block-bad-tx": _resign(
            L2Block(h, good.signature, (*good.txs, bond("exec", 0, COIN, net))),
            _header(h, tx_root=_tx_root([*good.txs, bond("exec", 0, COIN, net)])),
            "prod",
            nid,
        ),
    }
    for rule, block in cases.items():
        with pytest.raises(L2Error, match=rule):
            apply_block(net.state, block, r0)
        assert net.state.state_root() == root, rule
    with pytest.raises(L2Error, match="block-election"):
        apply_block(net.state, good, None)
    apply_block(net.state, good, r0)
    # the next block must carry the parent's QC
    r1 = net.elect({"prod2": 5 * COIN})
    with pytest.raises(L2Error, match="block-missing-parent-qc"):
        build_block(net.state, skey("prod2"), r1, [], None)


def _tx_root(txs: list[L2Tx]) -> bytes:
    from funai.layer2.block import tx_root

    return tx_root(txs)


def test_block_encoding_roundtrip(tmp_path: Path) -> None:
    net = setup_net(tmp_path)
    block0 = net.produce(net.elect({"prod": 5 * COIN}), [bond("exec", 0, 20 * COIN, net)])
    assert L2Block.deserialize(block0.serialize()) == block0
    qc = net.vote_all(block0, {n: [] for n in HONEST})
    assert qc is not None
    block1 = net.produce(net.elect({"prod2": 5 * COIN}), [], qc)
    again = L2Block.deserialize(block1.serialize())
    assert again.hash() == block1.hash()
    assert again.parent_qc == qc


def test_nodes_agree_on_state_root(tmp_path: Path) -> None:
    roots = []
    for i in range(2):
        net = setup_net(tmp_path / str(i))
        b = net.produce(net.elect({"prod": 5 * COIN}), [bond("exec", 0, 20 * COIN, net)])
        roots.append((b.hash(), net.state.state_root()))
    assert roots[0] == roots[1]
