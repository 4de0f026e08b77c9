"""Every block and transaction consensus rule, each shown rejecting a violation.

Each rejected block leaves the chain tip and the UTXO set unchanged (``Kit.expect_reject``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from funai import _core
from funai.ledger.block import Block, make_coinbase, tx_merkle_root, witness_root
from funai.ledger.chainstate import Chainstate
from funai.ledger.errors import ConsensusError
from funai.ledger.genesis import genesis_hash
from funai.ledger.header import BlockHeader
from funai.ledger.params import DEVNET, REGTEST
from funai.ledger.supply import l1_subsidy
from funai.ledger.tx import (
    MAX_MONEY,
    Coinbase,
    OutPoint,
    OutputKind,
    Transaction,
    TxIn,
    TxOut,
)
from funai.ledger.validation import Coin, check_transaction, connect_block_txs
from tests.ledger.ledger_kit import SK_A, SK_B, Kit, grind, pk_out, pkh_out


def _spend_first(k: Kit, outputs: list[TxOut], height: int = 1, sk: bytes = SK_A) -> Transaction:
    op, coin = k.coinbase_coin(height)
    return k.spend([(op, coin.out, sk)], outputs)


# --- block-level rules ----------------------------------------------------------------------


def test_valid_spend_connects(funded: Kit) -> None:
    tx = _spend_first(funded, [pkh_out(SK_B, 100_000_000), pk_out(SK_A, 49_000_000)])
    funded.chain.submit_block(funded.block_with([tx]))
    assert funded.chain.get_coin(OutPoint(tx.txid(), 0)) is not None
    assert funded.chain.get_coin(OutPoint(tx.txid(), 1)) is not None


def test_high_hash(kit: Kit) -> None:
    block = kit.block_with([])
    nonce = block.header.nonce
    while True:  # the first nonce that does NOT meet the target
        nonce += 1
        h = block.header.with_nonce(nonce)
        if int.from_bytes(h.hash(), "little") > REGTEST.pow_limit:
            break
    kit.expect_reject(block.with_header(h), "high-hash")


def test_bad_target(kit: Kit) -> None:
    block = kit.block_with([])
    kit.expect_reject(
        block.with_header(grind(dataclasses.replace(block.header, bits=0x2100FFFF))), "bad-target"
    )


def test_bad_diffbits(kit: Kit) -> None:
    block = kit.block_with([])
    kit.expect_reject(
        block.with_header(grind(dataclasses.replace(block.header, bits=0x207FFFFE))), "bad-diffbits"
    )


def test_time_too_old(kit: Kit) -> None:
    kit.mine_many(3)
    block = kit.block_with([])
    mtp = kit.chain.median_time_past(kit.chain.tip)
    kit.expect_reject(
        block.with_header(grind(dataclasses.replace(block.header, time=mtp))), "time-too-old"
    )


def test_time_too_new(kit: Kit) -> None:
    block = kit.block_with([])
    future = kit.clock[0] + 2 * 3600 + 1
    kit.expect_reject(
        block.with_header(grind(dataclasses.replace(block.header, time=future))), "time-too-new"
    )
    ok = block.with_header(grind(dataclasses.replace(block.header, time=future - 1)))
    assert kit.chain.submit_block(ok) == "connected"


def test_merkle_root(funded: Kit) -> None:
    tx = _spend_first(funded, [pkh_out(SK_B, 100_000_000)])
    block = funded.block_with([tx])
    bad = dataclasses.replace(block.header, merkle_root=bytes(32))
    funded.expect_reject(block.with_header(grind(bad)), "bad-txnmrklroot")


def test_witness_commitment(funded: Kit) -> None:
    """A signature swapped after the fact keeps the txid but breaks the witness commitment."""
    tx = _spend_first(funded, [pkh_out(SK_B, 100_000_000)])
    block = funded.block_with([tx])
    pk, _sig = tx.witnesses[0]
    other = tx.with_witnesses(((pk, bytes(64)),))
    assert other.txid() == tx.txid()
    funded.expect_reject(Block(block.header, (block.txs[0], other)), "bad-witness-commitment")


def test_coinbase_amount(kit: Kit) -> None:
    height = kit.chain.height + 1
    kit.expect_reject(kit.block_with([], coinbase_value=l1_subsidy(height) + 1), "bad-cb-amount")
    assert (
        kit.chain.submit_block(kit.block_with([], coinbase_value=l1_subsidy(height))) == "connected"
    )


def test_coinbase_may_claim_fees(funded: Kit) -> None:
    tx = _spend_first(funded, [pkh_out(SK_B, 150_000_000 - 5_000)])
    height = funded.chain.height + 1
    funded.expect_reject(
        funded.block_with([tx], coinbase_value=l1_subsidy(height) + 5_001), "bad-cb-amount"
    )
    assert (
        funded.chain.submit_block(
            funded.block_with([tx], coinbase_value=l1_subsidy(height) + 5_000)
        )
        == "connected"
    )


def test_coinbase_height(kit: Kit) -> None:
    kit.expect_reject(kit.block_with([], height=kit.chain.height + 2), "bad-cb-height")


def test_coinbase_missing_and_multiple(kit: Kit) -> None:
    block = kit.block_with([])
    cb2 = make_coinbase(kit.chain.height + 1, [pkh_out(SK_B, 1)], b"x")
    body = (block.txs[0], cb2)
    header = dataclasses.replace(block.header, merkle_root=tx_merkle_root(body))
    kit.expect_reject(Block(grind(header), body), "bad-cb-multiple")
    kit.expect_reject(
        Block(grind(dataclasses.replace(block.header, merkle_root=tx_merkle_root(()))), ()),
        "bad-cb-missing",
    )


def test_coinbase_maturity(kit: Kit) -> None:
    kit.mine_many(REGTEST.coinbase_maturity - 1)  # heights 1..9; the next block is 10
    op, coin = kit.coinbase_coin(1)
    early = kit.spend([(op, coin.out, SK_A)], [pkh_out(SK_B, 100_000_000)])
    kit.expect_reject(kit.block_with([early]), "bad-txns-premature-spend-of-coinbase")
    kit.mine()  # height 10; at height 11 the coinbase of height 1 is 10 blocks deep
    assert kit.chain.submit_block(kit.block_with([early])) == "connected"


def test_signature_wrong_key(funded: Kit) -> None:
    op, coin = funded.coinbase_coin(1)
    tx = funded.spend([(op, coin.out, SK_A)], [pkh_out(SK_B, 100_000_000)])
    pk, _ = tx.witnesses[0]
    forged = tx.with_witnesses(((pk, _core.schnorr_sign(SK_B, b"\x00" * 32)),))
    funded.expect_reject(funded.block_with([forged]), "bad-txns-sig")


def test_signature_from_another_network_fails(funded: Kit) -> None:
    op, coin = funded.coinbase_coin(1)
    tx = funded.spend([(op, coin.out, SK_A)], [pkh_out(SK_B, 1_000)], genesis=genesis_hash(DEVNET))
    funded.expect_reject(funded.block_with([tx]), "bad-txns-sig")


def test_signature_commits_to_outputs(funded: Kit) -> None:
    tx = _spend_first(funded, [pkh_out(SK_B, 100_000_000)])
    changed = Transaction(
        tx.version, tx.inputs, (pkh_out(SK_B, 140_000_000),), 0, None, tx.witnesses
    )
    funded.expect_reject(funded.block_with([changed]), "bad-txns-sig")


def test_pubkey_hash_mismatch(funded: Kit) -> None:
    tx = _spend_first(funded, [pkh_out(SK_B, 100_000_000)])
    _, sig = tx.witnesses[0]
    wrong = tx.with_witnesses(((_core.schnorr_public_key(SK_B), sig),))
    funded.expect_reject(funded.block_with([wrong]), "bad-txns-pubkey-hash")


def test_witness_shape(funded: Kit) -> None:
    tx = _spend_first(funded, [pkh_out(SK_B, 100_000_000)])
    funded.expect_reject(
        funded.block_with([tx.with_witnesses(((tx.witnesses[0][1],),))]), "bad-txns-witness"
    )


def test_pay_to_key_spend(funded: Kit) -> None:
    tx = _spend_first(funded, [pk_out(SK_B, 100_000_000)])
    funded.chain.submit_block(funded.block_with([tx]))
    op = OutPoint(tx.txid(), 0)
    spend = funded.spend([(op, pk_out(SK_B, 100_000_000), SK_B)], [pkh_out(SK_A, 90_000_000)])
    assert spend.witnesses[0][0]
    assert len(spend.witnesses[0]) == 1
    bad = spend.with_witnesses(((bytes(64),),))
    funded.expect_reject(funded.block_with([bad]), "bad-txns-sig")
    assert funded.chain.submit_block(funded.block_with([spend])) == "connected"


def test_double_spend_in_one_block(funded: Kit) -> None:
    a = _spend_first(funded, [pkh_out(SK_B, 100_000_000)])
    b = _spend_first(funded, [pkh_out(SK_B, 90_000_000)])
    funded.expect_reject(funded.block_with([a, b]), "bad-txns-inputs-missingorspent")


def test_double_spend_across_blocks(funded: Kit) -> None:
    a = _spend_first(funded, [pkh_out(SK_B, 100_000_000)])
    b = _spend_first(funded, [pkh_out(SK_B, 90_000_000)])
    assert funded.chain.submit_block(funded.block_with([a])) == "connected"
    funded.expect_reject(funded.block_with([b]), "bad-txns-inputs-missingorspent")


def test_spend_within_block_then_again(funded: Kit) -> None:
    """A child may spend its parent in the same block, but not twice."""
    a = _spend_first(funded, [pkh_out(SK_B, 100_000_000)])
    op = OutPoint(a.txid(), 0)
    c1 = funded.spend([(op, a.outputs[0], SK_B)], [pkh_out(SK_A, 90_000_000)])
    c2 = funded.spend([(op, a.outputs[0], SK_B)], [pkh_out(SK_A, 80_000_000)])
    funded.expect_reject(funded.block_with([a, c1, c2]), "bad-txns-inputs-missingorspent")
    assert funded.chain.submit_block(funded.block_with([a, c1])) == "connected"


def test_duplicate_transaction(funded: Kit) -> None:
    a = _spend_first(funded, [pkh_out(SK_B, 100_000_000)])
    funded.expect_reject(funded.block_with([a, a]), "bad-txns-duplicate")


def test_duplicate_input(funded: Kit) -> None:
    op, coin = funded.coinbase_coin(1)
    tx = funded.spend([(op, coin.out, SK_A), (op, coin.out, SK_A)], [pkh_out(SK_B, 1_000)])
    funded.expect_reject(funded.block_with([tx]), "bad-txns-inputs-duplicate")


def test_missing_input(funded: Kit) -> None:
    tx = funded.spend([(OutPoint(b"\x07" * 32, 0), pkh_out(SK_A, 5), SK_A)], [pkh_out(SK_B, 1)])
    funded.expect_reject(funded.block_with([tx]), "bad-txns-inputs-missingorspent")


def test_outputs_exceed_inputs(funded: Kit) -> None:
    tx = _spend_first(funded, [pkh_out(SK_B, 150_000_001)])
    funded.expect_reject(funded.block_with([tx]), "bad-txns-in-belowout")


def test_data_output_size(funded: Kit) -> None:
    data80 = TxOut(int(OutputKind.DATA), 0, b"x" * 80)
    data81 = TxOut(int(OutputKind.DATA), 0, b"x" * 81)
    bad = _spend_first(funded, [pkh_out(SK_B, 100_000_000), data81])
    funded.expect_reject(funded.block_with([bad]), "bad-txns-data-size")
    good = _spend_first(funded, [pkh_out(SK_B, 100_000_000), data80])
    assert funded.chain.submit_block(funded.block_with([good])) == "connected"
    # A data output never enters the UTXO set, so it cannot be spent.
    assert funded.chain.get_coin(OutPoint(good.txid(), 1)) is None


def test_data_output_value(funded: Kit) -> None:
    bad = _spend_first(funded, [TxOut(int(OutputKind.DATA), 1, b"burn")])
    funded.expect_reject(funded.block_with([bad]), "bad-txns-data-value")


def test_payload_size_and_kind(funded: Kit) -> None:
    bad = _spend_first(funded, [TxOut(int(OutputKind.PAY_TO_KEY_HASH), 1_000, b"\x01" * 19)])
    funded.expect_reject(funded.block_with([bad]), "bad-txns-payload-size")
    bad = _spend_first(funded, [TxOut(9, 1_000, b"\x01" * 20)])
    funded.expect_reject(funded.block_with([bad]), "bad-txns-output-kind")


def test_lock_time(funded: Kit) -> None:
    op, coin = funded.coinbase_coin(1)
    height = funded.chain.height + 1
    late = funded.spend([(op, coin.out, SK_A)], [pkh_out(SK_B, 1_000)], lock_time=height + 1)
    funded.expect_reject(funded.block_with([late]), "bad-txns-nonfinal")
    ok = funded.spend([(op, coin.out, SK_A)], [pkh_out(SK_B, 1_000)], lock_time=height)
    assert funded.chain.submit_block(funded.block_with([ok])) == "connected"


def test_block_size(tmp_path: Path) -> None:
    params = dataclasses.replace(REGTEST, max_block_size=1_000)
    k = Kit(tmp_path / "small.sqlite", params, [REGTEST.genesis_time])
    k.mine_many(params.coinbase_maturity + 1)
    op, coin = k.coinbase_coin(1)
    data = [TxOut(int(OutputKind.DATA), 0, bytes([i]) * 80) for i in range(12)]
    big = k.spend([(op, coin.out, SK_A)], [pkh_out(SK_B, 1_000), *data])
    k.expect_reject(k.block_with([big]), "bad-blk-length")
    k.chain.close()


# --- transaction rules without a chain ---------------------------------------------------------


def _tx(**kw: object) -> Transaction:
    base: dict[str, object] = {
        "version": 1,
        "inputs": (TxIn(OutPoint(b"\x01" * 32, 0)),),
        "outputs": (pkh_out(SK_A, 1),),
        "witnesses": ((b"",),),
    }
    base.update(kw)
    return Transaction(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tx", "rule"),
    [
        (_tx(inputs=(), witnesses=()), "bad-txns-vin-empty"),
        (_tx(outputs=()), "bad-txns-vout-empty"),
        (_tx(witnesses=()), "bad-txns-witness-count"),
        (_tx(outputs=(pkh_out(SK_A, MAX_MONEY + 1),)), "bad-txns-vout-toolarge"),
        (_tx(outputs=(pkh_out(SK_A, MAX_MONEY), pkh_out(SK_A, 1))), "bad-txns-txouttotal-toolarge"),
        (
            _tx(inputs=(), witnesses=(), coinbase=Coinbase(1, b"x" * 101, bytes(32))),
            "bad-cb-length",
        ),
        (_tx(coinbase=Coinbase(1, b"", bytes(32))), "bad-cb-inputs"),
    ],
)
def test_context_free_transaction_rules(tx: Transaction, rule: str) -> None:
    with pytest.raises(ConsensusError) as info:
        check_transaction(tx, REGTEST)
    assert info.value.rule == rule


def test_output_overwrite_rule_bip30() -> None:
    """An output may never overwrite an unspent one with the same outpoint."""
    cb = make_coinbase(5, [pkh_out(SK_A, 1)])
    cb = make_coinbase(5, [pkh_out(SK_A, 1)], b"", witness_root([cb]))
    header = BlockHeader(1, bytes(32), tx_merkle_root([cb]), 0, 0x207FFFFF, 0)
    existing = Coin(pkh_out(SK_A, 1), 5, True)
    with pytest.raises(ConsensusError) as info:
        connect_block_txs(Block(header, (cb,)), 5, lambda op: existing, REGTEST, bytes(32))
    assert info.value.rule == "bad-txns-BIP30"


def test_orphan_with_invalid_parent_chain(kit: Kit) -> None:
    """A block on an unknown parent is kept as an orphan, not connected."""
    block = kit.block_with([])
    orphan = block.with_header(grind(dataclasses.replace(block.header, prev_hash=b"\x09" * 32)))
    assert kit.chain.submit_block(orphan) == "orphan"
    assert kit.chain.tip.height == 0


def test_network_mismatch_refused(tmp_path: Path) -> None:
    from funai.errors import MalformedInputError

    Chainstate(tmp_path / "c.sqlite", REGTEST).close()
    with pytest.raises(MalformedInputError):
        Chainstate(tmp_path / "c.sqlite", DEVNET)
