"""Calls of a contract's own public and read-only functions keep the reference's transaction
boundary (`DefinedFunction::apply` runs them "as a transaction"): a public function's writes
and events are rolled back when it returns `err`, and a read-only function's events are
dropped, however the function is reached. Before, a function called by name from another one
of its contract ran without a boundary (writes and `print` events of a failed call kept),
and a read-only function's `print` events were reported."""

from __future__ import annotations

from funai.clarity import ClarityVM

SOURCE = """
(define-data-var x uint u0)
(define-public (set-then-fail) (begin (var-set x u5) (print "failed call") (err u1)))
(define-public (caller)
  (begin (unwrap-err-panic (set-then-fail)) (print "caller") (ok (var-get x))))
(define-read-only (noisy) (begin (print "read-only") u1))
(define-public (calls-noisy) (begin (print "public") (ok (noisy))))
(define-public (maps-noisy) (ok (map + (list (noisy) (noisy)) (list u1 u2))))
"""


def _printed(events: list[dict[str, str]]) -> list[str]:
    return [e["value"] for e in events if e["type"] == "print"]


def test_failed_local_public_call_leaves_no_writes_or_events() -> None:
    vm = ClarityVM()
    cid = vm.deploy("boundaries", SOURCE).contract_id
    r = vm.call(cid, "caller")
    assert r.result == "(ok u0)"
    assert _printed(r.events) == ['"caller"']
    assert vm.eval(f"(contract-call? '{cid} caller)").result == "(ok u0)"


def test_read_only_prints_are_dropped_however_called() -> None:
    vm = ClarityVM()
    cid = vm.deploy("boundaries", SOURCE).contract_id
    direct = vm.call(cid, "calls-noisy")
    assert direct.result == "(ok u1)"
    assert _printed(direct.events) == ['"public"']
    through_map = vm.call(cid, "maps-noisy")
    assert through_map.result == "(ok (list u2 u3))"
    assert _printed(through_map.events) == []
    read_only = vm.read_only(cid, "noisy")
    assert read_only.result == "u1"
    assert _printed(read_only.events) == []
    called = vm.eval(f"(contract-call? '{cid} noisy)")
    assert called.result == "u1"
    assert _printed(called.events) == []
