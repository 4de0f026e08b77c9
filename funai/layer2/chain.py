"""The L2 block tree: storage, fork choice, undo and the finality checkpoint
(docs/layer2.md, "Fork choice, undo and sync").

Every admitted block is stored (``l2_blocks``, status ``stored`` until it has been applied
once, then ``valid``, or ``invalid`` for good); the state holds the canonical chain only.

Rule ``l2-fork-choice``: a block is a candidate when its electing L1 block is on the active
L1 chain and its producer is that round's winner (its *election* holds), the same is true
of every ancestor, none is invalid, and its chain contains the finality checkpoint. The
canonical tip is the candidate with the greatest height; at equal heights a block with a
known quorum certificate beats one without, then the later election (higher L1 height) wins
(a block that never gets a QC is replaced by the next election's block on its parent), then
the lower hash (two blocks of one equivocating producer).

Rule ``l2-undo``: applying a block records the previous value of every state row it wrote
(``l2_undo``); a reorganisation disconnects blocks down to the fork point by restoring
those rows, then applies the new branch (a block that fails its rules there is marked
invalid and the choice is made again).

Rule ``l2-finality``: walking the anchors on the active L1 chain in L1 order, an anchored
block with a QC whose anchor has ``confirmations`` L1 confirmations becomes the checkpoint
when it is higher than the current one and descends from it. The fork choice never leaves
the checkpoint's chain, so what L1 confirmed is final: peg-outs are paid and content is
reclaimed only up to it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from funai.errors import FunaiError
from funai.layer2.block import L2Block
from funai.layer2.consensus import apply_block
from funai.layer2.execution import BurnView, PegInView
from funai.layer2.sortition import Round
from funai.layer2.state import L2State, Verifier
from funai.layer2.votes import Elected, QuorumCertificate
from funai.ledger.encoding import decode, encode

__all__ = ["GENESIS_PARENT", "INVALID", "STORED", "VALID", "ChainView", "Entry", "L2Chain"]

log = logging.getLogger("funai.layer2")

GENESIS_PARENT = bytes(32)
STORED, VALID, INVALID = 0, 1, 2

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS l2_blocks (hash BLOB PRIMARY KEY, height INTEGER, "
    "parent BLOB, status INTEGER, data BLOB)",
    "CREATE TABLE IF NOT EXISTS l2_undo (hash BLOB PRIMARY KEY, data BLOB)",
    "CREATE TABLE IF NOT EXISTS l2_qcs (hash BLOB PRIMARY KEY, data BLOB)",
    # the verifier set after each applied block: who votes on it, whom commitments on it pay
    "CREATE TABLE IF NOT EXISTS l2_sets (hash BLOB PRIMARY KEY, data BLOB)",
)


@dataclass
class Entry:
    block: L2Block
    status: int

    @property
    def height(self) -> int:
        return self.block.header.height

    @property
    def parent(self) -> bytes:
        return self.block.header.parent


class ChainView(Protocol):
    """What the block tree needs from the node: the L1 side and the effects of a change."""

    def election_holds(self, block: L2Block) -> bool:
        """The block's electing L1 block is active and elected its producer."""

    def election_height(self, block: L2Block) -> int:
        """The L1 height of the block's election."""

    def context(self, block: L2Block) -> tuple[Round | None, PegInView, Elected]:
        """The round, peg-in view and elected producers the block is validated against."""

    def burn_view_at(self, as_of: int) -> BurnView:
        """The active L1 chain's block hashes at or below height ``as_of`` (what the
        block's contracts read, rule ``clarity-burn-view``)."""

    def connected(self, block: L2Block, first: bool) -> None:
        """``block`` joined the canonical chain (``first``: never applied before)."""

    def disconnected(self, block: L2Block) -> None:
        """``block`` left the canonical chain."""


class L2Chain:
    """Stored L2 blocks, their QCs, the canonical chain (the state's) and the fork choice."""

    def __init__(self, conn: sqlite3.Connection, state: L2State) -> None:
        self.conn = conn
        self.state = state
        self.params = state.params
        for ddl in _SCHEMA:
            conn.execute(ddl)
        self.entries: dict[bytes, Entry] = {}
        self.by_height: dict[int, set[bytes]] = {}
        self.by_election: dict[bytes, list[bytes]] = {}
        self.qcs: dict[bytes, QuorumCertificate] = {}
        self.sets: dict[bytes, list[Verifier]] = {}
        self.final: bytes | None = None
        #: counts every change of the tree, its statuses and QCs (callers cache on it)
        self.version = 0
        for status, data in conn.execute("SELECT status, data FROM l2_blocks ORDER BY height"):
            self._index(L2Block.deserialize(bytes(data)), int(status))
        for h, data in conn.execute("SELECT hash, data FROM l2_qcs"):
            self.qcs[bytes(h)] = QuorumCertificate.from_cbor(decode(bytes(data)))
        for h, data in conn.execute("SELECT hash, data FROM l2_sets"):
            self.sets[bytes(h)] = [
                Verifier(bytes(k), int(pk), bytes(p), 0) for k, pk, p in decode(bytes(data))
            ]
        self.canonical: list[bytes] = []
        cur = state.tip() if state.height >= 0 else GENESIS_PARENT
        while cur != GENESIS_PARENT:
            self.canonical.append(cur)
            cur = self.entries[cur].parent
        self.canonical.reverse()

    # --- the tree --------------------------------------------------------------------------
    def _index(self, block: L2Block, status: int) -> None:
        self.version += 1
        h = block.hash()
        self.entries[h] = Entry(block, status)
        self.by_height.setdefault(block.header.height, set()).add(h)
        self.by_election.setdefault(block.header.l1_block, []).append(h)

    def add(self, block: L2Block) -> None:
        """Stores an admitted block (its parent is stored, or it is a genesis child)."""
        h = block.hash()
        if h in self.entries:
            return
        self.conn.execute(
            "INSERT OR IGNORE INTO l2_blocks (hash, height, parent, status, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (h, block.header.height, block.header.parent, STORED, block.serialize()),
        )
        self._index(block, STORED)

    def _set_status(self, h: bytes, status: int) -> None:
        self.version += 1
        self.entries[h].status = status
        self.conn.execute("UPDATE l2_blocks SET status = ? WHERE hash = ?", (status, h))

    def save_qc(self, qc: QuorumCertificate) -> bool:
        """Keeps a verified QC; True if it is new."""
        if qc.block_hash in self.qcs:
            return False
        self.version += 1
        self.qcs[qc.block_hash] = qc
        self.conn.execute(
            "INSERT OR REPLACE INTO l2_qcs (hash, data) VALUES (?, ?)",
            (qc.block_hash, encode(qc.to_cbor())),
        )
        return True

    @property
    def tip(self) -> bytes:
        return self.canonical[-1] if self.canonical else GENESIS_PARENT

    @property
    def height(self) -> int:
        return len(self.canonical) - 1

    def on_canonical(self, h: bytes) -> bool:
        e = self.entries.get(h)
        return e is not None and e.height < len(self.canonical) and self.canonical[e.height] == h

    def ancestor(self, h: bytes, height: int) -> bytes | None:
        """The ancestor of ``h`` at ``height`` (``h`` itself at its own height)."""
        cur = h
        while cur != GENESIS_PARENT:
            e = self.entries.get(cur)
            if e is None:
                return None
            if e.height == height:
                return cur
            if e.height < height:
                return None
            cur = e.parent
        return None

    def descends(self, h: bytes, ancestor: bytes) -> bool:
        e = self.entries.get(ancestor)
        return e is not None and self.ancestor(h, e.height) == ancestor

    # --- finality (rule l2-finality) --------------------------------------------------------
    def update_final(
        self, anchors: Iterable[tuple[int, bytes]], l1_tip: int, view: ChainView
    ) -> None:
        """Recomputes the checkpoint from the active chain's anchors ``(L1 height, L2 hash)``
        in L1 order."""
        final: bytes | None = None
        final_height = -1
        k = self.params.confirmations
        for at, h in anchors:
            if l1_tip - at + 1 < k:
                break
            e = self.entries.get(h)
            if e is None or e.status == INVALID or h not in self.qcs:
                continue
            if not view.election_holds(e.block) or e.height <= final_height:
                continue
            if final is None or self.descends(h, final):
                final, final_height = h, e.height
        self.final = final

    def is_final(self, h: bytes) -> bool:
        """On the canonical chain at or below the checkpoint."""
        if self.final is None or not self.on_canonical(h) or not self.on_canonical(self.final):
            return False
        return self.entries[h].height <= self.entries[self.final].height

    # --- fork choice (rule l2-fork-choice) --------------------------------------------------
    def best(self, view: ChainView) -> bytes:
        """The canonical tip the rule chooses among the stored blocks."""
        memo: dict[bytes, bool] = {}
        final_height = -1 if self.final is None else self.entries[self.final].height

        def usable(h: bytes) -> bool:
            path: list[bytes] = []
            cur = h
            while True:
                if cur in memo:
                    ok = memo[cur]
                    break
                if cur == GENESIS_PARENT:
                    ok = self.final is None
                    break
                e = self.entries.get(cur)
                if e is None or e.status == INVALID or not view.election_holds(e.block):
                    ok = False
                    path.append(cur)
                    break
                if cur == self.final:
                    ok = True
                    path.append(cur)
                    break
                if e.height <= final_height:
                    ok = False  # beside the checkpoint
                    path.append(cur)
                    break
                path.append(cur)
                cur = e.parent
            for p in path:
                memo[p] = ok
            return ok

        top = max(self.by_height, default=-1)
        for height in range(top, max(final_height, 0) - 1, -1):
            cands = [h for h in self.by_height.get(height, ()) if usable(h)]
            if cands:
                return max(
                    cands,
                    key=lambda h: (
                        h in self.qcs,
                        view.election_height(self.entries[h].block),
                        bytes(255 - b for b in h),
                    ),
                )
        return GENESIS_PARENT

    def activate(self, view: ChainView) -> bool:
        """Moves the canonical chain to :meth:`best` (undoing and applying blocks); True
        when the tip changed."""
        start = self.tip
        for _ in range(1000):  # each retry marks a block invalid: bounded by the tree
            best = self.best(view)
            if best == self.tip:
                break
            path: list[bytes] = []
            cur = best
            while cur != GENESIS_PARENT and not self.on_canonical(cur):
                path.append(cur)
                cur = self.entries[cur].parent
            while self.tip != cur:
                self.disconnect_tip(view)
            for h in reversed(path):
                if not self._connect(h, view):
                    break
        return self.tip != start

    def visit(self, h: bytes, view: ChainView) -> None:
        """Applies the branch to stored block ``h`` (undoing the canonical chain down to the
        fork point), so that its validity and verifier set are known; the next
        :meth:`activate` goes back to the best chain."""
        path: list[bytes] = []
        cur = h
        while cur != GENESIS_PARENT and not self.on_canonical(cur):
            e = self.entries.get(cur)
            if e is None or e.status == INVALID:
                return
            path.append(cur)
            cur = e.parent
        while self.tip != cur:
            self.disconnect_tip(view)
        for b in reversed(path):
            if not self._connect(b, view):
                return

    def _connect(self, h: bytes, view: ChainView) -> bool:
        e = self.entries[h]
        rnd, pegins, elected = view.context(e.block)
        burn = view.burn_view_at(-1 if rnd is None else rnd.height)
        first = e.status != VALID
        try:
            with self.state.atomic():
                with self.state.journal(e.height) as undo:
                    apply_block(self.state, e.block, rnd, pegins=pegins, elected=elected, burn=burn)
                self.conn.execute(
                    "INSERT OR REPLACE INTO l2_undo (hash, data) VALUES (?, ?)", (h, undo[0])
                )
                vset = self.state.verifiers()
                self.conn.execute(
                    "INSERT OR REPLACE INTO l2_sets (hash, data) VALUES (?, ?)",
                    (h, encode([[v.key, v.payout_kind, v.payout] for v in vset])),
                )
                if e.status != VALID:
                    self._set_status(h, VALID)
        except FunaiError as exc:
            log.info("invalid L2 block %s: %s", h.hex()[:16], exc)
            self._set_status(h, INVALID)
            return False
        self.sets[h] = vset
        self.canonical.append(h)
        if e.block.parent_qc is not None:
            self.save_qc(e.block.parent_qc)  # verified by apply_block (rule quorum-certificate)
        view.connected(e.block, first)
        return True

    def disconnect_tip(self, view: ChainView) -> None:
        h = self.canonical[-1]
        row = self.conn.execute("SELECT data FROM l2_undo WHERE hash = ?", (h,)).fetchone()
        if row is None:
            raise RuntimeError(f"no undo data for L2 block {h.hex()}")
        with self.state.atomic():
            self.state.undo(bytes(row[0]))
        self.canonical.pop()
        if self.state.tip() != self.tip:
            raise RuntimeError("undo did not restore the parent's state")
        view.disconnected(self.entries[h].block)

    # --- sync (rule l2-sync) ----------------------------------------------------------------
    def locator(self) -> list[bytes]:
        """Canonical hashes back from the tip: 10 one apart, then doubling (at most 64)."""
        out: list[bytes] = []
        height, step = self.height, 1
        while height >= 0 and len(out) < 64:
            out.append(self.canonical[height])
            if len(out) >= 10:
                step *= 2
            height -= step
        return out

    def after(self, locator: Iterable[bytes], limit: int, max_bytes: int) -> list[L2Block]:
        """The canonical blocks after the first locator hash on the canonical chain (from
        genesis when none is), at most ``limit`` and about ``max_bytes``."""
        start = 0
        for h in locator:
            if self.on_canonical(h):
                start = self.entries[h].height + 1
                break
        out: list[L2Block] = []
        size = 0
        for h in self.canonical[start : start + limit]:
            block = self.entries[h].block
            size += len(block.serialize())
            if out and size > max_bytes:
                break
            out.append(block)
        return out
