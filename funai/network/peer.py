"""One connected peer: framed, rate-limited message I/O over a Trio stream."""

from __future__ import annotations

import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import trio

from funai.network.errors import HandshakeError, ProtocolError
from funai.network.framing import MAX_FRAME, FrameReader, encode_frame
from funai.network.handshake import (
    HANDSHAKE_TIMEOUT,
    LocalIdentity,
    check_hello,
    make_auth,
    verify_auth,
)
from funai.network.messages import (
    REGISTRY,
    Auth,
    Hello,
    Message,
    Registry,
    Reject,
    encode_payload,
)

__all__ = ["KnownSet", "Peer", "TokenBucket"]

SEND_TIMEOUT = 30.0
#: Inventory ids remembered per peer (Core: a 50,000-entry rolling filter); oldest forgotten.
MAX_KNOWN = 20_000
#: Bytes of messages of unknown types a peer may send: a burst, then this many a second.
UNKNOWN_BYTES_BURST = 4 * 1024 * 1024
UNKNOWN_BYTES_RATE = 64 * 1024
_ids = itertools.count(1)


class KnownSet:
    """A bounded set of inventory ids: the oldest are forgotten past ``limit`` entries.

    Ids are kept as the integer of their first 8 bytes (a false "known" is one announcement
    not sent to a peer, as with Core's rolling filter), so memory stays small and bounded
    however many ids a peer announces.
    """

    def __init__(self, limit: int = MAX_KNOWN) -> None:
        self.limit = limit
        self._items: dict[int, None] = {}

    @staticmethod
    def _key(item_id: bytes) -> int:
        return int.from_bytes(item_id[:8], "little")

    def add(self, item_id: bytes) -> None:
        key = self._key(item_id)
        items = self._items
        if key in items:
            return
        items[key] = None
        if len(items) > self.limit:
            del items[next(iter(items))]

    def discard(self, item_id: bytes) -> None:
        self._items.pop(self._key(item_id), None)

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, bytes) and self._key(item_id) in self._items

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self, n: float = 1.0) -> bool:
        now = time.monotonic()
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False


class Peer:
    """A connection; :meth:`handshake` first, then :meth:`recv` / :meth:`send`."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        magic: bytes,
        *,
        host: str,
        port: int,
        inbound: bool,
        registry: Registry = REGISTRY,
        max_frame: int = MAX_FRAME,
        msg_rate: float = 200.0,
        msg_burst: float = 1000.0,
    ) -> None:
        self.id = next(_ids)
        self.stream = stream
        self.magic = magic
        self.host = host
        self.port = port
        self.inbound = inbound
        self.registry = registry
        self.max_frame = max_frame
        self.reader = FrameReader(stream, magic, max_frame)
        self.send_lock = trio.Lock()
        self.hello: Hello | None = None
        self.score = 0
        self.connected_at = time.time()
        self.last_recv = time.monotonic()
        self.bytes_sent = 0
        self.msgs_recv = 0
        self.last_size = 0  # bytes of the last payload received
        self.bucket = TokenBucket(msg_rate, msg_burst)
        self.best_height = 0
        self.best_hash: bytes | None = None
        self.in_flight: dict[bytes, float] = {}  # block hash -> request time
        self.known = KnownSet()  # inventory ids the peer has announced or we sent
        self.tx_pending: dict[bytes, float] = {}  # txids we asked this peer for -> when
        self.unknown_bucket = TokenBucket(UNKNOWN_BYTES_RATE, UNKNOWN_BYTES_BURST)
        self.last_block = 0.0  # when the peer last gave us a new block (eviction)
        self.last_tx = 0.0  # when the peer last gave us a new transaction (eviction)
        self.manual = False  # a peer we dialled on purpose (never discouraged)
        #: (best hash, path end, index) of the last download-window check (manager)
        self.served_cache: tuple[bytes, bytes, int] | None = None
        self.ping_nonce: int | None = None
        self.ping_sent = 0.0
        self.latency: float | None = None
        self.closed = False
        self.sync_started = False

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def listen_addr(self) -> str | None:
        """Where the peer accepts connections (``None`` if it does not listen)."""
        if not self.inbound:
            return self.addr
        if self.hello is None or self.hello.listen == 0:
            return None
        return f"{self.host}:{self.hello.listen}"

    @property
    def key(self) -> bytes | None:
        return None if self.hello is None else self.hello.key

    def remember(self, item_id: bytes) -> None:
        self.known.add(item_id)

    async def send(self, msg: Message) -> None:
        data = encode_frame(self.magic, encode_payload(msg), self.max_frame)
        async with self.send_lock:
            with trio.fail_after(SEND_TIMEOUT):
                await self.stream.send_all(data)
        self.bytes_sent += len(data)

    async def recv(self) -> Message | tuple[str, Any] | None:
        """The next message (or ``(type, body)`` of an unknown type); ``None`` at EOF."""
        payload = await self.reader.read()
        if payload is None:
            return None
        self.last_recv = time.monotonic()
        self.msgs_recv += 1
        self.last_size = len(payload)
        return self.registry.decode(payload)

    async def handshake(self, local: LocalIdentity, height: int) -> Hello:
        """Runs the handshake; raises HandshakeError / ProtocolError on failure."""
        mine = local.hello(height)
        with trio.fail_after(HANDSHAKE_TIMEOUT):
            await self.send(mine)
            first = await self.recv()
            if first is None:
                raise HandshakeError("closed", "peer closed during the handshake")
            if isinstance(first, Reject):
                raise HandshakeError("rejected", first.reason)
            if not isinstance(first, Hello):
                raise ProtocolError("unexpected-message", "expected hello", score=100)
            try:
                check_hello(first, local)
            except HandshakeError as exc:
                await self.send(Reject(exc.reason))
                raise
            await self.send(make_auth(local, first))
            second = await self.recv()
            if second is None:
                raise HandshakeError("closed", "peer closed during the handshake")
            if isinstance(second, Reject):
                raise HandshakeError("rejected", second.reason)
            if not isinstance(second, Auth):
                raise ProtocolError("unexpected-message", "expected auth", score=100)
            verify_auth(second, first, mine, local.genesis)
        self.hello = first
        self.best_height = first.height
        return first

    async def aclose(self) -> None:
        self.closed = True
        with trio.move_on_after(1) as scope:
            scope.shield = True
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                await self.stream.aclose()

    def info(self) -> dict[str, Any]:
        h = self.hello
        return {
            "id": self.id,
            "addr": self.addr,
            "listen": self.listen_addr,
            "inbound": self.inbound,
            "key": h.key.hex() if h else None,
            "agent": h.agent if h else None,
            "services": h.services if h else 0,
            "version": h.version if h else 0,
            "height": self.best_height,
            "score": self.score,
            "latency_ms": None if self.latency is None else round(self.latency * 1000, 1),
            "connected_at": self.connected_at,
            "in_flight": len(self.in_flight),
        }
