"""Mempool: admission rules, fee-rate ordering, conflicts, size bound, block updates."""

from __future__ import annotations

import pytest

from funai.ledger.errors import MempoolError
from funai.ledger.mempool import Mempool
from funai.ledger.params import REGTEST
from funai.ledger.tx import OutPoint, Transaction
from tests.ledger.ledger_kit import SK_A, SK_B, Kit, pkh_out

SUBSIDY = 150_000_000


@pytest.fixture
def rich(kit: Kit) -> Kit:
    kit.mine_many(REGTEST.coinbase_maturity + 5)  # coinbases 1..6 are spendable
    return kit


def _pay(k: Kit, height: int, fee: int, to: bytes = SK_B) -> Transaction:
    op, coin = k.coinbase_coin(height)
    return k.spend([(op, coin.out, SK_A)], [pkh_out(to, SUBSIDY - fee)])


def _reject(pool: Mempool, tx: Transaction, rule: str) -> None:
    before = (dict(pool.entries), pool.total_bytes)
    with pytest.raises(MempoolError) as info:
        pool.accept(tx)
    assert info.value.rule == rule, info.value
    assert (dict(pool.entries), pool.total_bytes) == before


def test_fee_rate_order_and_template(rich: Kit) -> None:
    low, high, mid = _pay(rich, 1, 300), _pay(rich, 2, 30_000), _pay(rich, 3, 3_000)
    for tx in (low, high, mid):
        rich.mempool.accept(tx)
    order = [e.tx.txid() for e in rich.mempool.select(1_000_000)]
    assert order == [high.txid(), mid.txid(), low.txid()]
    block = rich.mine(use_mempool=True)
    assert [t.txid() for t in block.txs[1:]] == order
    assert len(rich.mempool) == 0  # confirmed transactions leave the pool
    assert block.txs[0].outputs[0].value == SUBSIDY + 33_300  # subsidy + fees


def test_child_follows_parent(rich: Kit) -> None:
    parent = _pay(rich, 1, 200)  # low fee parent
    rich.mempool.accept(parent)
    child = rich.spend(
        [(OutPoint(parent.txid(), 0), parent.outputs[0], SK_B)],
        [pkh_out(SK_A, SUBSIDY - 200 - 50_000)],
    )
    rich.mempool.accept(child)  # spends an unconfirmed output
    other = _pay(rich, 2, 10_000)
    rich.mempool.accept(other)
    order = [e.tx.txid() for e in rich.mempool.select(1_000_000)]
    assert order.index(parent.txid()) < order.index(child.txid())
    block = rich.mine(use_mempool=True)
    assert len(block.txs) == 4


def test_conflict_rejected(rich: Kit) -> None:
    rich.mempool.accept(_pay(rich, 1, 1_000))
    _reject(rich.mempool, _pay(rich, 1, 5_000), "txn-mempool-conflict")


def test_duplicate_and_coinbase_rejected(rich: Kit) -> None:
    tx = _pay(rich, 1, 1_000)
    rich.mempool.accept(tx)
    _reject(rich.mempool, tx, "txn-already-in-mempool")
    cb = rich.chain.block_at(3).txs[0]  # type: ignore[union-attr]
    _reject(rich.mempool, cb, "coinbase")


def test_consensus_failures_name_the_rule(rich: Kit) -> None:
    tx = _pay(rich, 1, 1_000)
    _reject(rich.mempool, tx.with_witnesses(((tx.witnesses[0][0], bytes(64)),)), "bad-txns-sig")
    young = rich.chain.height  # immature coinbase
    _reject(rich.mempool, _pay(rich, young, 1_000), "bad-txns-premature-spend-of-coinbase")
    _reject(rich.mempool, _pay(rich, 1, -1), "bad-txns-in-belowout")


def test_min_relay_fee(rich: Kit) -> None:
    tx = _pay(rich, 1, 10)  # ~200 bytes at 1 unit/byte needed
    _reject(rich.mempool, tx, "min-fee-not-met")


def test_size_bound_evicts_lowest_fee_rate(rich: Kit) -> None:
    pool = rich.mempool
    a, b = _pay(rich, 1, 1_000), _pay(rich, 2, 2_000)
    pool.max_bytes = a.size + b.size + 10
    pool.accept(a)
    pool.accept(b)
    _reject(pool, _pay(rich, 3, 900), "mempool-full")  # pays less than anything inside
    c = _pay(rich, 3, 5_000)
    pool.accept(c)
    assert a.txid() not in pool
    assert b.txid() in pool
    assert c.txid() in pool
    assert pool.total_bytes <= pool.max_bytes


def test_block_removes_conflicts(rich: Kit) -> None:
    pooled = _pay(rich, 1, 1_000)
    rich.mempool.accept(pooled)
    rival = _pay(rich, 1, 2_000, to=SK_A)
    rich.mine([rival])  # confirmed elsewhere
    assert pooled.txid() not in rich.mempool


def test_pool_persists_across_processes(rich: Kit) -> None:
    tx = _pay(rich, 1, 1_000)
    rich.mempool.accept(tx)
    other = Mempool(rich.chain)  # e.g. the miner process opening the same datadir
    assert tx.txid() in other
