"""Benchmarks of the proof-of-work search (pytest-benchmark).

The issue's goals, measured in one run: the Rust search on one thread at least 40x a plain
Python hashlib loop (SHA-256d of the whole 80-byte header per nonce); all threads at least
1.8x one thread on a two-core machine; the SIMD fallback (SHA-NI off) at least 2x the
portable scalar code. Each test hashes a fixed number of nonces with a target nothing
meets, records nonces/s and the ratios in ``extra_info`` and prints them (``-s``).
``funai bench pow`` measures the same interactively.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from funai import pow as powlib

HEADER = bytes(range(80))
NOTHING = bytes(32)  # no hash is <= 0 in practice
SIMD = [b for b in powlib.backends() if b in ("avx512", "avx2")]

#: nonces/s of each configuration measured so far in this run
RATES: dict[str, float] = {}


def _hashlib_search(count: int) -> None:
    prefix = HEADER[:76]
    sha256 = hashlib.sha256
    for n in range(count):
        digest = sha256(sha256(prefix + n.to_bytes(4, "little")).digest()).digest()
        if digest[31] == 0 and int.from_bytes(digest, "little") == 0:
            raise AssertionError("a hash of zero")


def _rust_search(count: int, threads: int, backend: str) -> Callable[[], None]:
    def run() -> None:
        result = powlib.search(HEADER, NOTHING, count=count, threads=threads, backend=backend)
        assert result.nonce is None
        assert result.hashes == count

    return run


def _measure(benchmark: Any, name: str, fn: Callable[[], None], count: int) -> float:
    """Runs ``fn`` under pytest-benchmark; returns (and records) nonces/s of the best round."""
    began = time.perf_counter()
    benchmark.pedantic(fn, rounds=5, iterations=1, warmup_rounds=1)
    stats = getattr(benchmark, "stats", None)
    best = stats.stats.min if stats is not None else (time.perf_counter() - began) / 6
    rate = count / best
    RATES[name] = rate
    info: dict[str, float] = {"nonces": count, "mhs": round(rate / 1e6, 3)}
    if "hashlib" in RATES and name != "hashlib":
        info["x_hashlib"] = round(rate / RATES["hashlib"], 1)
    benchmark.extra_info.update(info)
    print(f"\n{name}: {rate / 1e6:.3f} M nonces/s {info}")
    return rate


def test_hashlib(benchmark: Any) -> None:
    count = 1 << 16
    _measure(benchmark, "hashlib", lambda: _hashlib_search(count), count)


def test_rust_one_thread(benchmark: Any) -> None:
    count = 1 << 22
    backend = powlib.best_backend()
    _measure(benchmark, "rust-1", _rust_search(count, 1, backend), count)
    benchmark.extra_info["backend"] = backend


def test_rust_all_threads(benchmark: Any) -> None:
    threads = os.cpu_count() or 1
    count = threads << 22
    rate = _measure(
        benchmark, "rust-all", _rust_search(count, threads, powlib.best_backend()), count
    )
    benchmark.extra_info["threads"] = threads
    if "rust-1" in RATES:
        benchmark.extra_info["x_one_thread"] = round(rate / RATES["rust-1"], 2)
        print(f"all {threads} threads / 1 thread: {rate / RATES['rust-1']:.2f}")


@pytest.mark.parametrize("backend", SIMD)
def test_rust_simd_one_thread(benchmark: Any, backend: str) -> None:
    count = 1 << 21
    _measure(benchmark, f"rust-{backend}", _rust_search(count, 1, backend), count)


def test_rust_scalar_one_thread(benchmark: Any) -> None:
    count = 1 << 19
    rate = _measure(benchmark, "rust-scalar", _rust_search(count, 1, "scalar"), count)
    for backend in SIMD:
        if f"rust-{backend}" in RATES:
            ratio = RATES[f"rust-{backend}"] / rate
            benchmark.extra_info[f"{backend}_x_scalar"] = round(ratio, 2)
            print(f"{backend} / scalar: {ratio:.2f}")
