"""UTXO transactions: outputs, inputs, coinbase, witnesses, ids and the signature hash.

Encoding (deterministic CBOR, :mod:`funai.ledger.encoding`), all arrays:

* output ``[kind, value, payload]``: ``kind`` 0 = pay-to-key (payload: 32-byte BIP340 x-only
  key), 1 = pay-to-key-hash (payload: 20-byte HASH160 of the key), 2 = data (payload: at most
  80 bytes, value 0, unspendable: the OP_RETURN equivalent), 3 = pay-to-quorum (payload:
  the 32-byte hash of an m-of-n set of keys, :mod:`funai.ledger.quorum`).
* input ``[prev_txid, prev_index]``.
* coinbase ``[height, extra_nonce, witness_root]``: the block height (makes every coinbase
  id unique, as BIP34), up to 100 bytes of extra nonce (the miner rolls it), and the Merkle
  root of the block's witness ids (the coinbase's own counted as 32 zero bytes), which makes
  the header commit to every signature.
* transaction ``[version, inputs, outputs, lock_time, coinbase | null, witnesses]``; a
  witness is the list of byte strings that unlock one input: ``[signature]`` for
  pay-to-key, ``[public_key, signature]`` for pay-to-key-hash, ``[m n, keys..., signatures...]``
  for pay-to-quorum.

Ids: ``txid = SHA-256d(encoding of the first five fields)`` (without witnesses, so a
signature cannot change the id, as segwit), ``wtxid = SHA-256d(full encoding)``.
Signature hash: the BIP340 tagged hash ``"FAI/sighash"`` over
``[genesis_hash, txid, input_index, [spent outputs...]]``; committing to the network, the
whole transaction and the amounts and owners of every spent output.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field

from funai.errors import MalformedInputError
from funai.hashing import sha256, sha256d
from funai.ledger.encoding import CborValue, decode, encode

__all__ = [
    "COIN",
    "MAX_DATA_SIZE",
    "MAX_EXTRA_NONCE",
    "MAX_MONEY",
    "Coinbase",
    "OutPoint",
    "OutputKind",
    "Transaction",
    "TxIn",
    "TxOut",
    "sighash",
    "tagged_hash",
]

COIN = 100_000_000
MAX_MONEY = 21_000_000 * COIN
MAX_DATA_SIZE = 80
MAX_EXTRA_NONCE = 100
SIGHASH_TAG = b"FAI/sighash"


class OutputKind(enum.IntEnum):
    """What locks an output."""

    PAY_TO_KEY = 0
    PAY_TO_KEY_HASH = 1
    DATA = 2
    PAY_TO_QUORUM = 3


def tagged_hash(tag: bytes, msg: bytes) -> bytes:
    """BIP340 tagged hash: SHA-256(SHA-256(tag) || SHA-256(tag) || msg)."""
    t = sha256(tag)
    return sha256(t + t + msg)


def _int(value: CborValue, what: str, lo: int = 0, hi: int = 2**64 - 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise MalformedInputError(f"{what} must be an integer in [{lo}, {hi}]")
    return value


def _bytes(value: CborValue, what: str, size: int | None = None, max_size: int = 1 << 20) -> bytes:
    if not isinstance(value, bytes):
        raise MalformedInputError(f"{what} must be a byte string")
    if size is not None and len(value) != size:
        raise MalformedInputError(f"{what} must be {size} bytes")
    if len(value) > max_size:
        raise MalformedInputError(f"{what} longer than {max_size} bytes")
    return value


def _list(value: CborValue, what: str, length: int | None = None) -> list[CborValue]:
    if not isinstance(value, list):
        raise MalformedInputError(f"{what} must be an array")
    if length is not None and len(value) != length:
        raise MalformedInputError(f"{what} must have {length} items")
    return value


@dataclass(frozen=True, slots=True)
class OutPoint:
    """A reference to an output: transaction id and index."""

    txid: bytes
    index: int

    def key(self) -> bytes:
        """36-byte storage key: txid || index (4 bytes big-endian, so keys sort naturally)."""
        return self.txid + self.index.to_bytes(4, "big")


@dataclass(frozen=True, slots=True)
class TxOut:
    """An output. Well-formedness of kind/payload is checked by validation, not here."""

    kind: int
    value: int
    payload: bytes

    def to_cbor(self) -> list[CborValue]:
        return [self.kind, self.value, self.payload]

    @classmethod
    def from_cbor(cls, v: CborValue) -> TxOut:
        kind, value, payload = _list(v, "output", 3)
        return cls(
            _int(kind, "output kind", 0, 255),
            _int(value, "output value"),
            _bytes(payload, "output payload", max_size=1024),
        )


@dataclass(frozen=True, slots=True)
class TxIn:
    """An input: the output it spends."""

    prevout: OutPoint

    def to_cbor(self) -> list[CborValue]:
        return [self.prevout.txid, self.prevout.index]

    @classmethod
    def from_cbor(cls, v: CborValue) -> TxIn:
        txid, index = _list(v, "input", 2)
        return cls(
            OutPoint(_bytes(txid, "input txid", 32), _int(index, "input index", 0, 2**32 - 1))
        )


@dataclass(frozen=True, slots=True)
class Coinbase:
    """The coinbase marker: height, rolling extra nonce, witness commitment."""

    height: int
    extra_nonce: bytes
    witness_root: bytes

    def to_cbor(self) -> list[CborValue]:
        return [self.height, self.extra_nonce, self.witness_root]

    @classmethod
    def from_cbor(cls, v: CborValue) -> Coinbase:
        height, extra, root = _list(v, "coinbase", 3)
        return cls(
            _int(height, "coinbase height", 0, 2**32 - 1),
            _bytes(extra, "extra nonce", max_size=MAX_EXTRA_NONCE),
            _bytes(root, "witness root", 32),
        )


@dataclass(frozen=True)
class Transaction:
    """A transaction (immutable; ids are cached)."""

    version: int
    inputs: tuple[TxIn, ...]
    outputs: tuple[TxOut, ...]
    lock_time: int = 0
    coinbase: Coinbase | None = None
    witnesses: tuple[tuple[bytes, ...], ...] = ()
    _cache: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_coinbase(self) -> bool:
        return self.coinbase is not None

    def _stripped(self) -> list[CborValue]:
        return [
            self.version,
            [i.to_cbor() for i in self.inputs],
            [o.to_cbor() for o in self.outputs],
            self.lock_time,
            None if self.coinbase is None else self.coinbase.to_cbor(),
        ]

    def to_cbor(self) -> list[CborValue]:
        return [*self._stripped(), [list(w) for w in self.witnesses]]

    def serialize(self) -> bytes:
        """The full deterministic encoding (with witnesses)."""
        if "raw" not in self._cache:
            self._cache["raw"] = encode(self.to_cbor())
        return self._cache["raw"]

    @property
    def size(self) -> int:
        """Encoded size in bytes (fee rates are per byte of this)."""
        return len(self.serialize())

    def txid(self) -> bytes:
        """SHA-256d of the encoding without witnesses."""
        if "txid" not in self._cache:
            self._cache["txid"] = sha256d(encode(self._stripped()))
        return self._cache["txid"]

    def wtxid(self) -> bytes:
        """SHA-256d of the full encoding."""
        if "wtxid" not in self._cache:
            self._cache["wtxid"] = sha256d(self.serialize())
        return self._cache["wtxid"]

    @classmethod
    def from_cbor(cls, v: CborValue) -> Transaction:
        version, inputs, outputs, lock_time, coinbase, witnesses = _list(v, "transaction", 6)
        return cls(
            version=_int(version, "version", 0, 2**32 - 1),
            inputs=tuple(TxIn.from_cbor(i) for i in _list(inputs, "inputs")),
            outputs=tuple(TxOut.from_cbor(o) for o in _list(outputs, "outputs")),
            lock_time=_int(lock_time, "lock time", 0, 2**32 - 1),
            coinbase=None if coinbase is None else Coinbase.from_cbor(coinbase),
            witnesses=tuple(
                tuple(_bytes(item, "witness item", max_size=520) for item in _list(w, "witness"))
                for w in _list(witnesses, "witnesses")
            ),
        )

    @classmethod
    def deserialize(cls, data: bytes) -> Transaction:
        """Parses a full encoding; non-canonical or malformed input raises."""
        tx = cls.from_cbor(decode(data))
        tx._cache["raw"] = bytes(data)
        return tx

    def with_witnesses(self, witnesses: tuple[tuple[bytes, ...], ...]) -> Transaction:
        """A copy carrying ``witnesses`` (same txid)."""
        return Transaction(
            self.version, self.inputs, self.outputs, self.lock_time, self.coinbase, witnesses
        )


@functools.lru_cache(maxsize=1)
def _tag_prefix() -> bytes:
    t = sha256(SIGHASH_TAG)
    return t + t


def sighash(tx: Transaction, index: int, spent: list[TxOut], genesis_hash: bytes) -> bytes:
    """The 32-byte message that the signature of input ``index`` signs."""
    if len(spent) != len(tx.inputs) or not 0 <= index < len(tx.inputs):
        raise MalformedInputError("sighash needs one spent output per input and a valid index")
    msg = encode([genesis_hash, tx.txid(), index, [o.to_cbor() for o in spent]])
    return sha256(_tag_prefix() + msg)
