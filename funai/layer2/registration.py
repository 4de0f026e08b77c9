"""Rule ``registration``: an inference node's L1 data output (DESIGN 4.1).

Format (57 bytes): ``MAGIC "FAI2" || "R" || vrf_public_key (32) || l2_account (20)``.
A registration is referred to by where it was mined: :class:`RegRef` =
``l1_height (4 BE) || tx_index (2 BE) || output_index (1)`` (7 bytes); it is eligible for
commitments in later L1 blocks of the same branch.
"""

from __future__ import annotations

from dataclasses import dataclass

from funai.errors import MalformedInputError
from funai.layer2.params import MAGIC

__all__ = ["REG_SIZE", "RegRef", "Registration"]

TAG = b"R"
REG_SIZE = 4 + 1 + 32 + 20


@dataclass(frozen=True, slots=True, order=True)
class RegRef:
    """Where a registration was mined."""

    l1_height: int
    tx_index: int
    output_index: int

    def encode(self) -> bytes:
        if not (
            0 <= self.l1_height < 2**32
            and 0 <= self.tx_index < 2**16
            and 0 <= self.output_index < 256
        ):
            raise MalformedInputError("registration reference out of range")
        return (
            self.l1_height.to_bytes(4, "big")
            + self.tx_index.to_bytes(2, "big")
            + bytes([self.output_index])
        )

    @classmethod
    def decode(cls, data: bytes) -> RegRef:
        if len(data) != 7:
            raise MalformedInputError("a registration reference is 7 bytes")
        return cls(int.from_bytes(data[:4], "big"), int.from_bytes(data[4:6], "big"), data[6])


@dataclass(frozen=True, slots=True)
class Registration:
    """An inference node's registration."""

    vrf_key: bytes
    l2_account: bytes

    def encode(self) -> bytes:
        if len(self.vrf_key) != 32 or len(self.l2_account) != 20:
            raise MalformedInputError("registration needs a 32-byte VRF key, 20-byte account")
        return MAGIC + TAG + self.vrf_key + self.l2_account

    @classmethod
    def parse(cls, data: bytes) -> Registration | None:
        """The registration in a data output's bytes, None for another message."""
        if data[:5] != MAGIC + TAG:
            return None
        if len(data) != REG_SIZE:
            raise MalformedInputError("registration output must be 57 bytes")
        return cls(data[5:37], data[37:57])
