"""A hand-driven (hostile) peer over a raw blocking socket."""

from __future__ import annotations

import socket
import struct

from funai import _core
from funai.ledger.params import REGTEST
from funai.network.framing import network_magic
from funai.network.handshake import LocalIdentity, make_auth
from funai.network.messages import REGISTRY, Hello, Message, encode_payload

MAGIC = network_magic(REGTEST.genesis_hash())


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


def handshake(sock: socket.socket) -> Hello:
    """Completes a valid handshake with a fresh node key; returns the node's hello."""
    sk, pk = _core.ed25519_keygen()
    me = LocalIdentity("regtest", REGTEST.genesis_hash(), sk, pk, 1, 0)
    sock.sendall(frame(me.hello(0)))
    theirs = read_msg(sock)
    assert isinstance(theirs, Hello)
    sock.sendall(frame(make_auth(me, theirs)))
    return theirs
