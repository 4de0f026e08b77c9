"""Attack: one payment counted many times in the sortition.

Before the fix every commitment of one L1 transaction was credited with the transaction's
whole bid: ten commitments (ten registrations) in one transaction paying 1 FAI weighed 10 FAI
and won about half the rounds against an honest 10 FAI bid. Rule ``commit-one-per-tx``: only
the first commitment of a transaction counts."""

from __future__ import annotations

from pathlib import Path

from funai.layer2.commitment import Commitment
from funai.ledger.tx import COIN, Transaction, TxOut
from funai.testing.cluster import Net

SYBILS = [f"sybil{i}" for i in range(10)]


def _one_tx_many_commitments(net: Net, total: int) -> Transaction:
    pay = net.payouts()
    outs = [TxOut(k, total // len(pay), p) for k, p in pay]
    for name in SYBILS:
        outs += net.commitment(name).outputs()
    return Transaction(1, (), tuple(outs))


def _commit(net: Net, name: str, bid: int) -> Transaction:
    pay = net.payouts()
    c: Commitment = net.commitment(name)
    return Transaction(1, (), (*[TxOut(k, bid // len(pay), p) for k, p in pay], *c.outputs()))


def test_one_payment_weighs_once(tmp_path: Path) -> None:
    net = Net(tmp_path / "l2.sqlite")
    net.register("honest")
    for name in SYBILS:
        net.register(name)
    wins = 0
    rounds = 40
    for _ in range(rounds):
        rnd = net.mine_l1([_commit(net, "honest", 10 * COIN), _one_tx_many_commitments(net, COIN)])
        counted = [ref for ref in rnd.bids if ref != net.regs["honest"]]
        assert len(counted) == 1  # the first commitment of the transaction, not all ten
        assert rnd.bids[counted[0]] == COIN
        assert rnd.total_bids == 11 * COIN  # 10 honest + 1, never 10 + 10
        assert rnd.winner is not None
        wins += rnd.winner.reg != net.regs["honest"]
    # 1 FAI against 10: about 1 round in 11 (the old rule gave the sybils about half)
    assert wins <= rounds // 4
