"""Attack: a long chain of definitions, each naming the one before, must not make the type
check of a deploy quadratic.

Before the fix the checker ordered definitions by rescanning every definition once per
round (one round per link of a chain) and then looked each constant up by a linear search:
a reversed chain of 10,000 constants took 10 s to check and the 25,000 below (under the 1 MiB
source limit) about 90 s, on every node that checks the deploy. The bound is a liveness bound
for that attack, not a performance figure.
"""

from __future__ import annotations

import time

from funai.clarity import ClarityVM

LINKS = 25_000


def _chain(n: int) -> str:
    lines = ["(define-constant c0 u0)"]
    lines += [f"(define-constant c{i} (+ c{i - 1} u1))" for i in range(1, n)]
    lines.reverse()  # each constant names one defined later in the file
    return "\n".join(lines) + f"\n(define-read-only (last) c{n - 1})\n"


def test_check_of_a_long_chain_is_linear() -> None:
    src = _chain(LINKS)
    assert len(src) < 1 << 20  # under the source limit: the parser takes it
    began = time.perf_counter()
    interface = ClarityVM().check(src, name="chain")
    took = time.perf_counter() - began
    assert len(interface["constants"]) == LINKS
    assert took < 10.0, f"checking a chain of {LINKS} constants took {took:.1f} s"


def test_a_reversed_chain_deploys_and_evaluates_in_order() -> None:
    vm = ClarityVM()
    dep = vm.deploy("chain", _chain(300))
    assert vm.read_only(dep.contract_id, "last").result == "u299"
