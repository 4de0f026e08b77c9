"""Batch validation of a chain of consecutive 80-byte headers.

Two implementations of the same rules: :func:`verify_headers_python` (the readable
reference, pure Python) and the Rust one (``funai._core.verify_headers``), which
:func:`verify_headers` uses by default. Rules checked per header, in this order, each failing
with a :class:`~funai.ledger.errors.HeaderChainError` naming the rule and the height:

``bad-version``
    version below the minimum for its height.
``bad-prevblk``
    ``prev_hash`` is not the hash of the header before it (or of ``prev_hash`` for the first).
``bad-diffbits``
    ``bits`` differs from the previous header's, or, at a height divisible by the retarget
    interval, from Bitcoin's retarget computed from the timestamps. The first header's bits
    are taken as given (its ancestors are not in the batch), and so is a retarget whose
    period starts before the batch (:func:`unchecked_retargets` counts those).
``bad-target``
    ``bits`` is negative, overflows, is zero or is easier than the network's limit.
``high-hash``
    the header's hash exceeds its target.
``time-too-old``
    time not after the median of the previous (up to 11) headers' times in the batch.
``time-timewarp-attack``
    (networks with a time-warp grace) first block of a period too far before its parent.
``time-too-new``
    (when ``now`` is given) time more than two hours ahead of ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from funai import _core
from funai.errors import MalformedInputError
from funai.hashing import sha256d
from funai.ledger.compact import decode_compact, hash_to_int, median_time_past, retarget
from funai.ledger.errors import HeaderChainError
from funai.ledger.header import HEADER_SIZE
from funai.ledger.params import HeaderRules

__all__ = [
    "HeaderChainResult",
    "unchecked_retargets",
    "verify_headers",
    "verify_headers_python",
    "verify_headers_rust",
]


@dataclass(frozen=True, slots=True)
class HeaderChainResult:
    """A valid batch: how many headers, the hash of the last, and unchecked retargets."""

    count: int
    tip_hash: bytes
    unchecked_retargets: int


def _check_shape(data: bytes, first: int, last: int | None) -> int:
    if len(data) % HEADER_SIZE:
        raise MalformedInputError(
            f"header data is {len(data)} bytes, not a multiple of {HEADER_SIZE}"
        )
    count = len(data) // HEADER_SIZE
    end = count if last is None else last
    if not 0 <= first <= end <= count:
        raise MalformedInputError(f"range {first}..{end} outside 0..{count}")
    return end


def verify_headers_python(
    data: bytes,
    rules: HeaderRules,
    start_height: int,
    *,
    prev_hash: bytes | None = None,
    now: int | None = None,
    first: int = 0,
    last: int | None = None,
) -> None:
    """The reference implementation: validates headers ``first..last`` of ``data``."""
    end = _check_shape(data, first, last)

    def raw(i: int) -> bytes:
        return data[i * HEADER_SIZE : (i + 1) * HEADER_SIZE]

    def u32(i: int, at: int) -> int:
        return int.from_bytes(data[i * HEADER_SIZE + at : i * HEADER_SIZE + at + 4], "little")

    prev = prev_hash if first == 0 else sha256d(raw(first - 1))
    interval = rules.retarget_interval
    for i in range(first, end):
        header = raw(i)
        height = start_height + i
        version = int.from_bytes(header[0:4], "little", signed=True)
        bits, time = u32(i, 72), u32(i, 68)
        minimum = rules.min_version(height)
        if version < minimum:
            raise HeaderChainError(
                "bad-version", f"version {version} below {minimum}", height=height
            )
        if prev is not None and header[4:36] != prev:
            raise HeaderChainError(
                "bad-prevblk", "previous-block hash does not match", height=height
            )
        if i > 0:
            expected: int | None
            if not (rules.retarget and height % interval == 0):
                expected = u32(i - 1, 72)
            elif i >= interval:
                expected = retarget(
                    u32(i - 1, 72),
                    u32(i - interval, 68),
                    u32(i - 1, 68),
                    rules.target_timespan,
                    rules.pow_limit,
                )
            else:
                expected = None
            if expected is not None and bits != expected:
                raise HeaderChainError(
                    "bad-diffbits", f"bits {bits:08x}, expected {expected:08x}", height=height
                )
        decoded = decode_compact(bits)
        if (
            decoded.negative
            or decoded.overflow
            or decoded.target == 0
            or decoded.target > rules.pow_limit
        ):
            raise HeaderChainError(
                "bad-target", f"bits {bits:08x} is not a valid target", height=height
            )
        block_hash = sha256d(header)
        if hash_to_int(block_hash) > decoded.target:
            raise HeaderChainError("high-hash", "proof of work above target", height=height)
        if i > 0:
            mtp = median_time_past([u32(j, 68) for j in range(max(0, i - rules.mtp_span), i)])
            if time <= mtp:
                raise HeaderChainError(
                    "time-too-old", f"time {time} not after median time past {mtp}", height=height
                )
            grace = rules.timewarp_grace
            if (
                grace is not None
                and rules.retarget
                and height % interval == 0
                and time < u32(i - 1, 68) - grace
            ):
                raise HeaderChainError(
                    "time-timewarp-attack",
                    f"time {time} more than {grace} s before its parent",
                    height=height,
                )
        if now is not None and time > now + rules.max_future_seconds:
            raise HeaderChainError(
                "time-too-new", f"time {time} too far ahead of {now}", height=height
            )
        prev = block_hash


def verify_headers_rust(
    data: bytes,
    rules: HeaderRules,
    start_height: int,
    *,
    prev_hash: bytes | None = None,
    now: int | None = None,
    first: int = 0,
    last: int | None = None,
) -> None:
    """The same rules in Rust (``funai._core.verify_headers``); releases the GIL."""
    _check_shape(data, first, last)
    failure = _core.verify_headers(
        data,
        start_height,
        pow_limit=rules.pow_limit.to_bytes(32, "little"),
        retarget_interval=rules.retarget_interval,
        target_timespan=rules.target_timespan,
        retarget=rules.retarget,
        min_versions=list(rules.min_versions),
        max_future_seconds=rules.max_future_seconds,
        mtp_span=rules.mtp_span,
        timewarp_grace=rules.timewarp_grace,
        now=now,
        prev_hash=prev_hash,
        first=first,
        last=last,
    )
    if failure is not None:
        height, rule, detail = failure
        raise HeaderChainError(rule, detail, height=height)


def unchecked_retargets(count: int, rules: HeaderRules, start_height: int) -> int:
    """Retarget boundaries in a batch whose period starts before the batch (bits as given)."""
    if not rules.retarget:
        return 0
    interval = rules.retarget_interval
    return sum(1 for i in range(1, min(count, interval)) if (start_height + i) % interval == 0)


def verify_headers(
    data: bytes,
    rules: HeaderRules,
    start_height: int,
    *,
    prev_hash: bytes | None = None,
    now: int | None = None,
    backend: str = "rust",
    chunk: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> HeaderChainResult:
    """Validates all of ``data`` in chunks (calling ``progress(done)`` after each).

    Raises :class:`HeaderChainError` at the first bad header.
    """
    if backend not in ("rust", "python"):
        raise ValueError(f"unknown backend {backend!r}")
    check = verify_headers_rust if backend == "rust" else verify_headers_python
    count = _check_shape(data, 0, None)
    if count == 0:
        raise MalformedInputError("no headers")
    for begin in range(0, count, chunk):
        end = min(count, begin + chunk)
        check(data, rules, start_height, prev_hash=prev_hash, now=now, first=begin, last=end)
        if progress is not None:
            progress(end)
    tip = sha256d(data[(count - 1) * HEADER_SIZE :])
    return HeaderChainResult(count, tip, unchecked_retargets(count, rules, start_height))
