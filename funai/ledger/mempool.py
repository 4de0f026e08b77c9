"""The mempool of L1 transactions waiting for a block.

* Admission runs every consensus check against the chainstate's UTXO set plus the outputs
  of transactions already in the pool (chains of unconfirmed transactions are allowed),
  then the policy: not a coinbase, fee rate >= ``min_relay_fee_rate`` (base units per byte),
  no conflict with a pool transaction (first seen wins; no replacement).
* Size bound: when the pool would exceed ``mempool_max_bytes``, the lowest fee-rate
  transactions (with their descendants) are evicted if they pay less per byte than the
  newcomer, otherwise the newcomer is refused (``mempool-full``).
* Blocks: connecting a block removes its transactions and everything that conflicts with
  them; disconnecting blocks (a reorg) puts their transactions back, then the whole pool is
  re-validated against the new tip.
* Block templates take transactions in fee-rate order, parents before children.
* The pool is persisted in the chainstate database (table ``mempool``) so that a wallet in
  one process and a miner in another share it; it is not consensus data.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from fractions import Fraction

from funai.ledger.block import Block
from funai.ledger.chainstate import Chainstate
from funai.ledger.errors import ConsensusError, MempoolError
from funai.ledger.tx import OutPoint, OutputKind, Transaction
from funai.ledger.validation import Coin, check_transaction, check_tx_inputs

__all__ = ["Mempool", "MempoolEntry"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS mempool("
    "txid BLOB PRIMARY KEY, data BLOB NOT NULL, seq INTEGER NOT NULL)"
)


@dataclass(slots=True)
class MempoolEntry:
    """A transaction in the pool with its fee and size."""

    tx: Transaction
    fee: int
    size: int
    seq: int
    parents: set[bytes] = field(default_factory=set)

    def better_than(self, other: MempoolEntry) -> bool:
        """Higher fee rate (exact: cross-multiplied integers)."""
        return self.fee * other.size > other.fee * self.size


class Mempool:
    """Unconfirmed transactions, kept consistent with a :class:`Chainstate`."""

    def __init__(
        self, chain: Chainstate, *, max_bytes: int | None = None, persist: bool = True
    ) -> None:
        self.chain = chain
        self.params = chain.params
        self.max_bytes = self.params.mempool_max_bytes if max_bytes is None else max_bytes
        self.persist = persist
        self.entries: dict[bytes, MempoolEntry] = {}
        self.spends: dict[OutPoint, bytes] = {}
        self.total_bytes = 0
        self._seq = 0
        self._disconnected: list[Transaction] = []
        chain.on_connect.append(self._block_connected)
        chain.on_disconnect.append(self._block_disconnected)
        chain.on_reorg_done.append(self._reorg_done)
        if persist:
            chain.db.execute(_SCHEMA)
            self.reload()

    # --- queries ------------------------------------------------------------------------

    def __contains__(self, txid: bytes) -> bool:
        return txid in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def _coin(self, op: OutPoint) -> Coin | None:
        parent = self.entries.get(op.txid)
        if parent is not None:
            if op.index >= len(parent.tx.outputs) or op in self.spends:
                return None
            out = parent.tx.outputs[op.index]
            return None if out.kind == OutputKind.DATA else Coin(out, self.chain.height + 1, False)
        return self.chain.get_coin(op)

    # --- admission ----------------------------------------------------------------------

    def accept(self, tx: Transaction) -> MempoolEntry:
        """Adds ``tx`` or raises :class:`MempoolError` naming the rule; changes nothing then."""
        txid = tx.txid()
        if txid in self.entries:
            raise MempoolError("txn-already-in-mempool")
        if tx.is_coinbase:
            raise MempoolError("coinbase", "a coinbase is only valid in a block")
        try:
            check_transaction(tx, self.params)
            for txin in tx.inputs:
                if txin.prevout in self.spends:
                    raise MempoolError(
                        "txn-mempool-conflict", "an input is spent by a pool transaction"
                    )
            fee, _ = check_tx_inputs(
                tx, self.chain.height + 1, self._coin, self.params, self.chain.genesis_hash
            )
        except MempoolError:
            raise
        except ConsensusError as exc:
            raise MempoolError(exc.rule, exc.detail) from None
        size = tx.size
        if fee < size * self.params.min_relay_fee_rate:
            raise MempoolError("min-fee-not-met", f"fee {fee} for {size} bytes")
        entry = MempoolEntry(
            tx,
            fee,
            size,
            self._seq,
            {i.prevout.txid for i in tx.inputs if i.prevout.txid in self.entries},
        )
        self._make_room(entry)
        self._add(entry)
        return entry

    def _make_room(self, newcomer: MempoolEntry) -> None:
        if newcomer.size > self.max_bytes:
            raise MempoolError("mempool-full", "transaction larger than the pool")
        victims: set[bytes] = set()
        freed = 0
        for entry in sorted(self.entries.values(), key=lambda e: (Fraction(e.fee, e.size), -e.seq)):
            if self.total_bytes - freed + newcomer.size <= self.max_bytes:
                break
            if entry.tx.txid() in victims:
                continue
            if not newcomer.better_than(entry) or entry.tx.txid() in newcomer.parents:
                raise MempoolError("mempool-full", "fee rate too low to enter a full pool")
            for txid in self._with_descendants(entry.tx.txid()):
                if txid not in victims:
                    victims.add(txid)
                    freed += self.entries[txid].size
        if self.total_bytes - freed + newcomer.size > self.max_bytes:
            raise MempoolError("mempool-full")
        if any(p in victims for p in newcomer.parents):
            raise MempoolError("mempool-full", "would evict its own parent")
        for txid in victims:
            self._remove(txid)

    def _add(self, entry: MempoolEntry) -> None:
        txid = entry.tx.txid()
        self.entries[txid] = entry
        self._seq += 1
        for txin in entry.tx.inputs:
            self.spends[txin.prevout] = txid
        self.total_bytes += entry.size
        if self.persist:
            self.chain.db.execute(
                "INSERT OR REPLACE INTO mempool VALUES (?, ?, ?)",
                (txid, entry.tx.serialize(), entry.seq),
            )

    def _with_descendants(self, txid: bytes) -> list[bytes]:
        out: list[bytes] = []
        stack = [txid]
        seen: set[bytes] = set()
        while stack:
            t = stack.pop()
            if t in seen or t not in self.entries:
                continue
            seen.add(t)
            out.append(t)
            tx = self.entries[t].tx
            for i in range(len(tx.outputs)):
                child = self.spends.get(OutPoint(t, i))
                if child is not None:
                    stack.append(child)
        return out

    def _remove(self, txid: bytes) -> None:
        entry = self.entries.pop(txid, None)
        if entry is None:
            return
        for txin in entry.tx.inputs:
            if self.spends.get(txin.prevout) == txid:
                del self.spends[txin.prevout]
        self.total_bytes -= entry.size
        if self.persist:
            self.chain.db.execute("DELETE FROM mempool WHERE txid = ?", (txid,))

    def remove(self, txid: bytes) -> None:
        """Removes a transaction and its descendants."""
        for t in self._with_descendants(txid):
            self._remove(t)

    # --- blocks -------------------------------------------------------------------------

    def _block_connected(self, block: Block, height: int) -> None:
        for tx in block.txs[1:]:
            txid = tx.txid()
            if txid in self.entries:
                self._remove(txid)
                for entry in self.entries.values():
                    entry.parents.discard(txid)
            for txin in tx.inputs:
                conflict = self.spends.get(txin.prevout)
                if conflict is not None:
                    self.remove(conflict)

    def _block_disconnected(self, block: Block, height: int) -> None:
        self._disconnected[:0] = list(block.txs[1:])  # older blocks' transactions first

    def _reorg_done(self) -> None:
        readd, self._disconnected = self._disconnected, []
        keep = sorted(self.entries.values(), key=lambda e: e.seq)
        for entry in keep:
            self._remove(entry.tx.txid())
        for tx in readd + [e.tx for e in keep]:
            with contextlib.suppress(MempoolError):
                self.accept(tx)

    def reload(self) -> None:
        """Admits transactions another process wrote to the shared table (drops invalid ones)."""
        rows = self.chain.db.execute("SELECT txid, data FROM mempool ORDER BY seq").fetchall()
        for txid, data in rows:
            if bytes(txid) in self.entries:
                continue
            self.chain.db.execute("DELETE FROM mempool WHERE txid = ?", (txid,))
            try:
                self.accept(Transaction.deserialize(bytes(data)))
            except (MempoolError, ValueError):
                continue

    # --- templates ----------------------------------------------------------------------

    def select(self, max_bytes: int) -> list[MempoolEntry]:
        """Transactions for a block: highest fee rate first, parents before children."""
        ordered = sorted(self.entries.values(), key=lambda e: (-Fraction(e.fee, e.size), e.seq))
        chosen: list[MempoolEntry] = []
        included: set[bytes] = set()
        used = 0
        progress = True
        while progress:
            progress = False
            for entry in ordered:
                txid = entry.tx.txid()
                if txid in included or used + entry.size > max_bytes:
                    continue
                if entry.parents - included:
                    continue
                chosen.append(entry)
                included.add(txid)
                used += entry.size
                progress = True
        return chosen
