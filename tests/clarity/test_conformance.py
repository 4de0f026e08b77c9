"""The Clarity conformance suite: every ``contracts/*.clar`` file carries its expectations.

Directives (in ``;;`` comments, applied in order):

- ``;; @requires: a b``   deploy ``a.clar`` and ``b.clar`` first (same deployer)
- ``;; @clarity-version: N``  deploy the file as Clarity N (default 2)
- ``;; @deploy-error: TEXT [@ LINE:COL]``  the file must fail analysis with TEXT
- ``;; @deploy-abort: TEXT``  the deploy must abort at runtime with TEXT
- ``;; @sender: NAME``    later expressions run as ``deployer``/``wallet_1``/``wallet_2``
- ``;; @advance: N M``    move the inference chain N and the ledger chain M blocks on
- ``;; > EXPR``           evaluate EXPR as a transaction by the sender, then one of
- ``;; = RESULT``         … its result must print exactly as RESULT
- ``;; ! TEXT``           … it must abort with an error containing TEXT
- ``;; ? TEXT``           … it must fail analysis with an error containing TEXT
- ``;; # EVENT-TYPE``     … it must emit an event of that type
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from funai.clarity import ClarityAnalysisError, ClarityRuntimeError, ClarityVM, SimpleChain

HERE = Path(__file__).parent / "contracts"
WALLETS = {
    "deployer": "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM",
    "wallet_1": "ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5",
    "wallet_2": "ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG",
    "wallet_3": "ST2JHG361ZXG51QTKY2NQCVBPPRRE2KZB1HR05NNC",
}
CONTRACTS = sorted(HERE.glob("*.clar"))


def directives(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s.startswith(";;"):
            continue
        body = s[2:].strip()
        if body.startswith("@"):
            key, _, val = body[1:].partition(":")
            out.append(("@" + key.strip(), val.strip()))
        elif body[:1] in (">", "=", "!", "?", "#") and body[1:2] == " ":
            out.append((body[0], body[2:].strip()))
    return out


def fresh_vm() -> ClarityVM:
    vm = ClarityVM(chain=SimpleChain(height=10, burn_height=20))
    for addr in WALLETS.values():
        vm.store.set_balance(addr, 100_000_000_000)
    return vm


def test_suite_is_large_enough() -> None:
    assert len(CONTRACTS) >= 40


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.stem)
def test_contract(path: Path) -> None:
    text = path.read_text()
    steps = directives(text)
    vm = fresh_vm()
    deployer = WALLETS["deployer"]
    for key, val in steps:
        if key == "@requires":
            for dep in val.split():
                vm.deploy(dep, (HERE / f"{dep}.clar").read_text(), sender=deployer)
    version = int(next((v for k, v in steps if k == "@clarity-version"), "2"))
    expect_deploy_error = next((v for k, v in steps if k == "@deploy-error"), None)
    expect_abort = next((v for k, v in steps if k == "@deploy-abort"), None)
    if expect_deploy_error is not None:
        text_part, _, pos = expect_deploy_error.partition(" @ ")
        with pytest.raises(ClarityAnalysisError) as info:
            vm.deploy(path.stem, text, sender=deployer, clarity_version=version)
        msgs = [str(d) for d in info.value.diagnostics]
        assert any(text_part in m for m in msgs), msgs
        if pos:
            assert any(m.startswith(pos + ":") for m in msgs), msgs
        return
    if expect_abort is not None:
        with pytest.raises(ClarityRuntimeError, match=expect_abort):
            vm.deploy(path.stem, text, sender=deployer, clarity_version=version)
        return
    vm.deploy(path.stem, text, sender=deployer, clarity_version=version)
    sender = deployer
    last: Any = None
    expr = ""
    for key, val in steps:
        if key == "@sender":
            sender = WALLETS[val]
        elif key == "@advance":
            parts = [int(x) for x in val.split()]
            vm.advance(parts[0], parts[1] if len(parts) > 1 else 0)
        elif key == ">":
            expr = val
            try:
                last = vm.eval(val, sender=sender)
            except ClarityAnalysisError as exc:
                last = exc
        elif key == "=":
            assert not isinstance(last, ClarityAnalysisError), f"{expr}: {last}"
            assert last is not None
            assert last.result == val, f"{expr}: got {last.result} ({last.error})"
        elif key == "!":
            assert not isinstance(last, ClarityAnalysisError), f"{expr}: {last}"
            assert last is not None
            assert last.result is None, f"{expr}: expected an abort, got {last.result}"
            assert val in (last.error or ""), f"{expr}: {last.error}"
        elif key == "?":
            assert isinstance(last, ClarityAnalysisError), f"{expr}: expected analysis error"
            assert val in str(last), f"{expr}: {last}"
        elif key == "#":
            assert last is not None
            assert not isinstance(last, ClarityAnalysisError)
            assert any(e["type"] == val for e in last.events), f"{expr}: {last.events}"


def test_missing_dependency_is_the_first_error() -> None:
    """The real cause comes first; no message names the internal unknown type."""
    vm = fresh_vm()
    vm.deploy("sip010-trait", (HERE / "sip010-trait.clar").read_text(), sender=WALLETS["deployer"])
    text = (HERE / "bad-missing-dependency.clar").read_text()
    with pytest.raises(ClarityAnalysisError) as info:
        vm.deploy("bad-missing-dependency", text, sender=WALLETS["deployer"])
    msgs = [str(d) for d in info.value.diagnostics]
    assert "no such contract" in msgs[0], msgs
    assert not any("UnknownType" in m for m in msgs), msgs
