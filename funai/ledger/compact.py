"""Compact difficulty targets (``bits``), work and the retarget rule: Bitcoin's exact integers.

A target is a 256-bit unsigned integer; a block hash, read as a little-endian integer, must
not exceed it. ``bits`` is Bitcoin's 32-bit floating encoding of a target (``nBits``):
one size byte and a 23-bit mantissa with a sign bit. :func:`decode_compact` mirrors
``arith_uint256::SetCompact`` (including its *negative* and *overflow* flags) and
:func:`encode_compact` mirrors ``GetCompact``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MAX_TARGET_BITS",
    "DecodedCompact",
    "block_work",
    "decode_compact",
    "encode_compact",
    "hash_to_int",
    "median_time_past",
    "retarget",
]

MAX_TARGET_BITS = 256
_U256 = (1 << 256) - 1


@dataclass(frozen=True, slots=True)
class DecodedCompact:
    """A decoded ``bits`` value: the target (truncated to 256 bits) and Bitcoin's flags."""

    target: int
    negative: bool
    overflow: bool


def decode_compact(bits: int) -> DecodedCompact:
    """Decodes ``bits`` exactly as Bitcoin Core's ``arith_uint256::SetCompact``."""
    if not 0 <= bits <= 0xFFFFFFFF:
        raise ValueError(f"bits out of range: {bits}")
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        word >>= 8 * (3 - size)
        target = word
    else:
        target = (word << (8 * (size - 3))) & _U256
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (
        size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32)
    )
    return DecodedCompact(target, negative, overflow)


def encode_compact(target: int) -> int:
    """Encodes a non-negative 256-bit target exactly as Bitcoin Core's ``GetCompact``."""
    if not 0 <= target <= _U256:
        raise ValueError("target out of range")
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        compact = (target << (8 * (3 - size))) & 0xFFFFFFFF
    else:
        compact = (target >> (8 * (size - 3))) & 0xFFFFFFFF
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    return (compact | (size << 24)) & 0xFFFFFFFF


def hash_to_int(block_hash: bytes) -> int:
    """A block hash as the little-endian integer compared against the target."""
    return int.from_bytes(block_hash, "little")


def block_work(target: int) -> int:
    """Expected hashes to meet ``target`` (Bitcoin's ``GetBlockProof``): 2^256 // (target+1)."""
    return (1 << 256) // (target + 1)


def median_time_past(times: list[int]) -> int:
    """Median of the given (up to 11) previous block times, as Bitcoin's ``GetMedianTimePast``."""
    if not times:
        raise ValueError("no times")
    ordered = sorted(times)
    return ordered[len(ordered) // 2]


def retarget(
    last_bits: int, first_time: int, last_time: int, target_timespan: int, pow_limit: int
) -> int:
    """The new ``bits`` at a retarget boundary (Bitcoin's ``CalculateNextWorkRequired``).

    ``first_time`` is the time of the first block of the ending period and ``last_time`` that
    of its last block (so the measured span covers ``interval - 1`` block intervals, exactly
    as Bitcoin). The span is clamped to ``[timespan // 4, timespan * 4]``; the product is
    computed exactly (networks keep ``pow_limit * 4 * timespan < 2^256``, so this equals
    Bitcoin's 256-bit arithmetic), then capped at ``pow_limit``.
    """
    actual = last_time - first_time
    actual = max(actual, target_timespan // 4)
    actual = min(actual, target_timespan * 4)
    new = decode_compact(last_bits).target
    new = new * actual // target_timespan
    new = min(new, pow_limit)
    return encode_compact(new)
