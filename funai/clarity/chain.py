"""Chain data for ``block-height``, ``get-block-info?`` (the inference chain) and
``burn-block-height``, ``get-burn-block-info?`` (the ledger chain)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["BLOCK_INFO_PROPERTIES", "BURN_BLOCK_INFO_PROPERTIES", "ChainView", "SimpleChain"]

BlockInfo = int | bytes | str

#: ``get-block-info?`` properties: uint ones are ints, buff 32 ones are bytes, and
#: ``miner-address`` is a principal string.
BLOCK_INFO_PROPERTIES = (
    "time",
    "header-hash",
    "burnchain-header-hash",
    "id-header-hash",
    "miner-address",
    "vrf-seed",
    "block-reward",
    "miner-spend-total",
    "miner-spend-winner",
)
#: ``get-burn-block-info?`` properties the host answers (the VM answers ``pox-addrs`` itself:
#: FAI has no proof-of-transfer, so it is an empty address list and a zero payout).
BURN_BLOCK_INFO_PROPERTIES = ("header-hash",)


@runtime_checkable
class ChainView(Protocol):
    """What the VM reads from the two chains."""

    def block_height(self) -> int:
        """Height of the inference chain (``block-height``)."""
        ...

    def burn_block_height(self) -> int:
        """Height of the ledger chain (``burn-block-height``)."""
        ...

    def block_info(self, prop: str, height: int) -> BlockInfo | None:
        """A property of inference block ``height`` (None when there is no such block)."""
        ...

    def burn_block_info(self, prop: str, height: int) -> BlockInfo | None:
        """A property of ledger block ``height`` (None when there is no such block)."""
        ...


def _h(tag: str, height: int) -> bytes:
    return hashlib.sha256(f"{tag}:{height}".encode()).digest()


@dataclass
class SimpleChain:
    """An in-memory description of both chains, deterministic by default.

    ``blocks`` and ``burn_blocks`` hold per-height property overrides; heights below
    ``height``/``burn_height`` exist and get deterministic defaults (hashes of the height,
    a 600 s block time for the ledger, 10 s for the inference chain).
    """

    height: int = 1
    burn_height: int = 1
    blocks: dict[int, dict[str, BlockInfo]] = field(default_factory=dict)
    burn_blocks: dict[int, dict[str, BlockInfo]] = field(default_factory=dict)
    miner: str = "ST000000000000000000002AMW42H"
    #: the ledger height each block passed by :meth:`advance` saw
    burn_heights: dict[int, int] = field(default_factory=dict)

    def block_height(self) -> int:
        return self.height

    def burn_block_height(self) -> int:
        return self.burn_height

    def block_time(self) -> int:
        """``stacks-block-time``: the current block's time (10 s a block, as
        ``get-block-info? time`` gives past blocks unless overridden)."""
        override = self.blocks.get(self.height, {}).get("time")
        return override if isinstance(override, int) else 1_700_000_000 + 10 * self.height

    def block_info(self, prop: str, height: int) -> BlockInfo | None:
        if height >= self.height:
            return None
        override = self.blocks.get(height, {})
        if prop in override:
            return override[prop]
        if prop == "time":
            return 1_700_000_000 + 10 * height
        if prop == "miner-address":
            return self.miner
        if prop in ("block-reward", "miner-spend-total", "miner-spend-winner"):
            return 0
        if prop == "burnchain-header-hash":
            return self.burn_block_info("header-hash", height) or _h("burn", height)
        return _h(prop, height)

    def burn_block_info(self, prop: str, height: int) -> BlockInfo | None:
        if height >= self.burn_height:
            return None
        override = self.burn_blocks.get(height, {})
        if prop in override:
            return override[prop]
        return _h("burn", height)

    def at_block(self, block_hash: bytes) -> tuple[int, int] | None:
        """``at-block``: ``(height, burn height)`` of the block below the tip whose
        ``id-header-hash`` is ``block_hash`` (a block passed by :meth:`advance` saw the
        ledger height of that moment; an older one its own height, at most the tip's)."""
        for height in range(self.height - 1, -1, -1):
            if self.block_info("id-header-hash", height) == block_hash:
                return height, self.burn_heights.get(height, min(height, self.burn_height))
        return None

    def advance(self, blocks: int = 1, burn_blocks: int = 0) -> None:
        """Moves the tips forward (the blocks passed remember the ledger height)."""
        for _ in range(blocks):
            self.burn_heights[self.height] = self.burn_height
            self.height += 1
        self.burn_height += burn_blocks
