"""The L2 mempool: admission against the state, per-sender limits, eviction, expiry and
fee-priority selection (docs/layer2.md, "Mempool").

A transaction is admitted only by these rules, checked before it is stored or relayed (a
refused one raises :class:`~funai.layer2.errors.L2Error` naming the rule and changes
nothing):

* ``tx-bad-signature``: the sender's signature verifies;
* ``mempool-duplicate``: not already held; ``mempool-conflict``: no other transaction of
  the sender with the same nonce is held (first seen wins);
* ``mempool-stale-nonce``: the nonce is at least the account's; ``mempool-nonce-gap``: it
  is less than the account's nonce + :data:`MAX_NONCE_AHEAD` (requests signed in order may
  finish out of order, so a bounded gap is allowed);
* ``mempool-sender-limit``: at most :data:`MAX_PER_SENDER` transactions per sender;
* ``mempool-insufficient-funds``: the balance covers the fees and amounts (gas for an
  inference) of this transaction and of the sender's held ones with lower nonces;
* ``mempool-producer-only``: ``PEG_IN`` transactions are the block producer's own, never
  relayed;
* the transaction that is next for its sender (nonce = the account's) is dry-run against
  the state (every consensus rule of ``execution.py``, rolled back), so for instance an
  unstake above the stake or a peg-out below the fee is refused up front; only the rules
  other waiting transactions may still satisfy (:data:`CURABLE`: a vote for a model proposed
  in the same block, an executor whose bond is on its way) let it wait;
* ``mempool-full``: with :data:`MAX_TXS` held, a new transaction must pay a higher fee than
  the cheapest held one, which is evicted.

After every L2 block (and on a reorg) :meth:`L2Mempool.revalidate` evicts what the new state
made invalid (used nonces, balances that no longer cover, a next transaction that fails its
dry run); :meth:`L2Mempool.expire` drops what waited more than ``tx_expiry`` L1 blocks
(rule ``tx-expiry``); the node securely deletes the content of evicted inferences.
:meth:`L2Mempool.select` takes, for a block, the highest-fee transaction among each sender's
next one, repeatedly (nonce order within a sender, fee order across senders), so a sender
that sorts first can no longer censor the others.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from funai.layer2.errors import L2Error
from funai.layer2.execution import BlockContext, apply_tx
from funai.layer2.state import L2State
from funai.layer2.transactions import L2Tx, TxKind
from funai.layer2.votes import Elected

__all__ = ["CURABLE", "MAX_NONCE_AHEAD", "MAX_PER_SENDER", "MAX_TXS", "L2Mempool", "spend_of"]

#: Most transactions one sender may have waiting.
MAX_PER_SENDER = 64
#: How far ahead of the account's nonce a waiting transaction's nonce may be.
MAX_NONCE_AHEAD = 128
#: Most transactions held in all.
MAX_TXS = 20_000


#: Rules a transaction may break now and still satisfy once other waiting transactions are
#: in a block (a vote for a model proposed in the same block, an inference by an executor
#: whose bond is on its way, a call to a contract being deployed): admitted, then kept or
#: dropped by expiry.
CURABLE = frozenset(
    {
        "model-vote-unknown",
        "model-vote-not-verifier",
        "inference-model-inactive",
        "inference-executor-unbonded",
        "contract-rejected",
        "contract-call-aborted",
    }
)


class _DryRunError(Exception):
    pass


def spend_of(tx: L2Tx) -> int:
    """What ``tx`` takes from its sender's balance: the fee plus the amount moved (the gas
    used for an inference)."""
    return tx.fee + tx.body.debit


@dataclass
class _Entry:
    tx: L2Tx
    added: int  # L1 height when admitted


class L2Mempool:
    """Transactions waiting for a block (see the module docstring). Dict-like by txid."""

    def __init__(
        self,
        max_txs: int = MAX_TXS,
        max_per_sender: int = MAX_PER_SENDER,
        max_ahead: int = MAX_NONCE_AHEAD,
    ) -> None:
        self.max_txs = max_txs
        self.max_per_sender = max_per_sender
        self.max_ahead = max_ahead
        self._txs: dict[bytes, _Entry] = {}
        self._by_sender: dict[bytes, dict[int, bytes]] = {}

    # --- mapping view ------------------------------------------------------------------
    def __contains__(self, txid: object) -> bool:
        return txid in self._txs

    def __len__(self) -> int:
        return len(self._txs)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._txs)

    def get(self, txid: bytes) -> L2Tx | None:
        e = self._txs.get(txid)
        return None if e is None else e.tx

    def values(self) -> list[L2Tx]:
        return [e.tx for e in self._txs.values()]

    def of_sender(self, account: bytes) -> list[L2Tx]:
        """The sender's held transactions in nonce order."""
        held = self._by_sender.get(account, {})
        return [self._txs[held[n]].tx for n in sorted(held)]

    # --- admission ---------------------------------------------------------------------
    def admit(
        self,
        tx: L2Tx,
        state: L2State,
        l1_height: int,
        *,
        verified: bool = False,
        elected: Elected | None = None,
    ) -> None:
        """Admits ``tx`` or raises L2Error naming the rule (nothing changes then)."""
        txid = tx.txid()
        if txid in self._txs:
            raise L2Error("mempool-duplicate", txid.hex())
        if tx.kind is TxKind.PEG_IN:
            raise L2Error("mempool-producer-only", "PEG_IN is included by the block producer")
        if not verified:
            tx.verify_signature(state.params.network_id)
        sender = tx.sender
        balance, nonce = state.account(sender)
        held = self._by_sender.get(sender, {})
        if tx.nonce < nonce:
            raise L2Error("mempool-stale-nonce", f"nonce {tx.nonce} < {nonce}")
        if tx.nonce >= nonce + self.max_ahead:
            raise L2Error("mempool-nonce-gap", f"nonce {tx.nonce} too far ahead of {nonce}")
        if tx.nonce in held:
            raise L2Error("mempool-conflict", f"nonce {tx.nonce} is taken by another tx")
        if len(held) >= self.max_per_sender:
            raise L2Error("mempool-sender-limit", f"{len(held)} transactions waiting")
        before = sum(spend_of(self._txs[t].tx) for n, t in held.items() if n < tx.nonce)
        if balance < before + spend_of(tx):
            raise L2Error(
                "mempool-insufficient-funds", f"needs {before + spend_of(tx)}, has {balance}"
            )
        if tx.nonce == nonce:
            self._dry_run(tx, state, elected)
        if len(self._txs) >= self.max_txs:
            victim = self._cheapest()
            if victim is None or self._txs[victim].tx.fee >= tx.fee:
                raise L2Error("mempool-full", "the mempool is full; pay a higher fee")
            self.remove([victim])
        self._txs[txid] = _Entry(tx, l1_height)
        self._by_sender.setdefault(sender, {})[tx.nonce] = txid

    @staticmethod
    def _dry_run(tx: L2Tx, state: L2State, elected: Elected | None) -> None:
        """Every consensus rule of the next block against the current state, rolled back."""
        ctx = BlockContext(state.height + 1, bytes(20), elected=elected)
        try:
            with state.atomic():
                apply_tx(state, tx, ctx)
                raise _DryRunError
        except _DryRunError:
            pass
        except L2Error as exc:
            if exc.rule not in CURABLE:
                raise

    def _cheapest(self) -> bytes | None:
        """The lowest-fee transaction whose removal leaves no gap (a sender's last one)."""
        best: tuple[int, int, bytes] | None = None
        for held in self._by_sender.values():
            last = held[max(held)]
            e = self._txs[last]
            key = (e.tx.fee, -e.added, last)
            if best is None or key < best:
                best = key
        return None if best is None else best[2]

    # --- removal -----------------------------------------------------------------------
    def remove(self, txids: list[bytes]) -> list[L2Tx]:
        """Drops ``txids`` (those held); returns the dropped transactions."""
        out = []
        for txid in txids:
            e = self._txs.pop(txid, None)
            if e is None:
                continue
            held = self._by_sender.get(e.tx.sender)
            if held is not None:
                held.pop(e.tx.nonce, None)
                if not held:
                    del self._by_sender[e.tx.sender]
            out.append(e.tx)
        return out

    def revalidate(self, state: L2State, elected: Elected | None = None) -> list[L2Tx]:
        """Evicts what the current state made invalid; returns the evicted transactions."""
        drop: list[bytes] = []
        for sender, held in list(self._by_sender.items()):
            balance, nonce = state.account(sender)
            spent = 0
            for n in sorted(held):
                tx = self._txs[held[n]].tx
                spent += spend_of(tx)
                if n < nonce or n >= nonce + self.max_ahead or spent > balance:
                    drop.append(held[n])
                    continue
                if n == nonce:
                    try:
                        self._dry_run(tx, state, elected)
                    except L2Error:
                        drop.append(held[n])
        return self.remove(drop)

    def expire(self, l1_height: int, expiry: int) -> list[L2Tx]:
        """Rule ``tx-expiry``: drops what waited more than ``expiry`` L1 blocks."""
        return self.remove([t for t, e in self._txs.items() if l1_height - e.added >= expiry])

    def readd(self, tx: L2Tx, l1_height: int) -> None:
        """Puts back a transaction of a disconnected block (checked by :meth:`revalidate`)."""
        txid = tx.txid()
        held = self._by_sender.setdefault(tx.sender, {})
        if txid in self._txs or tx.nonce in held:
            return
        self._txs[txid] = _Entry(tx, l1_height)
        held[tx.nonce] = txid

    # --- selection ---------------------------------------------------------------------
    def select(self, state: L2State, limit: int) -> list[L2Tx]:
        """Up to ``limit`` transactions for a block: each sender's in nonce order from its
        account nonce, across senders the highest fee first (ties: the earlier admitted)."""
        heap: list[tuple[int, int, bytes, bytes, int]] = []
        for sender, held in self._by_sender.items():
            nonce = state.account(sender)[1]
            if nonce in held:
                e = self._txs[held[nonce]]
                heapq.heappush(heap, (-e.tx.fee, e.added, held[nonce], sender, nonce))
        out: list[L2Tx] = []
        while heap and len(out) < limit:
            _, _, txid, sender, nonce = heapq.heappop(heap)
            out.append(self._txs[txid].tx)
            nxt = self._by_sender[sender].get(nonce + 1)
            if nxt is not None:
                e = self._txs[nxt]
                heapq.heappush(heap, (-e.tx.fee, e.added, nxt, sender, nonce + 1))
        return out
