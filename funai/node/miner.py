"""The built-in miner role: templates from the chain thread, nonce search in its own thread."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import trio

from funai.ledger.block import Block
from funai.ledger.chainservice import ChainService
from funai.ledger.errors import ConsensusError
from funai.ledger.header import display_hash
from funai.ledger.miner import MiningStats, build_template, solve, too_early
from funai.ledger.tx import TxOut
from funai.pow_choice import KernelChoice, choose_backend

__all__ = ["Miner"]

log = logging.getLogger("funai.miner")


class Miner:
    """Mines on the node's tip; ``enabled`` can be toggled at run time (API).

    ``backend`` is the SHA-256d kernel: a name forces it; ``auto`` uses
    :func:`funai.pow_choice.choose_backend`, the fastest kernel measured on this CPU (once
    per CPU model, cached in ``<datadir>/pow-kernel.json`` when ``datadir`` is given), as
    ``funai mine`` does. The choice is made on the first block mined, in the mining thread.
    """

    def __init__(
        self,
        service: ChainService,
        payout: TxOut,
        *,
        threads: int = 1,
        interval: float = 0.0,
        backend: str = "auto",
        datadir: Path | None = None,
    ) -> None:
        self.service = service
        self.payout = payout
        self.threads = max(1, threads)
        self.interval = interval
        self.backend = backend
        self.datadir = datadir
        self.kernel: KernelChoice | None = None
        self.enabled = False
        self.stats = MiningStats()
        self.found = 0
        self.limiter = trio.CapacityLimiter(1)
        self._changed = trio.Event()

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        self._changed.set()
        self._changed = trio.Event()

    def choose_kernel(self) -> KernelChoice:
        """The kernel to mine with (measured or read from the cache once, then kept).
        Raises ValueError for a forced kernel this CPU cannot run."""
        if self.kernel is None:
            self.kernel = choose_backend(self.datadir, self.backend)
            log.info(
                "mining kernel",
                extra={
                    "fields": {
                        "backend": self.kernel.backend,
                        "source": self.kernel.source,
                        "mhs_by_backend": self.kernel.to_json()["mhs_by_backend"],
                    }
                },
            )
        return self.kernel

    async def mine_block(self, refresh: float = 10.0) -> Block | None:
        """Builds and solves one block on the current tip; None if the tip moved first."""
        async with self.limiter:
            service = self.service
            template = await service.run(
                build_template, service.chain, service.mempool, self.payout
            )
            wait = too_early(template, service.chain)
            if wait:  # block times 2 h ahead of the clock (rule time-too-new): wait for it
                await trio.sleep(min(wait, 1.0))
                return None
            tip = template.block.header.prev_hash
            stop = threading.Event()
            built = time.monotonic()

            def stale() -> bool:
                return (
                    stop.is_set()
                    or service.chain.active[-1] != tip
                    or time.monotonic() - built > refresh
                )

            kernel = self.kernel
            if kernel is None:  # the first block: measure (or read the cache) off the loop
                kernel = await trio.to_thread.run_sync(self.choose_kernel)
            backend = kernel.backend
            try:
                block = await trio.to_thread.run_sync(
                    lambda: solve(
                        template,
                        chunk=1 << 18,
                        threads=self.threads,
                        stats=self.stats,
                        should_stop=stale,
                        backend=backend,
                    ),
                    abandon_on_cancel=True,
                )
            finally:
                stop.set()
            if block is None:
                return None
            [(_, result)] = await service.submit_blocks([block])
            if isinstance(result, ConsensusError):
                log.warning("mined block rejected", extra={"fields": {"rule": result.rule}})
                return None
            self.found += 1
            log.info(
                "mined block",
                extra={
                    "fields": {
                        "height": template.height,
                        "hash": display_hash(block.hash()),
                        "txs": len(block.txs),
                        "result": result,
                    }
                },
            )
            return block

    async def generate(self, n: int) -> list[Block]:
        out: list[Block] = []
        while len(out) < n:
            block = await self.mine_block()
            if block is not None:
                out.append(block)
        return out

    async def run(self) -> None:
        last = 0.0
        while True:
            if not self.enabled:
                await self._changed.wait()
                continue
            wait = self.interval - (time.monotonic() - last)
            if wait > 0:
                await trio.sleep(wait)
                continue
            block = await self.mine_block()
            if block is not None:
                last = time.monotonic()
