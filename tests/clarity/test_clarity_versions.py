"""Clarity versions. Mainnet contracts deployed before Stacks 2.1 (and Clarinet projects that
say ``clarity_version = 1``) are Clarity 1, where the builtins and keywords Clarity 2 added
are ordinary names and an imported trait takes its own name rather than its ``use-trait``
alias; each Clarity 1 case below is refused as Clarity 2 (as the reference refuses it) and
deploys and runs as Clarity 1. Contracts written since Nakamoto (sBTC's, for one) are
Clarity 3: ``stacks-block-height``, ``tenure-height``, ``get-stacks-block-info?`` and
``get-tenure-info?``, and no ``block-height``/``get-block-info?``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funai.clarity import ClarityAnalysisError, ClarityVM, MemoryStore, SimpleChain
from funai.clarity.project import ProjectError, deploy_project, load_manifest
from funai.cli import app

# A Clarity 1 contract (the form of ALEX's launchpad and CityCoins' VRF): it defines
# `buff-to-uint-le`, a builtin since Clarity 2, and a constant `chain-id`.
OWN_NAMES = """
(define-read-only (buff-to-uint-le (b (buff 1))) (+ u100 (len b)))
(define-constant chain-id u7)
(define-read-only (value) (ok (+ (buff-to-uint-le 0x01) chain-id)))
"""
TRAIT = "(define-trait commission ((pay (uint uint) (response bool uint))))\n"
# The NFT-marketplace template of over a thousand mainnet contracts.
MARKET = """
(use-trait commission-trait .commission.commission)
(define-public (buy (id uint) (commission-trait <commission-trait>))
  (contract-call? commission-trait pay id u1))
"""
FEE = "(impl-trait .commission.commission)\n(define-public (pay (id uint) (n uint)) (ok true))\n"


def test_deploy_and_call_clarity1_code() -> None:
    vm = ClarityVM()
    with pytest.raises(ClarityAnalysisError, match="'buff-to-uint-le' is a reserved name"):
        vm.deploy("own", OWN_NAMES)
    dep = vm.deploy("own", OWN_NAMES, clarity_version=1)
    assert vm.read_only(dep.contract_id, "value").result == "(ok u108)"
    # Reloaded from the store by a fresh VM, it is still Clarity 1 code.
    again = ClarityVM(vm.store)
    assert again.read_only(dep.contract_id, "value").result == "(ok u108)"
    with pytest.raises(ClarityAnalysisError, match="is Clarity 2"):
        vm.check("(define-read-only (f) (bit-and u1 u2))", clarity_version=1)
    with pytest.raises(ValueError, match="1, 2, 3 or 4"):
        vm.check("(define-read-only (f) u1)", clarity_version=5)


def test_trait_alias_named_argument() -> None:
    vm = ClarityVM()
    vm.deploy("commission", TRAIT)
    fee = vm.deploy("fee", FEE).contract_id
    with pytest.raises(ClarityAnalysisError, match="shadows a definition"):
        vm.deploy("market", MARKET)
    market = vm.deploy("market", MARKET, clarity_version=1).contract_id
    assert vm.call(market, "buy", "u5", f"'{fee}").result == "(ok true)"


def _project(root: Path, version: int | None, epoch: str = "2.4") -> Path:
    (root / "contracts").mkdir(parents=True, exist_ok=True)
    (root / "contracts" / "own.clar").write_text(OWN_NAMES)
    setting = "" if version is None else f"clarity_version = {version}\n"
    (root / "Clarinet.toml").write_text(
        '[project]\nname = "old"\n\n[contracts.own]\npath = "contracts/own.clar"\n'
        f"{setting}epoch = {epoch}\n"
    )
    return root / "Clarinet.toml"


@pytest.mark.parametrize(
    ("version", "epoch", "status"),
    [
        (1, "2.4", "deployed"),
        (2, "2.4", "error"),
        (None, "2.4", "error"),  # Clarinet's default: Clarity 2
        (None, "2.05", "deployed"),  # before Stacks 2.1 there is only Clarity 1
    ],
)
def test_manifest_clarity_version(
    tmp_path: Path, version: int | None, epoch: str, status: str
) -> None:
    manifest = load_manifest(_project(tmp_path, version, epoch))
    assert [r.status for r in deploy_project(ClarityVM(MemoryStore()), manifest)] == [status]


def test_cli_clarity_version(tmp_path: Path) -> None:
    src = tmp_path / "own.clar"
    src.write_text(OWN_NAMES)
    run = CliRunner().invoke
    assert run(app, ["clarity", "check", str(src)]).exit_code == 1
    assert run(app, ["clarity", "check", "--clarity-version", "1", str(src)]).exit_code == 0
    res = run(
        app, ["clarity", "run", "--clarity-version", "1", str(src), "(contract-call? .own value)"]
    )
    assert res.exit_code == 0, res.output
    assert "(ok u108)" in res.stdout
    res = run(app, ["clarity", "check", "--clarity-version", "1", str(_project(tmp_path / "p", 1))])
    assert res.exit_code == 2
    assert "per contract" in res.stderr


# Clarity 3 code of the kind sBTC's contracts hold.
NAKAMOTO = """
(define-data-var last-height uint u0)
(define-public (touch)
  (begin
    (var-set last-height stacks-block-height)
    (ok {height: stacks-block-height, tenure: tenure-height,
         time: (get-tenure-info? time (- stacks-block-height u1)),
         id: (get-stacks-block-info? id-header-hash (- stacks-block-height u1))})))
"""


def test_clarity3_code() -> None:
    vm = ClarityVM(chain=SimpleChain(height=10, burn_height=20))
    with pytest.raises(ClarityAnalysisError, match="stacks-block-height is Clarity 3"):
        vm.deploy("nakamoto", NAKAMOTO)
    cid = vm.deploy("nakamoto", NAKAMOTO, clarity_version=3).contract_id
    res = vm.call(cid, "touch")
    assert res.committed
    assert res.result is not None
    assert res.result.startswith("(ok {height: u10, id: (some 0x")
    assert "tenure: u10, time: (some u" in res.result
    with pytest.raises(ClarityAnalysisError, match="was removed in Clarity 3"):
        vm.check("(define-read-only (f) block-height)", clarity_version=3)


# Clarity 3 code read through a chain of calls (the shape of Zest's mainnet pool readers): `h`
# takes a field of what `g` returns, which is what `f` returns, and `f` uses a Clarity 3
# keyword.
CHAIN = """
(define-read-only (h) (get a (g)))
(define-read-only (g) (f))
(define-read-only (f) {a: stacks-block-height})
"""


def test_a_later_keyword_behind_calls_is_the_reason_given() -> None:
    """Read as Clarity 2, the one refusal names the keyword: `g` checks with `f`'s unknown
    type, so `h`'s "get expects a tuple" is derived from it and not reported (a deployer
    that reads the first diagnostic, as `bench/clarity_deployed_sample.py` does, then
    deploys it as Clarity 3)."""
    vm = ClarityVM(chain=SimpleChain(height=10, burn_height=20))
    with pytest.raises(ClarityAnalysisError) as info:
        vm.deploy("chain", CHAIN)
    messages = [d.message for d in info.value.diagnostics]
    assert len(messages) == 1, messages
    assert messages[0].startswith("stacks-block-height is Clarity 3")
    cid = vm.deploy("chain", CHAIN, clarity_version=3).contract_id
    assert vm.read_only(cid, "h").result == "u10"


# Clarity 4 code: a vault that pays out of the contract only within its allowance, and hashes
# the code it trusts.
VAULT = """
(define-public (deposit (amount uint)) (stx-transfer? amount tx-sender current-contract))
(define-public (withdraw (amount uint))
  (let ((me tx-sender))
    (as-contract? ((with-stx u1000)) (try! (stx-transfer? amount tx-sender me)))))
(define-read-only (code-hash) (contract-hash? current-contract))
(define-read-only (stamp) (to-ascii? stacks-block-time))
"""
# The same names as ordinary names of Clarity 2 code (the reference lets older code use them).
OLD_NAMES = """
(define-read-only (to-ascii? (n uint)) (int-to-ascii n))
(define-constant current-contract u4)
(define-read-only (f) (let ((contract-hash? u1)) (+ contract-hash? current-contract)))
"""


def test_clarity4_code() -> None:
    vm = ClarityVM(chain=SimpleChain(height=10, burn_height=20))
    with pytest.raises(ClarityAnalysisError, match="current-contract is Clarity 4"):
        vm.deploy("vault", VAULT)
    cid = vm.deploy("vault", VAULT, clarity_version=4).contract_id
    user = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"
    vm.store.set_balance(user, 5_000)
    assert vm.call(cid, "deposit", "u3000", sender=user).result == "(ok true)"
    assert vm.call(cid, "withdraw", "u1500", sender=user).result == "(err u0)"
    assert vm.balance(cid) == 3_000
    assert vm.call(cid, "withdraw", "u1000", sender=user).result == "(ok true)"
    assert (vm.balance(cid), vm.balance(user)) == (2_000, 3_000)
    want = hashlib.new("sha512_256", VAULT.encode()).hexdigest()
    assert vm.read_only(cid, "code-hash").result == f"(ok 0x{want})"
    assert vm.read_only(cid, "stamp").result == '(ok "u1700000100")'
    # older code keeps these names for its own; Clarity 4 code has no as-contract
    old = vm.deploy("old", OLD_NAMES).contract_id
    assert vm.read_only(old, "f").result == "u5"
    assert vm.read_only(old, "to-ascii?", "u7").result == '"7"'
    with pytest.raises(ClarityAnalysisError, match="was removed in Clarity 4"):
        vm.check("(define-read-only (f) (as-contract tx-sender))", clarity_version=4)
    with pytest.raises(ClarityAnalysisError, match="reserved"):
        vm.check("(define-constant current-contract u4)", clarity_version=4)


@pytest.mark.parametrize(
    ("version", "name", "source", "epochs", "call", "printed"),
    [
        (3, "n", NAKAMOTO, ("3.0", "2.5"), "touch", "(ok {height: u"),
        (4, "vault", VAULT, ('"3.3"', "3.2"), "stamp", '(ok "u'),
    ],
)
def test_later_versions_from_a_manifest_and_the_cli(
    tmp_path: Path,
    version: int,
    name: str,
    source: str,
    epochs: tuple[str, str],
    call: str,
    printed: str,
) -> None:
    """Clarity 3 and 4 code deploys from a Clarinet.toml at an epoch that has it (and is refused
    at an earlier one), and from the CLI with --clarity-version (refused without it)."""
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / f"{name}.clar").write_text(source)
    manifest = tmp_path / "Clarinet.toml"
    body = f'[project]\nname = "p"\n\n[contracts.{name}]\npath = "contracts/{name}.clar"\n'
    good, early = epochs
    manifest.write_text(body + f"clarity_version = {version}\nepoch = {good}\n")
    reports = deploy_project(ClarityVM(MemoryStore()), load_manifest(manifest))
    assert [r.status for r in reports] == ["deployed"]
    manifest.write_text(body + f"clarity_version = {version}\nepoch = {early}\n")
    needed = good.strip('"').replace(".", r"\.")
    with pytest.raises(ProjectError, match=rf"Clarity {version} needs epoch {needed}"):
        load_manifest(manifest)
    run = CliRunner().invoke
    src = str(tmp_path / "contracts" / f"{name}.clar")
    assert run(app, ["clarity", "check", src]).exit_code == 1
    expr = f"(contract-call? .{name} {call})"
    res = run(app, ["clarity", "run", "--clarity-version", str(version), src, expr])
    assert res.exit_code == 0, res.output
    assert printed in res.stdout
