"""Attack: copying a large value out of a constant, a binding or a literal must be paid for.

Before the fix a lookup cost one runtime unit whatever it copied: a fold that read a
20,000-element constant list 1,000 times was charged 14,008 units (0.3% of a call's budget)
for 134 ms of copying, so a call's 5,000,000 units bought about 48 s of work and a block's
budget over an hour, on every node. A lookup now costs one more unit per 64 bytes of the
value's serialized size, as the reference charges variable lookups by size; values under 64
bytes (numbers, principals, short strings) cost what they did.
"""

from __future__ import annotations

from funai.clarity import ClarityVM

N = 20_000


def _vm_with(body: str, rounds: int = 1000) -> tuple[ClarityVM, str]:
    idx = "(list " + " ".join(f"u{i}" for i in range(rounds)) + ")"
    src = f"""
(define-constant L (list {" ".join(f"u{i}" for i in range(N))}))
(define-private (step (i uint) (acc uint)) (+ acc {body}))
(define-read-only (f) (fold step {idx} u0))
(define-read-only (once) (len L))
"""
    vm = ClarityVM()
    return vm, vm.deploy("big", src).contract_id


def test_reading_a_large_constant_in_a_loop_runs_out_of_budget() -> None:
    vm, cid = _vm_with("(len L)")
    res = vm.read_only(cid, "f")
    assert res.aborted
    assert res.error is not None
    assert "cost limit exceeded: runtime" in res.error
    # One read of it is charged by its size (about 340 kB serialized: 5,300 units) ...
    once = vm.read_only(cid, "once")
    assert once.result == f"u{N}"
    assert once.cost["runtime"] > (N * 17) // 64


def test_large_literals_are_charged_by_size() -> None:
    text = "x" * 60_000  # about 940 units a read: 6,000 reads are over a call's budget
    vm, cid = _vm_with(f'(len "{text}")', rounds=6000)
    res = vm.read_only(cid, "f")
    assert res.aborted
    assert res.error is not None
    assert "cost limit exceeded: runtime" in res.error


def test_small_values_cost_what_they_did() -> None:
    vm = ClarityVM()
    cid = vm.deploy(
        "small",
        '(define-constant owner tx-sender)\n(define-read-only (f (n uint)) (let ((s "short"))'
        " (if (is-eq owner tx-sender) (+ n u1) (len s))))\n",
    ).contract_id
    res = vm.read_only(cid, "f", "u41")
    assert res.result == "u42"
    # the same runtime as before sizes were charged (measured on the code before the fix)
    assert res.cost["runtime"] == 16
