"""The chainstate: block index, blocks, UTXO set and undo data in SQLite, with fork choice.

* Every block that passes the context-free and header checks is stored (index + body) in
  one transaction; the active chain then moves to the stored block with the most cumulative
  work (ties: the first seen), disconnecting blocks with their undo data (reorgs of any
  depth) and connecting the new branch, **one storage transaction per block** (UTXO
  changes, undo data and the active-chain entry together). A crash at any moment leaves a
  consistent chain; on restart :meth:`Chainstate.activate_best_chain` finishes the switch.
* A block that fails connection is marked invalid with all its descendants, and the chain
  falls back to the best remaining branch.
* Blocks whose parent is unknown wait in a bounded orphan pool (oldest evicted first).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from funai.errors import MalformedInputError
from funai.ledger.block import Block
from funai.ledger.compact import block_work, decode_compact, median_time_past
from funai.ledger.encoding import decode, encode
from funai.ledger.errors import ConsensusError
from funai.ledger.genesis import genesis_block, genesis_hash
from funai.ledger.header import BlockHeader
from funai.ledger.params import ChainParams
from funai.ledger.tx import OutPoint, OutputKind, TxOut
from funai.ledger.validation import (
    Coin,
    HeaderContext,
    check_block,
    check_header_context,
    connect_block_txs,
    expected_bits,
    header_context,
)
from funai.storage.sqlite import connect, transaction

__all__ = ["Chainstate", "IndexEntry"]

VALID = 0
INVALID = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS block_index(
    hash BLOB PRIMARY KEY, prev BLOB NOT NULL, height INTEGER NOT NULL,
    header BLOB NOT NULL, chain_work BLOB NOT NULL, status INTEGER NOT NULL,
    seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blocks(hash BLOB PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS undo(hash BLOB PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS utxo(
    outpoint BLOB PRIMARY KEY, kind INTEGER NOT NULL, value INTEGER NOT NULL,
    payload BLOB NOT NULL, height INTEGER NOT NULL, coinbase INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS utxo_payload ON utxo(payload);
CREATE TABLE IF NOT EXISTS active(height INTEGER PRIMARY KEY, hash BLOB NOT NULL);
"""


@dataclass(slots=True)
class IndexEntry:
    """A stored block's place in the block tree."""

    hash: bytes
    prev: bytes
    height: int
    header: BlockHeader
    chain_work: int
    status: int
    seq: int


def _coin_row(op: OutPoint, coin: Coin) -> tuple[bytes, int, int, bytes, int, int]:
    o = coin.out
    return (op.key(), o.kind, o.value, o.payload, coin.height, int(coin.coinbase))


def _row_coin(row: tuple[int, int, bytes, int, int]) -> Coin:
    kind, value, payload, height, coinbase = row
    return Coin(TxOut(kind, value, bytes(payload)), height, bool(coinbase))


def _outpoint(key: bytes) -> OutPoint:
    return OutPoint(key[:32], int.from_bytes(key[32:], "big"))


class Chainstate:
    """The node's view of the ledger chain, persisted in ``path`` (an SQLite database)."""

    def __init__(
        self,
        path: Path,
        params: ChainParams,
        *,
        clock: Callable[[], float] = time.time,
        synchronous: str = "FULL",
    ) -> None:
        self.params = params
        self.path = path
        self.clock = clock
        self.genesis_hash = genesis_hash(params)
        self.db = connect(path, synchronous=synchronous)
        self.db.executescript(_SCHEMA)
        self.index: dict[bytes, IndexEntry] = {}
        self.children: dict[bytes, set[bytes]] = {}
        self.active: list[bytes] = []
        self.orphans: OrderedDict[bytes, Block] = OrderedDict()
        self.on_connect: list[Callable[[Block, int], None]] = []
        self.on_disconnect: list[Callable[[Block, int], None]] = []
        self.on_reorg_done: list[Callable[[], None]] = []
        self._seq = 0
        self._best: IndexEntry | None = None
        self._load()

    # --- startup ------------------------------------------------------------------------

    def _load(self) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'genesis'").fetchone()
        if row is None:
            self._init_genesis()
        elif bytes(row[0]) != self.genesis_hash:
            raise MalformedInputError(f"{self.path} holds another network's chain")
        for h, prev, height, header, work, status, seq in self.db.execute(
            "SELECT hash, prev, height, header, chain_work, status, seq FROM block_index"
        ):
            entry = IndexEntry(
                bytes(h),
                bytes(prev),
                height,
                BlockHeader.parse(bytes(header)),
                int.from_bytes(work, "big"),
                status,
                seq,
            )
            self.index[entry.hash] = entry
            self.children.setdefault(entry.prev, set()).add(entry.hash)
            self._seq = max(self._seq, seq + 1)
        self.active = [
            bytes(h) for (h,) in self.db.execute("SELECT hash FROM active ORDER BY height")
        ]
        # Finish a fork switch a crash may have interrupted.
        self.activate_best_chain()

    def _init_genesis(self) -> None:
        genesis = genesis_block(self.params)
        work = block_work(decode_compact(genesis.header.bits).target)
        with transaction(self.db):
            self.db.execute("INSERT INTO meta VALUES ('genesis', ?)", (self.genesis_hash,))
            self.db.execute(
                "INSERT INTO block_index VALUES (?, ?, 0, ?, ?, ?, 0)",
                (
                    self.genesis_hash,
                    bytes(32),
                    genesis.header.serialize(),
                    work.to_bytes(32, "big"),
                    VALID,
                ),
            )
            self.db.execute(
                "INSERT INTO blocks VALUES (?, ?)", (self.genesis_hash, genesis.serialize())
            )
            self.db.execute("INSERT INTO undo VALUES (?, ?)", (self.genesis_hash, encode([])))
            self.db.execute("INSERT INTO active VALUES (0, ?)", (self.genesis_hash,))

    def close(self) -> None:
        self.db.close()

    # --- queries ------------------------------------------------------------------------

    @property
    def tip(self) -> IndexEntry:
        return self.index[self.active[-1]]

    @property
    def height(self) -> int:
        return len(self.active) - 1

    def get_block(self, block_hash: bytes) -> Block | None:
        row = self.db.execute("SELECT data FROM blocks WHERE hash = ?", (block_hash,)).fetchone()
        return None if row is None else Block.deserialize(bytes(row[0]))

    def block_at(self, height: int) -> Block | None:
        if not 0 <= height < len(self.active):
            return None
        return self.get_block(self.active[height])

    def is_active(self, block_hash: bytes) -> bool:
        entry = self.index.get(block_hash)
        return (
            entry is not None
            and entry.height < len(self.active)
            and (self.active[entry.height] == block_hash)
        )

    def get_coin(self, op: OutPoint) -> Coin | None:
        row = self.db.execute(
            "SELECT kind, value, payload, height, coinbase FROM utxo WHERE outpoint = ?",
            (op.key(),),
        ).fetchone()
        return None if row is None else _row_coin(row)

    def coins_for_payloads(self, payloads: list[bytes]) -> Iterator[tuple[OutPoint, Coin]]:
        """Unspent outputs locked to any of ``payloads`` (wallet scans)."""
        for payload in payloads:
            for key, kind, value, p, height, cb in self.db.execute(
                "SELECT outpoint, kind, value, payload, height, coinbase FROM utxo "
                "WHERE payload = ?",
                (payload,),
            ):
                yield _outpoint(bytes(key)), _row_coin((kind, value, p, height, cb))

    def utxo_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM utxo").fetchone()[0])

    def utxo_set_hash(self) -> bytes:
        """SHA-256 over the whole UTXO set in outpoint order (equal sets, equal hashes)."""
        h = hashlib.sha256()
        for key, kind, value, payload, height, cb in self.db.execute(
            "SELECT outpoint, kind, value, payload, height, coinbase FROM utxo ORDER BY outpoint"
        ):
            h.update(bytes(key) + bytes([kind]) + value.to_bytes(8, "big"))
            h.update(len(payload).to_bytes(2, "big") + bytes(payload))
            h.update(height.to_bytes(4, "big") + bytes([cb]))
        return h.digest()

    def ancestor(self, entry: IndexEntry, height: int) -> IndexEntry:
        """The ancestor of ``entry`` at ``height``."""
        while entry.height > height:
            if self.is_active(entry.hash):
                return self.index[self.active[height]]
            entry = self.index[entry.prev]
        return entry

    def median_time_past(self, entry: IndexEntry) -> int:
        times = []
        cur: IndexEntry | None = entry
        for _ in range(self.params.rules.mtp_span):
            if cur is None:
                break
            times.append(cur.header.time)
            cur = self.index.get(cur.prev) if cur.height > 0 else None
        return median_time_past(times)

    def header_context(self, prev: IndexEntry) -> HeaderContext:
        """The context a child of ``prev`` is checked against."""
        return header_context(self.params.rules, prev, self.index.get, self.ancestor)

    def next_bits(self, prev: IndexEntry | None = None) -> int:
        """The bits a child of ``prev`` (default: the tip) must carry."""
        return expected_bits(self.params.rules, self.header_context(prev or self.tip))

    # --- submission ---------------------------------------------------------------------

    def submit_block(self, block: Block) -> str:
        """Validates and stores a block and moves to the best chain.

        Returns ``"connected"`` (it is the new tip), ``"side"`` (stored on a branch with less
        work), ``"orphan"`` (parent unknown; kept in the orphan pool) or ``"duplicate"``.
        Raises :class:`ConsensusError` for an invalid block (nothing is changed).
        """
        block_hash = block.hash()
        if block_hash in self.index or block_hash in self.orphans:
            return "duplicate"
        check_block(block, self.params)
        if block.header.prev_hash not in self.index:
            self._add_orphan(block)
            return "orphan"
        failures = self._accept(block)
        # Children that were waiting for this block.
        pending = [block_hash]
        while pending:
            parent = pending.pop()
            for child_hash in [h for h, b in self.orphans.items() if b.header.prev_hash == parent]:
                child = self.orphans.pop(child_hash)
                try:
                    failures.update(self._accept(child))
                except ConsensusError:
                    continue
                pending.append(child_hash)
        if block_hash in failures:
            raise failures[block_hash]
        if self.index[block_hash].status == INVALID:
            raise ConsensusError("bad-prevblk", "descends from an invalid block")
        return "connected" if self.is_active(block_hash) else "side"

    def _add_orphan(self, block: Block) -> None:
        self.orphans[block.hash()] = block
        while len(self.orphans) > self.params.max_orphans:
            self.orphans.popitem(last=False)

    def _accept(self, block: Block) -> dict[bytes, ConsensusError]:
        prev = self.index[block.header.prev_hash]
        if prev.status == INVALID:
            raise ConsensusError("bad-prevblk", "parent is invalid")
        ctx = self.header_context(prev)
        check_header_context(block.header, self.params.rules, ctx, int(self.clock()))
        work = prev.chain_work + block_work(decode_compact(block.header.bits).target)
        entry = IndexEntry(
            block.hash(), prev.hash, ctx.height, block.header, work, VALID, self._seq
        )
        with transaction(self.db):
            self.db.execute(
                "INSERT INTO block_index VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.hash,
                    entry.prev,
                    entry.height,
                    block.header.serialize(),
                    work.to_bytes(32, "big"),
                    VALID,
                    entry.seq,
                ),
            )
            self.db.execute("INSERT INTO blocks VALUES (?, ?)", (entry.hash, block.serialize()))
        self._seq += 1
        self.index[entry.hash] = entry
        self.children.setdefault(entry.prev, set()).add(entry.hash)
        if self._best is not None and entry.chain_work > self._best.chain_work:
            self._best = entry
        return self.activate_best_chain()

    # --- fork choice --------------------------------------------------------------------

    def _best_candidate(self) -> IndexEntry:
        """The valid block with the most work (the first stored among equals)."""
        best = self._best
        if best is None or best.status != VALID:
            best = min(
                (e for e in self.index.values() if e.status == VALID),
                key=lambda e: (-e.chain_work, e.seq),
            )
            self._best = best
        return best

    def activate_best_chain(self) -> dict[bytes, ConsensusError]:
        """Moves the active chain to the most-work valid block; returns blocks found invalid."""
        failures: dict[bytes, ConsensusError] = {}
        disconnected = False
        while True:
            best = self._best_candidate()
            if best.hash == self.tip.hash or best.chain_work <= self.tip.chain_work:
                if disconnected:
                    for callback in self.on_reorg_done:
                        callback()
                return failures
            path: list[IndexEntry] = []
            cur = best
            while not self.is_active(cur.hash):
                path.append(cur)
                cur = self.index[cur.prev]
            fork_height = cur.height
            while self.height > fork_height:
                self._disconnect_tip()
                disconnected = True
            for entry in reversed(path):
                try:
                    self._connect(entry)
                except ConsensusError as exc:
                    exc.height = entry.height
                    failures[entry.hash] = exc
                    self._mark_invalid(entry)
                    break

    def _mark_invalid(self, entry: IndexEntry) -> None:
        stack = [entry.hash]
        with transaction(self.db):
            while stack:
                h = stack.pop()
                self.index[h].status = INVALID
                self.db.execute("UPDATE block_index SET status = ? WHERE hash = ?", (INVALID, h))
                stack.extend(self.children.get(h, ()))

    def _connect(self, entry: IndexEntry) -> None:
        block = self.get_block(entry.hash)
        if block is None:
            raise RuntimeError("chainstate corrupt: stored block without body")
        spent, created = connect_block_txs(
            block, entry.height, self.get_coin, self.params, self.genesis_hash
        )
        undo = encode(
            [
                [op.key(), c.out.kind, c.out.value, c.out.payload, c.height, int(c.coinbase)]
                for op, c in spent
            ]
        )
        with transaction(self.db):
            self.db.executemany(
                "DELETE FROM utxo WHERE outpoint = ?", [(op.key(),) for op, _ in spent]
            )
            self.db.executemany(
                "INSERT INTO utxo VALUES (?, ?, ?, ?, ?, ?)",
                [_coin_row(op, c) for op, c in created],
            )
            self.db.execute("INSERT OR REPLACE INTO undo VALUES (?, ?)", (entry.hash, undo))
            self.db.execute("INSERT INTO active VALUES (?, ?)", (entry.height, entry.hash))
        self.active.append(entry.hash)
        for callback in self.on_connect:
            callback(block, entry.height)

    def _disconnect_tip(self) -> Block:
        entry = self.tip
        if entry.height == 0:
            raise RuntimeError("cannot disconnect the genesis block")
        block = self.get_block(entry.hash)
        row = self.db.execute("SELECT data FROM undo WHERE hash = ?", (entry.hash,)).fetchone()
        if block is None or row is None:
            raise RuntimeError("chainstate corrupt: connected block without body or undo data")
        restored = decode(bytes(row[0]))
        created = [
            OutPoint(tx.txid(), i).key()
            for tx in block.txs
            for i, out in enumerate(tx.outputs)
            if out.kind != OutputKind.DATA
        ]
        with transaction(self.db):
            self.db.executemany("DELETE FROM utxo WHERE outpoint = ?", [(k,) for k in created])
            self.db.executemany(
                "INSERT INTO utxo VALUES (?, ?, ?, ?, ?, ?)", [tuple(r) for r in restored]
            )
            self.db.execute("DELETE FROM undo WHERE hash = ?", (entry.hash,))
            self.db.execute("DELETE FROM active WHERE height = ?", (entry.height,))
        self.active.pop()
        for callback in self.on_disconnect:
            callback(block, entry.height)
        return block
