"""Clarity VM benchmarks: SIP-010 transfers through the VM vs the same logic in Python on
the same store, one call at a time and a block of 1,000 at a time (``ClarityVM.call_many``
against the same Python function called 1,000 times), and parse + type-check time of a
500-line contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from funai import _core
from funai.clarity import DEFAULT_SENDER, ClarityVM, MemoryStore

pytest.importorskip("pytest_benchmark")

CONTRACTS = Path(__file__).resolve().parent.parent / "tests" / "clarity" / "contracts"
W1 = "ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5"


@pytest.fixture(scope="module")
def token_vm() -> tuple[ClarityVM, str]:
    vm = ClarityVM()
    vm.deploy("sip010-trait", (CONTRACTS / "sip010-trait.clar").read_text())
    cid = vm.deploy("sip010-token", (CONTRACTS / "sip010-token.clar").read_text()).contract_id
    vm.call(cid, "mint", "u1000000000", f"'{DEFAULT_SENDER}")
    return vm, cid


def test_bench_sip010_transfer_vm(benchmark, token_vm) -> None:  # type: ignore[no-untyped-def]
    vm, cid = token_vm
    args = ("u1", f"'{DEFAULT_SENDER}", f"'{W1}", "none")

    def transfer() -> None:
        vm.new_block()
        assert vm.call(cid, "transfer", *args).committed

    benchmark(transfer)


def _python_transfer(store: MemoryStore) -> Callable[[], None]:
    """The SIP-010 transfer's logic in plain Python against ``store``, with the VM's key
    layout and value encoding."""
    token = f"{DEFAULT_SENDER}.sip010-token"

    def key(p: str) -> bytes:
        return b"fb\x00" + token.encode() + b"\x00fai-coin\x00" + _core.clarity_balance_key(p)[4:]

    store.apply([(key(DEFAULT_SENDER), _core.clarity_encode_uint(10**9))])

    def transfer() -> None:
        sender, recipient, amount = DEFAULT_SENDER, W1, 1
        if amount == 0 or sender == recipient:
            raise AssertionError
        raw = store.get(key(sender))
        bal = _core.clarity_decode_uint(raw) if raw else 0
        if bal is None or bal < amount:
            raise AssertionError
        raw_to = store.get(key(recipient))
        to_bal = (_core.clarity_decode_uint(raw_to) or 0) if raw_to else 0
        store.apply(
            [
                (key(sender), _core.clarity_encode_uint(bal - amount)),
                (key(recipient), _core.clarity_encode_uint(to_bal + amount)),
            ]
        )

    return transfer


def test_bench_sip010_transfer_python(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The same transfer logic in Python against the same store and encoding."""
    benchmark(_python_transfer(MemoryStore()))


BLOCK = 1000


def test_bench_sip010_transfer_vm_block(benchmark, token_vm) -> None:  # type: ignore[no-untyped-def]
    """A block of 1,000 transfers in one ``call_many`` (each its own transaction, each seeing
    the writes of those before it; the writes reach the store once, at the end)."""
    vm, cid = token_vm
    calls = [(cid, "transfer", ("u1", f"'{DEFAULT_SENDER}", f"'{W1}", "none"), DEFAULT_SENDER)]
    calls *= BLOCK

    def block() -> None:
        vm.new_block()
        assert vm.call_many(calls).committed == BLOCK

    benchmark(block)


def test_bench_sip010_transfer_python_block(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The plain-Python transfer called 1,000 times (the same per-transfer logic as
    ``test_bench_sip010_transfer_python``): the baseline of the block benchmark."""
    transfer = _python_transfer(MemoryStore())

    def block() -> None:
        for _ in range(BLOCK):
            transfer()

    benchmark(block)


def _big_contract(lines: int) -> str:
    out = ["(define-map store uint {a: int, b: (string-ascii 20)})", "(define-data-var n uint u0)"]
    i = 0
    while len(out) < lines:
        out += [
            f"(define-public (f{i} (x uint) (y int))",
            '  (let ((cur (default-to {a: 0, b: ""} (map-get? store x))))',
            "    (asserts! (> x u0) (err u1))",
            f"    (map-set store x (merge cur {{a: (+ y {i})}}))",
            "    (var-set n (+ (var-get n) u1))",
            "    (ok (get a cur))))",
        ]
        i += 1
    return "\n".join(out[:lines]) + "\n"


def test_bench_check_500_lines(benchmark) -> None:  # type: ignore[no-untyped-def]
    src = _big_contract(500)
    assert src.count("\n") == 500
    vm = ClarityVM()
    benchmark(vm.check, src)
