"""Wire framing: ``magic (4) | length (uint32 big-endian) | payload``.

The payload is one CBOR value ``[type (text), body]`` (see :mod:`funai.network.messages`).
``magic`` is the first 4 bytes of ``SHA-256("FAI/net" + genesis hash)``, so nodes of
different networks cannot talk by mistake. Frames longer than :data:`MAX_FRAME` are refused
before a byte of the payload is read.
"""

from __future__ import annotations

import hashlib
import struct

import trio

from funai.network.errors import ProtocolError

__all__ = ["HEADER", "MAX_FRAME", "FrameReader", "encode_frame", "network_magic"]

MAX_FRAME = 4 * 1024 * 1024  # 4 MiB: a 1 MB block, or 2000 headers, with room to spare
HEADER = struct.Struct(">4sI")


def network_magic(genesis_hash: bytes) -> bytes:
    """The 4 magic bytes of the network whose genesis block hash is ``genesis_hash``."""
    return hashlib.sha256(b"FAI/net" + genesis_hash).digest()[:4]


def encode_frame(magic: bytes, payload: bytes, max_frame: int = MAX_FRAME) -> bytes:
    """One frame around ``payload``."""
    if len(payload) > max_frame:
        raise ValueError(f"payload of {len(payload)} bytes exceeds the {max_frame}-byte cap")
    return HEADER.pack(magic, len(payload)) + payload


class FrameReader:
    """Reads frames from a Trio stream; raises :class:`ProtocolError` on bad framing."""

    def __init__(
        self, stream: trio.abc.ReceiveStream, magic: bytes, max_frame: int = MAX_FRAME
    ) -> None:
        self.stream = stream
        self.magic = magic
        self.max_frame = max_frame
        self.buf = bytearray()
        self.bytes_read = 0

    async def _fill(self, n: int) -> bool:
        while len(self.buf) < n:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                return False
            self.bytes_read += len(chunk)
            self.buf += chunk
            if len(self.buf) >= 4 and bytes(self.buf[:4]) != self.magic:
                raise ProtocolError("wrong-magic", bytes(self.buf[:4]).hex())
        return True

    async def read(self) -> bytes | None:
        """The next payload, or ``None`` at a clean end of stream."""
        if not await self._fill(HEADER.size):
            if self.buf:
                raise ProtocolError("truncated-frame", f"{len(self.buf)} bytes", score=20)
            return None
        magic, length = HEADER.unpack(bytes(self.buf[: HEADER.size]))
        if magic != self.magic:
            raise ProtocolError("wrong-magic", magic.hex())
        if length > self.max_frame:
            raise ProtocolError("oversize-frame", f"{length} > {self.max_frame} bytes")
        if not await self._fill(HEADER.size + length):
            raise ProtocolError("truncated-frame", "stream ended inside a frame", score=20)
        payload = bytes(self.buf[HEADER.size : HEADER.size + length])
        del self.buf[: HEADER.size + length]
        return payload
