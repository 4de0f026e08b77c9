"""L2 gossip and sync over the node's P2P network (the additive plug-in of docs/protocol.md).

:class:`L2Gossip` joins an :class:`~funai.layer2.service.L2Node` to a running
:class:`~funai.network.manager.PeerManager` and :class:`~funai.ledger.chainservice.ChainService`:

* L1: a tip listener runs :meth:`L1Follower.sync` through ``ChainService.run`` (the
  chainstate's thread), so every L1 block reaches the L2 node in order, reorgs included.
* L2 gossip: handlers for ``l2tx``, ``l2block``, ``l2vote``, ``l2ad`` and ``l2pegsig`` hand
  each message to the node, which admits it by its named rules (``admission.py``) before
  anything is stored or relayed; a refused message costs the peer the rule's misbehaviour
  score (:meth:`PeerManager.punish`). An id is recorded as seen only once its message was
  admitted, so a malleated copy never blocks the real one. Items are served on request from
  the node's own state (never from a cache of contents: what the content store reclaimed is
  gone); votes, adverts and peg-out signatures from a bounded relay cache.
* L2 sync (rule ``l2-sync``): on connect, whenever a block arrives whose parent is unknown,
  and after each L1 block (one peer in turn), the node asks for the canonical blocks after
  its locator (``l2getblocks`` → ``l2blocks`` with the tip's QC); an answer nobody asked for
  is ``sync-unsolicited``. A verifier that lacks a block's content asks every peer for it
  (``l2getcontent`` → ``l2content``); a block some commitment names that the node lacks (a
  sibling of the canonical chain) is asked of every peer by hash (``getdata``).
* One owner of the L2 lock: every call into the node runs in a worker thread under
  :attr:`lock`, admitted by a one-slot :class:`trio.CapacityLimiter`, so the Trio thread
  never blocks on it (:meth:`run`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, TypeVar

import trio

from funai.errors import FunaiError, MalformedInputError
from funai.layer2.admission import AdmissionError
from funai.layer2.block import BlockContents
from funai.layer2.errors import L2Error
from funai.layer2.follower import L1Follower
from funai.layer2.messages import (
    MAX_SYNC_BLOCKS,
    L2AdMsg,
    L2BlockMsg,
    L2BlocksMsg,
    L2ContentMsg,
    L2GetBlocksMsg,
    L2GetContentMsg,
    L2PegSigMsg,
    L2TxMsg,
    L2VoteMsg,
)
from funai.layer2.service import L2Node
from funai.ledger.chainservice import ChainService
from funai.network.errors import Misbehaviour
from funai.network.manager import InvKind, PeerManager
from funai.network.messages import GetData, Inv, Message
from funai.network.peer import Peer

__all__ = ["L2Gossip", "item_of"]

T = TypeVar("T")
KINDS = ("l2tx", "l2block", "l2vote", "l2ad", "l2pegsig")
#: Ids remembered as seen (admitted), and messages kept to relay (no inference content).
MAX_SEEN = 200_000
MAX_RELAY = 20_000
#: Seconds before an id, a content or a sync request is asked for again.
RETRY = 5.0
#: Sync answers of one kind one peer gets in a window of seconds.
SERVE_BURST = 20
SERVE_WINDOW = 2.0


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


class _Lru(OrderedDict[bytes, T]):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: bytes, value: T) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class L2Gossip:
    """Runs one L2 node on one P2P network and L1 chain service."""

    def __init__(self, net: PeerManager, service: ChainService, node: L2Node) -> None:
        self.net = net
        self.service = service
        self.node = node
        self.follower = L1Follower(service.chain, node)
        self.lock = threading.Lock()
        self.limiter = trio.CapacityLimiter(1)
        self.seen: _Lru[bool] = _Lru(MAX_SEEN)
        self.relay: _Lru[Message] = _Lru(MAX_RELAY)
        self.asked: _Lru[float] = _Lru(MAX_SEEN)  # ids requested by getdata, and when
        self.sync_asked: dict[int, float] = {}  # peer id -> when we sent l2getblocks
        self.content_asked: _Lru[float] = _Lru(10_000)
        self.served: dict[tuple[int, str], tuple[float, int]] = {}
        self.turn = 0
        #: set when a verifier may have judging to do (funai.node.l2runtime waits on it)
        self.judging = trio.Event()
        # what the node produced, drained under the lock by :meth:`call` and handed out on
        # the Trio thread by :meth:`flush` (which never takes the lock)
        self._out: deque[Message] = deque()
        self._sync: deque[object] = deque()
        self._contents: list[bytes] = []
        self._blocks: list[bytes] = []
        self._jobs = False
        self._locator: list[bytes] = node.locator()
        for kind in KINDS:
            net.add_handler(kind, self._on_message)
            net.add_inv_kind(kind, InvKind(wanted=self._wanted, fetch=self._fetcher(kind)))
        net.add_handler("l2getblocks", self._on_getblocks)
        net.add_handler("l2blocks", self._on_blocks)
        net.add_handler("l2getcontent", self._on_getcontent)
        net.add_handler("l2content", self._on_content)
        net.peer_listeners.append(self._on_peer)
        service.tip_listeners.append(self._on_tip)

    # --- the node, one call at a time --------------------------------------------------------
    def call(self, fn: Callable[..., T], *args: object) -> T:
        """Runs ``fn(*args)`` on the L2 node under the lock (from a worker thread)."""
        with self.lock:
            try:
                return fn(*args)
            finally:
                self._drain()

    def _drain(self) -> None:
        """Takes the node's output (under the lock) for :meth:`flush`."""
        node = self.node
        if node.outbox:
            self._out.extend(node.outbox)
            node.outbox = []
        if node.sync_wanted:
            self._sync.extend(node.sync_wanted)
            node.sync_wanted = set()
        self._contents = node.wanted_contents()
        self._blocks = node.wanted_blocks()
        self._jobs = bool(node.verifying.jobs)
        self._locator = node.locator()

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Runs ``fn(*args)`` on the L2 node in a worker thread; the Trio thread waits on a
        one-slot limiter, never on the lock."""
        return await trio.to_thread.run_sync(self.call, fn, *args, limiter=self.limiter)

    async def start(self) -> None:
        """Catches up with the L1 chain the node already has (call once the network is
        running): a replay, so that no old round makes the producer build or the verifier
        vote again after a restart; later blocks are followed live."""
        await self.service.run(self.call, lambda: self.follower.sync(replay=True))
        self.flush()

    async def _on_tip(self, connected: list[tuple[bytes, int]]) -> None:
        await self.service.run(self.call, self.follower.sync)
        self.flush()
        peers = self.net.ready_peers()
        if peers:  # periodic sync: one peer in turn
            self.turn = (self.turn + 1) % len(peers)
            self._ask_blocks(peers[self.turn])

    # --- gossip ---------------------------------------------------------------------------------
    async def _wanted(self, ids: list[bytes]) -> list[bytes]:
        now = time.monotonic()
        out = []
        for i in ids:
            if i in self.seen or now - self.asked.get(i, -RETRY) < RETRY:
                continue
            self.asked.put(i, now)
            out.append(i)
        return out

    def _fetcher(self, kind: str) -> Callable[[bytes], Any]:
        async def fetch(item_id: bytes) -> Message | None:
            if kind == "l2tx":
                return await self.run(self._tx_msg, item_id)
            if kind == "l2block":
                got = await self.run(self._block_msg, item_id)
                return got if got is not None else self.relay.get(item_id)
            return self.relay.get(item_id)

        return fetch

    def _tx_msg(self, txid: bytes) -> Message | None:
        tx = self.node.mempool.get(txid)
        if tx is None:
            return None
        return L2TxMsg.make(tx, self.node.content.get(txid))

    def _block_msg(self, bh: bytes) -> Message | None:
        block = self.node.blocks.get(bh)
        if block is None:
            return None
        return L2BlockMsg.make(block, self.node.producer.contents_of(block))

    async def _on_message(self, peer: Peer, msg: Message) -> None:
        item = item_of(msg)
        if item is None:
            raise Misbehaviour("l2-malformed", 100)
        kind, item_id = item
        peer.remember(item_id)
        if item_id in self.seen:
            return
        try:
            adm = await self.run(self.node.receive, msg, peer.id)
        except AdmissionError as exc:
            self._refused(peer, kind, exc.rule, exc.score)
            return
        except MalformedInputError as exc:
            self._refused(peer, kind, f"l2-malformed: {exc}", 100)
            return
        except L2Error as exc:
            self._refused(peer, kind, exc.rule, 0)
            return
        finally:
            self.flush()
        if adm.accepted:
            self.seen.put(item_id, True)
            if kind in ("l2vote", "l2ad", "l2pegsig"):
                self.relay.put(item_id, msg)
        if adm.relay:
            self.announce(kind, item_id, source=peer)

    def _refused(self, peer: Peer, kind: str, rule: str, score: int) -> None:
        if score > 0:
            self.net.punish(peer, score, f"{kind}: {rule}")

    def flush(self) -> None:
        """Announces the node's own new messages, asks for the blocks and contents it lacks,
        and wakes the judging loop (on the Trio thread; never takes the lock)."""
        while self._out:
            msg = self._out.popleft()
            item = item_of(msg)
            if item is None:
                continue
            self.seen.put(item[1], True)
            if item[0] in ("l2vote", "l2ad", "l2pegsig"):
                self.relay.put(item[1], msg)
            elif isinstance(msg, L2BlockMsg):
                # served from the chain while stored; a block this node sent without storing
                # it (its own second block, say) from here, without its contents
                self.relay.put(item[1], L2BlockMsg(msg.block, BlockContents().serialize()))
            self.announce(*item)
        want: set[object] = set()
        while self._sync:
            want.add(self._sync.popleft())
        for peer in self.net.ready_peers():
            if peer.id in want:
                self._ask_blocks(peer)
        self._ask_contents(self._contents)
        self._ask_missing_blocks(self._blocks)
        if self._jobs:
            self.judging.set()

    def announce(self, kind: str, item_id: bytes, source: Peer | None = None) -> None:
        for peer in self.net.ready_peers():
            if peer is not source and item_id not in peer.known:
                peer.remember(item_id)
                self.net.send(peer, Inv([(kind, item_id)]))

    # --- sync (rule l2-sync) ------------------------------------------------------------------
    def _on_peer(self, peer: Peer) -> None:
        self._ask_blocks(peer)

    def _ask_blocks(self, peer: Peer) -> None:
        now = time.monotonic()
        if now - self.sync_asked.get(peer.id, -RETRY) < RETRY:
            return
        self.sync_asked[peer.id] = now
        self.net.send(peer, L2GetBlocksMsg(list(self._locator)))

    def _too_often(self, peer: Peer, what: str) -> bool:
        """At most :data:`SERVE_BURST` sync answers of one kind per peer in any
        :data:`SERVE_WINDOW` seconds; a peer that asks faster gets nothing until the window
        passes (an honest one asks again after :data:`RETRY`)."""
        now = time.monotonic()
        key = (peer.id, what)
        start, count = self.served.get(key, (now, 0))
        if now - start >= SERVE_WINDOW:
            start, count = now, 0
        if count >= SERVE_BURST:
            return True
        self.served[key] = (start, count + 1)
        if len(self.served) > 4096:
            self.served.clear()
        return False

    async def _on_getblocks(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, L2GetBlocksMsg)
        if self._too_often(peer, "l2getblocks"):
            return
        blocks, qcs = await self.run(self.node.blocks_after, msg.locator, MAX_SYNC_BLOCKS)
        self.net.send(peer, L2BlocksMsg.make(blocks, qcs))

    async def _on_blocks(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, L2BlocksMsg)
        if self.sync_asked.pop(peer.id, None) is None:
            self._refused(peer, "l2blocks", "sync-unsolicited", 10)
            return
        try:
            blocks, qcs = msg.parse()
            stored = await self.run(self.node.receive_blocks, blocks, qcs, peer.id)
        except AdmissionError as exc:
            self._refused(peer, "l2blocks", exc.rule, exc.score)
            return
        except MalformedInputError as exc:
            self._refused(peer, "l2blocks", f"l2-malformed: {exc}", 100)
            return
        finally:
            self.flush()
        if len(blocks) >= MAX_SYNC_BLOCKS and stored:
            self._ask_blocks(peer)  # more to come

    def _ask_missing_blocks(self, hashes: list[bytes]) -> None:
        """Blocks a commitment names that this node lacks (siblings of the canonical chain
        ``l2getblocks`` does not serve): asked of every peer by hash."""
        self._ask_everyone(self.asked, hashes, lambda ids: GetData([("l2block", h) for h in ids]))

    def _ask_contents(self, txids: list[bytes]) -> None:
        self._ask_everyone(self.content_asked, txids, L2GetContentMsg)

    def _ask_everyone(
        self, asked: _Lru[float], ids: list[bytes], make: Callable[[list[bytes]], Message]
    ) -> None:
        """Asks every peer for the ``ids`` not asked for in the last :data:`RETRY` seconds."""
        now = time.monotonic()
        ask = [i for i in ids if now - asked.get(i, -RETRY) >= RETRY]
        if not ask:
            return
        for i in ask:
            asked.put(i, now)
        for peer in self.net.ready_peers():
            self.net.send(peer, make(ask))

    async def _on_getcontent(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, L2GetContentMsg)
        if self._too_often(peer, "l2getcontent"):
            return
        items = await self.run(self.node.contents_for, msg.txids)
        if items:
            self.net.send(peer, L2ContentMsg.make(items))

    async def _on_content(self, peer: Peer, msg: Message) -> None:
        assert isinstance(msg, L2ContentMsg)
        try:
            items = msg.parse()
            await self.run(self.node.receive_contents, items)
        except AdmissionError as exc:
            self._refused(peer, "l2content", exc.rule, exc.score)
        except MalformedInputError as exc:
            self._refused(peer, "l2content", f"l2-malformed: {exc}", 100)
        finally:
            self.flush()
