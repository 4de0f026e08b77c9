"""The peer manager: connections, handshake, dispatch, headers-first sync and relay.

* Outbound: configured/manual peers are always kept connected (reconnect with exponential
  backoff); with ``discover`` on, addresses from the address book fill up to
  ``outbound`` connections. Inbound: at most ``inbound`` connections; banned hosts are
  refused at accept.
* Every peer is scored: malformed frames and payloads, oversized frames, wrong magic,
  invalid proof of work or headers, invalid blocks and consensus-invalid transactions,
  unrequested data and message floods (a token bucket per peer) cost points; at 100 the
  peer is disconnected and its host and node key are banned for ``ban_seconds``.
* Sync: after the handshake each side asks the other for headers (``getheaders`` with a
  locator); headers are checked in the :class:`HeaderTree` before any body is requested;
  missing blocks on the way to the most-work header are requested in parallel from every
  peer that has them (``blocks_per_peer`` in flight each, a moving window), buffered, and
  submitted to the chainstate in order by one processor task.
* Relay: a new tip is announced with ``inv``; a peer that does not know it asks for headers
  (which also handles forks). Transactions admitted to the mempool are announced with
  ``inv``; peers fetch them with ``getdata``; a new peer gets our mempool on ``mempool``.
* Extension: other layers add message classes to the registry and handlers with
  :meth:`PeerManager.add_handler`, and inventory kinds with :meth:`PeerManager.add_inv_kind`.
"""

from __future__ import annotations

import functools
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from funai.errors import MalformedInputError
from funai.ledger.block import Block
from funai.ledger.errors import ConsensusError, MempoolError
from funai.ledger.header import BlockHeader, display_hash
from funai.ledger.tx import Transaction
from funai.network.addrbook import AddrBook, parse_hostport
from funai.network.errors import HandshakeError, Misbehaviour, ProtocolError
from funai.network.framing import MAX_FRAME, network_magic
from funai.network.handshake import LocalIdentity
from funai.network.headertree import HeaderTree
from funai.network.messages import (
    MAX_HEADERS,
    MAX_INV,
    REGISTRY,
    Addr,
    Auth,
    BlockMsg,
    GetAddr,
    GetData,
    GetHeaders,
    Headers,
    Hello,
    Inv,
    MempoolReq,
    Message,
    NotFound,
    Ping,
    Pong,
    Registry,
    Reject,
    TxMsg,
)
from funai.network.peer import Peer
from funai.node.chainservice import ChainService

__all__ = ["InvKind", "NetConfig", "PeerManager"]

log = logging.getLogger("funai.net")

Handler = Callable[[Peer, Message], Awaitable[None]]

# Mempool rules an honest peer can trip (races, reorgs, policy): no score.
_POLICY_RULES = {
    "txn-already-in-mempool",
    "txn-mempool-conflict",
    "min-fee-not-met",
    "mempool-full",
    "bad-txns-inputs-missingorspent",
    "bad-txns-premature-spend-of-coinbase",
    "bad-txns-nonfinal",
}
_BENIGN_BLOCK_RULES = {"time-too-new"}
#: Addresses shared by every process of the machine: never banned, only the peer's key is.
SHARED_HOSTS = {"127.0.0.1", "::1", "localhost"}
_CONN_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError, OSError)


@dataclass
class NetConfig:
    listen_host: str = "127.0.0.1"
    listen_port: int = 0
    peers: list[str] = field(default_factory=list)
    outbound: int = 8
    inbound: int = 32
    discover: bool = True
    ban_seconds: float = 24 * 3600.0
    whitelist: list[str] = field(default_factory=list)
    max_frame: int = MAX_FRAME
    msg_rate: float = 200.0
    msg_burst: float = 1000.0
    blocks_per_peer: int = 16
    window: int = 1024
    block_timeout: float = 20.0
    ping_interval: float = 30.0
    idle_timeout: float = 120.0
    send_queue: int = 4096


@dataclass
class InvKind:
    """A kind of inventory another layer relays: how to tell what we lack and serve it."""

    wanted: Callable[[list[bytes]], Awaitable[list[bytes]]]
    fetch: Callable[[bytes], Awaitable[Message | None]]


class PeerManager:
    """Runs the P2P side of a node."""

    def __init__(
        self,
        service: ChainService,
        identity: LocalIdentity,
        config: NetConfig,
        addrbook: AddrBook,
        registry: Registry = REGISTRY,
    ) -> None:
        self.service = service
        self.chain = service.chain
        self.params = service.params
        self.identity = identity
        self.config = config
        self.addrbook = addrbook
        self.registry = registry
        self.magic = network_magic(self.chain.genesis_hash)
        self.tree = HeaderTree(self.params)
        for e in list(self.chain.index.values()):
            self.tree.seed(e.hash, e.prev, e.height, e.header, e.chain_work, e.status != 0)
        self.peers: dict[int, Peer] = {}
        self.queues: dict[int, trio.MemorySendChannel[Message]] = {}
        self.cancels: dict[int, trio.CancelScope] = {}
        self.manual: set[str] = set(config.peers)
        self.connecting: set[str] = set()
        self.self_addrs: set[str] = set()
        self.requested: dict[bytes, tuple[int, float]] = {}
        self.received: dict[bytes, tuple[Block, int]] = {}
        self.tx_requested: dict[bytes, float] = {}
        self.tx_rejected: dict[bytes, float] = {}
        self.handlers: dict[str, Handler] = {}
        #: called with each peer once its handshake is done (other layers start their sync)
        self.peer_listeners: list[Callable[[Peer], None]] = []
        self.inv_kinds: dict[str, InvKind] = {}
        self.wake = trio.Event()
        self.process_event = trio.Event()
        self.listen_port = config.listen_port
        self.nursery: trio.Nursery | None = None
        self.started = time.time()
        self.blocks_downloaded = 0
        service.tip_listeners.append(self._on_tip)
        service.tx_listeners.append(self._on_tx)

    # --- extension points ---------------------------------------------------------------

    def add_handler(self, msg_type: str, handler: Handler) -> None:
        """Handles messages of ``msg_type`` (a class registered in :attr:`registry`)."""
        self.handlers[msg_type] = handler

    def add_inv_kind(self, kind: str, inv_kind: InvKind) -> None:
        self.inv_kinds[kind] = inv_kind

    def send(self, peer: Peer, msg: Message) -> None:
        """Queues ``msg`` for ``peer`` (other layers' requests, answers and inventory)."""
        self._queue(peer, msg)

    def punish(self, peer: Peer, score: int, reason: str) -> None:
        """Adds ``score`` misbehaviour points to ``peer`` (100 disconnects and bans)."""
        self._punish(peer, score, reason)

    # --- queries --------------------------------------------------------------------------

    def ready_peers(self) -> list[Peer]:
        return [p for p in self.peers.values() if not p.closed]

    def sync_status(self) -> dict[str, Any]:
        best = self.tree.best
        headers = best.height if best is not None else 0
        blocks = self.chain.height
        return {
            "headers": headers,
            "blocks": blocks,
            "in_flight": len(self.requested),
            "buffered": len(self.received),
            "synced": blocks >= headers,
            "progress": 1.0 if headers == 0 else min(1.0, blocks / headers),
        }

    def peer_info(self) -> list[dict[str, Any]]:
        return [p.info() for p in self.ready_peers()]

    # --- running --------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            listeners = await nursery.start(
                functools.partial(
                    trio.serve_tcp,
                    self._accept,
                    self.config.listen_port,
                    host=self.config.listen_host,
                )
            )
            self.listen_port = listeners[0].socket.getsockname()[1]
            self.identity.listen = self.listen_port
            self.self_addrs.add(f"{self.config.listen_host}:{self.listen_port}")
            self.self_addrs.add(f"127.0.0.1:{self.listen_port}")
            log.info("p2p listening", extra={"fields": {"port": self.listen_port}})
            nursery.start_soon(self._connect_loop)
            nursery.start_soon(self._download_loop)
            nursery.start_soon(self._process_loop)
            nursery.start_soon(self._housekeeping)
            task_status.started(self.listen_port)

    def _spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        assert self.nursery is not None
        self.nursery.start_soon(fn, *args)

    # --- connections ----------------------------------------------------------------------

    async def _accept(self, stream: trio.SocketStream) -> None:
        host, port = stream.socket.getpeername()[:2]
        if self.addrbook.is_banned(host) and host not in self.config.whitelist:
            log.info("refused banned host", extra={"fields": {"host": host}})
            await stream.aclose()
            return
        inbound = sum(1 for p in self.peers.values() if p.inbound)
        if inbound >= self.config.inbound:
            log.info("refused inbound: limit reached", extra={"fields": {"host": host}})
            await stream.aclose()
            return
        await self._run_peer(stream, host, port, inbound=True)

    def is_connected(self, addr: str) -> bool:
        return any(addr in (p.addr, p.listen_addr) for p in self.peers.values())

    def connect(self, addr: str) -> None:
        """Keeps a connection to ``addr`` (a manual peer)."""
        parse_hostport(addr)
        self.manual.add(addr)
        self.addrbook.add(addr, "manual")
        info = self.addrbook.addrs.get(addr)
        if info is not None:
            info.next_try = 0.0

    def disconnect(self, addr: str) -> int:
        """Forgets manual peer ``addr`` and closes connections to it; returns how many."""
        self.manual.discard(addr)
        n = 0
        for peer in list(self.peers.values()):
            if addr in ("*", peer.addr, peer.listen_addr):
                self._close(peer)
                n += 1
        return n

    def _close(self, peer: Peer) -> None:
        scope = self.cancels.get(peer.id)
        if scope is not None:
            scope.cancel()

    async def _connect_loop(self) -> None:
        while True:
            targets: list[str] = []
            busy = {p.listen_addr for p in self.peers.values() if p.listen_addr}
            busy |= self.connecting | self.self_addrs
            for addr in sorted(self.manual):
                if addr not in busy and not self.is_connected(addr) and self.addrbook.ready(addr):
                    targets.append(addr)
            if self.config.discover:
                outbound = sum(1 for p in self.peers.values() if not p.inbound) + len(
                    self.connecting
                )
                for addr in self.addrbook.candidates(busy | set(targets)):
                    if outbound + len(targets) >= self.config.outbound:
                        break
                    if not self.is_connected(addr):
                        targets.append(addr)
            for addr in targets:
                self.connecting.add(addr)
                self._spawn(self._connect, addr)
            await trio.sleep(0.25)

    async def _connect(self, addr: str) -> None:
        try:
            host, port = parse_hostport(addr)
            if self.addrbook.is_banned(host) and host not in self.config.whitelist:
                self.addrbook.failed(addr, cap=600)
                return
            stream: trio.SocketStream | None = None
            with trio.move_on_after(5):
                try:
                    stream = await trio.open_tcp_stream(host, port)
                except OSError:
                    stream = None
            if stream is None:
                self.addrbook.failed(addr)
                return
            ok = await self._run_peer(stream, host, port, inbound=False)
            self.addrbook.failed(addr, base=0.5 if ok else 1.0)
        finally:
            self.connecting.discard(addr)

    async def _run_peer(
        self, stream: trio.SocketStream, host: str, port: int, *, inbound: bool
    ) -> bool:
        """Handshake, then the receive loop; returns whether the handshake succeeded."""
        peer = Peer(
            stream,
            self.magic,
            host=host,
            port=port,
            inbound=inbound,
            registry=self.registry,
            max_frame=self.config.max_frame,
            msg_rate=self.config.msg_rate,
            msg_burst=self.config.msg_burst,
        )
        fields_ = {"peer": peer.addr, "inbound": inbound}
        established = False
        scope = trio.CancelScope()
        self.cancels[peer.id] = scope
        try:
            with scope:
                try:
                    hello = await peer.handshake(self.identity, self.chain.height)
                except HandshakeError as exc:
                    if exc.reason == "self-connection" and not inbound:
                        self.self_addrs.add(peer.addr)
                    log.info("handshake failed", extra={"fields": {**fields_, "reason": str(exc)}})
                    if exc.score:
                        self._punish(peer, exc.score, exc.reason)
                    return False
                key_id = "key:" + hello.key.hex()
                if self.addrbook.is_banned(key_id) and host not in self.config.whitelist:
                    await peer.send(Reject("banned"))
                    return False
                if not self._dedup(peer):
                    return False
                established = True
                self.peers[peer.id] = peer
                if not inbound:
                    self.addrbook.connected(peer.addr)
                elif peer.listen_addr and self.config.discover:
                    self.addrbook.add(peer.listen_addr, "inbound", seen=True)
                log.info(
                    "peer connected",
                    extra={
                        "fields": {**fields_, "key": hello.key.hex()[:16], "height": hello.height}
                    },
                )
                send, recv = trio.open_memory_channel[Message](self.config.send_queue)
                self.queues[peer.id] = send
                async with trio.open_nursery() as inner:
                    inner.start_soon(self._writer, peer, recv)
                    self._queue(peer, GetHeaders(self.locator(), bytes(32)))
                    if self.config.discover:
                        self._queue(peer, GetAddr())
                    self._queue(peer, MempoolReq())
                    for listener in self.peer_listeners:
                        listener(peer)
                    try:
                        await self._receive_loop(peer)
                    except ProtocolError as exc:
                        self._punish(peer, exc.score, exc.reason)
                    except _CONN_ERRORS:
                        pass
                    inner.cancel_scope.cancel()
        except ProtocolError as exc:
            self._punish(peer, exc.score, exc.reason)
        except (trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError, OSError):
            pass
        except Exception:  # a bug must cost one connection, never the node
            log.exception("peer task failed", extra={"fields": fields_})
        finally:
            self.peers.pop(peer.id, None)
            self.queues.pop(peer.id, None)
            self.cancels.pop(peer.id, None)
            for h in list(peer.in_flight):
                self.requested.pop(h, None)
            peer.in_flight.clear()
            await peer.aclose()
            if established:
                log.info("peer disconnected", extra={"fields": fields_})
            self._wake()
        return established

    def _dedup(self, peer: Peer) -> bool:
        """One connection per node key: keep the one opened by the smaller key."""

        def opener(p: Peer) -> bytes:
            return (p.key or b"") if p.inbound else self.identity.public_key

        for other in list(self.peers.values()):
            if other.key == peer.key:
                if opener(peer) < opener(other):
                    self._close(other)
                    return True
                return False
        return True

    async def _writer(self, peer: Peer, recv: trio.MemoryReceiveChannel[Message]) -> None:
        try:
            async for msg in recv:
                await peer.send(msg)
        except (trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError, OSError):
            self._close(peer)

    def _queue(self, peer: Peer, msg: Message) -> None:
        chan = self.queues.get(peer.id)
        if chan is None:
            return
        try:
            chan.send_nowait(msg)
        except trio.WouldBlock:
            log.info("peer too slow: send queue full", extra={"fields": {"peer": peer.addr}})
            self._close(peer)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    def _punish(self, peer: Peer, score: int, reason: str) -> None:
        if score <= 0:
            return
        peer.score += score
        log.warning(
            "misbehaviour",
            extra={"fields": {"peer": peer.addr, "reason": reason, "score": peer.score}},
        )
        if peer.score >= 100:
            self._close(peer)
            if peer.host in self.config.whitelist:
                return
            if peer.host in SHARED_HOSTS:
                # every local process (a devnet's nodes) shares this address: banning it
                # would cut honest neighbours off; the node key is discouraged instead
                if peer.key is not None:
                    self.addrbook.ban("key:" + peer.key.hex(), self.config.ban_seconds, reason)
                log.warning("discouraged", extra={"fields": {"peer": peer.addr, "reason": reason}})
                return
            self.addrbook.ban(peer.host, self.config.ban_seconds, reason)
            if peer.key is not None:
                self.addrbook.ban("key:" + peer.key.hex(), self.config.ban_seconds, reason)
            log.warning("banned", extra={"fields": {"host": peer.host, "reason": reason}})

    def ban(self, who: str, reason: str = "manual") -> None:
        self.addrbook.ban(who, self.config.ban_seconds, reason)
        for peer in list(self.peers.values()):
            if who in (peer.host, "key:" + (peer.key or b"").hex()):
                self._close(peer)

    # --- receiving ------------------------------------------------------------------------

    async def _receive_loop(self, peer: Peer) -> None:
        while peer.score < 100:
            msg = await peer.recv()
            if msg is None:
                return
            requested_block = isinstance(msg, BlockMsg) and bool(peer.in_flight)
            if not requested_block and not peer.bucket.take():
                self._punish(peer, 1, "rate-limit")
                continue
            try:
                await self._dispatch(peer, msg)
            except Misbehaviour as exc:
                self._punish(peer, exc.score, exc.reason)
            except MalformedInputError as exc:
                self._punish(peer, 100, f"malformed: {exc}")

    async def _dispatch(self, peer: Peer, msg: Message | tuple[str, Any]) -> None:
        if isinstance(msg, tuple):
            log.debug("ignored unknown message", extra={"fields": {"type": msg[0]}})
            return
        if isinstance(msg, Ping):
            self._queue(peer, Pong(msg.nonce))
        elif isinstance(msg, Pong):
            if peer.ping_nonce == msg.nonce:
                peer.latency = time.monotonic() - peer.ping_sent
                peer.ping_nonce = None
        elif isinstance(msg, Headers):
            await self._on_headers(peer, msg)
        elif isinstance(msg, GetHeaders):
            self._on_getheaders(peer, msg)
        elif isinstance(msg, Inv):
            await self._on_inv(peer, msg)
        elif isinstance(msg, GetData):
            await self._on_getdata(peer, msg)
        elif isinstance(msg, BlockMsg):
            await self._on_block(peer, msg)
        elif isinstance(msg, TxMsg):
            await self._on_tx_msg(peer, msg)
        elif isinstance(msg, MempoolReq):
            txids = list(self.service.mempool.entries)[:MAX_INV]
            if txids:
                for t in txids:
                    peer.remember(t)
                self._queue(peer, Inv([("tx", t) for t in txids]))
        elif isinstance(msg, GetAddr):
            addrs = [p.listen_addr for p in self.ready_peers() if p.listen_addr and p is not peer]
            addrs += [a for a in self.addrbook.addrs if a not in addrs]
            self._queue(peer, Addr([a for a in addrs if a][:1000]))
        elif isinstance(msg, Addr):
            if self.config.discover:
                for a in msg.addrs:
                    if a not in self.self_addrs:
                        self.addrbook.add(a, peer.addr)
        elif isinstance(msg, NotFound):
            for kind, h in msg.items:
                peer.known.discard(h)
                if kind == "block" and h in peer.in_flight:
                    peer.in_flight.pop(h, None)
                    self.requested.pop(h, None)
            self._wake()
        elif isinstance(msg, Reject):
            log.info(
                "peer rejected us", extra={"fields": {"peer": peer.addr, "reason": msg.reason}}
            )
            self._close(peer)
        elif isinstance(msg, Hello | Auth):
            raise Misbehaviour("duplicate-handshake", 20)
        else:
            handler = self.handlers.get(msg.TYPE)
            if handler is not None:
                await handler(peer, msg)

    # --- headers --------------------------------------------------------------------------

    def locator(self) -> list[bytes]:
        """Hashes back from the best header: 10 one apart, then doubling, then genesis."""
        best = self.tree.best
        if best is None:
            return [self.chain.genesis_hash]
        out: list[bytes] = []
        step = 1
        cur = best
        height = best.height
        while True:
            while cur.height > height:
                if self.chain.is_active(cur.hash):
                    cur = self.tree.entries[self.chain.active[height]]
                    break
                cur = self.tree.entries[cur.prev]
            out.append(cur.hash)
            if height == 0 or len(out) >= 100:
                break
            if len(out) >= 10:
                step *= 2
            height = max(0, height - step)
        if out[-1] != self.chain.genesis_hash:
            out.append(self.chain.genesis_hash)
        return out

    def _on_getheaders(self, peer: Peer, msg: GetHeaders) -> None:
        active = list(self.chain.active)
        start = 1
        for h in msg.locator:
            entry = self.chain.index.get(h)
            if entry is not None and entry.height < len(active) and active[entry.height] == h:
                start = entry.height + 1
                break
        headers: list[bytes] = []
        for h in active[start : start + MAX_HEADERS]:
            headers.append(self.chain.index[h].header.serialize())
            if h == msg.stop:
                break
        if headers:
            peer.remember(active[start + len(headers) - 1])
        self._queue(peer, Headers(headers))

    async def _on_headers(self, peer: Peer, msg: Headers) -> None:
        if not msg.headers:
            peer.sync_started = True
            return
        headers = [BlockHeader.parse(h) for h in msg.headers]
        for header in headers:
            peer.remember(header.hash())
        try:
            self.tree.add(headers, int(time.time()))
        finally:
            last = self.tree.get(headers[-1].hash())
            if last is not None:
                peer.remember(last.hash)
                if last.height >= peer.best_height:
                    peer.best_height = last.height
                    peer.best_hash = last.hash
            self._wake()
        if len(msg.headers) == MAX_HEADERS:
            self._queue(peer, GetHeaders(self.locator(), bytes(32)))
        else:
            peer.sync_started = True

    # --- inventory ------------------------------------------------------------------------

    async def _on_inv(self, peer: Peer, msg: Inv) -> None:
        need_headers = False
        want_tx: list[bytes] = []
        other: dict[str, list[bytes]] = {}
        now = time.monotonic()
        for kind, h in msg.items:
            peer.remember(h)
            if kind == "block":
                if h not in self.tree:
                    need_headers = True
            elif kind == "tx":
                if (
                    h not in self.service.mempool.entries
                    and h not in self.tx_rejected
                    and now - self.tx_requested.get(h, -math.inf) > 30
                ):
                    self.tx_requested[h] = now
                    want_tx.append(h)
            elif kind in self.inv_kinds:
                other.setdefault(kind, []).append(h)
        if need_headers:
            self._queue(peer, GetHeaders(self.locator(), bytes(32)))
        items = [("tx", h) for h in want_tx]
        for kind, ids in other.items():
            items += [(kind, h) for h in await self.inv_kinds[kind].wanted(ids)]
        if items:
            self._queue(peer, GetData(items))

    async def _on_getdata(self, peer: Peer, msg: GetData) -> None:
        missing: list[tuple[str, bytes]] = []
        blocks = [h for k, h in msg.items if k == "block"][:500]
        if blocks:
            found = await self.service.run(lambda: [self.chain.get_block(h) for h in blocks])
            for h, block in zip(blocks, found, strict=True):
                if block is None:
                    missing.append(("block", h))
                else:
                    peer.remember(h)
                    self._queue(peer, BlockMsg(block.serialize()))
        for kind, h in msg.items:
            if kind == "tx":
                entry = self.service.mempool.entries.get(h)
                if entry is None:
                    missing.append((kind, h))
                else:
                    self._queue(peer, TxMsg(entry.tx.serialize()))
            elif kind in self.inv_kinds:
                obj = await self.inv_kinds[kind].fetch(h)
                if obj is None:
                    missing.append((kind, h))
                else:
                    self._queue(peer, obj)
        if missing:
            self._queue(peer, NotFound(missing))

    async def _on_tx_msg(self, peer: Peer, msg: TxMsg) -> None:
        tx = Transaction.deserialize(msg.data)
        txid = tx.txid()
        peer.remember(txid)
        if self.tx_requested.pop(txid, None) is None and txid in self.service.mempool.entries:
            return
        try:
            await self.service.accept_tx(tx, peer)
        except MempoolError as exc:
            if exc.rule in _POLICY_RULES:
                return
            self.tx_rejected[txid] = time.monotonic()
            raise Misbehaviour(f"invalid-tx: {exc.rule}", 100) from None

    async def _on_tx(self, tx: Transaction, source: Any) -> None:
        txid = tx.txid()
        for peer in self.ready_peers():
            if peer is not source and txid not in peer.known:
                peer.remember(txid)
                self._queue(peer, Inv([("tx", txid)]))

    # --- blocks ---------------------------------------------------------------------------

    async def _on_block(self, peer: Peer, msg: BlockMsg) -> None:
        block = Block.deserialize(msg.data, max_size=self.config.max_frame)
        h = block.hash()
        peer.remember(h)
        solicited = peer.in_flight.pop(h, None) is not None
        if solicited:
            self.requested.pop(h, None)
        if h in self.chain.index or h in self.received:
            self._wake()
            return
        if h not in self.tree:
            if block.header.prev_hash not in self.tree:
                raise Misbehaviour("unrequested-block", 10 if not solicited else 0)
            self.tree.add([block.header], int(time.time()))  # raises Misbehaviour if invalid
        entry = self.tree.entries[h]
        if entry.invalid:
            raise Misbehaviour("invalid-block: known invalid", 100)
        if not solicited and entry.height > self.chain.height + self.config.window:
            raise Misbehaviour("unrequested-block", 10)
        self.received[h] = (block, peer.id)
        self.blocks_downloaded += 1
        self.process_event.set()

    async def _process_loop(self) -> None:
        while True:
            await self.process_event.wait()
            self.process_event = trio.Event()
            while True:
                batch = self._ready_batch(64)
                if not batch:
                    break
                results = await self.service.submit_blocks([b for b, _ in batch])
                for (block, peer_id), (_, result) in zip(batch, results, strict=True):
                    if isinstance(result, ConsensusError):
                        h = block.hash()
                        self.tree.mark_invalid(h)
                        log.warning(
                            "invalid block",
                            extra={"fields": {"hash": display_hash(h), "rule": result.rule}},
                        )
                        peer = self.peers.get(peer_id)
                        if peer is not None and result.rule not in _BENIGN_BLOCK_RULES:
                            self._punish(peer, 100, f"invalid-block: {result.rule}")
                        # Its descendants in the buffer can never connect.
                        for d in [
                            k
                            for k, v in self.received.items()
                            if self.tree.entries.get(k) is None or self.tree.entries[k].invalid
                        ]:
                            self.received.pop(d, None)
            self._wake()

    def _ready_batch(self, limit: int) -> list[tuple[Block, int]]:
        by_prev: dict[bytes, list[bytes]] = {}
        for h, (b, _) in self.received.items():
            by_prev.setdefault(b.header.prev_hash, []).append(h)
        roots = [h for h, (b, _) in self.received.items() if b.header.prev_hash in self.chain.index]
        out: list[tuple[Block, int]] = []
        stack = list(reversed(roots))
        while stack and len(out) < limit:
            h = stack.pop()
            item = self.received.pop(h, None)
            if item is None:
                continue
            out.append(item)
            stack.extend(reversed(by_prev.get(h, [])))
        return out

    async def _on_tip(self, connected: list[tuple[bytes, int]]) -> None:
        for h, _height in connected:
            e = self.chain.index.get(h)
            if e is not None and h not in self.tree:
                self.tree.seed(e.hash, e.prev, e.height, e.header, e.chain_work)
        tip = self.chain.active[-1]
        for peer in self.ready_peers():
            if tip not in peer.known:
                peer.remember(tip)
                self._queue(peer, Inv([("block", tip)]))
        self._wake()

    def _wake(self) -> None:
        self.wake.set()

    async def _download_loop(self) -> None:
        while True:
            with trio.move_on_after(1.0):
                await self.wake.wait()
            self.wake = trio.Event()
            self._schedule_downloads()

    def _schedule_downloads(self) -> None:
        now = time.monotonic()
        for h, (pid, t) in list(self.requested.items()):
            if now - t > self.config.block_timeout:
                self.requested.pop(h, None)
                peer = self.peers.get(pid)
                if peer is not None:
                    peer.in_flight.pop(h, None)
        best = self.tree.best
        if best is None or best.work <= self.chain.tip.chain_work:
            return
        path = self.tree.path_to(best, self.chain.index, self.config.window)
        peers = [p for p in self.ready_peers() if p.hello is not None]
        if not peers:
            return
        batches: dict[int, list[bytes]] = {}
        for entry in path:
            if entry.hash in self.requested or entry.hash in self.received:
                continue
            candidates = [
                p
                for p in peers
                if len(p.in_flight) + len(batches.get(p.id, [])) < self.config.blocks_per_peer
                and entry.hash in p.known
            ]
            if not candidates:
                if all(len(p.in_flight) >= self.config.blocks_per_peer for p in peers):
                    break
                continue
            peer = min(candidates, key=lambda p: len(p.in_flight) + len(batches.get(p.id, [])))
            batches.setdefault(peer.id, []).append(entry.hash)
            peer.in_flight[entry.hash] = now
            self.requested[entry.hash] = (peer.id, now)
        for pid, hashes in batches.items():
            peer = self.peers.get(pid)
            if peer is not None:
                self._queue(peer, GetData([("block", h) for h in hashes]))

    # --- housekeeping -----------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        while True:
            await trio.sleep(1.0)
            now = time.monotonic()
            for peer in self.ready_peers():
                if now - peer.last_recv > self.config.idle_timeout:
                    log.info("peer idle: disconnecting", extra={"fields": {"peer": peer.addr}})
                    self._close(peer)
                elif peer.ping_nonce is None and now - peer.ping_sent > self.config.ping_interval:
                    peer.ping_nonce = secrets.randbits(63)
                    peer.ping_sent = now
                    self._queue(peer, Ping(peer.ping_nonce))
            for d in (self.tx_requested, self.tx_rejected):
                for k, t in list(d.items()):
                    if now - t > 600:
                        del d[k]
            self.addrbook.save()
