"""Proof-of-work search: the Rust core against Python's hashlib, cancellation, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from funai import pow as powlib
from funai._core import pow_search
from funai.cli import app
from funai.errors import CancelledError, MalformedInputError

ALL_BACKENDS = ("sha-ni", "avx512", "avx2", "scalar")
#: Generous bound for "stopped long before the search could have finished" (a full search
#: of 2**32 nonces takes minutes).
PROMPTLY = 5.0


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def pow_hash(header: bytes, nonce: int) -> bytes:
    return sha256d(header[:76] + nonce.to_bytes(4, "little"))


def brute_force(header: bytes, target: int, start: int, count: int) -> int | None:
    """The smallest valid nonce of the range, by hashlib."""
    for nonce in range(start, start + count):
        if int.from_bytes(pow_hash(header, nonce), "little") <= target:
            return nonce
    return None


def header_of(seed: int) -> bytes:
    return hashlib.sha512(seed.to_bytes(8, "little")).digest()[:80].ljust(80, b"\x07")


def test_backends() -> None:
    backends = powlib.backends()
    assert backends[-1] == "scalar"
    assert backends[0] == powlib.best_backend()
    assert set(backends) <= set(ALL_BACKENDS)
    assert all(isinstance(f, str) for f in powlib.cpu_features())


def test_found_nonce_verified_by_hashlib() -> None:
    header = header_of(1)
    target = 1 << 244  # about one nonce in 4096
    result = powlib.search(header, target, start_nonce=1000, count=1 << 20, threads=2)
    assert result.nonce is not None
    assert result.hash == pow_hash(header, result.nonce)
    assert int.from_bytes(result.hash, "little") <= target
    assert result.nonce == brute_force(header, target, 1000, result.nonce - 1000 + 1)
    assert result.hashes >= result.nonce - 1000 + 1
    assert not result.timed_out
    assert result.backend == powlib.best_backend()
    assert powlib.hash_meets_target(result.hash, powlib.target_to_bytes(target))


@pytest.mark.parametrize("backend", powlib.backends())
@pytest.mark.parametrize("threads", [1, 3])
def test_every_backend_agrees_with_hashlib(backend: str, threads: int) -> None:
    header = header_of(2)
    target = 1 << 248  # one in 256: several solutions in the range
    for start in (0, 5000, 0xFFFFFFFF - 3000):
        count = min(3000, (1 << 32) - start)
        expected = brute_force(header, target, start, count)
        result = powlib.search(
            header, target, start_nonce=start, count=count, threads=threads, backend=backend
        )
        assert result.nonce == expected
        assert result.backend == backend
        if expected is not None:
            assert result.hash == pow_hash(header, expected)


def test_range_without_solution() -> None:
    header = header_of(3)
    target = 1 << 236  # one in a million
    assert brute_force(header, target, 0, 4000) is None
    for backend in powlib.backends():
        result = powlib.search(header, target, count=4000, backend=backend)
        assert result.nonce is None
        assert result.hash is None
        assert result.hashes == 4000


@settings(max_examples=15, deadline=None)
@given(
    header=st.binary(min_size=80, max_size=80),
    start=st.integers(min_value=0, max_value=0xFFFFFFFF),
    shift=st.integers(min_value=246, max_value=252),
)
def test_matches_brute_force(header: bytes, start: int, shift: int) -> None:
    count = min(1500, (1 << 32) - start)
    target = (1 << shift) - 1
    result = powlib.search(header, target, start_nonce=start, count=count, threads=2)
    assert result.nonce == brute_force(header, target, start, count)


def test_last_nonce_and_no_wraparound() -> None:
    header = header_of(4)
    everything = powlib.MAX_TARGET
    result = powlib.search(header, everything, start_nonce=0xFFFFFFFF)
    assert (result.nonce, result.hashes) == (0xFFFFFFFF, 1)
    # The hash of nonce 0 as target: only nonces of the range may be reported.
    target = int.from_bytes(pow_hash(header, 0), "little")
    result = powlib.search(header, target, start_nonce=0xFFFFFFFF - 9)
    assert result.nonce == brute_force(header, target, 0xFFFFFFFF - 9, 10)
    if result.nonce is None:
        assert result.hashes == 10


def test_hash_equal_to_target_meets_it() -> None:
    header = header_of(5)
    digest = pow_hash(header, 77)
    result = powlib.search(header, digest, start_nonce=77, count=1)
    assert result.nonce == 77
    assert powlib.hash_meets_target(digest, digest)
    assert powlib.meets_target(digest, powlib.hash_to_int(digest))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"header": bytes(79)},
        {"header": bytes(81)},
        {"target": bytes(31)},
        {"start_nonce": -1},
        {"start_nonce": 1 << 32},
        {"count": -1},
        {"count": (1 << 32) + 1},
        {"start_nonce": 10, "count": (1 << 32) - 9},
        {"threads": -1},
        {"threads": 1 << 20},
        {"backend": "sha_ni"},
        {"seconds": -1.0},
        {"seconds": float("nan")},
    ],
)
def test_malformed_input(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"header": bytes(80), "target": bytes(32), "count": 1}
    args.update(kwargs)
    with pytest.raises(MalformedInputError):
        pow_search(**args)  # type: ignore[arg-type]


def test_malformed_helpers() -> None:
    with pytest.raises(MalformedInputError):
        powlib.hash_meets_target(bytes(31), bytes(32))
    with pytest.raises(MalformedInputError):
        powlib.hash_meets_target(bytes(32), bytes(33))
    with pytest.raises(MalformedInputError):
        powlib.target_to_bytes(1 << 256)
    with pytest.raises(MalformedInputError):
        powlib.target_to_bytes(-1)
    with pytest.raises(MalformedInputError):
        powlib.hash_to_int(bytes(31))
    with pytest.raises(MalformedInputError):
        powlib.with_nonce(bytes(80), 1 << 32)
    with pytest.raises(ValueError, match="header"):  # MalformedInputError is a ValueError
        powlib.search(bytes(10), 0)


def test_unavailable_backend_is_malformed() -> None:
    missing = [b for b in ALL_BACKENDS if b not in powlib.backends()]
    for backend in missing:
        with pytest.raises(MalformedInputError):
            powlib.search(bytes(80), 0, count=1, backend=backend)


def test_target_helpers() -> None:
    assert powlib.target_to_bytes(1) == b"\x01" + bytes(31)
    assert powlib.hash_to_int(b"\x00" * 31 + b"\x01") == 1 << 248
    assert powlib.with_nonce(bytes(80), 0x01020304)[76:] == b"\x04\x03\x02\x01"
    assert powlib.pow_hash(header_of(6), 9) == pow_hash(header_of(6), 9)


def _later(delay: float, action: Callable[[], object]) -> threading.Timer:
    timer = threading.Timer(delay, action)
    timer.start()
    return timer


def test_cancel_token_from_another_thread() -> None:
    token = powlib.CancelToken()
    assert not token.cancelled
    timer = _later(0.1, token.cancel)
    began = time.monotonic()
    with pytest.raises(CancelledError):
        # An impossible target over all 2**32 nonces: minutes of work if not cancelled.
        powlib.search(bytes(80), 0, threads=1, cancel=token)
    assert time.monotonic() - began < PROMPTLY
    timer.join()
    assert token.cancelled


def test_cancelled_token_stops_at_once() -> None:
    token = powlib.CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        powlib.search(bytes(80), 0, cancel=token)
    assert "cancelled=True" in repr(token)


def test_token_unused_if_search_finishes() -> None:
    token = powlib.CancelToken()
    result = powlib.search(bytes(80), powlib.MAX_TARGET, cancel=token)
    assert result.nonce == 0


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill")
def test_ctrl_c_raises_keyboard_interrupt() -> None:
    main = threading.main_thread().ident
    assert main == threading.get_ident()
    assert main is not None
    # Python's own SIGINT handler, SIGINT unblocked, whatever an earlier test of the session
    # left (with SIGINT ignored or blocked, the search rightly runs to its end: a minute).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        timer = _later(0.1, lambda: signal.pthread_kill(main, signal.SIGINT))
        began = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            powlib.search(bytes(80), 0, threads=2)
        assert time.monotonic() - began < PROMPTLY
        timer.join()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, previous)


def test_time_budget() -> None:
    result = powlib.search(bytes(80), 0, seconds=0.05)
    assert result.timed_out
    assert result.nonce is None
    assert 0 < result.hashes < 1 << 32
    assert result.elapsed < PROMPTLY
    assert 1 <= result.threads <= (os.cpu_count() or 1)


def test_releases_the_gil() -> None:
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    ticker = threading.Thread(target=count)
    ticker.start()
    try:
        powlib.search(bytes(80), 0, threads=1, seconds=0.3)
    finally:
        stop.set()
        ticker.join()
    assert ticks > 20


def test_result_fields() -> None:
    result = powlib.search(header_of(7), 1 << 250, count=100_000, threads=1)
    assert isinstance(result, powlib.PowResult)
    assert isinstance(result.nonce, int)
    assert isinstance(result.hash, bytes)
    assert isinstance(result.elapsed, float)
    assert result.threads == 1
    assert "PowResult(nonce=" in repr(result)


def test_bench_pow_cli_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--datadir", str(tmp_path), "bench", "pow", "--json", "--seconds", "0.1"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["hashlib_mhs"] > 0
    # the measured fastest kernel (tests/test_pow_kernel_choice.py), not a fixed order
    assert report["backend"] == report["kernel"]["backend"]
    assert report["backend"] in powlib.backends()
    assert report["cpu_features"] == powlib.cpu_features()
    assert report["cpu_model"]
    by_threads = report["mhs_by_threads"]
    counts = {"1", str(os.cpu_count() or 1)}
    assert counts <= set(by_threads)
    assert all(v > 0 for v in by_threads.values())
    assert report["ratio"] == pytest.approx(by_threads["1"] / report["hashlib_mhs"], rel=0.01)
    # every kernel this CPU runs, on every thread count
    by_kernel = report["by_kernel"]
    assert list(by_kernel) == powlib.backends()
    for rates in by_kernel.values():
        assert set(rates) == set(by_threads)
        assert all(v > 0 for v in rates.values())
    assert by_kernel[report["backend"]] == by_threads
    assert set(report["ratio_by_kernel"]) == set(by_kernel)
    for n, fastest in report["fastest_by_threads"].items():
        assert by_kernel[fastest][n] == max(r[n] for r in by_kernel.values())


def test_bench_pow_cli_backend_measures_only_that_kernel(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["--datadir", str(tmp_path), "bench", "pow", "--json", "-s", "0.05", "-b", "scalar"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["backend"] == "scalar"
    assert list(report["by_kernel"]) == ["scalar"]
    assert all(v > 0 for v in report["by_kernel"]["scalar"].values())
    assert report["kernel"]["source"] == "forced"
    assert not (tmp_path / "pow-kernel.json").exists()  # nothing else measured


def test_bench_pow_cli_table_and_bad_backend(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["--datadir", str(tmp_path), "bench", "pow", "-s", "0.05", "-t", "1", "-b", "scalar"],
    )
    assert result.exit_code == 0, result.output
    assert "hashlib" in result.output
    assert "rust scalar" in result.output
    assert "forced" in result.output
    assert "rust avx2" not in result.output
    result = CliRunner().invoke(app, ["bench", "pow", "--backend", "nope"])
    assert result.exit_code == 2
    assert "backend 'nope' is not available here; choose from: " in result.output
    assert "scalar" in result.output


def test_bench_pow_cli_table_has_every_kernel(tmp_path: Path) -> None:
    from funai.pow_choice import cpu_model

    args = ["--datadir", str(tmp_path), "bench", "pow", "-s", "0.03", "-t", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert cpu_model().split()[0] in result.output  # the title may wrap
    for name in powlib.backends():
        assert f"rust {name}" in result.output
    if len(powlib.backends()) > 1:
        assert "*" in result.output  # the fastest is marked
        assert "<- auto" in result.output
        assert "choice measured" in result.output
        again = CliRunner().invoke(app, args)
        assert again.exit_code == 0, again.output
        assert "choice cached" in again.output
