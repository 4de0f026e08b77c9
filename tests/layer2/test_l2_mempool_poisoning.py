"""Attack: mempool poisoning.

Before the fix L2 admission checked only the signature, invalid transactions were never
evicted, and the producer sorted by (sender, nonce) and truncated: a zero-balance account
that sorted first could fill the block and censor everyone. Now the mempool admits against
the state (``mempool-*`` rules), evicts what a block made invalid, limits each sender and
selects by fee."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai.layer2.errors import L2Error
from funai.layer2.mempool import MAX_NONCE_AHEAD, L2Mempool
from funai.layer2.messages import L2TxMsg
from funai.layer2.transactions import L2Tx, TxKind, sign_tx
from funai.ledger.tx import COIN
from funai.testing.cluster import NETWORK_ID, acct, skey
from tests.layer2.attackkit import started


def _transfer(name: str, nonce: int, amount: int = 1, fee: int = 0, to: str = "bob") -> L2Tx:
    return sign_tx(skey(name), TxKind.TRANSFER, nonce, [acct(to), amount], NETWORK_ID, fee)


def test_a_broke_account_cannot_censor_the_others(tmp_path: Path) -> None:
    # a block of at most 3 transactions; the attacker's account sorts before the user's
    w = started(tmp_path, max_block_txs=3)
    attacker = next(f"zz{i}" for i in range(1000) if acct(f"zz{i}") < acct("user"))
    for nonce in range(10):  # zero balance: every one is refused, nothing is stored
        with pytest.raises(L2Error, match="mempool-insufficient-funds"):
            w.v0.receive(L2TxMsg.make(_transfer(attacker, nonce), None), "attacker")
    assert len(w.v0.mempool) == 0
    w.fund(attacker, 10)  # enough for ten 1-unit transfers, no fee
    for nonce in range(10):
        w.good.submit(_transfer(attacker, nonce))
    w.good.submit(_transfer("user", 0, COIN, fee=1000))
    w.pump()
    w.round()
    block = w.v0.blocks[w.v0.state.tip()]
    senders = [t.sender for t in block.txs]
    assert senders[0] == acct("user")  # the fee decides, not the account's sort order
    assert w.v0.state.balance(acct("bob")) >= COIN


def test_mempool_rules_and_eviction(tmp_path: Path) -> None:
    w = started(tmp_path)
    v0 = w.v0
    w.fund("alice", 5)
    with pytest.raises(L2Error, match="mempool-stale-nonce"):
        v0.submit(_transfer("good", 0))  # good's nonce 0 was its bond
    with pytest.raises(L2Error, match="mempool-nonce-gap"):
        v0.submit(_transfer("alice", MAX_NONCE_AHEAD))
    v0.submit(_transfer("alice", 0, 2))
    v0.submit(_transfer("alice", 1, 2))
    with pytest.raises(L2Error, match="mempool-insufficient-funds"):
        v0.submit(_transfer("alice", 2, 2))  # 2 + 2 + 2 > 5
    with pytest.raises(L2Error, match="mempool-conflict"):
        v0.submit(_transfer("alice", 1, 1))
    with pytest.raises(L2Error, match="unstake-exceeds-stake"):  # the dry run of the next tx
        v0.submit(sign_tx(skey("user"), TxKind.UNSTAKE, 0, [COIN], NETWORK_ID))
    with pytest.raises(L2Error, match="mempool-producer-only"):
        v0.submit(
            sign_tx(skey("user"), TxKind.PEG_IN, 0, [bytes(32), 0, acct("user"), 1], NETWORK_ID)
        )
    # alice spends her balance elsewhere first: her waiting transfers become invalid
    spend = _transfer("alice", 0, 5)
    assert len(v0.mempool) == 2
    w.nodes["good"].mempool.remove(list(w.nodes["good"].mempool))
    w.nodes["good"].mempool.admit(spend, w.good.state, w.l1_height)
    w.round()  # good includes only its own view: alice's 5-unit transfer
    assert v0.state.account(acct("alice")) == (0, 1)
    assert len(v0.mempool) == 0  # evicted: used nonce, and the next one cannot be paid


def test_sender_limit_and_full_pool(tmp_path: Path) -> None:
    w = started(tmp_path)
    state = w.v0.state
    pool = L2Mempool(max_txs=4, max_per_sender=3)
    w.fund("alice", COIN)
    w.fund("carol", COIN)
    for n in range(3):
        pool.admit(_transfer("alice", n, fee=1), state, 0)
    with pytest.raises(L2Error, match="mempool-sender-limit"):
        pool.admit(_transfer("alice", 3, fee=1), state, 0)
    pool.admit(_transfer("carol", 0, fee=1), state, 0)
    with pytest.raises(L2Error, match="mempool-full"):
        pool.admit(_transfer("user", 0, fee=1), state, 0)
    pool.admit(_transfer("user", 0, fee=50), state, 0)  # a higher fee evicts the cheapest
    assert len(pool) == 4
    assert pool.select(state, 10)[0].sender == acct("user")


def test_expiry(tmp_path: Path) -> None:
    w = started(tmp_path)
    w.fund("alice", 5)
    w.v0.submit(_transfer("alice", 1))  # nonce 0 never comes
    for _ in range(w.params.tx_expiry):
        w.mine([])
    assert len(w.v0.mempool) == 0  # rule tx-expiry
