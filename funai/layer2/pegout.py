"""The peg-out ceremony (DESIGN 4.8): the verifier quorum pays L2 withdrawals on L1 from the
locked pool. docs/layer2.md, section "Peg-out", states the rules; this is the node's side.

The peg pool of a verifier set is the L1 pay-to-quorum output (:mod:`funai.ledger.quorum`)
of its keys with ``m`` = its quorum; the L2 state records every set's pool (namespace
``pool``, rule ``pool``). :class:`PegOuts` keeps, beside the state (non-consensus tables in
``l2.sqlite``):

* the pool's L1 outputs on the active chain (every pay-to-quorum output; spent when a later
  L1 input consumes it; dropped or restored on an L1 reorg): rebuilt by re-feeding L1 after a
  restart, like peg-ins;
* the peg-out batches: for each finalized L2 block ``N``, in height order, every node
  deterministically builds the same L1 transaction (rule ``pegout-batch``):

  - withdrawals: the ``PEG_OUT`` transactions of finalized blocks ``<= N`` not in an
    earlier batch, in L2 order (at most :data:`MAX_OUTPUTS`, the oldest first);
  - the view: L1 as of ``X``, the L1 block that elected ``N`` (every node agrees on it);
    nothing if ``X`` is no longer on the active chain;
  - inputs: the pool outputs with at least ``confirmations`` confirmations at ``X`` (and
    L1 coinbase maturity for a coinbase's output) unspent at ``X``, paying a pool the state
    knew at ``N``, not spent by an earlier batch; sorted by ``(txid, index)``, at most
    :data:`MAX_INPUTS`;
  - outputs: each withdrawal pays ``amount - pegout_fee`` to its payout (L1 kind 0 or 1),
    then the change (if any) goes back to the pool of the set current at ``N``;
  - if the inputs do not cover the withdrawals, no batch: they wait for the next block;
  - version 1, lock time 0, no coinbase.

* signatures: a verifier (``can_sign``) whose key is in an input's pool signs that input's
  L1 sighash (network id = the L1 genesis hash) and gossips ``l2pegsig`` (rule
  ``pegout-signed-once``: it signs a withdrawal in at most one L1 transaction, recorded in
  ``l2_pegout_signed`` before the signature leaves the node); any node holding ``m`` valid
  signatures for every input assembles the witnesses and hands the transaction to L1
  (``emit_l1``); both are repeated every :data:`RESEND_AFTER` L1 blocks until the
  transaction is on the active chain. A withdrawal is paid once an active-chain L1 block
  holds its batch; an L1 reorg that drops it makes it unpaid again (the same transaction is
  sent again, so it can never be paid twice).

Rules for ``l2pegsig`` (the message is dropped): ``pegsig-not-verifier`` (the key is in no
known pool, or signs an input whose pool it is not in), ``pegsig-bad-signature``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from funai import _core
from funai.errors import MalformedInputError
from funai.layer2.block import L2Block
from funai.layer2.errors import L2Error
from funai.layer2.state import L2State
from funai.layer2.transactions import PegOutPayload
from funai.ledger.encoding import CborValue, decode, encode
from funai.ledger.maturity import is_mature
from funai.ledger.quorum import quorum_witness
from funai.ledger.tx import OutPoint, OutputKind, Transaction, TxIn, TxOut, sighash

__all__ = ["MAX_INPUTS", "MAX_OUTPUTS", "RESEND_AFTER", "Batch", "PegOuts", "PoolCoin"]

log = logging.getLogger("funai.layer2")

#: L1 blocks before a node gossips its signatures again, or hands an assembled batch to L1
#: again, while the batch is not on the active chain.
RESEND_AFTER = 3
#: Most pool outputs one batch spends (the first by (txid, index)): with 16-key pools its
#: witnesses stay under ~60 kB, so the default ``pegout_fee`` of one withdrawal meets the L1
#: relay fee of 1 unit per byte.
MAX_INPUTS = 50
#: Most withdrawals one batch pays (the rest wait for the next batch).
MAX_OUTPUTS = 500
#: Signatures kept for batches this node has not built yet (they usually arrive first).
MAX_EARLY = 64

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS l2_block_pools ("
    "hash BLOB PRIMARY KEY, height INTEGER, l1_height INTEGER, pool BLOB)",
    "CREATE TABLE IF NOT EXISTS l2_pegout_batches (txid BLOB PRIMARY KEY, l2_height INTEGER, "
    "data BLOB)",
    "CREATE TABLE IF NOT EXISTS l2_pegout_sigs (txid BLOB, key BLOB, sigs BLOB, "
    "PRIMARY KEY (txid, key))",
    "CREATE TABLE IF NOT EXISTS l2_pegout_signed (pegout BLOB PRIMARY KEY, l1_txid BLOB)",
    "CREATE TABLE IF NOT EXISTS l2_pegout_meta (name TEXT PRIMARY KEY, value INTEGER)",
)


@dataclass
class PoolCoin:
    """A pay-to-quorum output on the active L1 chain."""

    out: TxOut
    height: int  # L1 height of the block that made it
    coinbase: bool
    spent: int | None = None  # L1 height of the block that spent it
    spent_by: bytes | None = None


@dataclass
class Withdrawal:
    txid: bytes  # the PEG_OUT transaction
    amount: int
    kind: int
    payout: bytes


@dataclass
class Batch:
    """One peg-out L1 transaction and what this node knows of it."""

    tx: Transaction  # unsigned
    spent: list[TxOut]  # the pool output each input spends
    withdrawals: list[bytes]  # PEG_OUT txids, in output order
    l2_height: int  # the finalized L2 block that made it
    sigs: dict[bytes, list[bytes]] = field(default_factory=dict)  # key -> sig per input
    assembled: Transaction | None = None
    signed_at: int | None = None  # L1 height this node last gossiped its signatures
    sent_at: int | None = None  # L1 height this node last handed it to L1
    paid: tuple[int, bytes] | None = None  # (L1 height, L1 block hash) on the active chain

    @property
    def txid(self) -> bytes:
        return self.tx.txid()


def _verify(key: bytes, msg: bytes, sig: bytes) -> bool:
    try:
        return _core.schnorr_verify(key, msg, sig)
    except MalformedInputError:
        return False


class PegOuts:
    """One node's side of the peg-out ceremony (see the module docstring)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        state: L2State,
        sk: bytes,
        *,
        blocks: Mapping[bytes, L2Block],
        finalized: Callable[[bytes], bool],
        can_sign: Callable[[], bool],
        emit_msg: Callable[[Transaction, bytes, list[bytes]], None],
        emit_l1: Callable[[Transaction], None],
    ) -> None:
        self.conn = conn
        self.state = state
        self.params = state.params
        self.sk = sk
        self.key = _core.schnorr_public_key(sk)
        self.blocks = blocks
        self.finalized = finalized
        self.can_sign = can_sign
        self.emit_msg = emit_msg
        self.emit_l1 = emit_l1
        self.coins: dict[OutPoint, PoolCoin] = {}
        self.active: dict[int, bytes] = {}  # L1 height -> hash on the active chain
        self.l1_height = 0
        self.batches: dict[bytes, Batch] = {}
        self.batch_of: dict[bytes, bytes] = {}  # PEG_OUT txid -> batch txid
        self.reserved: set[OutPoint] = set()  # inputs of every batch
        self.queue: list[Withdrawal] = []  # scanned, not in a batch yet
        self.early: dict[bytes, dict[bytes, list[bytes]]] = {}
        self.refused: set[bytes] = set()  # batches this node will not sign (signed-once)
        #: L2 block height -> (hash, L1 height of its election, pool current after it)
        self.index: dict[int, tuple[bytes, int, bytes]] = {}
        for ddl in _SCHEMA:
            conn.execute(ddl)
        self._load()

    # --- persistence -----------------------------------------------------------------------
    def _load(self) -> None:
        for h, height, l1_height, pool in self.conn.execute(
            "SELECT hash, height, l1_height, pool FROM l2_block_pools"
        ):
            self.index[int(height)] = (bytes(h), int(l1_height), bytes(pool))
        row = self.conn.execute(
            "SELECT value FROM l2_pegout_meta WHERE name = 'scanned'"
        ).fetchone()
        self.scanned = -1 if row is None else int(row[0])
        for l2_height, data in self.conn.execute(
            "SELECT l2_height, data FROM l2_pegout_batches ORDER BY l2_height"
        ):
            raw, spent, withdrawals = decode(bytes(data))
            batch = Batch(
                Transaction.deserialize(bytes(raw)),
                [TxOut.from_cbor(o) for o in spent],
                [bytes(w) for w in withdrawals],
                int(l2_height),
            )
            self._index_batch(batch)
        for txid, key, sigs in self.conn.execute("SELECT txid, key, sigs FROM l2_pegout_sigs"):
            b = self.batches.get(bytes(txid))
            if b is not None:
                b.sigs[bytes(key)] = [bytes(s) for s in decode(bytes(sigs))]
        for b in self.batches.values():
            self._try_assemble(b, emit=False)
        # withdrawals of scanned blocks that no batch took yet
        for height in range(self.scanned + 1):
            entry = self.index.get(height)
            block = None if entry is None else self.blocks.get(entry[0])
            if block is not None:
                self.queue += [w for w in _withdrawals(block) if w.txid not in self.batch_of]

    def _index_batch(self, batch: Batch) -> None:
        self.batches[batch.txid] = batch
        for w in batch.withdrawals:
            self.batch_of[w] = batch.txid
        self.reserved.update(i.prevout for i in batch.tx.inputs)

    def note_block(self, block: L2Block, l1_height: int) -> None:
        """An L2 block was applied (call inside its storage transaction): remembers its
        height, election and the pool current after it (a batch's change goes there)."""
        h = block.header.height
        entry = (block.hash(), l1_height, self.state.current_pool())
        self.index[h] = entry
        self.conn.execute(
            "INSERT OR REPLACE INTO l2_block_pools (hash, height, l1_height, pool) "
            "VALUES (?, ?, ?, ?)",
            (entry[0], h, l1_height, entry[2]),
        )

    # --- L1 ---------------------------------------------------------------------------------
    def connect_l1(self, l1_hash: bytes, height: int, txs: list[Transaction]) -> None:
        """An L1 block joined the active chain: pool outputs made and spent, batches paid."""
        self.active[height] = l1_hash
        self.l1_height = height
        for tx in txs:
            txid = tx.txid()
            for txin in tx.inputs:
                coin = self.coins.get(txin.prevout)
                if coin is not None and coin.spent is None:
                    coin.spent, coin.spent_by = height, txid
            batch = self.batches.get(txid)
            if batch is not None and batch.paid is None:
                batch.paid = (height, l1_hash)
                log.info(
                    "peg-out batch paid on L1",
                    extra={"fields": {"l1_txid": txid[::-1].hex(), "l1_height": height}},
                )
            for index, out in enumerate(tx.outputs):
                if out.kind == OutputKind.PAY_TO_QUORUM and out.value > 0:
                    self.coins[OutPoint(txid, index)] = PoolCoin(out, height, tx.is_coinbase)

    def disconnect_l1(self, height: int) -> None:
        """L1 blocks from ``height`` up left the active chain."""
        for h in [h for h in self.active if h >= height]:
            del self.active[h]
        self.coins = {op: c for op, c in self.coins.items() if c.height < height}
        for c in self.coins.values():
            if c.spent is not None and c.spent >= height:
                c.spent, c.spent_by = None, None
        for b in self.batches.values():
            if b.paid is not None and b.paid[0] >= height:
                b.paid = None
                b.sent_at = None  # unpaid again: send it again at once
        self.l1_height = min(self.l1_height, height - 1)

    def pool_coins(self) -> list[tuple[OutPoint, PoolCoin]]:
        """Unspent pay-to-quorum outputs on the active chain that pay a known pool."""
        return sorted(
            (
                (op, c)
                for op, c in self.coins.items()
                if c.spent is None and self.state.pool(c.out.payload) is not None
            ),
            key=lambda oc: (oc[0].txid, oc[0].index),
        )

    # --- batches ------------------------------------------------------------------------------
    def advance(self) -> None:
        """Builds the batches of newly finalized L2 blocks, in height order (rule
        ``pegout-batch``), signs and assembles what it can."""
        while True:
            entry = self.index.get(self.scanned + 1)
            if entry is None or not self.finalized(entry[0]):
                return
            bh, l1_height, pool = entry
            block = self.blocks.get(bh)
            if block is None:
                return
            if l1_height > self.l1_height:
                return  # its L1 block is not back yet (catching up after a restart)
            height = self.scanned + 1
            self.queue += _withdrawals(block)
            batch = None
            if self.queue and self.active.get(l1_height) == block.header.l1_block:
                batch = self._build(height, l1_height, pool)
            with self.state.atomic():
                if batch is not None:
                    self.conn.execute(
                        "INSERT OR REPLACE INTO l2_pegout_batches (txid, l2_height, data) "
                        "VALUES (?, ?, ?)",
                        (
                            batch.txid,
                            height,
                            encode(
                                [
                                    batch.tx.serialize(),
                                    [o.to_cbor() for o in batch.spent],
                                    list(batch.withdrawals),
                                ]
                            ),
                        ),
                    )
                self.conn.execute(
                    "INSERT OR REPLACE INTO l2_pegout_meta (name, value) VALUES ('scanned', ?)",
                    (height,),
                )
            self.scanned = height
            if batch is None:
                continue
            self.queue = self.queue[len(batch.withdrawals) :]
            self._index_batch(batch)
            for coin in self.coins.values():
                if coin.spent_by == batch.txid and coin.spent is not None:
                    batch.paid = (coin.spent, self.active.get(coin.spent, bytes(32)))
            log.info(
                "peg-out batch",
                extra={
                    "fields": {
                        "l1_txid": batch.txid[::-1].hex(),
                        "l2_height": height,
                        "withdrawals": len(batch.withdrawals),
                        "inputs": len(batch.spent),
                    }
                },
            )
            self._sign(batch)
            for key, sigs in self.early.pop(batch.txid, {}).items():
                try:
                    self._add_sigs(batch, key, sigs)
                except L2Error as exc:
                    log.info("dropped early peg-out signatures: %s", exc)
            self._try_assemble(batch)

    def _eligible(self, op: OutPoint, c: PoolCoin, as_of: int, l2_height: int) -> bool:
        p = self.params
        if op in self.reserved or c.height > as_of - p.confirmations + 1:
            return False
        if not is_mature(c.height, c.coinbase, as_of + 1, p.l1_coinbase_maturity):
            return False  # the batch is spent in a block after ``as_of``
        if c.spent is not None and c.spent <= as_of:
            return False
        known = self.state.pool(c.out.payload)
        return known is not None and known[2] <= l2_height

    def _build(self, l2_height: int, as_of: int, pool: bytes) -> Batch | None:
        chosen = self.queue[:MAX_OUTPUTS]
        need = sum(w.amount for w in chosen)
        coins = sorted(
            (op for op, c in self.coins.items() if self._eligible(op, c, as_of, l2_height)),
            key=lambda op: (op.txid, op.index),
        )[:MAX_INPUTS]
        total = sum(self.coins[op].out.value for op in coins)
        if total < need:
            log.info(
                "peg-out waits for the pool",
                extra={"fields": {"needed": need, "pool": total, "l2_height": l2_height}},
            )
            return None
        fee = self.params.pegout_fee
        outputs = [TxOut(w.kind, w.amount - fee, w.payout) for w in chosen]
        if total > need:
            outputs.append(TxOut(int(OutputKind.PAY_TO_QUORUM), total - need, pool))
        tx = Transaction(1, tuple(TxIn(op) for op in coins), tuple(outputs), 0, None, ())
        return Batch(tx, [self.coins[op].out for op in coins], [w.txid for w in chosen], l2_height)

    def _sighash(self, batch: Batch, index: int) -> bytes:
        return sighash(batch.tx, index, batch.spent, self.params.network_id)

    def _sign(self, batch: Batch) -> None:
        """Rule ``pegout-signed-once``: signs every input whose pool holds this node's key,
        unless a withdrawal of the batch was signed in another L1 transaction."""
        if batch.paid is not None or self.key in batch.sigs or not self.can_sign():
            return
        if batch.txid in self.refused:
            return
        members = []
        for out in batch.spent:
            known = self.state.pool(out.payload)
            members.append(known is not None and self.key in known[1])
        if not any(members):
            return
        for w in batch.withdrawals:
            other = self.signed(w)
            if other is not None and other != batch.txid:
                self.refused.add(batch.txid)
                log.warning(
                    "pegout-signed-once: refusing to sign a withdrawal twice",
                    extra={"fields": {"pegout": w.hex(), "signed_in": other[::-1].hex()}},
                )
                return
        sigs = [
            _core.schnorr_sign(self.sk, self._sighash(batch, i)) if member else b""
            for i, member in enumerate(members)
        ]
        with self.state.atomic():  # recorded before the signatures leave this node
            self.conn.executemany(
                "INSERT OR IGNORE INTO l2_pegout_signed (pegout, l1_txid) VALUES (?, ?)",
                [(w, batch.txid) for w in batch.withdrawals],
            )
            self._add_sigs(batch, self.key, sigs)
        self.emit_msg(batch.tx, self.key, sigs)
        batch.signed_at = self.l1_height

    def signed(self, pegout_txid: bytes) -> bytes | None:
        """The L1 transaction this node signed ``pegout_txid`` in, if any."""
        row = self.conn.execute(
            "SELECT l1_txid FROM l2_pegout_signed WHERE pegout = ?", (pegout_txid,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    # --- signatures ---------------------------------------------------------------------------
    def _known_signer(self, key: bytes) -> bool:
        return any(key in [bytes(k) for k in v[1]] for _, v in self.state.scan("pool"))

    def receive(self, tx: Transaction, key: bytes, sigs: list[bytes]) -> None:
        """An ``l2pegsig`` from the network; raises on an invalid one (nothing changes)."""
        if tx.is_coinbase or tx.witnesses or not tx.inputs:
            raise MalformedInputError("l2pegsig carries an unsigned, non-coinbase transaction")
        if len(sigs) != len(tx.inputs) or any(len(s) not in (0, 64) for s in sigs):
            raise MalformedInputError("l2pegsig needs one 64-byte or empty signature per input")
        if not any(sigs):
            raise MalformedInputError("l2pegsig without a signature")
        if not self._known_signer(key):
            raise L2Error("pegsig-not-verifier", f"{key.hex()} is in no known pool")
        batch = self.batches.get(tx.txid())
        if batch is None:
            if tx.txid() not in self.early and len(self.early) >= MAX_EARLY:
                del self.early[next(iter(self.early))]  # the oldest (signers re-send)
            self.early.setdefault(tx.txid(), {})[key] = list(sigs)
            return
        self._add_sigs(batch, key, sigs)
        self._try_assemble(batch)

    def _add_sigs(self, batch: Batch, key: bytes, sigs: list[bytes]) -> None:
        """Checks ``key``'s signatures over ``batch`` and keeps them."""
        if len(sigs) != len(batch.spent):
            raise MalformedInputError("one signature per input")
        for i, sig in enumerate(sigs):
            if not sig:
                continue
            known = self.state.pool(batch.spent[i].payload)
            if known is None or key not in known[1]:
                raise L2Error("pegsig-not-verifier", f"{key.hex()} is not in input {i}'s pool")
            if not _verify(key, self._sighash(batch, i), sig):
                raise L2Error("pegsig-bad-signature", f"input {i}")
        merged = list(batch.sigs.get(key, [b""] * len(sigs)))
        for i, sig in enumerate(sigs):
            if sig:
                merged[i] = sig
        batch.sigs[key] = merged
        self.conn.execute(
            "INSERT OR REPLACE INTO l2_pegout_sigs (txid, key, sigs) VALUES (?, ?, ?)",
            (batch.txid, key, encode(list(merged))),
        )

    def _try_assemble(self, batch: Batch, *, emit: bool = True) -> None:
        if batch.assembled is not None:
            return
        witnesses = []
        for i, out in enumerate(batch.spent):
            known = self.state.pool(out.payload)
            if known is None:
                return
            m, keys, _ = known
            have = {k: batch.sigs[k][i] for k in keys if k in batch.sigs and batch.sigs[k][i]}
            if len(have) < m:
                return
            witnesses.append(quorum_witness(m, keys, dict(sorted(have.items())[:m])))
        batch.assembled = batch.tx.with_witnesses(tuple(witnesses))
        if emit and batch.paid is None:
            self.emit_l1(batch.assembled)
            batch.sent_at = self.l1_height

    def tick(self) -> None:
        """After each L1 block: sign batches not signed yet (a verifier whose models just
        loaded), and re-send signatures and assembled batches not on the active chain after
        :data:`RESEND_AFTER` blocks."""
        for batch in self.batches.values():
            if batch.paid is not None:
                continue
            if self.key not in batch.sigs:
                self._sign(batch)
            elif self.can_sign() and (
                batch.signed_at is None or self.l1_height - batch.signed_at >= RESEND_AFTER
            ):
                self.emit_msg(batch.tx, self.key, batch.sigs[self.key])
                batch.signed_at = self.l1_height
            if batch.assembled is not None and (
                batch.sent_at is None or self.l1_height - batch.sent_at >= RESEND_AFTER
            ):
                self.emit_l1(batch.assembled)
                batch.sent_at = self.l1_height

    # --- queries ------------------------------------------------------------------------------
    def status(self, pegout_txid: bytes) -> dict[str, CborValue]:
        """Where a withdrawal in an applied block is: ``requested`` (waiting for its block's
        QC or for the pool), ``signed`` (in a batch, collecting signatures), ``broadcast``
        (assembled and handed to L1), ``paid`` (its batch is on the active L1 chain)."""
        out: dict[str, CborValue] = {
            "status": "requested",
            "l1_txid": None,
            "signers": 0,
            "needed": None,
            "signed_by_me": self.signed(pegout_txid) is not None,
            "broadcast": False,
            "paid": False,
            "l1_height": None,
            "confirmations": None,
        }
        btx = self.batch_of.get(pegout_txid)
        if btx is None:
            return out
        batch = self.batches[btx]
        needed = [known[0] for o in batch.spent if (known := self.state.pool(o.payload))]
        out.update(
            {
                "status": "signed",
                "l1_txid": btx,
                "signers": len([k for k, s in batch.sigs.items() if any(s)]),
                "needed": max(needed) if needed else None,
                "broadcast": batch.assembled is not None,
            }
        )
        if batch.assembled is not None:
            out["status"] = "broadcast"
        if batch.paid is not None:
            out.update(
                {
                    "status": "paid",
                    "paid": True,
                    "l1_height": batch.paid[0],
                    "confirmations": self.l1_height - batch.paid[0] + 1,
                }
            )
        return out

    def pending_inputs(self) -> int:
        """Base units in pool outputs not yet spent by a batch (for the status)."""
        return sum(c.out.value for op, c in self.pool_coins() if op not in self.reserved)


def _withdrawals(block: L2Block) -> list[Withdrawal]:
    return [
        Withdrawal(t.txid(), b.amount, b.payout_kind, b.payout)
        for t in block.txs
        if isinstance(b := t.body, PegOutPayload)
    ]
