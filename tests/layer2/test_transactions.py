"""Transactions: encodings, the content hash, and every transaction rule rejecting."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai import _core
from funai.errors import FunaiError, MalformedInputError
from funai.layer2.errors import L2Error
from funai.layer2.execution import BlockContext, apply_tx
from funai.layer2.request_params import RequestParams
from funai.layer2.transactions import (
    InferenceContent,
    L2Tx,
    TxKind,
    content_hash,
    make_inference,
    sign_tx,
)
from funai.ledger.encoding import encode
from funai.ledger.quorum import quorum_payload
from funai.ledger.tx import COIN, OutputKind
from funai.testing.cluster import MODEL, MODEL_B, VERIFIER_NAMES, Net, acct, skey


def test_content_hash_is_length_prefixed() -> None:
    # the paper's plain concatenation would collide on these two contents
    a = content_hash("ab", "c", "", "")
    b = content_hash("a", "bc", "", "")
    assert a != b
    assert content_hash("x", "", "", "") != content_hash("", "x", "", "")
    params = RequestParams(max_tokens=9, temperature_ppm=700_000, stop=("x",))
    parts = (b"a", b"b", b"c", b"d", encode(params.to_cbor()), encode([5, 6]), b"stop")
    assert content_hash("a", "b", "c", "d", params, (5, 6), "stop") == _core.sha256(
        b"".join(len(s).to_bytes(8, "big") + s for s in parts)
    )
    full = InferenceContent("a", "b", "c", "d", params, (5, 6), "stop")
    assert full.hash() == content_hash("a", "b", "c", "d", params, (5, 6), "stop")
    # every part of the answer and of the signed request is committed to
    assert full.hash() != content_hash("a", "b", "c", "d", params, (5, 7), "stop")
    assert full.hash() != content_hash("a", "b", "c", "d", params, (5, 6), "length")
    assert full.hash() != content_hash("a", "b", "c", "d", RequestParams(), (5, 6), "stop")
    # UTF-8 lengths are byte lengths
    assert content_hash("é", "", "", "") != content_hash("e", "", "", "")


def test_tx_roundtrip_and_canonical_encoding() -> None:
    tx = sign_tx(skey("a"), TxKind.TRANSFER, 3, [acct("b"), 5], b"n" * 32, fee=7)
    raw = tx.serialize()
    again = L2Tx.deserialize(raw)
    assert again == tx
    assert again.txid() == tx.txid()
    again.verify_signature(b"n" * 32)
    with pytest.raises(L2Error, match="tx-bad-signature"):
        again.verify_signature(b"m" * 32)  # another network
    with pytest.raises(MalformedInputError):
        L2Tx.deserialize(raw + b"\x00")
    bad = [
        [1, 99, tx.sender_key, 0, 0, [], bytes(64)],  # unknown kind
        [2, 0, tx.sender_key, 0, 0, [acct("b"), 5], bytes(64)],  # version
        [1, 0, tx.sender_key, 0, 0, [acct("b")[:19], 5], bytes(64)],  # short account
        [1, 0, tx.sender_key, 0, 0, [acct("b"), 0], bytes(64)],  # zero amount
        [1, 1, tx.sender_key, 0, 0, [5, 2, bytes(20)], bytes(64)],  # payout kind
        [1, 4, tx.sender_key, 0, 0, [MODEL], bytes(64)],  # short inference payload
    ]
    for fields in bad:
        with pytest.raises(MalformedInputError):
            L2Tx.deserialize(encode(fields))


@pytest.fixture
def net(tmp_path: Path) -> Net:
    n = Net(tmp_path / "tx.sqlite")
    n.fund("user", 100 * COIN)
    n.fund("exec", 100 * COIN)
    n.fund(VERIFIER_NAMES[0], 10 * COIN)
    return n


def ctx(height: int = 1, producer: str = "prod") -> BlockContext:
    return BlockContext(height, acct(producer))


def apply(net: Net, tx: L2Tx, c: BlockContext | None = None) -> None:
    apply_tx(net.state, tx, c or ctx())


def rejects(net: Net, tx: L2Tx, rule: str, c: BlockContext | None = None) -> None:
    root = net.state.state_root()
    with pytest.raises(L2Error, match=rule):
        apply(net, tx, c)
    assert net.state.state_root() == root


def t(name: str, kind: TxKind, nonce: int, payload: list[object], net: Net, fee: int = 0) -> L2Tx:
    return sign_tx(skey(name), kind, nonce, payload, net.params.network_id, fee)


def test_transfer_and_common_rules(net: Net) -> None:
    tx = t("user", TxKind.TRANSFER, 0, [acct("bob"), 10 * COIN], net, fee=COIN)
    apply(net, tx)
    assert net.state.account(acct("user")) == (89 * COIN, 1)
    assert net.state.balance(acct("bob")) == 10 * COIN
    assert net.state.balance(acct("prod")) == COIN  # fee to the producer
    rejects(net, tx, "tx-bad-nonce")  # replay
    rejects(net, t("user", TxKind.TRANSFER, 1, [acct("bob"), 90 * COIN], net), "tx-insuff")
    rejects(net, t("user", TxKind.TRANSFER, 1, [acct("b"), COIN], net, fee=89 * COIN), "insuff")
    forged = L2Tx(tx.kind, tx.sender_key, 1, 0, tx.payload, tx.signature)
    rejects(net, forged, "tx-bad-signature")
    assert net.state.total_held() == net.state.total_issued()


def test_stake_unstake_unbonding(net: Net) -> None:
    payout = _core.hash160(b"l1 payout")
    apply(net, t("user", TxKind.STAKE, 0, [60 * COIN, 1, payout], net))
    assert net.state.stake(acct("user"))[:3] == (60 * COIN, 1, payout)  # type: ignore[index]
    rejects(net, t("user", TxKind.UNSTAKE, 1, [61 * COIN], net), "unstake-exceeds-stake")
    rejects(net, t("nobody", TxKind.UNSTAKE, 0, [COIN], net), "unstake-exceeds-stake")
    apply(net, t("user", TxKind.UNSTAKE, 1, [20 * COIN], net), ctx(height=4))
    assert net.state.balance(acct("user")) == 40 * COIN
    delay = net.params.unbonding_delay
    with net.state.atomic():
        assert net.state.release_unbonded(4 + delay - 1) == 0
        assert net.state.release_unbonded(4 + delay) == 20 * COIN
    assert net.state.balance(acct("user")) == 60 * COIN
    assert net.state.total_held() == net.state.total_issued()


def test_inference_rules(net: Net) -> None:
    nid = net.params.network_id
    content = InferenceContent("hi", "hello")

    def inf(user: str, executor: str, nonce: int, model: bytes = MODEL) -> L2Tx:
        return make_inference(skey(user), skey(executor), nonce, model, content, COIN, nid)

    rejects(net, inf("user", "exec", 0), "inference-executor-unbonded")
    apply(net, t("exec", TxKind.BOND, 0, [10 * COIN], net))
    rejects(net, inf("user", "exec", 0, MODEL_B), "inference-model-inactive")
    rejects(net, inf("exec", "exec", 1), "inference-self-execution")
    good = inf("user", "exec", 0)
    p = list(good.payload)
    p[4] = _core.sha256(b"other content")  # receipt no longer matches the content hash
    tampered = L2Tx(good.kind, good.sender_key, 0, 0, tuple(p), good.signature)
    rejects(net, tampered, "inference-bad-receipt")
    # the executor charges the gas its receipt signs, never more than the user's limit
    over = make_inference(
        skey("user"), skey("exec"), 0, MODEL, content, COIN, nid, gas_used=COIN + 1
    )
    rejects(net, over, "inference-gas-over-limit")
    p = list(good.payload)
    p[6] = COIN // 2  # a charge the receipt does not sign
    recharged = L2Tx(good.kind, good.sender_key, 0, 0, tuple(p), good.signature)
    assert recharged.user_txid() == good.user_txid()  # the user's signature still holds
    rejects(net, recharged, "inference-bad-receipt")
    poor = make_inference(skey("nobody"), skey("exec"), 0, MODEL, content, COIN, nid)
    rejects(net, poor, "tx-insufficient-funds")
    apply(net, good)
    assert net.state.get("escrow", good.txid()) == [acct("user"), acct("exec"), COIN]
    assert net.state.balance(acct("user")) == 99 * COIN
    # a limit above the balance is fine: only the gas used is taken
    part = make_inference(
        skey("user"), skey("exec"), 1, MODEL, content, 500 * COIN, nid, gas_used=3 * COIN
    )
    apply(net, part)
    assert net.state.get("escrow", part.txid()) == [acct("user"), acct("exec"), 3 * COIN]
    assert net.state.balance(acct("user")) == 96 * COIN
    assert net.state.total_held() == net.state.total_issued()


def test_model_governance(net: Net) -> None:
    nid = net.params.network_id
    rejects(net, t("user", TxKind.MODEL_PROPOSE, 0, [MODEL, "default"], net), "exists")
    apply(net, t("user", TxKind.MODEL_PROPOSE, 0, [MODEL_B, "model b"], net))
    rejects(net, t("user", TxKind.MODEL_PROPOSE, 1, [MODEL_B, "again"], net), "exists")
    rejects(net, t("user", TxKind.MODEL_VOTE, 1, [MODEL_B], net), "model-vote-not-verifier")
    v = VERIFIER_NAMES
    rejects(net, t(v[0], TxKind.MODEL_VOTE, 0, [_core.blake3(b"?")], net), "model-vote-unknown")
    apply(net, t(v[0], TxKind.MODEL_VOTE, 0, [MODEL_B], net), ctx(10))
    rejects(net, t(v[0], TxKind.MODEL_VOTE, 1, [MODEL_B], net), "model-vote-duplicate")
    apply(net, t(v[1], TxKind.MODEL_VOTE, 0, [MODEL_B], net), ctx(10))
    from funai.layer2 import models

    assert not models.is_active(net.state, MODEL_B, 100)  # 2 of 5: no majority yet
    apply(net, t(v[2], TxKind.MODEL_VOTE, 0, [MODEL_B], net), ctx(10))
    activation = 10 + net.params.model_activation_delay
    assert models.model_status(net.state, MODEL_B) == (models.APPROVED, activation)
    apply(net, t("exec", TxKind.BOND, 0, [10 * COIN], net))
    content = InferenceContent("q", "a")
    early = make_inference(skey("user"), skey("exec"), 1, MODEL_B, content, COIN, nid)
    rejects(net, early, "inference-model-inactive", ctx(activation - 1))
    apply(net, early, ctx(activation))
    assert models.active_models(net.state, activation) == sorted([MODEL, MODEL_B])


def test_pegs(net: Net) -> None:
    l1_txid = _core.sha256(b"l1 tx")
    with net.state.atomic():
        pool = net.state.record_pool(0)  # the genesis set's pool (block 0 records it)
    q = int(OutputKind.PAY_TO_QUORUM)
    seen = {(l1_txid, 1): (5 * COIN, acct("carol"), 6, q, pool)}

    def view(txid: bytes, index: int) -> tuple[int, bytes, int, int, bytes] | None:
        return seen.get((txid, index))

    c = BlockContext(3, acct("prod"), pegins=view)
    pegin = t("prod", TxKind.PEG_IN, 0, [l1_txid, 1, acct("carol"), 5 * COIN], net)
    rejects(net, pegin, "pegin-not-producer", BlockContext(3, acct("other"), pegins=view))
    rejects(
        net,
        t("prod", TxKind.PEG_IN, 0, [l1_txid, 2, acct("carol"), 5 * COIN], net),
        "pegin-unknown",
        c,
    )
    rejects(
        net,
        t("prod", TxKind.PEG_IN, 0, [l1_txid, 1, acct("carol"), 6 * COIN], net),
        "pegin-unknown",
        c,
    )
    # rule pegin-pool: only an output paying a known set's pool counts
    other_pool = quorum_payload(1, [_core.schnorr_public_key(skey("mallory"))])
    seen[(l1_txid, 1)] = (5 * COIN, acct("carol"), 6, q, other_pool)
    rejects(net, pegin, "pegin-pool", c)
    seen[(l1_txid, 1)] = (5 * COIN, acct("carol"), 6, int(OutputKind.PAY_TO_KEY), pool)
    rejects(net, pegin, "pegin-pool", c)
    seen[(l1_txid, 1)] = (5 * COIN, acct("carol"), 5, q, pool)
    rejects(net, pegin, "pegin-unconfirmed", c)
    seen[(l1_txid, 1)] = (5 * COIN, acct("carol"), 6, q, pool)
    apply(net, pegin, c)
    assert net.state.balance(acct("carol")) == 5 * COIN
    rejects(
        net,
        t("prod", TxKind.PEG_IN, 1, [l1_txid, 1, acct("carol"), 5 * COIN], net),
        "pegin-duplicate",
        c,
    )
    out = t("carol", TxKind.PEG_OUT, 0, [2 * COIN, 1, bytes(20)], net)
    apply(net, out)
    assert net.state.get("pegout", out.txid()) == [2 * COIN, 1, bytes(20)]
    assert net.state.total_held() == net.state.total_issued()
    # rule pegout-below-fee: the L1 payment must be worth something after the L1 fee
    fee = net.params.pegout_fee
    rejects(net, t("carol", TxKind.PEG_OUT, 1, [fee, 1, bytes(20)], net), "pegout-below-fee")
    apply(net, t("carol", TxKind.PEG_OUT, 1, [fee + 1, 1, bytes(20)], net))


def test_pool_namespace(net: Net) -> None:
    """Rule ``pool``: the genesis set's pool, then every new set's, each recorded once."""
    keys = sorted(_core.schnorr_public_key(skey(n)) for n in VERIFIER_NAMES)
    assert net.state.current_pool() == quorum_payload(3, keys)
    assert net.params.genesis_pool() == (int(OutputKind.PAY_TO_QUORUM), quorum_payload(3, keys))
    with net.state.atomic():
        p0 = net.state.record_pool(0)
    assert net.state.pool(p0) == (3, keys, 0)
    root = net.state.state_root()
    with net.state.atomic():
        assert net.state.record_pool(7) == p0  # known: unchanged
    assert net.state.state_root() == root
    apply(net, t("user", TxKind.STAKE, 0, [100 * COIN, 1, acct("user")], net))
    with net.state.atomic():
        net.state.recompute_verifier_set()
        p1 = net.state.record_pool(10)
    user_key = _core.schnorr_public_key(skey("user"))
    assert p1 == quorum_payload(1, [user_key]) != p0
    assert net.state.pool(p1) == (1, [user_key], 10)
    assert net.state.pool(p0) is not None  # earlier pools stay known
    assert net.state.state_root() != root


COUNTER = """
(define-data-var count uint u0)
(define-public (inc (n uint)) (begin (var-set count (+ (var-get count) n)) (ok (var-get count))))
(define-read-only (get-count) (var-get count))
"""


def test_contract_deploy_and_call(net: Net) -> None:
    apply(net, t("user", TxKind.DEPLOY, 0, ["counter", COUNTER], net))
    before = net.state.state_root()
    assert net.state.scan("clarity")
    from funai.layer2.execution import principal

    cid = f"{principal(acct('user'))}.counter"
    apply(net, t("user", TxKind.CALL, 1, [cid, "inc", ["u5"]], net))
    assert net.state.state_root() != before
    rejects(
        net,
        t("user", TxKind.DEPLOY, 2, ["broken", "(define-public (f) (ok"], net),
        "contract-rejected",
    )
    rejects(net, t("user", TxKind.CALL, 2, [cid, "nope", []], net), "contract")


def test_errors_are_funai_errors() -> None:
    assert issubclass(L2Error, FunaiError)
