"""A hand-driven (hostile) peer over a raw blocking socket."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from pathlib import Path

from funai import _core
from funai.ledger.block import Block
from funai.ledger.chainstate import Chainstate
from funai.ledger.datadir import chain_path
from funai.ledger.genesis import genesis_hash
from funai.ledger.params import REGTEST
from funai.network.framing import network_magic
from funai.network.handshake import LocalIdentity, make_auth
from funai.network.messages import (
    REGISTRY,
    BlockMsg,
    GetData,
    GetHeaders,
    Headers,
    Hello,
    Message,
    Ping,
    Pong,
    encode_payload,
)

MAGIC = network_magic(genesis_hash(REGTEST))


def raw_connect(p2p: str, source: str) -> socket.socket:
    host, port = p2p.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(20)
    sock.bind((source, 0))
    sock.connect((host, int(port)))
    return sock


def closed_by_peer(sock: socket.socket, timeout: float = 20.0) -> bool:
    """Reads until the node closes the connection (True) or ``timeout`` passes (False)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return True


def frame(msg: Message, magic: bytes = MAGIC) -> bytes:
    payload = encode_payload(msg)
    return magic + struct.pack(">I", len(payload)) + payload


def read_msg(sock: socket.socket) -> object:
    def exactly(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf

    _magic, length = struct.unpack(">4sI", exactly(8))
    return REGISTRY.decode(exactly(length))


def handshake(sock: socket.socket, key: tuple[bytes, bytes] | None = None) -> Hello:
    """Completes a valid handshake with a fresh node key (or ``key``, a (secret, public)
    pair); returns the node's hello."""
    sk, pk = key or _core.ed25519_keygen()
    me = LocalIdentity("regtest", genesis_hash(REGTEST), sk, pk, 1, 0)
    sock.sendall(frame(me.hello(0)))
    theirs = read_msg(sock)
    assert isinstance(theirs, Hello)
    sock.sendall(frame(make_auth(me, theirs)))
    return theirs


def load_chain(datadir: Path) -> list[Block]:
    """The active chain (genesis first) of the regtest chainstate in ``datadir``."""
    chain = Chainstate(chain_path(datadir, REGTEST), REGTEST, synchronous="NORMAL")
    try:
        out = []
        for h in chain.active:
            block = chain.get_block(h)
            assert block is not None
            out.append(block)
        return out
    finally:
        chain.close()


class ServingPeer:
    """A hand-driven peer that holds ``blocks`` (genesis first) and answers like an honest
    node: ``getheaders`` from its chain, ``getdata`` with blocks, ``ping`` with ``pong``.
    It never announces anything on its own. ``serve_blocks=False`` leaves block requests
    unanswered (a stalling peer); ``stop_after`` closes the connection after that many
    block requests (a peer that drops mid-download)."""

    def __init__(
        self,
        p2p: str,
        source: str,
        blocks: list[Block],
        *,
        serve_blocks: bool = True,
        stop_after: int | None = None,
    ) -> None:
        self.blocks = blocks
        self.by_hash = {b.hash(): b for b in blocks}
        self.serve_blocks = serve_blocks
        self.stop_after = stop_after
        self.block_requests = 0
        self.headers_requests = 0
        self.sock = raw_connect(p2p, source)
        sk, pk = _core.ed25519_keygen()
        me = LocalIdentity("regtest", genesis_hash(REGTEST), sk, pk, 1, 0)
        self.sock.sendall(frame(me.hello(len(blocks) - 1)))
        theirs = read_msg(self.sock)
        assert isinstance(theirs, Hello)
        self.sock.sendall(frame(make_auth(me, theirs)))
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _headers_after(self, locator: list[bytes]) -> list[bytes]:
        index = {b.hash(): k for k, b in enumerate(self.blocks)}
        start = 1
        for h in locator:
            if h in index:
                start = index[h] + 1
                break
        return [b.header.serialize() for b in self.blocks[start : start + 2000]]

    def _run(self) -> None:
        try:
            self.sock.settimeout(None)
            while True:
                msg = read_msg(self.sock)
                if isinstance(msg, Ping):
                    self.sock.sendall(frame(Pong(msg.nonce)))
                elif isinstance(msg, GetHeaders):
                    self.headers_requests += 1
                    self.sock.sendall(frame(Headers(self._headers_after(msg.locator))))
                elif isinstance(msg, GetData):
                    wanted = [h for kind, h in msg.items if kind == "block"]
                    if not wanted:
                        continue
                    self.block_requests += 1
                    if self.stop_after is not None and self.block_requests > self.stop_after:
                        break
                    if not self.serve_blocks:
                        continue
                    for h in wanted:
                        block = self.by_hash.get(h)
                        if block is not None:
                            self.sock.sendall(frame(BlockMsg(block.serialize())))
        except (OSError, ConnectionError):
            pass
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
