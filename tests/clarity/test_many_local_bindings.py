"""Attack: a function with tens of thousands of local bindings must not make each variable
lookup, in the type checker or in the evaluator, cost time proportional to them.

Before the fix locals were a list scanned from the innermost binding: with the 40,000
bindings below the deploy (its type check) took 5.4 s, and each call evaluating the 130,000
lookups of the outermost binding about 4 s, while charged only about 170,000 of a call's
5,000,000 runtime units (a block's budget would have bought hours of work on every node);
after it, 0.2 s and 0.03 s. The bounds are liveness bounds for that attack (several times
what the fixed code needs on a slow machine), not performance figures.
"""

from __future__ import annotations

import time

from funai.clarity import ClarityVM

BINDINGS = 40_000
LOOKUPS = 130_000


def test_lookups_do_not_scan_every_binding() -> None:
    binds = "(a0 u1) " + " ".join(f"(a{i} a0)" for i in range(1, BINDINGS))
    src = f"(define-read-only (f) (let ({binds}) (+ {'a0 ' * LOOKUPS}a{BINDINGS - 1})))\n"
    assert len(src) < 1 << 20  # under the source limit: the parser takes it
    vm = ClarityVM()
    began = time.perf_counter()
    dep = vm.deploy("locals", src)
    deployed = time.perf_counter() - began
    began = time.perf_counter()
    res = vm.read_only(dep.contract_id, "f")
    called = time.perf_counter() - began
    assert res.result == f"u{LOOKUPS + 1}"
    assert deployed < 2.5, f"deploy took {deployed:.1f} s"
    assert called < 1.0, f"one call took {called:.1f} s"
