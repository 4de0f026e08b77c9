"""Pluggable state stores for the Clarity VM.

The VM reads keys through ``get`` while a transaction runs and hands back the
transaction's writes, which :class:`~funai.clarity.vm.ClarityVM` applies with ``apply``
only when the transaction commits. Keys and values are opaque bytes (values are Clarity's
consensus serialization); the key layout is documented in ``docs/clarity.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from funai import _core

__all__ = ["MemoryStore", "StateStore", "Write"]

Write = tuple[bytes, bytes | None]


@runtime_checkable
class StateStore(Protocol):
    """What the VM needs from a state store."""

    def get(self, key: bytes) -> bytes | None:
        """The value stored under ``key``, or None."""
        ...

    def apply(self, writes: Sequence[Write]) -> None:
        """Applies a committed transaction's writes (None deletes a key), atomically."""
        ...


class MemoryStore:
    """A dict-backed store for tests, tools and the CLI sandbox."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def apply(self, writes: Sequence[Write]) -> None:
        for key, value in writes:
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value

    def set_balance(self, principal: str, amount: int) -> None:
        """Sets a principal's FAI balance (base units) as ``stx-get-balance`` sees it."""
        self.data[_core.clarity_balance_key(principal)] = _core.clarity_encode_uint(amount)

    def balance(self, principal: str) -> int:
        """A principal's FAI balance (base units)."""
        raw = self.data.get(_core.clarity_balance_key(principal))
        return 0 if raw is None else (_core.clarity_decode_uint(raw) or 0)
