"""Pay-to-quorum outputs (kind 3): the payload and witness helpers, an m-of-n spend, and every
rule rejecting a violation while leaving the chain tip and UTXO set unchanged."""

from __future__ import annotations

import pytest

from funai import _core
from funai.errors import MalformedInputError
from funai.ledger.errors import ConsensusError, MempoolError
from funai.ledger.quorum import (
    MAX_QUORUM_KEYS,
    check_quorum_witness,
    quorum_output,
    quorum_payload,
    quorum_witness,
    sort_keys,
)
from funai.ledger.tx import OutPoint, OutputKind, Transaction, TxIn, TxOut, sighash, tagged_hash
from funai.ledger.validation import check_transaction
from tests.ledger.ledger_kit import SK_A, SK_B, Kit, pkh_out

SKS = [(100 + i).to_bytes(32, "big") for i in range(5)]
KEYS = [_core.schnorr_public_key(sk) for sk in SKS]
BY_KEY = dict(zip(KEYS, SKS, strict=True))
VALUE = 100_000_000


def test_payload_is_the_tagged_hash_of_sorted_keys() -> None:
    ordered = sorted(KEYS)
    want = tagged_hash(b"FAI/quorum", bytes([3, 5]) + b"".join(ordered))
    assert quorum_payload(3, KEYS) == want
    assert quorum_payload(3, reversed(KEYS)) == want  # any order in, sorted inside
    assert quorum_payload(2, KEYS) != want
    assert quorum_output(7, 3, KEYS) == TxOut(int(OutputKind.PAY_TO_QUORUM), 7, want)
    assert len(want) == 32
    for m, keys in [(0, KEYS), (6, KEYS), (1, [])]:
        with pytest.raises(MalformedInputError):
            quorum_payload(m, keys)
    with pytest.raises(MalformedInputError):
        quorum_payload(1, [KEYS[0], KEYS[0]])
    with pytest.raises(MalformedInputError):
        quorum_payload(1, [KEYS[0][:31]])
    many = [i.to_bytes(32, "big") for i in range(1, MAX_QUORUM_KEYS + 2)]
    quorum_payload(1, many[:MAX_QUORUM_KEYS])
    with pytest.raises(MalformedInputError):
        quorum_payload(1, many)
    assert sort_keys(KEYS) == sorted(KEYS)


def test_witness_helper_layout() -> None:
    ordered = sorted(KEYS)
    w = quorum_witness(3, KEYS, {ordered[4]: b"s" * 64, ordered[0]: b"t" * 64})
    assert w[0] == bytes([3, 5])
    assert list(w[1:6]) == ordered
    assert list(w[6:]) == [b"t" * 64, b"", b"", b"", b"s" * 64]
    with pytest.raises(MalformedInputError):
        quorum_witness(3, KEYS[:4], {KEYS[4]: b"s" * 64})


# --- spending on a real regtest chain --------------------------------------------------------


def _fund_quorum(k: Kit, m: int = 3) -> tuple[OutPoint, TxOut]:
    """Mines a transaction that locks VALUE in an m-of-5 output; returns it."""
    op, coin = k.coinbase_coin(1)
    out = quorum_output(VALUE, m, KEYS)
    tx = k.spend([(op, coin.out, SK_A)], [out])
    assert k.chain.submit_block(k.block_with([tx])) == "connected"
    return OutPoint(tx.txid(), 0), out


def _unsigned(op: OutPoint, outputs: list[TxOut]) -> Transaction:
    return Transaction(1, (TxIn(op),), tuple(outputs))


def _signed(k: Kit, op: OutPoint, spent: TxOut, signers: list[bytes], m: int = 3) -> Transaction:
    tx = _unsigned(op, [pkh_out(SK_B, VALUE - 10_000)])
    msg = sighash(tx, 0, [spent], k.genesis)
    sigs = {_core.schnorr_public_key(sk): _core.schnorr_sign(sk, msg) for sk in signers}
    return tx.with_witnesses((quorum_witness(m, KEYS, sigs),))


def test_quorum_spend_with_m_signatures_connects(funded: Kit) -> None:
    op, spent = _fund_quorum(funded)
    assert funded.chain.get_coin(op) is not None
    tx = _signed(funded, op, spent, SKS[1:4])  # 3 of 5
    funded.mempool.accept(tx)  # the mempool runs the same checks
    assert funded.chain.submit_block(funded.block_with([tx])) == "connected"
    assert funded.chain.get_coin(op) is None
    assert funded.chain.get_coin(OutPoint(tx.txid(), 0)) is not None


def test_more_than_m_signatures_are_fine(funded: Kit) -> None:
    op, spent = _fund_quorum(funded)
    tx = _signed(funded, op, spent, SKS)  # 5 of 5
    assert funded.chain.submit_block(funded.block_with([tx])) == "connected"


def test_quorum_sigs_too_few(funded: Kit) -> None:
    op, spent = _fund_quorum(funded)
    tx = _signed(funded, op, spent, SKS[:2])  # 2 of 5 for a 3-of-5
    funded.expect_reject(funded.block_with([tx]), "bad-txns-quorum-sigs")
    with pytest.raises(MempoolError, match="bad-txns-quorum-sigs"):
        funded.mempool.accept(tx)
    assert len(funded.mempool) == 0


def test_quorum_sigs_invalid_signature_present(funded: Kit) -> None:
    op, spent = _fund_quorum(funded)
    good = _signed(funded, op, spent, SKS)
    items = list(good.witnesses[0])
    items[6] = _core.schnorr_sign(SKS[0], b"\x00" * 32)  # a signature over something else
    funded.expect_reject(
        funded.block_with([good.with_witnesses((tuple(items),))]), "bad-txns-quorum-sigs"
    )
    # a signature by a key outside the quorum, in a member's slot
    outsider = _signed(funded, op, spent, SKS[:3])
    items = list(outsider.witnesses[0])
    msg = sighash(outsider, 0, [spent], funded.genesis)
    slot = next(i for i in range(6, 11) if not items[i])
    items[slot] = _core.schnorr_sign(SK_B, msg)
    funded.expect_reject(
        funded.block_with([outsider.with_witnesses((tuple(items),))]), "bad-txns-quorum-sigs"
    )
    # signatures from another network do not count
    foreign = _unsigned(op, [pkh_out(SK_B, VALUE - 10_000)])
    msg = sighash(foreign, 0, [spent], bytes(32))
    sigs = {KEYS[i]: _core.schnorr_sign(SKS[i], msg) for i in range(3)}
    funded.expect_reject(
        funded.block_with([foreign.with_witnesses((quorum_witness(3, KEYS, sigs),))]),
        "bad-txns-quorum-sigs",
    )


def test_quorum_hash_mismatch(funded: Kit) -> None:
    op, spent = _fund_quorum(funded)
    tx = _signed(funded, op, spent, SKS)
    w = list(tx.witnesses[0])
    # keys out of order (the signatures move with them)
    swapped = [w[0], w[2], w[1], *w[3:6], w[7], w[6], *w[8:]]
    funded.expect_reject(
        funded.block_with([tx.with_witnesses((tuple(swapped),))]), "bad-txns-quorum-hash"
    )
    # a different m: the hash commits to it
    lower = [bytes([2, 5]), *w[1:]]
    funded.expect_reject(
        funded.block_with([tx.with_witnesses((tuple(lower),))]), "bad-txns-quorum-hash"
    )
    # another key set (a member replaced by an outsider that signs)
    keys = sorted([*KEYS[:4], _core.schnorr_public_key(SK_B)])
    msg = sighash(tx, 0, [spent], funded.genesis)
    sks = {**BY_KEY, _core.schnorr_public_key(SK_B): SK_B}
    sigs = {k: _core.schnorr_sign(sks[k], msg) for k in keys}
    funded.expect_reject(
        funded.block_with([tx.with_witnesses((quorum_witness(3, keys, sigs),))]),
        "bad-txns-quorum-hash",
    )
    # a duplicated key
    dup = [w[0], w[1], w[1], *w[3:]]
    funded.expect_reject(
        funded.block_with([tx.with_witnesses((tuple(dup),))]), "bad-txns-quorum-hash"
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda w: [],  # empty
        lambda w: [b"\x03", *w[1:]],  # m n is not 2 bytes
        lambda w: [bytes([3, 5, 0]), *w[1:]],
        lambda w: w[:-1],  # one signature missing
        lambda w: [*w, b""],  # one item too many
        lambda w: [bytes([6, 5]), *w[1:]],  # m > n
        lambda w: [bytes([0, 5]), *w[1:]],  # m = 0
        lambda w: [bytes([3, 17]), *w[1:]],  # n > 16
        lambda w: [w[0], w[1][:31], *w[2:]],  # a short key
        lambda w: [*w[:6], w[6][:63], *w[7:]],  # a short signature
        lambda w: [*w[:6], w[6] + b"\x00", *w[7:]],  # a long signature
    ],
)
def test_quorum_witness_shape(funded: Kit, mutate: object) -> None:
    op, spent = _fund_quorum(funded)
    tx = _signed(funded, op, spent, SKS)
    bad = mutate(list(tx.witnesses[0]))  # type: ignore[operator]
    funded.expect_reject(funded.block_with([tx.with_witnesses((tuple(bad),))]), "bad-txns-witness")


def test_quorum_payload_size() -> None:
    from funai.ledger.params import REGTEST

    tx = Transaction(
        1,
        (TxIn(OutPoint(b"\x01" * 32, 0)),),
        (TxOut(int(OutputKind.PAY_TO_QUORUM), 5, b"\x01" * 20),),
        0,
        None,
        ((b"",),),
    )
    with pytest.raises(ConsensusError) as info:
        check_transaction(tx, REGTEST)
    assert info.value.rule == "bad-txns-payload-size"
    ok = Transaction(1, tx.inputs, (quorum_output(5, 1, KEYS[:1]),), 0, None, ((b"",),))
    check_transaction(ok, REGTEST)


def test_check_quorum_witness_directly() -> None:
    msg = b"\x42" * 32
    payload = quorum_payload(2, KEYS[:3])
    ordered = sorted(KEYS[:3])
    sigs = {ordered[0]: _core.schnorr_sign(BY_KEY[ordered[0]], msg)}
    with pytest.raises(ConsensusError, match="bad-txns-quorum-sigs"):
        check_quorum_witness(payload, quorum_witness(2, ordered, sigs), msg)
    sigs[ordered[2]] = _core.schnorr_sign(BY_KEY[ordered[2]], msg)
    check_quorum_witness(payload, quorum_witness(2, ordered, sigs), msg)
    # a key that is not a curve point, with a signature in its slot
    bad_key = b"\xff" * 32
    keys = sorted([*ordered[:2], bad_key])
    w = quorum_witness(1, keys, {bad_key: b"\x01" * 64})
    with pytest.raises(ConsensusError, match="bad-txns-quorum-sigs"):
        check_quorum_witness(quorum_payload(1, keys), w, msg)
