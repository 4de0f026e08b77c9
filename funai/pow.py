"""Proof-of-work nonce search (implemented in Rust, see ``rust/pow/``).

A block header is 80 bytes and its nonce is bytes 76..80, a little-endian ``u32``. A nonce
is valid when ``SHA-256d(header)``, read as a 256-bit **little-endian** integer, is at most
the target. :func:`search` finds the smallest valid nonce of a range on all cores with the
fastest SHA-256d the CPU has (SHA extensions, AVX-512, AVX2 or portable code, see
:func:`backends`); every nonce it reports has been re-checked with the plain hash.

>>> result = search(header, target=2**240)          # doctest: +SKIP
>>> meets_target(pow_hash(header, result.nonce), 2**240)  # doctest: +SKIP
True
"""

from __future__ import annotations

from funai._core import CancelToken, PowResult, hash_meets_target, pow_search, sha256d
from funai._core import pow_backends as backends
from funai._core import pow_best_backend as best_backend
from funai._core import pow_cpu_features as cpu_features
from funai.errors import MalformedInputError

__all__ = [
    "HEADER_LEN",
    "MAX_TARGET",
    "NONCE_OFFSET",
    "CancelToken",
    "PowResult",
    "backends",
    "best_backend",
    "cpu_features",
    "hash_meets_target",
    "hash_to_int",
    "meets_target",
    "pow_hash",
    "search",
    "target_to_bytes",
    "with_nonce",
]

HEADER_LEN = 80
NONCE_OFFSET = 76
MAX_TARGET = (1 << 256) - 1


def target_to_bytes(target: int) -> bytes:
    """A target as the 32 little-endian bytes the search takes."""
    if not 0 <= target <= MAX_TARGET:
        raise MalformedInputError(f"target must be in 0..2**256-1, got {target}")
    return target.to_bytes(32, "little")


def hash_to_int(digest: bytes) -> int:
    """A 32-byte hash as the little-endian integer compared with the target."""
    if len(digest) != 32:
        raise MalformedInputError(f"hash must be 32 bytes, got {len(digest)}")
    return int.from_bytes(digest, "little")


def meets_target(digest: bytes, target: int) -> bool:
    """Whether ``digest`` (32 bytes) is at most ``target``."""
    return hash_to_int(digest) <= target


def with_nonce(header: bytes, nonce: int) -> bytes:
    """``header`` (80 bytes) with ``nonce`` written into bytes 76..80."""
    if len(header) != HEADER_LEN:
        raise MalformedInputError(f"header must be {HEADER_LEN} bytes, got {len(header)}")
    if not 0 <= nonce <= 0xFFFFFFFF:
        raise MalformedInputError(f"nonce must be in 0..0xFFFFFFFF, got {nonce}")
    return header[:NONCE_OFFSET] + nonce.to_bytes(4, "little")


def pow_hash(header: bytes, nonce: int) -> bytes:
    """``SHA-256d(header)`` with ``nonce`` in place."""
    return sha256d(with_nonce(header, nonce))


def search(
    header: bytes,
    target: int | bytes,
    *,
    start_nonce: int = 0,
    count: int | None = None,
    threads: int = 0,
    backend: str = "auto",
    cancel: CancelToken | None = None,
    seconds: float | None = None,
) -> PowResult:
    """The smallest nonce of ``start_nonce .. start_nonce + count`` (default: to the end of
    the nonce space) that meets ``target`` (an int, or 32 little-endian bytes).

    ``threads=0`` uses every core; ``seconds`` bounds the time (the result then has
    ``timed_out`` set and no nonce). Raises :class:`~funai.errors.CancelledError` when
    ``cancel`` is cancelled, ``KeyboardInterrupt`` on Ctrl-C, and
    :class:`~funai.errors.MalformedInputError` for bad arguments.
    """
    raw = target_to_bytes(target) if isinstance(target, int) else target
    return pow_search(
        header,
        raw,
        start_nonce=start_nonce,
        count=count,
        threads=threads,
        backend=backend,
        cancel=cancel,
        seconds=seconds,
    )
