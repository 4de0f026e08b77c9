"""Clarity projects: several contracts deployed in dependency order into one store.

A project is either a Clarinet manifest (``Clarinet.toml``) or a list of ``.clar`` files
(each contract named after its file stem, all deployed by one deployer).

Manifest (Clarinet's format, the parts that matter here)::

    [project]
    name = "vault-demo"
    cache_dir = "./.cache"                  # optional
    [[project.requirements]]                # optional: contracts deployed elsewhere,
    contract_id = "SP2....sip-010-trait"    # read from <cache_dir>/requirements/<id>.clar

    [contracts.token]
    path = "contracts/token.clar"
    clarity_version = 2                     # 1 to 4; default 2, or 1 at epoch 2.0
                                            # and 2.05 (Clarity 3 needs 3.0, 4 needs 3.3)
    epoch = 2.4                             # 2.0 ... 3.3 or "latest"
    deployer = "wallet_1"                   # optional: an account of settings/Devnet.toml
                                            # or a principal (default: the deployer account)

The deployer, as in Clarinet's devnet, is the ``deployer`` account of
``settings/Devnet.toml`` (its ``stx_address``/``address`` when given, else the address
derived from its ``mnemonic`` at Clarinet's path ``m/44'/5757'/0'/0/0``), and without that
file Clarinet's default devnet deployer :data:`~funai.clarity.vm.DEFAULT_SENDER`.

Dependencies are the contract principals named by ``use-trait``, ``impl-trait`` and
``contract-call?`` (``.name``, relative to the contract's deployer, or a full principal
``'ST….name``/``'SP….name``). :func:`plan` orders the contracts so that every dependency
deploys first (ties keep the manifest or command-line order) and refuses a dependency that
is neither in the project nor already deployed, and a cycle, before anything is deployed.
A contract principal written anywhere else (an argument where a trait is expected, a
constant) is a soft dependency: a project contract so named deploys first where that makes
no cycle; one outside the project is not required (a principal may name any contract).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import tomllib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funai import _core
from funai.clarity.errors import ClarityAnalysisError, ClarityRuntimeError, Diagnostic
from funai.clarity.principals import contract_principal, decode_principal
from funai.clarity.vm import DEFAULT_SENDER, ClarityVM, Deployment

__all__ = [
    "Contract",
    "ContractReport",
    "Project",
    "ProjectError",
    "dependency_order",
    "deploy_project",
    "devnet_address",
    "load_files",
    "load_manifest",
    "load_project",
    "plan",
    "references",
    "soft_references",
    "weak_references",
]

#: Epochs a manifest may name (Clarinet's spelling); "latest" is accepted too.
EPOCHS = ("2.0", "2.05", "2.1", "2.2", "2.3", "2.4", "2.5", "3.0", "3.1", "3.2", "3.3")


class ProjectError(ValueError):
    """A project cannot be deployed: a malformed manifest, an unreadable file, a missing
    dependency or a cycle. ``malformed`` is True for input that is wrong in itself (a bad
    manifest, an unreadable file), False for a plan that cannot be ordered."""

    def __init__(self, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.malformed = malformed


@dataclass(frozen=True)
class Reference:
    """A contract named by ``use-trait``/``impl-trait``/``contract-call?`` at line:col."""

    contract_id: str
    form: str
    line: int
    col: int


@dataclass
class Contract:
    """One contract of a project."""

    name: str
    path: Path
    source: str
    deployer: str
    clarity_version: int = 2
    epoch: str = "latest"
    requirement: bool = False
    refs: list[Reference] = field(default_factory=list)

    @property
    def contract_id(self) -> str:
        return f"{self.deployer}.{self.name}"


@dataclass
class Project:
    """Contracts to deploy (in manifest or command-line order) and the default deployer."""

    contracts: list[Contract]
    deployer: str = DEFAULT_SENDER
    name: str | None = None
    manifest: Path | None = None


@dataclass
class ContractReport:
    """What happened to one contract: ``status`` is ``deployed``, ``error`` (analysis
    diagnostics in ``errors`` or a runtime abort in ``message``) or ``skipped`` (a
    dependency failed)."""

    contract: Contract
    status: str
    errors: list[Diagnostic] = field(default_factory=list)
    message: str | None = None
    deployment: Deployment | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.contract.name,
            "contract_id": self.contract.contract_id,
            "file": str(self.contract.path),
            "status": self.status,
            "errors": [{"line": d.line, "col": d.col, "message": d.message} for d in self.errors],
            "message": self.message,
            "functions": (
                None
                if self.deployment is None
                else [f["name"] for f in self.deployment.interface.get("functions", [])]
            ),
        }


# --- references ----------------------------------------------------------------------------

_FORM = re.compile(
    r"\(\s*(use-trait\s+[^\s()]+|impl-trait|contract-call\?)\s+('?[A-Za-z0-9]*\.[A-Za-z0-9_.-]+)"
)


def _blank(text: str) -> str:
    """``text`` with strings and comments replaced by spaces (offsets kept)."""
    out = []
    pos = 0
    for m in re.finditer(r'u?"(?:\\.|[^"\\])*"|;[^\n]*', text):
        out.append(text[pos : m.start()])
        out.append(re.sub(r"[^\n]", " ", m.group()))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


_LITERAL = re.compile(
    r"(?<![^\s(){},:])('[0-9A-Z]+\.[A-Za-z][A-Za-z0-9_-]*|\.[A-Za-z][A-Za-z0-9_-]*)"
)


def soft_references(source: str, deployer: str) -> list[str]:
    """Every contract that ``source`` names with a contract principal literal (``.name`` is
    relative to ``deployer``), in order of first appearance, without repeats."""
    out: list[str] = []
    for m in _LITERAL.finditer(_blank(source)):
        literal = m.group(1)
        if literal.startswith("'"):
            issuer, _, name = literal[1:].partition(".")
        else:
            issuer, name = deployer, literal[1:]
        try:
            cid = contract_principal(issuer, name)
        except ValueError:
            continue
        if cid not in out:
            out.append(cid)
    return out


_CONST_LITERAL = re.compile(
    r"\(\s*define-constant\s+[^\s()]+\s+"
    r"('[0-9A-Z]+\.[A-Za-z][A-Za-z0-9_-]*|\.[A-Za-z][A-Za-z0-9_-]*)\s*\)"
)


# An `is-eq` of plain operands (no nested form): its principal literals are compared, never
# called or passed where a trait is expected.
_COMPARED = re.compile(r"\(\s*is-eq\s[^()]*\)")


def weak_references(source: str, deployer: str) -> list[str]:
    """The contracts ``source`` names only as a constant's whole value (``(define-constant
    OWNER .dex)``) or in a comparison (``(is-eq contract-caller .strategy)``): softer still
    than other literals when ordering (a literal passed as an argument may have to name a
    deployed contract; an address kept in a constant or compared with a caller does not).
    Fast Pool's and Xverse's mainnet pool members compare their caller with the strategy
    that passes them where its trait is expected, so they deploy first."""
    text = _blank(source)
    named: list[str] = []
    for m in _CONST_LITERAL.finditer(text):
        named.extend(soft_references(m.group(1), deployer))
    for m in _COMPARED.finditer(text):
        named.extend(soft_references(m.group(0), deployer))
    rest = _COMPARED.sub(" ", _CONST_LITERAL.sub(" ", text))
    elsewhere = set(soft_references(rest, deployer))
    return [c for c in dict.fromkeys(named) if c not in elsewhere]


def references(source: str, deployer: str) -> list[Reference]:
    """The contracts that ``source`` names in ``use-trait``, ``impl-trait`` and
    ``contract-call?`` (``.name`` is relative to ``deployer``); a trait reference names its
    contract. Malformed principals are left to the analysis to report."""
    text = _blank(source)
    refs: list[Reference] = []
    for m in _FORM.finditer(text):
        literal = m.group(2)
        form = m.group(1).split()[0]
        if literal.startswith("'"):
            issuer, _, rest = literal[1:].partition(".")
        else:
            issuer, rest = deployer, literal[1:]
        name = rest.split(".")[0]
        if not name:
            continue
        try:
            cid = contract_principal(issuer, name)
        except ValueError:
            continue
        start = m.start(2)
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        refs.append(Reference(cid, form, line, col))
    return refs


# --- Devnet accounts ------------------------------------------------------------------------

_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)


def _add(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % _P == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], -1, _P) % _P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, _P) % _P
    x = (lam * lam - a[0] - b[0]) % _P
    return x, (lam * (a[0] - x) - a[1]) % _P


def _pub(k: int) -> bytes:
    point: tuple[int, int] | None = None
    base: tuple[int, int] | None = _G
    while k:
        if k & 1:
            point = _add(point, base)
        base = _add(base, base)
        k >>= 1
    assert point is not None
    return bytes([2 + (point[1] & 1)]) + point[0].to_bytes(32, "big")


def _path(path: str) -> list[int]:
    parts = path.split("/")
    if parts[0] != "m":
        raise ValueError(f"a derivation path starts with m/: {path!r}")
    out = []
    for part in parts[1:]:
        hardened = part.endswith(("'", "h"))
        digits = part[:-1] if hardened else part
        if not digits.isdigit() or int(digits) >= 1 << 31:
            raise ValueError(f"bad derivation path step {part!r}")
        out.append(int(digits) | (1 << 31 if hardened else 0))
    return out


def devnet_address(
    mnemonic: str, *, mainnet: bool = False, derivation: str = "m/44'/5757'/0'/0/0"
) -> str:
    """The principal of a Clarinet devnet account: BIP39 seed of ``mnemonic`` (no
    passphrase), BIP32 ``derivation`` path (Clarinet's default ``m/44'/5757'/0'/0/0``),
    HASH160 of the compressed public key.
    For devnet/test keys only (this pure-Python derivation is not constant-time)."""
    words = unicodedata.normalize("NFKD", " ".join(mnemonic.split()))
    seed = hashlib.pbkdf2_hmac("sha512", words.encode(), b"mnemonic", 2048)
    digest = hmac.new(b"Bitcoin seed", seed, hashlib.sha512).digest()
    key, chain = int.from_bytes(digest[:32], "big"), digest[32:]
    for index in _path(derivation):
        data = b"\x00" + key.to_bytes(32, "big") if index >> 31 else _pub(key)
        digest = hmac.new(chain, data + index.to_bytes(4, "big"), hashlib.sha512).digest()
        key, chain = (int.from_bytes(digest[:32], "big") + key) % _N, digest[32:]
    return _core.clarity_principal_encode(22 if mainnet else 26, _core.hash160(_pub(key)))


def _accounts(root: Path) -> dict[str, str]:
    """Account label -> principal from ``settings/Devnet.toml`` (empty when absent)."""
    path = root / "settings" / "Devnet.toml"
    if not path.is_file():
        return {}
    data = _toml(path)
    accounts = data.get("accounts", {})
    if not isinstance(accounts, dict):
        raise ProjectError(f"{path}: [accounts] must be a table", malformed=True)
    out: dict[str, str] = {}
    for label, acct in accounts.items():
        if not isinstance(acct, dict):
            raise ProjectError(f"{path}: [accounts.{label}] must be a table", malformed=True)
        address = acct.get("stx_address", acct.get("address"))
        if isinstance(address, str):
            out[label] = _standard(address, f"{path}: accounts.{label}")
        elif isinstance(acct.get("mnemonic"), str):
            try:
                out[label] = devnet_address(
                    acct["mnemonic"], derivation=str(acct.get("derivation", "m/44'/5757'/0'/0/0"))
                )
            except ValueError as exc:
                raise ProjectError(f"{path}: accounts.{label}: {exc}", malformed=True) from None
    return out


def _standard(text: str, what: str) -> str:
    text = text.lstrip("'")
    try:
        _, _, name = decode_principal(text)
    except ValueError as exc:
        raise ProjectError(f"{what}: bad principal {text!r}: {exc}", malformed=True) from None
    if name is not None:
        raise ProjectError(f"{what}: {text!r} is a contract, not an account", malformed=True)
    return text


# --- loading -------------------------------------------------------------------------------


def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc}", malformed=True) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: malformed TOML: {exc}", malformed=True) from None


def _source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read {path}: {exc}", malformed=True) from None


def _epoch(value: object, what: str) -> str:
    text = "latest" if value is None else str(value)
    if text != "latest" and text not in EPOCHS:
        raise ProjectError(f"{what}: unknown epoch {value!r}", malformed=True)
    return text


def _version(value: object, epoch: str, what: str) -> int:
    if value is None:  # Clarinet's default, except at the epochs that predate Clarity 2
        return 1 if epoch in ("2.0", "2.05") else 2
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ProjectError(f"{what}: clarity_version must be 1, 2, 3 or 4", malformed=True)
    if value > 4:
        raise ProjectError(
            f"{what}: clarity_version {value} is not supported (this VM implements Clarity 1 to 4)",
            malformed=True,
        )
    if value >= 2 and epoch in ("2.0", "2.05"):
        raise ProjectError(f"{what}: Clarity {value} needs epoch 2.1 or later", malformed=True)
    if value >= 3 and epoch.startswith("2."):
        raise ProjectError(f"{what}: Clarity {value} needs epoch 3.0 or later", malformed=True)
    if value == 4 and epoch in ("3.0", "3.1", "3.2"):
        raise ProjectError(f"{what}: Clarity 4 needs epoch 3.3 or later", malformed=True)
    return value


def load_manifest(manifest: Path) -> Project:
    """Reads a ``Clarinet.toml`` (raises :class:`ProjectError`)."""
    root = manifest.parent
    data = _toml(manifest)
    proj = data.get("project")
    if not isinstance(proj, dict):
        raise ProjectError(f"{manifest}: no [project] table", malformed=True)
    name = proj.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError(f"{manifest}: [project] needs a name", malformed=True)
    accounts = _accounts(root)
    deployer = accounts.get("deployer", DEFAULT_SENDER)
    contracts: list[Contract] = []
    cache = root / str(proj.get("cache_dir", "./.cache"))
    reqs = proj.get("requirements", [])
    if not isinstance(reqs, list):
        raise ProjectError(f"{manifest}: project.requirements must be a list", malformed=True)
    for req in reqs:
        cid = req.get("contract_id") if isinstance(req, dict) else None
        if not isinstance(cid, str):
            raise ProjectError(
                f"{manifest}: each project.requirements entry needs a contract_id", malformed=True
            )
        try:
            _, _, cname = decode_principal(cid)
        except ValueError as exc:
            raise ProjectError(f"{manifest}: requirement {cid!r}: {exc}", malformed=True) from None
        if cname is None:
            raise ProjectError(f"{manifest}: requirement {cid!r} is not a contract", malformed=True)
        path = cache / "requirements" / f"{cid}.clar"
        if not path.is_file():
            raise ProjectError(
                f"{manifest}: requirement {cid} has no source at {path} "
                "(Clarinet's requirement cache; copy the contract there)",
                malformed=True,
            )
        issuer = cid.rsplit(".", 1)[0]
        contracts.append(Contract(cname, path, _source(path), issuer, requirement=True))
    table = data.get("contracts", {})
    if not isinstance(table, dict):
        raise ProjectError(f"{manifest}: [contracts] must be a table", malformed=True)
    for cname, cfg in table.items():
        what = f"{manifest}: [contracts.{cname}]"
        if not isinstance(cfg, dict):
            raise ProjectError(f"{what} must be a table", malformed=True)
        rel = cfg.get("path")
        if not isinstance(rel, str):
            raise ProjectError(f"{what} needs a path", malformed=True)
        epoch = _epoch(cfg.get("epoch"), what)
        version = _version(cfg.get("clarity_version"), epoch, what)
        owner = cfg.get("deployer")
        if owner is None:
            who = deployer
        elif isinstance(owner, str) and owner in accounts:
            who = accounts[owner]
        elif isinstance(owner, str):
            who = _standard(owner, f"{what} deployer")
        else:
            raise ProjectError(f"{what}: deployer must be a string", malformed=True)
        path = root / rel
        contracts.append(Contract(cname, path, _source(path), who, version, epoch))
    if not any(not c.requirement for c in contracts):
        raise ProjectError(f"{manifest}: no [contracts.*] entries", malformed=True)
    _unique(contracts)
    return Project(contracts, deployer, name, manifest)


def load_files(paths: Sequence[Path], deployer: str = DEFAULT_SENDER) -> Project:
    """A project of ``.clar`` files (names = file stems) deployed by ``deployer``."""
    deployer = _standard(deployer, "deployer")
    contracts = [Contract(p.stem, p, _source(p), deployer) for p in paths]
    _unique(contracts)
    return Project(contracts, deployer)


def load_project(paths: Sequence[Path], deployer: str | None = None) -> Project:
    """A project from the command line: one ``Clarinet.toml`` (or a folder holding one),
    or ``.clar`` files. ``deployer`` overrides the manifest's default deployer."""
    if len(paths) == 1 and (paths[0].is_dir() or paths[0].suffix == ".toml"):
        manifest = paths[0] / "Clarinet.toml" if paths[0].is_dir() else paths[0]
        project = load_manifest(manifest)
        if deployer is not None:
            new = _standard(deployer, "deployer")
            for c in project.contracts:
                if c.deployer == project.deployer and not c.requirement:
                    c.deployer = new
            project.deployer = new
        return project
    for p in paths:
        if p.is_dir() or p.suffix == ".toml":
            raise ProjectError(
                f"{p}: a manifest or folder must be the only argument", malformed=True
            )
    return load_files(paths, deployer or DEFAULT_SENDER)


def _unique(contracts: list[Contract]) -> None:
    seen: dict[str, Contract] = {}
    for c in contracts:
        try:
            contract_principal(c.deployer, c.name)
        except ValueError as exc:
            raise ProjectError(
                f"{c.path}: bad contract name {c.name!r}: {exc}", malformed=True
            ) from None
        if c.contract_id in seen:
            raise ProjectError(
                f"two contracts named {c.contract_id}: {seen[c.contract_id].path} and {c.path}",
                malformed=True,
            )
        seen[c.contract_id] = c


# --- ordering and deployment ---------------------------------------------------------------


def plan(project: Project, deployed: Callable[[str], bool] = lambda _cid: False) -> list[Contract]:
    """The contracts in deployment order: each after every project contract it references.

    A reference to a contract that is neither in the project nor ``deployed`` raises
    :class:`ProjectError` naming both contracts (and file:line:col of the reference); so does
    a cycle, naming the contracts on it."""
    by_id = {c.contract_id: c for c in project.contracts}
    deps: dict[str, list[str]] = {}
    missing: list[str] = []
    for c in project.contracts:
        c.refs = references(c.source, c.deployer)
        deps[c.contract_id] = []
        for r in c.refs:
            if r.contract_id == c.contract_id:
                continue
            if r.contract_id in by_id:
                if r.contract_id not in deps[c.contract_id]:
                    deps[c.contract_id].append(r.contract_id)
            elif not deployed(r.contract_id):
                missing.append(
                    f"{c.path}:{r.line}:{r.col}: {c.name} ({c.contract_id}) needs "
                    f"{r.contract_id} ({r.form}), which is neither in the project nor deployed"
                )
    if missing:
        raise ProjectError("missing dependency: " + "; ".join(missing))
    order: list[Contract] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(cid: str, stack: list[str]) -> None:
        if state.get(cid) == 2:
            return
        if state.get(cid) == 1:
            cycle = [*stack[stack.index(cid) :], cid]
            names = " -> ".join(by_id[x].name for x in cycle)
            raise ProjectError(f"dependency cycle: {names} ({' -> '.join(cycle)})")
        state[cid] = 1
        for d in deps[cid]:
            visit(d, [*stack, cid])
        state[cid] = 2
        order.append(by_id[cid])

    for c in project.contracts:
        visit(c.contract_id, [])
    # Soft dependencies (contract principals named elsewhere) order the contracts further.
    soft = {c.contract_id: soft_references(c.source, c.deployer) for c in project.contracts}
    weak = {c.contract_id: weak_references(c.source, c.deployer) for c in project.contracts}
    ids = [c.contract_id for c in project.contracts]
    return [by_id[cid] for cid in dependency_order(ids, deps, soft, weak)]


def dependency_order(
    ids: Sequence[str],
    hard: dict[str, list[str]],
    soft: dict[str, list[str]],
    weak: dict[str, list[str]] | None = None,
) -> list[str]:
    """``ids`` ordered so that each comes after its ``hard`` dependencies (which must not
    form a cycle), and after each ``soft`` one whose edge closes no cycle (soft edges taken
    in ``ids`` order, those also in ``weak`` after all others). Dependencies outside ``ids``
    are ignored; ties keep ``ids`` order."""
    weak = weak or {}
    known = set(ids)
    edges = {cid: [d for d in hard.get(cid, []) if d in known and d != cid] for cid in ids}

    def reaches(a: str, b: str) -> bool:
        seen = {a}
        stack = [a]
        while stack:
            x = stack.pop()
            if x == b:
                return True
            for y in edges[x]:
                if y not in seen:
                    seen.add(y)
                    stack.append(y)
        return False

    for second in (False, True):
        for cid in ids:
            later = set(weak.get(cid, []))
            for d in soft.get(cid, []):
                if (d in later) != second:
                    continue
                if d in known and d != cid and d not in edges[cid] and not reaches(d, cid):
                    edges[cid].append(d)
    out: list[str] = []
    state: dict[str, int] = {}
    for root in ids:
        # iterative depth-first post-order (no recursion limit on long chains)
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            cid, i = stack.pop()
            if i == 0:
                if state.get(cid):
                    continue
                state[cid] = 1
            if i < len(edges[cid]):
                stack.append((cid, i + 1))
                d = edges[cid][i]
                if not state.get(d):
                    stack.append((d, 0))
            else:
                state[cid] = 2
                out.append(cid)
    return out


def deploy_project(vm: ClarityVM, project: Project) -> list[ContractReport]:
    """Deploys the project's contracts into ``vm`` in :func:`plan` order.

    Raises :class:`ProjectError` (nothing deployed) for a missing dependency or a cycle.
    A contract that fails analysis or aborts is reported with its diagnostics and the
    contracts that depend on it are skipped (what deployed before stays deployed)."""
    order = plan(project, lambda cid: vm.interface(cid) is not None)
    failed: set[str] = set()
    reports: list[ContractReport] = []
    for c in order:
        bad = [r.contract_id for r in c.refs if r.contract_id in failed]
        if bad:
            failed.add(c.contract_id)
            reports.append(
                ContractReport(c, "skipped", message=f"depends on {', '.join(sorted(set(bad)))}")
            )
            continue
        try:
            dep = vm.deploy(c.name, c.source, sender=c.deployer, clarity_version=c.clarity_version)
        except ClarityAnalysisError as exc:
            failed.add(c.contract_id)
            reports.append(ContractReport(c, "error", errors=list(exc.diagnostics)))
            continue
        except ClarityRuntimeError as exc:
            failed.add(c.contract_id)
            reports.append(ContractReport(c, "error", message=str(exc)))
            continue
        reports.append(ContractReport(c, "deployed", deployment=dep))
    return reports
