"""Attack: a large list of contract principals, bound once (a constant or a ``let``) and
passed many times where a trait is expected, must not make the type check of a deploy cost
(list length x uses).

Where a trait is expected, such a value is checked part by part through its defining
expression, each contract principal against the trait. Before the fix every use walked the
whole list again and checked each principal's conformance again (copying the trait's
signature each time): a 2,000-principal constant passed 10,000 times took 15 s to check,
and the 20,000 uses below (under the 1 MiB source limit) about 30 s, on every node that
checks the deploy. Now each principal is checked against a trait once, and each binding
once per expected type. The bound is a liveness bound for that attack, not a performance
figure.
"""

from __future__ import annotations

import time

import pytest

from funai.clarity import ClarityAnalysisError, ClarityVM
from tests.clarity.test_clarity_api import CONTRACTS

PRINCIPALS = 2_000
USES = 20_000


def _vm() -> ClarityVM:
    vm = ClarityVM()
    for name in ("sip010-trait", "sip010-token"):
        vm.deploy(name, (CONTRACTS / f"{name}.clar").read_text())
    return vm


def _source(bound_by: str) -> str:
    tokens = "(list " + " ".join([".sip010-token"] * PRINCIPALS) + ")"
    uses = " ".join(["(unwrap-panic (take c))"] * USES)
    lines = [
        "(use-trait ft .sip010-trait.sip-010-trait)",
        f"(define-read-only (take (l (list {PRINCIPALS} <ft>))) (ok (len l)))",
    ]
    if bound_by == "constant":
        lines += [f"(define-constant c {tokens})", f"(define-read-only (go) (begin {uses} (ok c)))"]
    else:
        lines += [f"(define-read-only (go) (let ((c {tokens})) {uses} (ok (take c))))"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("bound_by", ["constant", "let"])
def test_a_trait_list_passed_many_times_is_checked_once(bound_by: str) -> None:
    src = _source(bound_by)
    assert len(src) < 1 << 20  # under the source limit: the parser takes it
    vm = _vm()
    began = time.perf_counter()
    dep = vm.deploy("reuse", src)
    took = time.perf_counter() - began
    assert took < 10.0, f"checking {USES} uses of a {PRINCIPALS}-principal list took {took:.1f} s"
    assert vm.read_only(dep.contract_id, "take", "(list .sip010-token)").result == "(ok u1)"


def test_a_nonconforming_principal_is_still_refused_at_every_use() -> None:
    """The memo keeps only what fits: after a list of a conforming contract passed, a list
    that also holds a contract that does not implement the trait is refused."""
    vm = _vm()
    src = (
        "(use-trait ft .sip010-trait.sip-010-trait)\n"
        "(define-read-only (take (l (list 5 <ft>))) (ok (len l)))\n"
        "(define-constant good (list .sip010-token))\n"
        "(define-constant bad (list .sip010-token .sip010-trait))\n"
        "(define-read-only (a) (take good))\n"
        "(define-read-only (b) (take bad))\n"
    )
    with pytest.raises(ClarityAnalysisError, match="does not define public function"):
        vm.deploy("mixed", src)
