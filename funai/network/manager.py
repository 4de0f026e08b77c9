"""The peer manager: connections, handshake, dispatch, headers-first sync and relay.

* Outbound: configured/manual peers are always kept connected (reconnect with exponential
  backoff); with ``discover`` on, addresses from the address book fill up to
  ``outbound`` connections. Inbound: at most ``inbound`` connections; banned hosts are
  refused at accept.
* Every peer is scored: malformed frames and payloads, oversized frames and messages, wrong
  magic, invalid proof of work or headers, invalid or mutated blocks and consensus-invalid
  transactions, unrequested data, message floods (a token bucket per peer), inventory
  floods and unknown message types past a byte budget cost points. At 100 the peer is
  disconnected and, as in Bitcoin Core since 0.20, its host and node key are *discouraged*:
  in memory only, for ``ban_seconds``, never saved. Loopback peers are disconnected but
  never discouraged (every local process shares the address); whitelisted and manual peers
  are never disconnected or discouraged for misbehaviour. Only manual bans are saved.
* Inbound: when the ``inbound`` slots are full a newcomer evicts one inbound peer that is
  not protected (Core's ``SelectNodeToEvict``: distinct netgroups, lowest ping, recent
  blocks and transactions, longest connected are protected), or is refused if all are.
* Sync: after the handshake each side asks the other for headers (``getheaders`` with a
  locator that starts below our best header, so the answer always names the peer's best);
  headers are checked in the :class:`HeaderTree` before any body is requested; missing
  blocks on the way to the most-work header are requested in parallel from any peer whose
  best header chain contains them (``blocks_per_peer`` in flight each, a moving window),
  buffered, and submitted to the chainstate in order by one processor task. A block not
  delivered within ``block_timeout`` seconds is asked of another peer. A block whose body
  does not match its header (mutated) is dropped and its sender punished; the header stays
  valid, so the genuine block from another peer is accepted.
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
from funai.ledger.chainservice import ChainService
from funai.ledger.errors import ConsensusError, MempoolError
from funai.ledger.header import BlockHeader, display_hash
from funai.ledger.tx import Transaction
from funai.ledger.validation import MUTATION_RULES, block_mutation
from funai.network.addrbook import LOOPBACK_HOSTS, AddrBook, parse_hostport
from funai.network.errors import HandshakeError, Misbehaviour, ProtocolError
from funai.network.framing import MAX_FRAME, network_magic
from funai.network.handshake import LocalIdentity
from funai.network.headertree import HeaderEntry, HeaderTree
from funai.network.messages import (
    MAX_HEADERS,
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

__all__ = ["InvKind", "NetConfig", "PeerManager", "netgroup"]

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
#: Addresses shared by every process of the machine: never discouraged.
SHARED_HOSTS = LOOPBACK_HOSTS
#: Transactions we may be waiting for from one peer (Core: MAX_PEER_TX_ANNOUNCEMENTS);
#: unknown ids announced past this are ignored, and a flood of them costs points.
MAX_PEER_TX_ANNOUNCEMENTS = 5_000
#: Seconds a transaction request stays outstanding before it may be asked again.
TX_REQUEST_TIMEOUT = 60.0
#: Inbound peers protected from eviction by each criterion (Core's numbers).
EVICT_PROTECT_NETGROUP = 4
EVICT_PROTECT_PING = 8
EVICT_PROTECT_TX = 4
EVICT_PROTECT_BLOCK = 4
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
        #: block hash -> ids of peers that timed out on it or did not have it
        self.stalled: dict[bytes, set[int]] = {}
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
        """Adds ``score`` misbehaviour points to ``peer`` (100 disconnects and discourages)."""
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
        if self.addrbook.is_refused(host) and host not in self.config.whitelist:
            log.info("refused banned or discouraged host", extra={"fields": {"host": host}})
            await stream.aclose()
            return
        inbound = sum(1 for p in self.peers.values() if p.inbound and not p.closed)
        if inbound >= self.config.inbound:
            victim = self.select_eviction()
            if victim is None:
                log.info("refused inbound: limit reached", extra={"fields": {"host": host}})
                await stream.aclose()
                return
            log.info(
                "evicting inbound peer",
                extra={"fields": {"peer": victim.addr, "for": f"{host}:{port}"}},
            )
            victim.closed = True
            self._close(victim)
        await self._run_peer(stream, host, port, inbound=True)

    def select_eviction(self) -> Peer | None:
        """The inbound peer to drop for a newcomer, or None if every one is protected.

        As Bitcoin Core's ``SelectNodeToEvict``: whitelisted peers are never evicted; then
        peers from up to 4 distinct netgroups, the 8 with the lowest ping, the 4 that most
        recently gave us a new transaction, the 4 that most recently gave us a new block and
        half of the rest (the longest connected) are protected. Of the others, the youngest
        connection of the netgroup with the most connections is evicted."""
        cands = [
            p
            for p in self.peers.values()
            if p.inbound and not p.closed and p.host not in self.config.whitelist
        ]

        def protect(chosen: list[Peer]) -> None:
            for p in chosen:
                if p in cands:
                    cands.remove(p)

        groups: dict[str, list[Peer]] = {}
        for p in sorted(cands, key=lambda p: p.connected_at):
            groups.setdefault(netgroup(p.host), []).append(p)
        protect([g[0] for _, g in sorted(groups.items())][:EVICT_PROTECT_NETGROUP])
        pinged = sorted((p for p in cands if p.latency is not None), key=lambda p: p.latency or 0)
        protect(pinged[:EVICT_PROTECT_PING])
        protect(
            sorted((p for p in cands if p.last_tx), key=lambda p: -p.last_tx)[:EVICT_PROTECT_TX]
        )
        protect(
            sorted((p for p in cands if p.last_block), key=lambda p: -p.last_block)[
                :EVICT_PROTECT_BLOCK
            ]
        )
        protect(sorted(cands, key=lambda p: p.connected_at)[: len(cands) // 2])
        if not cands:
            return None
        groups = {}
        for p in cands:
            groups.setdefault(netgroup(p.host), []).append(p)
        biggest = max(groups.values(), key=lambda g: (len(g), max(p.connected_at for p in g)))
        return max(biggest, key=lambda p: p.connected_at)

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
            refused = self.addrbook.is_banned(host) or (
                addr not in self.manual and self.addrbook.is_discouraged(host)
            )
            if refused and host not in self.config.whitelist:
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
                peer.manual = not inbound and peer.addr in self.manual
                refused = self.addrbook.is_banned(key_id) or (
                    not peer.manual and self.addrbook.is_discouraged(key_id)
                )
                if refused and host not in self.config.whitelist:
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
                    self._queue(peer, GetHeaders(self.locator(below_best=True), bytes(32)))
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
            for h in peer.tx_pending:
                self.tx_requested.pop(h, None)
            peer.tx_pending.clear()
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
        if peer.host in self.config.whitelist or peer.manual:
            # Core: whitelisted (noban) and manual peers are never punished
            log.warning(
                "misbehaviour (not punished: whitelisted or manual peer)",
                extra={"fields": {"peer": peer.addr, "reason": reason, "score": score}},
            )
            return
        peer.score += score
        log.warning(
            "misbehaviour",
            extra={"fields": {"peer": peer.addr, "reason": reason, "score": peer.score}},
        )
        if peer.score < 100:
            return
        self._close(peer)
        if peer.host in SHARED_HOSTS:
            # every local process (a devnet's nodes) shares this address: disconnect only
            log.warning(
                "disconnected (loopback peers are never discouraged)",
                extra={"fields": {"peer": peer.addr, "reason": reason}},
            )
            return
        seconds = self.config.ban_seconds
        self.addrbook.discourage(peer.host, seconds, reason)
        if peer.key is not None:
            self.addrbook.discourage("key:" + peer.key.hex(), seconds, reason)
        log.warning("discouraged", extra={"fields": {"host": peer.host, "reason": reason}})

    def ban(self, who: str, reason: str = "manual", seconds: float | None = None) -> None:
        """A manual ban (saved; expires after ``seconds``, default ``ban_seconds``)."""
        self.addrbook.ban(who, self.config.ban_seconds if seconds is None else seconds, reason)
        self.addrbook.save()
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
            # Unknown types are ignored (newer peers), within a per-peer byte budget.
            if not peer.unknown_bucket.take(peer.last_size):
                score = min(100, 10 + peer.last_size // 65536)  # larger costs more
                raise Misbehaviour(f"unknown-message-flood: {msg[0][:40]}", score)
            log.debug("ignored unknown message", extra={"fields": {"type": msg[0][:40]}})
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
            txids = list(self.service.mempool.entries)[:MAX_PEER_TX_ANNOUNCEMENTS]
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
                    self.stalled.setdefault(h, set()).add(peer.id)
                elif kind == "tx" and peer.tx_pending.pop(h, None) is not None:
                    self.tx_requested.pop(h, None)
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

    def locator(self, *, below_best: bool = False) -> list[bytes]:
        """Hashes back from the best header: 10 one apart, then doubling, then genesis.

        ``below_best``: start at the best header's parent, so that a peer on the same chain
        answers with at least that header, which tells us its best chain (Core does this
        on the first ``getheaders`` to a peer)."""
        best = self.tree.best
        if best is None:
            return [self.chain.genesis_hash]
        if below_best and best.height > 0 and best.prev in self.tree.entries:
            best = self.tree.entries[best.prev]
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
        # More transaction ids in one inventory than a peer may have outstanding: no honest
        # node sends that (relay announces what it accepted, a mempool answer is capped at
        # MAX_PEER_TX_ANNOUNCEMENTS), so none of it is looked at, remembered or requested.
        tx_count = sum(1 for kind, _ in msg.items if kind == "tx")
        if tx_count > MAX_PEER_TX_ANNOUNCEMENTS:
            raise Misbehaviour(f"inv-flood: {tx_count} tx ids in one inventory", 20)
        need_headers = False
        want_tx: list[bytes] = []
        other: dict[str, list[bytes]] = {}
        now = time.monotonic()
        dropped = 0
        for kind, h in msg.items:
            peer.remember(h)
            if kind == "block":
                entry = self.tree.get(h)
                if entry is None:
                    need_headers = True
                elif not entry.invalid and (
                    entry.height > peer.best_height or peer.best_hash is None
                ):
                    peer.best_height = entry.height
                    peer.best_hash = entry.hash
            elif kind == "tx":
                if (
                    h not in self.service.mempool.entries
                    and h not in self.tx_rejected
                    and now - self.tx_requested.get(h, -math.inf) > TX_REQUEST_TIMEOUT
                ):
                    if len(peer.tx_pending) >= MAX_PEER_TX_ANNOUNCEMENTS:
                        dropped += 1
                        continue
                    self.tx_requested[h] = now
                    peer.tx_pending[h] = now
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
        if dropped >= MAX_PEER_TX_ANNOUNCEMENTS // 5:
            raise Misbehaviour(f"inv-flood: {tx_count} tx ids, {dropped} ignored", 20)

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
        peer.tx_pending.pop(txid, None)
        if self.tx_requested.pop(txid, None) is None and txid in self.service.mempool.entries:
            return
        try:
            await self.service.accept_tx(tx, peer)
        except MempoolError as exc:
            if exc.rule in _POLICY_RULES:
                return
            self.tx_rejected[txid] = time.monotonic()
            raise Misbehaviour(f"invalid-tx: {exc.rule}", 100) from None
        peer.last_tx = time.monotonic()

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
        mutated = block_mutation(block)
        if mutated is not None:
            # The body does not match the header: drop it, keep the header valid and ask
            # another peer (Core's p2p_mutated_blocks).
            self.stalled.setdefault(h, set()).add(peer.id)
            self._wake()
            raise Misbehaviour(f"mutated-block: {mutated}", 100)
        self.stalled.pop(h, None)
        peer.last_block = time.monotonic()
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
                    if isinstance(result, ConsensusError) and result.rule in MUTATION_RULES:
                        peer = self.peers.get(peer_id)
                        if peer is not None:
                            self._punish(peer, 100, f"mutated-block: {result.rule}")
                    elif isinstance(result, ConsensusError):
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
                self.stalled.setdefault(h, set()).add(pid)
                peer = self.peers.get(pid)
                if peer is not None:
                    peer.in_flight.pop(h, None)
                log.info(
                    "block download timed out: asking another peer",
                    extra={"fields": {"hash": display_hash(h), "peer": pid}},
                )
        best = self.tree.best
        if best is None or best.work <= self.chain.tip.chain_work:
            return
        path = self.tree.path_to(best, self.chain.index, self.config.window)
        peers = [p for p in self.ready_peers() if p.hello is not None]
        if not peers or not path:
            return
        served = {p.id: self._served_upto(p, path) for p in peers}
        batches: dict[int, list[bytes]] = {}
        for index, entry in enumerate(path):
            if entry.hash in self.requested or entry.hash in self.received:
                continue
            has = [p for p in peers if served[p.id] >= index or entry.hash in p.known]
            free = [
                p
                for p in has
                if len(p.in_flight) + len(batches.get(p.id, [])) < self.config.blocks_per_peer
            ]
            stalled = self.stalled.get(entry.hash, set())
            candidates = [p for p in free if p.id not in stalled] or (
                free if all(p.id in stalled for p in has) else []
            )
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

    def _served_upto(self, peer: Peer, path: list[HeaderEntry]) -> int:
        """The index of the last entry of ``path`` on ``peer``'s best header chain (-1 if
        none): a peer can serve every block of its best chain, announced or not."""
        best = self.tree.get(peer.best_hash) if peer.best_hash is not None else None
        if best is None or best.invalid:
            return -1
        last = path[-1]
        if best is self.tree.best or best.hash == last.hash:
            return len(path) - 1  # the path leads to this peer's best header
        cached = peer.served_cache
        if cached is not None and cached[0] == best.hash and cached[1] == last.hash:
            return cached[2]
        first = path[0].height
        cur = best
        while cur.height > last.height:
            cur = self.tree.entries[cur.prev]
        result = -1
        while cur.height >= first:
            if path[cur.height - first].hash == cur.hash:
                result = cur.height - first
                break
            parent = self.tree.entries.get(cur.prev)
            if parent is None:
                break
            cur = parent
        peer.served_cache = (best.hash, last.hash, result)
        return result

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
            for k, t in list(self.tx_rejected.items()):
                if now - t > 600:
                    del self.tx_rejected[k]
            for k, t in list(self.tx_requested.items()):
                if now - t > TX_REQUEST_TIMEOUT:
                    del self.tx_requested[k]
            for peer in self.ready_peers():
                for k, t in list(peer.tx_pending.items()):
                    if now - t > TX_REQUEST_TIMEOUT:
                        del peer.tx_pending[k]
            for h in [h for h in self.stalled if h in self.chain.index]:
                del self.stalled[h]
            self.addrbook.save()


def netgroup(host: str) -> str:
    """The network group of an address, as Core groups peers for eviction: an IPv4 /16,
    an IPv6 /32, or the host name itself."""
    if ":" in host:
        parts = host.split(":")
        return ":".join(parts[:2])
    parts = host.split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return ".".join(parts[:2])
    return host
