"""Attack: the events of one transaction must not grow without bound.

Before the fix a call printing a 60 kB buffer 2,000 times kept 120 MB of event values (and
its Python result held them again as text), for 1.9 M of its 5 M runtime units. The values of
one transaction's events now hold at most 1 MiB (serialized size); past that it aborts as
over a cost limit, and nothing it wrote is kept.
"""

from __future__ import annotations

from funai.clarity import ClarityVM

BIG = "0x" + "ab" * 30_000  # 30,005 bytes serialized


def _contract(prints: int) -> str:
    idx = "(list " + " ".join(f"u{i}" for i in range(prints)) + ")"
    return (
        f"(define-constant B {BIG})\n(define-data-var n uint u0)\n"
        "(define-private (step (i uint) (acc uint))\n"
        "  (begin (var-set n i) (+ acc (len (print B)))))\n"
        f"(define-public (f) (ok (fold step {idx} u0)))\n"
    )


def test_many_large_prints_abort() -> None:
    vm = ClarityVM()
    cid = vm.deploy("loud", _contract(2000)).contract_id
    before = dict(vm.store.data)
    res = vm.call(cid, "f")
    assert res.aborted
    assert res.error == "cost limit exceeded: event data over 1048576 bytes"
    assert res.events == []
    assert vm.store.data == before


def test_prints_under_the_limit_are_kept() -> None:
    vm = ClarityVM()
    cid = vm.deploy("quiet", _contract(30)).contract_id
    res = vm.call(cid, "f")
    assert res.result == f"(ok u{30 * 30_000})"
    assert len(res.events) == 30
