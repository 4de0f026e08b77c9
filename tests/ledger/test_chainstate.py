"""Chainstate: fork choice, deep reorgs with undo data, orphans, invalid branches, restarts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from funai.ledger.block import Block, make_coinbase, tx_merkle_root, witness_root
from funai.ledger.errors import ConsensusError
from funai.ledger.header import BlockHeader
from funai.ledger.params import REGTEST
from funai.ledger.supply import l1_subsidy
from funai.ledger.tx import OutPoint
from tests.ledger.ledger_kit import SK_A, SK_B, Kit, grind, pkh_out


def _pair(tmp_path: Path) -> tuple[Kit, Kit]:
    clock = [REGTEST.genesis_time]
    return Kit(tmp_path / "a.sqlite", REGTEST, clock), Kit(tmp_path / "b.sqlite", REGTEST, clock)


def _sync(src: Kit, dst: Kit, upto: int) -> None:
    for h in range(1, upto + 1):
        block = src.chain.block_at(h)
        assert block is not None
        dst.chain.submit_block(block)


def _child(parent: Block, height: int, time: int, value: int | None = None) -> Block:
    """A coinbase-only block on ``parent`` built by hand (it is not validated here)."""
    outs = [pkh_out(SK_B, l1_subsidy(height) if value is None else value)]
    cb = make_coinbase(height, outs, b"hand")
    cb = make_coinbase(height, outs, b"hand", witness_root([cb]))
    header = BlockHeader(1, parent.hash(), tx_merkle_root([cb]), time, parent.header.bits, 0)
    return Block(grind(header), (cb,))


def test_deep_reorg_with_undo_and_mempool(tmp_path: Path) -> None:
    a, b = _pair(tmp_path)
    a.mine_many(REGTEST.coinbase_maturity + 2)  # coinbases 1..3 mature
    fork = a.chain.height
    _sync(a, b, fork)
    assert b.chain.utxo_set_hash() == a.chain.utxo_set_hash()

    op1, c1 = a.coinbase_coin(1)
    op2, c2 = a.coinbase_coin(2)
    # Branch A: spends coinbase 1 and coinbase 2.
    a_spend1 = a.spend([(op1, c1.out, SK_A)], [pkh_out(SK_B, 140_000_000)])
    a_spend2 = a.spend([(op2, c2.out, SK_A)], [pkh_out(SK_B, 130_000_000)])
    a.mine([a_spend1])
    a.mine([a_spend2])
    a.mine_many(2)  # branch A: 4 blocks
    assert a.chain.height == fork + 4
    # Branch B: spends coinbase 1 differently (a conflict for a_spend1), 5 blocks.
    b_spend1 = b.spend([(op1, c1.out, SK_A)], [pkh_out(SK_A, 100_000_000)])
    b.mine([b_spend1], sk=SK_B)
    b.mine_many(4, sk=SK_B)
    a_tip = a.chain.tip.hash

    results = [a.chain.submit_block(b.chain.block_at(h)) for h in range(fork + 1, fork + 6)]  # type: ignore[arg-type]
    assert results == ["side"] * 4 + ["connected"]  # reorg of depth 4 at the fifth block
    assert a.chain.tip.hash == b.chain.tip.hash
    assert a.chain.utxo_set_hash() == b.chain.utxo_set_hash()
    assert not a.chain.is_active(a_tip)
    # Re-admission: a_spend2 is still valid and back in the pool; a_spend1 conflicts.
    assert a_spend2.txid() in a.mempool
    assert a_spend1.txid() not in a.mempool
    assert a.chain.get_coin(OutPoint(b_spend1.txid(), 0)) is not None

    # And back: branch A grows to more work; the node switches again (depth 5).
    a2 = Kit(tmp_path / "a2.sqlite", REGTEST, a.clock)
    _sync(a, a2, fork)
    for blk in [a.chain.get_block(h) for h in _branch(a, a_tip, fork)]:
        assert blk is not None
        a2.chain.submit_block(blk)
    a2.mine_many(2)
    for h in range(fork + 1, a2.chain.height + 1):
        a.chain.submit_block(a2.chain.block_at(h))  # type: ignore[arg-type]
    assert a.chain.tip.hash == a2.chain.tip.hash
    assert a.chain.utxo_set_hash() == a2.chain.utxo_set_hash()
    for k in (a, b, a2):
        k.chain.close()


def _branch(k: Kit, tip: bytes, fork: int) -> list[bytes]:
    out = []
    entry = k.chain.index[tip]
    while entry.height > fork:
        out.append(entry.hash)
        entry = k.chain.index[entry.prev]
    return out[::-1]


def test_equal_work_keeps_first_seen(tmp_path: Path) -> None:
    a, b = _pair(tmp_path)
    a.mine()
    b.mine(sk=SK_B)
    tip = a.chain.tip.hash
    assert a.chain.submit_block(b.chain.block_at(1)) == "side"  # type: ignore[arg-type]
    assert a.chain.tip.hash == tip
    a.chain.close()
    b.chain.close()


def test_invalid_branch_falls_back(tmp_path: Path) -> None:
    a, b = _pair(tmp_path)
    a.mine()
    _sync(a, b, 1)
    a.mine_many(2)  # A: heights 2, 3
    before = (a.chain.tip.hash, a.chain.utxo_set_hash())
    b1 = b.mine(sk=SK_B)  # B: height 2
    t = a.clock[0]
    b2 = _child(b1, 3, t + 1, value=l1_subsidy(3) + 1)  # overpays: invalid when connected
    b3 = _child(b2, 4, t + 2)
    assert a.chain.submit_block(b1) == "side"
    assert a.chain.submit_block(b2) == "side"  # equal work: stored, not yet connected
    with pytest.raises(ConsensusError) as info:
        a.chain.submit_block(b3)  # more work: reorg tried, b2 fails, back to branch A
    assert info.value.rule == "bad-prevblk"
    assert (a.chain.tip.hash, a.chain.utxo_set_hash()) == before
    with pytest.raises(ConsensusError):
        a.chain.submit_block(_child(b3, 5, t + 3))  # descendants of invalid blocks are refused
    a.chain.close()
    b.chain.close()


def test_orphans_connect_when_parent_arrives(tmp_path: Path) -> None:
    a, b = _pair(tmp_path)
    a.mine_many(5)
    blocks = [a.chain.block_at(h) for h in range(1, 6)]
    for blk in reversed(blocks[1:]):
        assert b.chain.submit_block(blk) == "orphan"  # type: ignore[arg-type]
    assert b.chain.submit_block(blocks[0]) == "connected"  # type: ignore[arg-type]
    assert b.chain.tip.hash == a.chain.tip.hash
    assert not b.chain.orphans
    a.chain.close()
    b.chain.close()


def test_orphan_pool_is_bounded(tmp_path: Path) -> None:
    a = Kit(tmp_path / "a.sqlite", REGTEST, [REGTEST.genesis_time])
    a.mine_many(8)
    params = dataclasses.replace(REGTEST, max_orphans=3)
    c = Kit(tmp_path / "c.sqlite", params, a.clock)
    for h in range(2, 9):
        assert c.chain.submit_block(a.chain.block_at(h)) == "orphan"  # type: ignore[arg-type]
    assert len(c.chain.orphans) == 3
    # The oldest were evicted: heights 6, 7, 8 remain.
    assert [blk.txs[0].coinbase.height for blk in c.chain.orphans.values()] == [6, 7, 8]  # type: ignore[union-attr]
    c.chain.submit_block(a.chain.block_at(1))  # type: ignore[arg-type]
    assert c.chain.height == 1
    a.chain.close()
    c.chain.close()


def test_restart_keeps_state(tmp_path: Path) -> None:
    k = Kit(tmp_path / "a.sqlite", REGTEST, [REGTEST.genesis_time])
    k.mine_many(REGTEST.coinbase_maturity + 1)
    op, coin = k.coinbase_coin(1)
    k.mine([k.spend([(op, coin.out, SK_A)], [pkh_out(SK_B, 1_000)])])
    state = (k.chain.tip.hash, k.chain.utxo_set_hash(), k.chain.utxo_count())
    k.chain.close()
    again = Kit(tmp_path / "a.sqlite", REGTEST, k.clock)
    assert (again.chain.tip.hash, again.chain.utxo_set_hash(), again.chain.utxo_count()) == state
    again.chain.close()


def test_duplicate_block(kit: Kit) -> None:
    block = kit.mine()
    assert kit.chain.submit_block(block) == "duplicate"
