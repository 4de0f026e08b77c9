"""Admission rules for every L2 message (docs/layer2.md, "Admission").

Nothing a peer sends is stored, counted or relayed before one of these named rules has
admitted it. A refused message raises :class:`AdmissionError` (an
:class:`~funai.layer2.errors.L2Error`) naming the rule and the misbehaviour score it costs
the peer that sent it: 100 for what no honest peer can send (a bad signature under a key
that must sign, an unsolicited or malformed answer), small or 0 for what an honest peer can
send from a different view (a block elected by an L1 block we have not seen yet, a vote for
a block we do not have). Buffers for messages that may become valid later are bounded, in
all and per peer.

* ``l2vote`` (:meth:`~funai.layer2.node.L2Node._admit_vote`): ``vote-not-verifier`` (the
  key is not in the voted block's verifier set, or, for a block not applied yet, in no
  verifier set the chain has had), ``vote-bad-signature``, ``vote-verdict-count`` (one
  verdict per inference transaction of the block), ``vote-duplicate``, ``vote-conflict``
  (a second, different vote of one verifier for one block: the first is kept),
  ``vote-early`` (kept, bounded, until the block is applied; not relayed).
* ``l2block`` (:meth:`~funai.layer2.node.L2Node._admit_block`): ``block-known``,
  ``block-unknown-election`` (its L1 block has not reached us: kept, bounded),
  ``block-stale-election`` (its L1 block is not on our active chain), ``block-election``
  (not the round's winner, its commitment's parent or proof; kept, bounded, while the round
  waits for a parent), ``block-bad-signature``, the shape rules of ``consensus.py``,
  ``block-orphan`` (parent unknown: kept, bounded, and the parent is fetched: ``l2-sync``),
  ``block-height``; a second block of one election is ``equivocation`` evidence (kept once
  per election, relayed once, at most :data:`MAX_PER_ELECTION` blocks stored); then full
  validation when the fork choice applies it (``l2-fork-choice``).
* ``l2tx``: the mempool rules (``funai.layer2.mempool``) and, for an inference, its content
  (``inference-content-mismatch``) and receipt (``inference-bad-receipt``).
* evidence (``equivocation``): only against the elected producer of an election
  (``equivocation-not-elected``), at most one per election, :data:`MAX_EVIDENCE` in all.
* ``l2ad``: the advert rules of ``routing.py``; ``l2pegsig``: ``pegsig-not-verifier``,
  ``pegsig-bad-signature`` (``pegout.py``).
* ``l2getblocks``/``l2blocks`` and ``l2getcontent``/``l2content`` (``l2-sync``):
  ``sync-unsolicited`` (an answer nobody asked this peer for), ``content-unwanted`` (content
  for a transaction we did not ask for), ``content-mismatch`` (does not hash to the
  transaction's content hash).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from funai.layer2.errors import L2Error

__all__ = [
    "MAX_EARLY_BLOCKS",
    "MAX_EARLY_VOTE_BLOCKS",
    "MAX_EVIDENCE",
    "MAX_PER_ELECTION",
    "MAX_PER_SOURCE",
    "Admission",
    "AdmissionError",
    "BoundedBuffer",
]

#: Blocks kept while their L1 block, parent or round is not there yet (in all).
MAX_EARLY_BLOCKS = 128
#: ... and from one peer.
MAX_PER_SOURCE = 16
#: Blocks whose votes are kept before the block is applied.
MAX_EARLY_VOTE_BLOCKS = 256
#: Equivocation evidence kept (one per election).
MAX_EVIDENCE = 64
#: Blocks stored for one election: the winner's, and one more as equivocation evidence.
MAX_PER_ELECTION = 2


@dataclass(frozen=True, slots=True)
class Admission:
    """What became of a message: ``accepted`` (kept: its id is seen), ``relay`` (announce
    it to the other peers now)."""

    accepted: bool
    relay: bool
    rule: str = "accepted"


class AdmissionError(L2Error):
    """A message refused by rule ``rule``; ``score`` is what it costs the sending peer."""

    def __init__(self, rule: str, detail: str = "", *, score: int = 0) -> None:
        super().__init__(rule, detail)
        self.score = score


T = TypeVar("T")


class BoundedBuffer(Generic[T]):
    """Items kept until they can be processed, by key: at most ``limit`` in all and
    ``per_source`` from one source (the oldest goes first)."""

    def __init__(self, limit: int = MAX_EARLY_BLOCKS, per_source: int = MAX_PER_SOURCE) -> None:
        self.limit = limit
        self.per_source = per_source
        self.items: dict[bytes, list[tuple[T, object]]] = {}
        self.count = 0
        self.by_source: dict[object, int] = {}

    def add(self, key: bytes, item: T, source: object) -> bool:
        """Keeps ``item`` under ``key``; False when ``source`` has its share."""
        if source is not None and self.by_source.get(source, 0) >= self.per_source:
            return False
        while self.count >= self.limit:
            oldest = next(iter(self.items))
            self._drop_one(oldest)
        self.items.setdefault(key, []).append((item, source))
        self.count += 1
        if source is not None:
            self.by_source[source] = self.by_source.get(source, 0) + 1
        return True

    def _drop_one(self, key: bytes) -> None:
        lst = self.items[key]
        _, source = lst.pop(0)
        self._uncount(source)
        if not lst:
            del self.items[key]

    def _uncount(self, source: object) -> None:
        self.count -= 1
        if source is not None:
            left = self.by_source.get(source, 0) - 1
            if left > 0:
                self.by_source[source] = left
            else:
                self.by_source.pop(source, None)

    def pop(self, key: bytes) -> list[tuple[T, object]]:
        """Takes every item under ``key``: ``(item, source)`` pairs."""
        out = self.items.pop(key, [])
        for _, source in out:
            self._uncount(source)
        return out

    def keys(self) -> list[bytes]:
        return list(self.items)

    def __len__(self) -> int:
        return self.count
