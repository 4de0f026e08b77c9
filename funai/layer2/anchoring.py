"""Rule ``anchor``: finalized L2 block hashes written into L1 (DESIGN 4.7).

Anchor data output (45 bytes): ``"FAI2" || "A" || l2_height (8 BE) || l2_block_hash (32)``.
Rule ``anchor-confirmation``: an L2 block is *confirmed* once the first L1 block on the
active chain holding its anchor has ``k`` confirmations (``tip - anchor_height + 1 >= k``).
An anchor for a block that is not finalized is ignored. On an L1 reorg the disconnected
blocks' anchors are dropped (:meth:`AnchorTracker.disconnect`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from funai.errors import MalformedInputError
from funai.layer2.params import MAGIC
from funai.ledger.tx import OutputKind, Transaction, TxOut

__all__ = ["Anchor", "AnchorTracker"]

TAG = b"A"
ANCHOR_SIZE = 45


@dataclass(frozen=True, slots=True)
class Anchor:
    l2_height: int
    l2_hash: bytes

    def output(self) -> TxOut:
        if len(self.l2_hash) != 32 or not 0 <= self.l2_height < 2**64:
            raise MalformedInputError("anchor needs a 32-byte hash and a u64 height")
        payload = MAGIC + TAG + self.l2_height.to_bytes(8, "big") + self.l2_hash
        return TxOut(int(OutputKind.DATA), 0, payload)

    @classmethod
    def parse(cls, data: bytes) -> Anchor | None:
        """The anchor in a data output's bytes, None for another message."""
        if data[:5] != MAGIC + TAG:
            return None
        if len(data) != ANCHOR_SIZE:
            raise MalformedInputError("anchor output must be 45 bytes")
        return cls(int.from_bytes(data[5:13], "big"), data[13:45])


def find_anchors(txs: Sequence[Transaction]) -> list[Anchor]:
    out: list[Anchor] = []
    for tx in txs:
        for o in tx.outputs:
            if o.kind == OutputKind.DATA:
                try:
                    a = Anchor.parse(o.payload)
                except MalformedInputError:
                    continue
                if a is not None:
                    out.append(a)
    return out


class AnchorTracker:
    """Which finalized L2 blocks are anchored where on the active L1 chain."""

    def __init__(self, confirmations: int, is_finalized: Callable[[bytes], bool]) -> None:
        self.k = confirmations
        self.is_finalized = is_finalized
        self.anchored: dict[bytes, int] = {}  # l2 hash -> first L1 height
        self.tip = -1

    def connect(self, l1_height: int, txs: Sequence[Transaction]) -> list[bytes]:
        """An L1 block joined the active chain; returns the L2 blocks newly confirmed."""
        self.tip = l1_height
        for a in find_anchors(txs):
            if a.l2_hash not in self.anchored and self.is_finalized(a.l2_hash):
                self.anchored[a.l2_hash] = l1_height
        return [h for h, at in self.anchored.items() if l1_height - at + 1 == self.k]

    def disconnect(self, l1_height: int) -> None:
        """The active L1 tip at ``l1_height`` was disconnected (reorg)."""
        self.anchored = {h: at for h, at in self.anchored.items() if at < l1_height}
        self.tip = l1_height - 1

    def anchor_height(self, l2_hash: bytes) -> int | None:
        return self.anchored.get(l2_hash)

    def confirmed(self, l2_hash: bytes) -> bool:
        """Rule ``anchor-confirmation``."""
        at = self.anchored.get(l2_hash)
        return at is not None and self.tip - at + 1 >= self.k
