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

__all__ = ["HistoricalStore", "MemoryStore", "StateStore", "Write"]

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


@runtime_checkable
class HistoricalStore(StateStore, Protocol):
    """A store that also keeps the state of past blocks (what ``at-block`` reads)."""

    def get_at(self, key: bytes, height: int) -> bytes | None:
        """The value ``key`` had at the end of the block at ``height``."""
        ...


class MemoryStore:
    """A dict-backed store for tests, tools and the CLI sandbox.

    :meth:`end_block` (called by :meth:`ClarityVM.advance`) keeps a copy of the state as
    the state at the end of a block, for ``at-block``: memory grows with the state times
    the blocks ended, which suits a sandbox, not a chain."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        #: the state at the end of each ended block
        self.history: dict[int, dict[bytes, bytes]] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def end_block(self, height: int) -> None:
        """Keeps the state as it is now as the state at the end of block ``height``."""
        self.history[height] = dict(self.data)

    def has_state_at(self, height: int) -> bool:
        """Whether the state at the end of block ``height`` was kept."""
        return height in self.history

    def get_at(self, key: bytes, height: int) -> bytes | None:
        try:
            return self.history[height].get(key)
        except KeyError:
            raise LookupError(f"the state at the end of block {height} was not kept") from None

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
