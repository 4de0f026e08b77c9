"""Deterministic CBOR (RFC 8949 section 4.2.1, core deterministic encoding).

Consensus objects are CBOR arrays of unsigned/negative integers, byte strings, text strings,
nested arrays and ``null``; no maps, floats, tags, booleans or indefinite lengths. For this
subset, core deterministic encoding means shortest-form heads and definite lengths, which
``cbor2.dumps(..., canonical=True)`` produces (the tests pin it against RFC 8949 examples).
:func:`decode` accepts only what :func:`encode` would produce: it decodes, checks the types,
re-encodes and rejects the input unless the bytes are identical. So every value has exactly
one accepted encoding, and ids (hashes of encodings) are reproducible.
"""

from __future__ import annotations

from typing import Any

import cbor2

from funai.errors import MalformedInputError

__all__ = ["CborValue", "decode", "encode"]

# What a consensus value may be (recursively): int, bytes, str, None or a list of those.
CborValue = Any

_INT_MIN = -(2**64)
_INT_MAX = 2**64 - 1
_MAX_DEPTH = 16


def _check(value: object, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        raise MalformedInputError("CBOR value nested too deeply")
    if isinstance(value, bool):
        raise MalformedInputError("CBOR booleans are not allowed in consensus values")
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise MalformedInputError("CBOR integer out of 64-bit range")
        return
    if value is None or isinstance(value, bytes | str):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check(item, depth + 1)
        return
    raise MalformedInputError(f"type {type(value).__name__} is not allowed in consensus CBOR")


def encode(value: CborValue) -> bytes:
    """The deterministic encoding of ``value`` (tuples encode as arrays)."""
    _check(value)
    return cbor2.dumps(value, canonical=True)


def decode(data: bytes, *, max_size: int = 4_000_000) -> CborValue:
    """Decodes ``data``, refusing anything but the one deterministic encoding of its value."""
    if len(data) > max_size:
        raise MalformedInputError(f"CBOR input of {len(data)} bytes exceeds {max_size}")
    try:
        value = cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError, OverflowError) as exc:
        raise MalformedInputError(f"malformed CBOR: {exc}") from None
    _check(value)
    if cbor2.dumps(value, canonical=True) != data:
        raise MalformedInputError("non-canonical CBOR encoding")
    return value
