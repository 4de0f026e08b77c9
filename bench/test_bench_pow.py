"""Benchmarks of the proof-of-work search (pytest-benchmark).

The issue's goals, measured in one run: the Rust search on one thread at least 40x a plain
Python hashlib loop (SHA-256d of the whole 80-byte header per nonce); all threads at least
1.8x one thread on a two-core machine; the SIMD fallback (SHA-NI off) at least 2x the
portable scalar code. Each test hashes a fixed number of nonces with a target nothing
meets, records nonces/s and the ratios in ``extra_info`` and prints them (``-s``).
``funai bench pow`` measures the same interactively.

Every kernel on one and two threads is measured against the hashlib baseline of the same
run (``test_kernel``); with ``CPUMINER=/path/to/cpuminer`` (cpuminer-opt, built outside this
repository: it is GPL) its ``sha256d`` benchmark runs in the same session as a second
baseline and each kernel's ratio to it is recorded (``test_cpuminer_opt``, after the
kernels). ``bench/cpuminer_compare.py`` does the same comparison interleaved over several
rounds, which is what docs/performance.md reports (a shared machine is noisy).
"""

from __future__ import annotations

import hashlib
import os
import re
import statistics
import subprocess
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


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("backend", powlib.backends())
def test_kernel(benchmark: Any, backend: str, threads: int) -> None:
    """Every kernel this CPU runs, on one and two threads (the table of docs/performance.md)."""
    count = (1 << 17 if backend == "scalar" else 1 << 20) * threads
    rate = _measure(
        benchmark, f"{backend}-t{threads}", _rust_search(count, threads, backend), count
    )
    benchmark.extra_info.update({"backend": backend, "threads": threads})
    if "hashlib" in RATES:
        benchmark.extra_info["x_hashlib"] = round(rate / RATES["hashlib"], 1)


_TOTAL = re.compile(r"Total: ([0-9.]+) ([kMG]?)H/s")
_SCALE = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}


def _cpuminer(binary: str, threads: int, seconds: float) -> float:
    """Hashes/s cpuminer-opt's ``sha256d`` benchmark reports (median after its first)."""
    proc = subprocess.run(
        [
            *("timeout", "-s", "INT", str(seconds), binary),
            *(
                "-a",
                "sha256d",
                "--benchmark",
                "-t",
                str(threads),
                "--no-color",
                "--cpu-priority",
                "2",
            ),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    rates = [float(v) * _SCALE[u] for v, u in _TOTAL.findall(proc.stdout + proc.stderr)]
    if len(rates) < 2:
        pytest.fail(f"no hash rate from cpuminer-opt: {proc.stdout[-300:]}")
    return statistics.median(rates[1:])


@pytest.mark.parametrize("threads", [1, 2])
def test_cpuminer_opt(benchmark: Any, threads: int) -> None:
    """cpuminer-opt as the baseline (only with ``CPUMINER`` set): our kernels' ratios to it."""
    binary = os.environ.get("CPUMINER", "")
    if not binary:
        pytest.skip("set CPUMINER=/path/to/cpuminer (cpuminer-opt) to compare with it")
    rates: list[float] = []
    benchmark.pedantic(
        lambda: rates.append(_cpuminer(binary, threads, 22.0)), rounds=1, iterations=1
    )
    rate = rates[0]
    RATES[f"cpuminer-t{threads}"] = rate
    info: dict[str, float] = {"mhs": round(rate / 1e6, 3)}
    for backend in powlib.backends():
        ours = RATES.get(f"{backend}-t{threads}")
        if ours is not None:
            info[f"{backend}_x_cpuminer"] = round(ours / rate, 2)
    benchmark.extra_info.update(info)
    print(f"\ncpuminer-opt sha256d, {threads} thread(s): {rate / 1e6:.2f} MH/s {info}")
