"""Following the active L1 chain (rule ``l1-follow``): feeds each L1 block, in order, to an
:class:`~funai.layer2.node.L2Node`, and on an L1 reorg re-feeds the new branch from the
fork point (the node drops what the disconnected blocks said: anchors, peg-ins, its
registration; sortition rounds are keyed by L1 hash, so the new branch's rounds are simply
run). Call :meth:`L1Follower.sync` whenever the L1 tip changes (``ChainService``'s
``tip_listeners`` in the node); it reads the chainstate, so call it from the thread that
owns it.
"""

from __future__ import annotations

from collections.abc import Iterator

from funai.layer2.node import L1BlockFeed, L2Node
from funai.ledger.chainstate import Chainstate

__all__ = ["L1Follower"]


class L1Follower:
    """Keeps one L2 node in step with one chainstate's active chain."""

    def __init__(self, chain: Chainstate, node: L2Node) -> None:
        self.chain = chain
        self.node = node
        self.processed: list[bytes] = []  # processed[i] = hash of the L1 block at height i + 1

    def sync(self, *, replay: bool = False) -> int:
        """Feeds the blocks the node has not seen; returns how many. ``replay``: after a
        restart, re-run rounds without producing or voting."""
        active = self.chain.active
        keep = min(len(self.processed), len(active) - 1)
        while keep > 0 and self.processed[keep - 1] != active[keep]:
            keep -= 1  # the fork point
        del self.processed[keep:]
        heights = range(keep + 1, len(active))

        def blocks() -> Iterator[L1BlockFeed]:
            for height in heights:
                block = self.chain.get_block(active[height])
                if block is None:
                    raise RuntimeError(f"active L1 block at height {height} is missing")
                self.processed.append(block.hash())
                h = block.header
                yield block.hash(), h.prev_hash, height, block.txs, h.time

        if replay:
            self.node.replay_l1(blocks())  # one pass, then one fork choice
        else:
            for fed in blocks():
                self.node.on_l1_block(*fed)
        return len(heights)
