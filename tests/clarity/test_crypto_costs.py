"""Attack: signature checks must cost what they take.

Before the fix `secp256k1-recover?` and `secp256k1-verify` cost 100 runtime units and
`principal-of?` 50, while a recovery takes about 180 us, a verification about 90 us and a key
decompression about 7 us (a plain expression: about 20-30 ns a unit). A call of 1,000
recoveries was charged 119,000 units for 0.18 s, so a call's 5,000,000 units bought about
7.8 s and a block's budget about 13 minutes of signature work on every node. Charges now
follow the measured time (docs/clarity.md, Costs): 1,000 recoveries are over a call's budget.
"""

from __future__ import annotations

from funai.clarity import ClarityVM

HASH = "0xde5b9eb9e7c5592930eb2e30a01369c36586d872082ed8181ee83d2a0ec20f04"
SIG = (
    "0x8738487ebe69b93d8e51583be8eee50bb4213fc49c767d329632730cc193b873"
    "554428fc936ca3569afc15f1c9365f6591d6251a89fee9c9ac661116824d3a1301"
)
PK = "0x03adb8de4bfb65db2cfd6120d55c6526ae9c52e675db7e47308636534ba7786110"


def _run(body: str, rounds: int) -> tuple[str | None, str | None, int]:
    idx = "(list " + " ".join(f"u{i}" for i in range(rounds)) + ")"
    src = (
        f"(define-private (step (i uint) (acc uint)) (+ acc {body}))\n"
        f"(define-public (f) (ok (fold step {idx} u0)))\n"
    )
    vm = ClarityVM()
    res = vm.call(vm.deploy("p", src).contract_id, "f")
    return res.result, res.error, res.cost["runtime"]


def test_a_thousand_recoveries_are_over_a_calls_budget() -> None:
    result, error, _ = _run(f"(match (secp256k1-recover? {HASH} {SIG}) p (len p) e u0)", 1000)
    assert result is None
    assert error is not None
    assert "cost limit exceeded: runtime" in error


def test_signature_costs() -> None:
    recover = _run(f"(match (secp256k1-recover? {HASH} {SIG}) p (len p) e u0)", 10)
    verify = _run(f"(if (secp256k1-verify {HASH} {SIG} {PK}) u1 u0)", 10)
    principal = _run(f"(match (principal-of? {PK}) p u1 e u0)", 10)
    plain = _run("u1", 10)
    assert recover[0] == "(ok u330)"  # a valid recovery: 33-byte keys
    assert verify[0] == "(ok u10)"
    assert principal[0] == "(ok u10)"
    assert recover[2] - plain[2] >= 10 * 6000
    assert verify[2] - plain[2] >= 10 * 3000
    assert principal[2] - plain[2] >= 10 * 250
