"""Blocks: the 80-byte header and a deterministic-CBOR body of transactions.

Block encoding: ``[header (80-byte string), [transaction, ...]]``. The header's Merkle root is
``funai._core.merkle_root`` over the transaction ids (the non-malleable tagged tree); the
coinbase's ``witness_root`` is the same tree over the witness ids, with 32 zero bytes in
place of the coinbase's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from funai.errors import MalformedInputError
from funai.hashing import merkle_root
from funai.ledger.encoding import decode, encode
from funai.ledger.header import BlockHeader
from funai.ledger.tx import Coinbase, Transaction, TxOut

__all__ = ["Block", "make_coinbase", "tx_merkle_root", "witness_root"]


def tx_merkle_root(txs: tuple[Transaction, ...] | list[Transaction]) -> bytes:
    """Merkle root of the transaction ids."""
    return merkle_root([tx.txid() for tx in txs])


def witness_root(txs: tuple[Transaction, ...] | list[Transaction]) -> bytes:
    """Merkle root of the witness ids, the coinbase (first) counted as zeros."""
    return merkle_root([bytes(32)] + [tx.wtxid() for tx in txs[1:]])


@dataclass(frozen=True)
class Block:
    """A block."""

    header: BlockHeader
    txs: tuple[Transaction, ...]
    _cache: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def hash(self) -> bytes:
        if "hash" not in self._cache:
            self._cache["hash"] = self.header.hash()
        return self._cache["hash"]

    def serialize(self) -> bytes:
        if "raw" not in self._cache:
            self._cache["raw"] = encode(
                [self.header.serialize(), [tx.to_cbor() for tx in self.txs]]
            )
        return self._cache["raw"]

    @property
    def size(self) -> int:
        return len(self.serialize())

    @classmethod
    def deserialize(cls, data: bytes, max_size: int = 4_000_000) -> Block:
        """Parses a block; non-canonical or malformed input raises MalformedInputError."""
        value = decode(data, max_size=max_size)
        if not isinstance(value, list) or len(value) != 2:
            raise MalformedInputError("a block is [header, transactions]")
        raw_header, raw_txs = value
        if not isinstance(raw_header, bytes) or not isinstance(raw_txs, list):
            raise MalformedInputError("a block is [header, transactions]")
        block = cls(BlockHeader.parse(raw_header), tuple(Transaction.from_cbor(t) for t in raw_txs))
        block._cache["raw"] = bytes(data)
        return block

    def with_header(self, header: BlockHeader) -> Block:
        return Block(header, self.txs)


def make_coinbase(
    height: int, outputs: list[TxOut], extra_nonce: bytes = b"", wroot: bytes = bytes(32)
) -> Transaction:
    """A coinbase transaction."""
    return Transaction(
        version=1,
        inputs=(),
        outputs=tuple(outputs),
        lock_time=0,
        coinbase=Coinbase(height, extra_nonce, wroot),
    )
