"""Attack: a contract made of very many top-level forms must not make every node that
deploys it work quadratically.

Before the fix each top-level form was evaluated in a frame over a fresh copy of the whole
contract (source and every definition) so that the constants evaluated so far were visible:
4,000 constants took 0.6 s to deploy, 15,000 about 8 s and the 30,000 below about 35 s on
every node that executes the deploy, for one transaction's fee. The contract below is refused
in the end (its record, source plus constants, is over the 1 MB write limit of a call), but
only after every constant was evaluated, which is the work the attack buys. The bound is a
liveness bound for that attack (several times what the fixed code needs on a slow machine),
not a performance figure.
"""

from __future__ import annotations

import time

from funai.clarity import ClarityVM

FORMS = 30_000


def test_deploy_of_many_constants_is_linear() -> None:
    src = "\n".join(f"(define-constant c{i} u{i})" for i in range(FORMS))
    src += f"\n(define-read-only (f) c{FORMS - 1})\n"
    assert len(src) < 1 << 20  # under the source limit: the parser takes it
    vm = ClarityVM()
    vm.check(src, name="many")  # (parse and check are not what is timed)
    began = time.perf_counter()
    dep = vm.deploy("many", src)
    took = time.perf_counter() - began
    assert vm.read_only(dep.contract_id, "f").result == f"u{FORMS - 1}"
    assert took < 10.0, f"deploying {FORMS} constants took {took:.1f} s"


def test_constants_see_each_other_in_definition_order() -> None:
    src = "(define-constant b (+ a u1))\n(define-constant a u41)\n(define-read-only (f) b)\n"
    vm = ClarityVM()
    dep = vm.deploy("order", src)
    assert vm.read_only(dep.contract_id, "f").result == "u42"
