"""L2 gossip over the node's P2P network (the additive plug-in of docs/protocol.md).

:class:`L2Gossip` joins an :class:`~funai.layer2.service.L2Node` to a running
:class:`~funai.network.manager.PeerManager` and :class:`~funai.node.chainservice.ChainService`:

* L1: a tip listener runs :meth:`L1Follower.sync` through ``ChainService.run`` (the
  chainstate's thread), so every L1 block reaches the L2 node in order, reorgs included.
* L2: handlers for ``l2tx``, ``l2block``, ``l2vote`` and ``l2ad`` hand each message to the node in a
  worker thread (one L2 call at a time, under :attr:`lock`); inventory kinds of the same names
  announce new items (ids: txid, block hash, ``L2VoteMsg.id()``) and serve them on request.
  A message the node accepted is relayed (announced) to the other peers; the node's own
  output (:attr:`L2Node.outbox`) is announced to every peer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import trio

from funai.errors import FunaiError
from funai.layer2.follower import L1Follower
from funai.layer2.messages import L2AdMsg, L2BlockMsg, L2PegSigMsg, L2TxMsg, L2VoteMsg
from funai.layer2.service import L2Node
from funai.network.manager import InvKind, PeerManager
from funai.network.messages import Inv, Message
from funai.network.peer import Peer
from funai.node.chainservice import ChainService

__all__ = ["L2Gossip", "item_of"]

T = TypeVar("T")
KINDS = ("l2tx", "l2block", "l2vote", "l2ad", "l2pegsig")
MAX_CACHE = 100_000


def item_of(msg: Message) -> tuple[str, bytes] | None:
    """The inventory ``(kind, id)`` of an L2 message (None if it does not parse)."""
    try:
        if isinstance(msg, L2TxMsg):
            return "l2tx", msg.parse()[0].txid()
        if isinstance(msg, L2BlockMsg):
            return "l2block", msg.parse()[0].hash()
        if isinstance(msg, L2VoteMsg):
            return "l2vote", msg.id()
        if isinstance(msg, L2AdMsg):
            return "l2ad", msg.id()
        if isinstance(msg, L2PegSigMsg):
            return "l2pegsig", msg.id()
    except FunaiError:  # malformed: the node would drop it too
        return None
    return None


class L2Gossip:
    """Runs one L2 node on one P2P network and L1 chain service."""

    def __init__(self, net: PeerManager, service: ChainService, node: L2Node) -> None:
        self.net = net
        self.service = service
        self.node = node
        self.follower = L1Follower(service.chain, node)
        self.lock = threading.Lock()
        self.cache: dict[bytes, Message] = {}
        self.seen: set[bytes] = set()
        for kind in KINDS:
            net.add_handler(kind, self._on_message)
            net.add_inv_kind(kind, InvKind(wanted=self._wanted, fetch=self._fetch))
        service.tip_listeners.append(self._on_tip)

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """Runs ``fn(*args)`` on the L2 node, one call at a time (from a worker thread)."""
        with self.lock:
            return fn(*args)

    async def start(self) -> None:
        """Catches up with the L1 chain (call once the network is running)."""
        await self.service.run(self.call, self.follower.sync)
        self.flush()

    async def _on_tip(self, connected: list[tuple[bytes, int]]) -> None:
        await self.service.run(self.call, self.follower.sync)
        self.flush()

    async def _wanted(self, ids: list[bytes]) -> list[bytes]:
        return [i for i in ids if i not in self.seen]

    async def _fetch(self, item_id: bytes) -> Message | None:
        return self.cache.get(item_id)

    async def _on_message(self, peer: Peer, msg: Message) -> None:
        item = item_of(msg)
        if item is None or item[1] in self.seen:
            return
        kind, item_id = item
        peer.remember(item_id)
        self.seen.add(item_id)
        accepted = await trio.to_thread.run_sync(self.call, self._receive, msg, kind, item_id)
        if accepted:
            self._remember(item_id, msg)
            self.announce(kind, item_id, source=peer)
        self.flush()

    def _receive(self, msg: Message, kind: str, item_id: bytes) -> bool:
        node = self.node
        node.receive(msg)
        if kind == "l2tx":
            return item_id in node.mempool
        if kind == "l2block":
            return (
                item_id in node.blocks
                or item_id in node.evidence_blocks
                or any(b.hash() == item_id for waiting in node.early.values() for b, _ in waiting)
            )
        if kind == "l2ad":
            return node.routes.holds(item_id)
        if kind == "l2pegsig":
            return item_id in node.pegsigs_accepted
        return True  # votes: the node keeps valid ones; relaying a duplicate is harmless

    def _remember(self, item_id: bytes, msg: Message) -> None:
        if len(self.cache) > MAX_CACHE:
            self.cache.clear()
        self.cache[item_id] = msg

    def flush(self) -> None:
        """Announces the node's own new messages to every peer."""
        with self.lock:
            out, self.node.outbox = self.node.outbox, []
        for msg in out:
            item = item_of(msg)
            if item is None:
                continue
            self.seen.add(item[1])
            self._remember(item[1], msg)
            self.announce(*item)

    def announce(self, kind: str, item_id: bytes, source: Peer | None = None) -> None:
        for peer in self.net.ready_peers():
            if peer is not source and item_id not in peer.known:
                peer.remember(item_id)
                self.net._queue(peer, Inv([(kind, item_id)]))  # the manager's send queue
