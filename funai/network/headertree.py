"""The header tree used for headers-first sync.

It holds every header we know (from the chainstate's block index and from peers), with its
height and cumulative work, and checks each new header exactly as the chainstate would
(proof of work, linkage, bits/retarget, median time past, time warp, future time) before a
block body is ever requested. Headers of blocks that failed validation are marked invalid
with their descendants.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from funai.ledger.compact import block_work, decode_compact
from funai.ledger.errors import ConsensusError
from funai.ledger.header import BlockHeader
from funai.ledger.params import ChainParams
from funai.ledger.validation import (
    HeaderContext,
    check_header_context,
    check_pow,
    header_context,
)
from funai.network.errors import Misbehaviour

__all__ = ["HeaderEntry", "HeaderTree"]

# Rules a peer can break only on purpose (a ban); others (future time) may be clock skew.
_BENIGN = {"time-too-new"}


@dataclass(slots=True)
class HeaderEntry:
    hash: bytes
    prev: bytes
    height: int
    header: BlockHeader
    work: int
    seq: int
    invalid: bool = False


class HeaderTree:
    """Headers by hash, with the most-work valid one as :attr:`best`."""

    def __init__(self, params: ChainParams, max_entries: int = 2_000_000) -> None:
        self.params = params
        self.rules = params.rules
        self.entries: dict[bytes, HeaderEntry] = {}
        self.children: dict[bytes, list[bytes]] = {}
        self.best: HeaderEntry | None = None
        self.max_entries = max_entries
        self._seq = 0

    def __contains__(self, block_hash: bytes) -> bool:
        return block_hash in self.entries

    def get(self, block_hash: bytes) -> HeaderEntry | None:
        return self.entries.get(block_hash)

    def seed(
        self,
        block_hash: bytes,
        prev: bytes,
        height: int,
        header: BlockHeader,
        work: int,
        invalid: bool = False,
    ) -> None:
        """Adds a header the chainstate already validated."""
        if block_hash in self.entries:
            return
        entry = HeaderEntry(block_hash, prev, height, header, work, self._seq, invalid)
        self._insert(entry)

    def _insert(self, entry: HeaderEntry) -> None:
        self._seq += 1
        self.entries[entry.hash] = entry
        self.children.setdefault(entry.prev, []).append(entry.hash)
        if not entry.invalid and (self.best is None or entry.work > self.best.work):
            self.best = entry

    def ancestor(self, entry: HeaderEntry, height: int) -> HeaderEntry:
        while entry.height > height:
            entry = self.entries[entry.prev]
        return entry

    def context(self, prev: HeaderEntry) -> HeaderContext:
        return header_context(self.rules, prev, self.entries.get, self.ancestor)

    def add(self, headers: list[BlockHeader], now: int) -> list[HeaderEntry]:
        """Checks and adds consecutive headers; returns the new entries.

        Raises :class:`Misbehaviour` (nothing after the bad header is added) for headers that
        do not connect, are not consecutive, or break a header rule.
        """
        added: list[HeaderEntry] = []
        prev_hash: bytes | None = None
        for header in headers:
            if prev_hash is not None and header.prev_hash != prev_hash:
                raise Misbehaviour("non-continuous-headers", 20)
            block_hash = header.hash()
            prev_hash = block_hash
            known = self.entries.get(block_hash)
            if known is not None:
                if known.invalid:
                    raise Misbehaviour("invalid-header: descends from an invalid block", 100)
                continue
            parent = self.entries.get(header.prev_hash)
            if parent is None:
                raise Misbehaviour("unconnected-headers", 10)
            if parent.invalid:
                raise Misbehaviour("invalid-header: descends from an invalid block", 100)
            try:
                check_pow(header, self.rules, block_hash)
                check_header_context(header, self.rules, self.context(parent), now)
            except ConsensusError as exc:
                raise Misbehaviour(
                    f"invalid-header: {exc.rule}", 0 if exc.rule in _BENIGN else 100
                ) from None
            if len(self.entries) >= self.max_entries:
                raise Misbehaviour("header-tree-full", 0)
            work = parent.work + block_work(decode_compact(header.bits).target)
            entry = HeaderEntry(block_hash, parent.hash, parent.height + 1, header, work, self._seq)
            self._insert(entry)
            added.append(entry)
        return added

    def mark_invalid(self, block_hash: bytes) -> None:
        stack = [block_hash]
        while stack:
            h = stack.pop()
            entry = self.entries.get(h)
            if entry is None or entry.invalid:
                continue
            entry.invalid = True
            stack.extend(self.children.get(h, ()))
        if self.best is not None and self.best.invalid:
            self.best = max(
                (e for e in self.entries.values() if not e.invalid),
                key=lambda e: (e.work, -e.seq),
            )

    def path_to(self, target: HeaderEntry, have: Container[bytes], limit: int) -> list[HeaderEntry]:
        """Entries after the last one in ``have`` on the way to ``target`` (oldest first)."""
        path: list[HeaderEntry] = []
        cur: HeaderEntry | None = target
        while cur is not None and cur.hash not in have:
            path.append(cur)
            cur = self.entries.get(cur.prev)
        path.reverse()
        return path[:limit]
