"""Pay-to-quorum outputs (``OutputKind.PAY_TO_QUORUM = 3``): an m-of-n of BIP340 keys.

The inference layer's peg pool is such an output of the verifier set's keys with ``m`` =
the quorum (DESIGN 4.8, docs/layer2.md "Peg-out").

* payload (32 bytes): ``tagged_hash("FAI/quorum", bytes([m, n]) || key_1 || ... || key_n)``
  with the ``n`` x-only keys sorted ascending (so distinct), ``1 <= m <= n <= 16``.
* witness of an input spending one: ``[bytes([m, n]), key_1, ..., key_n, sig_1, ..., sig_n]``
  where ``sig_i`` is a 64-byte BIP340 signature by ``key_i`` over the input's
  :func:`~funai.ledger.tx.sighash`, or empty for a key that did not sign.

Rules (:func:`check_quorum_witness`): ``bad-txns-witness`` (wrong shape),
``bad-txns-quorum-hash`` (the keys are not sorted ascending and distinct, or ``m``, ``n`` and
the keys do not hash to the payload), ``bad-txns-quorum-sigs`` (a present signature does not
verify, or fewer than ``m`` signatures).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from funai import _core
from funai.errors import MalformedInputError
from funai.ledger.errors import ConsensusError
from funai.ledger.tx import OutputKind, TxOut, tagged_hash

__all__ = [
    "MAX_QUORUM_KEYS",
    "QUORUM_TAG",
    "check_quorum_witness",
    "quorum_output",
    "quorum_payload",
    "quorum_witness",
    "sort_keys",
]

QUORUM_TAG = b"FAI/quorum"
#: Most keys in one quorum (and so most signatures in one witness).
MAX_QUORUM_KEYS = 16


def sort_keys(keys: Iterable[bytes]) -> list[bytes]:
    """The keys in payload order (ascending); refuses duplicates and non-32-byte keys."""
    out = sorted(bytes(k) for k in keys)
    if any(len(k) != 32 for k in out):
        raise MalformedInputError("quorum keys are 32-byte x-only keys")
    if len(set(out)) != len(out):
        raise MalformedInputError("quorum keys must be distinct")
    return out


def _check_mn(m: int, n: int) -> None:
    if not 1 <= m <= n <= MAX_QUORUM_KEYS:
        raise MalformedInputError(f"a quorum needs 1 <= m <= n <= {MAX_QUORUM_KEYS}")


def _hash(m: int, keys: Sequence[bytes]) -> bytes:
    return tagged_hash(QUORUM_TAG, bytes([m, len(keys)]) + b"".join(keys))


def quorum_payload(m: int, keys: Iterable[bytes]) -> bytes:
    """The 32-byte payload of an ``m``-of-``keys`` output (keys in any order)."""
    ordered = sort_keys(keys)
    _check_mn(m, len(ordered))
    return _hash(m, ordered)


def quorum_output(value: int, m: int, keys: Iterable[bytes]) -> TxOut:
    """An output of ``value`` locked to ``m`` of ``keys``."""
    return TxOut(int(OutputKind.PAY_TO_QUORUM), value, quorum_payload(m, keys))


def quorum_witness(m: int, keys: Iterable[bytes], sigs: Mapping[bytes, bytes]) -> tuple[bytes, ...]:
    """The witness of an input spending an ``m``-of-``keys`` output: ``sigs`` maps a key to
    its signature over the input's sighash (keys without one get an empty item)."""
    ordered = sort_keys(keys)
    _check_mn(m, len(ordered))
    if any(k not in ordered for k in sigs):
        raise MalformedInputError("a signature by a key outside the quorum")
    return (
        bytes([m, len(ordered)]),
        *ordered,
        *(bytes(sigs.get(k, b"")) for k in ordered),
    )


def _verify(pk: bytes, msg: bytes, sig: bytes) -> bool:
    try:
        return _core.schnorr_verify(pk, msg, sig)
    except MalformedInputError:  # a key that is not a curve point
        return False


def check_quorum_witness(
    payload: bytes, witness: Sequence[bytes], msg: bytes, index: int = 0
) -> None:
    """Checks the witness of input ``index`` spending a pay-to-quorum output with
    ``payload``; ``msg`` is that input's sighash. Raises :class:`ConsensusError`."""
    if not witness or len(witness[0]) != 2:
        raise ConsensusError("bad-txns-witness", f"input {index}: want [m n, keys, sigs]")
    m, n = witness[0][0], witness[0][1]
    if not 1 <= m <= n <= MAX_QUORUM_KEYS or len(witness) != 1 + 2 * n:
        raise ConsensusError("bad-txns-witness", f"input {index}: {m}-of-{n} quorum witness")
    keys, sigs = witness[1 : 1 + n], witness[1 + n :]
    if any(len(k) != 32 for k in keys) or any(len(s) not in (0, 64) for s in sigs):
        raise ConsensusError("bad-txns-witness", f"input {index}: key or signature size")
    if any(keys[i] >= keys[i + 1] for i in range(n - 1)):
        raise ConsensusError("bad-txns-quorum-hash", f"input {index}: keys not sorted ascending")
    if _hash(m, keys) != payload:
        raise ConsensusError("bad-txns-quorum-hash", f"input {index}: keys do not hash to payload")
    valid = 0
    for key, sig in zip(keys, sigs, strict=True):
        if not sig:
            continue
        if not _verify(key, msg, sig):
            raise ConsensusError("bad-txns-quorum-sigs", f"input {index}: invalid signature")
        valid += 1
    if valid < m:
        raise ConsensusError("bad-txns-quorum-sigs", f"input {index}: {valid} of {m} signatures")
