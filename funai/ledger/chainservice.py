"""The chainstate and mempool behind one worker-thread gate.

SQLite-heavy work (block connection, reorgs, lookups) runs in threads through a
:class:`trio.CapacityLimiter` of 1, so the chainstate is used by one thread at a time and
the Trio loop never blocks. Blocks connected and transactions admitted during a call are
collected and handed to listeners (relay, API) on the Trio side afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import trio

from funai.ledger.block import Block
from funai.ledger.chainstate import INVALID, Chainstate
from funai.ledger.errors import ConsensusError, MempoolError
from funai.ledger.header import display_hash
from funai.ledger.mempool import Mempool
from funai.ledger.params import ChainParams
from funai.ledger.tx import Transaction

__all__ = ["ChainService"]

T = TypeVar("T")


class ChainService:
    """Owns the :class:`Chainstate` and :class:`Mempool` of a node."""

    def __init__(self, path: Path, params: ChainParams, *, synchronous: str = "FULL") -> None:
        self.params = params
        self.chain = Chainstate(path, params, synchronous=synchronous)
        self.mempool = Mempool(self.chain)
        self.limiter = trio.CapacityLimiter(1)
        #: Held while the node's wallet chooses coins for a spend and until the mempool has
        #: admitted it (the wallet API's requests and the inference layer's own L1
        #: transactions), so two spends never choose the same coin.
        self.wallet_lock = trio.Lock()
        self.connected: list[tuple[bytes, int]] = []
        self.chain.on_connect.append(lambda b, h: self.connected.append((b.hash(), h)))
        self.tip_listeners: list[Callable[[list[tuple[bytes, int]]], Awaitable[None]]] = []
        self.tx_listeners: list[Callable[[Transaction, Any], Awaitable[None]]] = []
        self.tip_changed = trio.Event()

    # --- snapshot (safe to read from the Trio thread) ---------------------------------------

    @property
    def height(self) -> int:
        return self.chain.height

    @property
    def tip_hash(self) -> bytes:
        return self.chain.active[-1]

    def status(self) -> dict[str, Any]:
        tip = self.chain.tip
        return {
            "network": self.params.name,
            "l1_height": tip.height,
            "l1_tip": display_hash(tip.hash),
            "l1_time": tip.header.time,
            "l1_bits": f"{tip.header.bits:08x}",
            "l1_chain_work": hex(tip.chain_work),
            "mempool_size": len(self.mempool),
            "mempool_bytes": self.mempool.total_bytes,
            "genesis": display_hash(self.chain.genesis_hash),
        }

    # --- thread gate ----------------------------------------------------------------------

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs ``fn(*args)`` in a worker thread, one at a time; then notifies listeners."""
        before = self.chain.active[-1]
        try:
            return await trio.to_thread.run_sync(fn, *args, limiter=self.limiter)
        finally:
            connected, self.connected = self.connected, []
            if self.chain.active[-1] != before or connected:
                self.tip_changed.set()
                self.tip_changed = trio.Event()
                for listener in self.tip_listeners:
                    await listener(connected)

    async def submit_blocks(self, blocks: list[Block]) -> list[tuple[Block, str | ConsensusError]]:
        """Submits blocks in order; each result is the chainstate's answer or the error."""

        def work() -> list[tuple[Block, str | ConsensusError]]:
            out: list[tuple[Block, str | ConsensusError]] = []
            for block in blocks:
                try:
                    out.append((block, self.chain.submit_block(block)))
                except ConsensusError as exc:
                    out.append((block, exc))
            return out

        return await self.run(work)

    async def accept_tx(self, tx: Transaction, source: Any = None) -> None:
        """Admits ``tx`` to the mempool (raises :class:`MempoolError`) and relays it."""
        await self.run(self.mempool.accept, tx)
        for listener in self.tx_listeners:
            await listener(tx, source)

    def is_invalid(self, block_hash: bytes) -> bool:
        entry = self.chain.index.get(block_hash)
        return entry is not None and entry.status == INVALID

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await trio.to_thread.run_sync(self.chain.close, limiter=self.limiter)


__all__ += ["MempoolError"]
