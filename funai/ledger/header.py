"""The 80-byte block header, exactly Bitcoin's layout.

``version`` (int32 LE) | ``prev_hash`` (32) | ``merkle_root`` (32) | ``time`` (uint32 LE) |
``bits`` (uint32 LE) | ``nonce`` (uint32 LE). The block hash is SHA-256d of these 80 bytes,
stored and compared in internal (little-endian) byte order and displayed reversed, as Bitcoin.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

from funai.errors import MalformedInputError
from funai.hashing import sha256d

__all__ = ["HEADER_SIZE", "BlockHeader", "display_hash"]

HEADER_SIZE = 80
_LAYOUT = struct.Struct("<i32s32sIII")


def display_hash(block_hash: bytes) -> str:
    """The hash as humans (and block explorers) write it: byte-reversed hex."""
    return block_hash[::-1].hex()


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """A block header. Fields are integers or 32-byte strings in internal byte order."""

    version: int
    prev_hash: bytes
    merkle_root: bytes
    time: int
    bits: int
    nonce: int

    def __post_init__(self) -> None:
        if not -(2**31) <= self.version < 2**31:
            raise MalformedInputError("header version out of int32 range")
        if len(self.prev_hash) != 32 or len(self.merkle_root) != 32:
            raise MalformedInputError("header hashes must be 32 bytes")
        for name in ("time", "bits", "nonce"):
            if not 0 <= getattr(self, name) <= 0xFFFFFFFF:
                raise MalformedInputError(f"header {name} out of uint32 range")

    def serialize(self) -> bytes:
        """The 80 raw bytes."""
        return _LAYOUT.pack(
            self.version, self.prev_hash, self.merkle_root, self.time, self.bits, self.nonce
        )

    @classmethod
    def parse(cls, data: bytes) -> BlockHeader:
        """Parses exactly 80 bytes."""
        if len(data) != HEADER_SIZE:
            raise MalformedInputError(f"a header is {HEADER_SIZE} bytes, got {len(data)}")
        return cls(*_LAYOUT.unpack(data))

    def hash(self) -> bytes:
        """SHA-256d of the 80 bytes (internal byte order)."""
        return sha256d(self.serialize())

    def with_nonce(self, nonce: int) -> BlockHeader:
        """A copy with another nonce."""
        return replace(self, nonce=nonce)
