"""Clarity projects: Clarinet.toml manifests and several files, deployed in dependency order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funai.clarity import DEFAULT_SENDER, ClarityVM
from funai.clarity.project import (
    ProjectError,
    deploy_project,
    devnet_address,
    load_files,
    load_manifest,
    load_project,
    plan,
    references,
    weak_references,
)
from funai.cli import app

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "clarity-project"
WALLET_1 = "ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5"
SP = "SP3FBR2AGK5H9QBDH3EEN6DF8EK8JY7RX8QJ5SVTE"

TRAIT = "(define-trait t ((value () (response uint uint))))\n"
IMPL = "(impl-trait .a.t)\n(define-read-only (value) (ok u7))\n"
USER = "(use-trait t .a.t)\n(define-public (go (x <t>)) (contract-call? x value))\n"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def _manifest(names: list[str], extra: str = "") -> str:
    body = '[project]\nname = "p"\n' + extra
    for n in names:
        body += (
            f'\n[contracts.{n}]\npath = "contracts/{n}.clar"\nclarity_version = 2\nepoch = 2.4\n'
        )
    return body


def test_devnet_accounts_match_clarinet() -> None:
    assert (
        devnet_address(
            "twice kind fence tip hidden tilt action fragile skin nothing glory cousin green "
            "tomorrow spring wrist shed math olympic multiply hip blue scout claw"
        )
        == DEFAULT_SENDER
    )
    assert (
        devnet_address(
            "sell invite acquire kitten bamboo drastic jelly vivid peace spawn twice guilt pave "
            "pen trash pretty park cube fragile unaware remain midnight betray rebuild"
        )
        == WALLET_1
    )


def test_devnet_derivation_path() -> None:
    words = "twice kind fence tip hidden tilt action fragile skin nothing glory cousin green "
    words += "tomorrow spring wrist shed math olympic multiply hip blue scout claw"
    assert devnet_address(words, derivation="m/44h/5757h/0h/0/0") == DEFAULT_SENDER
    assert devnet_address(words, derivation="m/44'/5757'/0'/0/1") != DEFAULT_SENDER
    with pytest.raises(ValueError, match="derivation path"):
        devnet_address(words, derivation="44'/0")


def test_references_forms_and_principals() -> None:
    src = (
        f";; (contract-call? .commented f)\n(use-trait t '{SP}.sip.t)\n(impl-trait .a.t)\n"
        '(define-constant s "(contract-call? .in-string f)")\n'
        f"(define-public (f (x <t>)) (begin (try! (contract-call? x value)) "
        f"(contract-call? '{WALLET_1}.b g)))\n"
    )
    refs = references(src, DEFAULT_SENDER)
    assert [(r.contract_id, r.form, r.line) for r in refs] == [
        (f"{SP}.sip", "use-trait", 2),
        (f"{DEFAULT_SENDER}.a", "impl-trait", 3),
        (f"{WALLET_1}.b", "contract-call?", 5),
    ]
    assert refs[0].col == 14


def test_example_manifest_deploys_in_dependency_order() -> None:
    project = load_manifest(EXAMPLE / "Clarinet.toml")
    assert [c.name for c in project.contracts] == ["vault", "token", "ft-trait"]
    assert project.deployer == DEFAULT_SENDER  # settings/Devnet.toml's deployer mnemonic
    vm = ClarityVM()
    vm.store.set_balance(DEFAULT_SENDER, 10**12)
    reports = deploy_project(vm, project)
    assert [(r.contract.name, r.status) for r in reports] == [
        ("ft-trait", "deployed"),
        ("token", "deployed"),
        ("vault", "deployed"),
    ]
    d = DEFAULT_SENDER
    assert vm.eval(f"(contract-call? '{d}.token mint u1000 tx-sender)").result == "(ok true)"
    assert vm.eval(f"(contract-call? '{d}.vault deposit u300)").result == "(ok u300)"
    assert vm.eval(f"(contract-call? '{d}.vault holdings '{d}.token)").result == "(ok u300)"


@pytest.mark.parametrize("order", [["a", "b", "c"], ["c", "b", "a"], ["b", "c", "a"]])
def test_manifest_order_does_not_matter(tmp_path: Path, order: list[str]) -> None:
    _write(
        tmp_path,
        {
            "Clarinet.toml": _manifest(order),
            "contracts/a.clar": TRAIT,
            "contracts/b.clar": IMPL,
            "contracts/c.clar": USER,
        },
    )
    project = load_project([tmp_path])
    assert project.manifest == tmp_path / "Clarinet.toml"
    reports = deploy_project(ClarityVM(), project)
    names = [r.contract.name for r in reports]
    assert names.index("a") < names.index("b")
    assert names.index("a") < names.index("c")
    assert all(r.status == "deployed" for r in reports)


def test_several_files(tmp_path: Path) -> None:
    _write(tmp_path, {"c.clar": USER, "b.clar": IMPL, "a.clar": TRAIT})
    paths = [tmp_path / "c.clar", tmp_path / "b.clar", tmp_path / "a.clar"]
    project = load_files(paths, WALLET_1)
    vm = ClarityVM()
    reports = deploy_project(vm, project)
    assert [r.contract.contract_id for r in reports] == [
        f"{WALLET_1}.a",
        f"{WALLET_1}.c",
        f"{WALLET_1}.b",
    ]
    res = vm.eval(f"(contract-call? .c go '{WALLET_1}.b)", sender=WALLET_1)
    assert res.result == "(ok u7)"


def test_full_principals_across_deployers(tmp_path: Path) -> None:
    """A contract of wallet_1 names the deployer's trait and token by full principal; a
    requirement from Clarinet's cache deploys at its own (mainnet) principal."""
    d = DEFAULT_SENDER
    _write(
        tmp_path,
        {
            "Clarinet.toml": _manifest(
                ["user", "impl"], f'requirements = [{{ contract_id = "{SP}.sip" }}]\n'
            ).replace("[contracts.user]\n", '[contracts.user]\ndeployer = "wallet_1"\n'),
            f".cache/requirements/{SP}.sip.clar": TRAIT,
            "contracts/impl.clar": f"(impl-trait '{SP}.sip.t)\n(define-read-only (value) (ok u9))",
            "contracts/user.clar": (
                f"(use-trait t '{SP}.sip.t)\n"
                "(define-public (go (x <t>)) (contract-call? x value))\n"
                f"(define-public (direct) (contract-call? '{d}.impl value))\n"
            ),
            "settings/Devnet.toml": f'[accounts.deployer]\nstx_address = "{d}"\n'
            f'[accounts.wallet_1]\nstx_address = "{WALLET_1}"\n',
        },
    )
    project = load_manifest(tmp_path / "Clarinet.toml")
    ids = {c.name: c.contract_id for c in project.contracts}
    assert ids == {"sip": f"{SP}.sip", "user": f"{WALLET_1}.user", "impl": f"{d}.impl"}
    vm = ClarityVM()
    reports = deploy_project(vm, project)
    assert [r.contract.name for r in reports] == ["sip", "impl", "user"]
    assert all(r.status == "deployed" for r in reports), [r.to_json() for r in reports]
    assert vm.eval(f"(contract-call? .user go '{d}.impl)", sender=WALLET_1).result == "(ok u9)"
    assert vm.eval(f"(contract-call? '{WALLET_1}.user direct)").result == "(ok u9)"


def test_missing_dependency_deploys_nothing(tmp_path: Path) -> None:
    _write(tmp_path, {"a.clar": TRAIT, "b.clar": IMPL, "c.clar": USER + "(contract-call? .zz f)\n"})
    project = load_files([tmp_path / n for n in ("a.clar", "b.clar", "c.clar")])
    vm = ClarityVM()
    with pytest.raises(ProjectError, match=r"c\.clar:3:17: c .* needs .*\.zz") as info:
        deploy_project(vm, project)
    assert not info.value.malformed
    for n in "abc":
        assert vm.interface(f"{DEFAULT_SENDER}.{n}") is None
    # Already deployed, it is no longer missing.
    vm.deploy("zz", "(define-public (f) (ok u1))")
    assert [c.name for c in plan(project, lambda cid: vm.interface(cid) is not None)] == [
        "a",
        "b",
        "c",
    ]


def test_principal_literal_orders_softly(tmp_path: Path) -> None:
    # c passes .b where the trait is expected: b deploys first although listed last
    # (Arkadiko's liquidation UI does this); a literal naming no project contract, or one
    # that would close a cycle, is not a dependency.
    user = (
        "(use-trait t .a.t)\n(define-private (go (x <t>)) (contract-call? x value))\n"
        "(define-public (run) (go .b))\n(define-constant elsewhere .nowhere)\n"
    )
    _write(tmp_path, {"a.clar": TRAIT, "c.clar": user, "b.clar": IMPL + "(define-constant u .c)\n"})
    project = load_files([tmp_path / n for n in ("a.clar", "c.clar", "b.clar")])
    vm = ClarityVM()
    reports = deploy_project(vm, project)
    assert [r.contract.name for r in reports] == ["a", "b", "c"]
    assert all(r.status == "deployed" for r in reports), [r.to_json() for r in reports]
    assert vm.eval("(contract-call? .c run)").result == "(ok u7)"


def test_constant_literal_orders_last(tmp_path: Path) -> None:
    # pool keeps dex's address in a constant; dex passes .pool where the trait is expected:
    # pool must deploy first although it is listed after dex and names dex first.
    dex = (
        "(use-trait t .a.t)\n(define-private (go (x <t>)) (contract-call? x value))\n"
        "(define-public (run) (go .pool))\n"
    )
    pool = "(define-constant OWNER .dex)\n" + IMPL
    _write(tmp_path, {"a.clar": TRAIT, "pool.clar": pool, "dex.clar": dex})
    project = load_files([tmp_path / n for n in ("a.clar", "pool.clar", "dex.clar")])
    assert weak_references(pool, DEFAULT_SENDER) == [f"{DEFAULT_SENDER}.dex"]
    reports = deploy_project(ClarityVM(), project)
    assert [r.contract.name for r in reports] == ["a", "pool", "dex"]
    assert all(r.status == "deployed" for r in reports), [r.to_json() for r in reports]


def test_compared_literal_orders_last(tmp_path: Path) -> None:
    # The strategy passes .member where the trait is expected; the member only compares its
    # caller with .strategy (Fast Pool's and Xverse's mainnet pools): the member deploys
    # first although listed last, and each names the other.
    strategy = (
        "(use-trait t .a.t)\n(define-private (go (x <t>)) (contract-call? x value))\n"
        "(define-public (run) (go .member))\n"
    )
    member = (
        IMPL + "(define-public (only) (ok (asserts! (is-eq contract-caller .strategy) (err u1))))\n"
    )
    _write(tmp_path, {"a.clar": TRAIT, "strategy.clar": strategy, "member.clar": member})
    project = load_files([tmp_path / n for n in ("a.clar", "strategy.clar", "member.clar")])
    assert weak_references(member, DEFAULT_SENDER) == [f"{DEFAULT_SENDER}.strategy"]
    reports = deploy_project(ClarityVM(), project)
    assert [r.contract.name for r in reports] == ["a", "member", "strategy"]
    assert all(r.status == "deployed" for r in reports), [r.to_json() for r in reports]


def test_cycle_deploys_nothing(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "x.clar": "(define-public (f) (contract-call? .y g))\n",
            "y.clar": "(define-public (g) (contract-call? .z h))\n",
            "z.clar": "(define-public (h) (contract-call? .x f))\n",
            "w.clar": "(define-public (k) (ok u1))\n",
        },
    )
    project = load_files([tmp_path / n for n in ("w.clar", "x.clar", "y.clar", "z.clar")])
    vm = ClarityVM()
    with pytest.raises(ProjectError, match=r"dependency cycle: x -> y -> z -> x"):
        deploy_project(vm, project)
    assert vm.interface(f"{DEFAULT_SENDER}.w") is None


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("[project\nname = 1", "malformed TOML"),
        ('[contracts.a]\npath = "contracts/a.clar"\n', r"no \[project\] table"),
        ('[project]\nname = "p"\n', r"no \[contracts\.\*\] entries"),
        (_manifest(["a"]).replace("clarity_version = 2", "clarity_version = 5"), "not supported"),
        (_manifest(["a"]).replace("clarity_version = 2", "clarity_version = 4"), "epoch 3"),
        (_manifest(["a"]).replace("clarity_version = 2", "clarity_version = 3"), "epoch 3"),
        (_manifest(["a"]).replace("epoch = 2.4", "epoch = 9.9"), "unknown epoch"),
        (_manifest(["a"]).replace("epoch = 2.4", "epoch = 2.0"), "needs epoch 2.1"),
        (_manifest(["a", "nope"]), "cannot read"),
        (_manifest(["a"], 'requirements = [{ contract_id = "SP000.x" }]\n'), "requirement"),
    ],
)
def test_malformed_manifest(tmp_path: Path, manifest: str, message: str) -> None:
    _write(tmp_path, {"Clarinet.toml": manifest, "contracts/a.clar": TRAIT})
    with pytest.raises(ProjectError, match=message) as info:
        load_project([tmp_path / "Clarinet.toml"])
    assert info.value.malformed


# --- CLI --------------------------------------------------------------------------------------


def _cli(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["clarity", *args])
    return res.exit_code, res.stdout, res.stderr


def test_cli_check_project(tmp_path: Path) -> None:
    code, out, _ = _cli("check", str(EXAMPLE))
    assert code == 0, out
    assert out.index(".ft-trait") < out.index(".token") < out.index(".vault")
    code, out, _ = _cli("check", str(EXAMPLE / "Clarinet.toml"), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["ok"]
    assert data["project"] == "vault-demo"
    assert [c["name"] for c in data["contracts"]] == ["ft-trait", "token", "vault"]
    assert "deposit" in data["contracts"][2]["functions"]


def test_cli_check_failures(tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    token = project / "contracts" / "token.clar"
    token.write_text(token.read_text().replace("(ok u6)", "(ok 6)"))
    code, out, err = _cli("check", str(project), "--json")
    assert code == 1
    data = json.loads(out)
    status = {c["name"]: c["status"] for c in data["contracts"]}
    assert status == {"ft-trait": "deployed", "token": "error", "vault": "skipped"}
    assert f"{token}:" in err
    assert "error:" in err
    tok = next(c for c in data["contracts"] if c["name"] == "token")
    assert tok["errors"][0]["line"] > 1
    # several files: missing dependency (1), malformed manifest (2), unreadable file (2)
    _write(tmp_path, {"c.clar": USER})
    code, _, err = _cli(
        "check", str(tmp_path / "c.clar"), str(project / "contracts" / "vault.clar")
    )
    assert code == 1
    assert "missing dependency" in err
    (project / "Clarinet.toml").write_text("[project\n")
    code, _, err = _cli("check", str(project))
    assert code == 2
    assert "malformed TOML" in err
    code, _, err = _cli("check", str(tmp_path / "c.clar"), str(tmp_path / "none.clar"))
    assert code == 2
    assert "cannot read" in err


def test_cli_run_project(tmp_path: Path) -> None:
    code, out, err = _cli(
        "run",
        str(EXAMPLE),
        "(contract-call? .token mint u1000 tx-sender)",
        "(contract-call? .vault deposit u300)",
        "(contract-call? .vault deposit-of tx-sender)",
    )
    assert code == 0, err
    assert out.splitlines() == ["(ok true)", "(ok u300)", "u300"]
    assert "deployed" in err
    _write(tmp_path, {"a.clar": TRAIT, "b.clar": IMPL, "c.clar": USER})
    code, out, _ = _cli(
        "run",
        *(str(tmp_path / n) for n in ("c.clar", "b.clar", "a.clar")),
        "--json",
        "(contract-call? .c go .b)",
    )
    assert code == 0
    data = json.loads(out)
    assert [d["name"] for d in data["deployed"]] == ["a", "c", "b"]
    assert data["results"][0]["result"] == "(ok u7)"
    code, _, err = _cli("run", str(tmp_path / "c.clar"), str(tmp_path / "b.clar"), "(+ 1 1)")
    assert code == 1
    assert "missing dependency" in err
    code, _, err = _cli("run", str(tmp_path / "c.clar"), "(+ 1 1)")  # one file: analysis
    assert code == 1
    assert "c.clar:1:14: error: no such contract" in err
