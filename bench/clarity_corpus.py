"""Deploys a local corpus of real Clarity contracts into ClarityVM and tallies the outcomes.

Usage::

    PYTHONPATH=. python bench/clarity_corpus.py CORPUS_DIR [--json OUT.json] [-v]

No network access. ``CORPUS_DIR`` holds checked-out repositories (see
docs/clarity-corpus.md). Contracts are grouped and deployed together:

* each ``Clarinet.toml`` project: its ``[contracts.*]`` (deployers from settings/Devnet.toml)
  and the requirements found in its cache, each deployed as the ``clarity_version`` its
  manifest names (default 2); a contract marked 4 or more is out of scope;
* stacks-core's boot contracts (``.../chainstate/stacks/boot/*.clar``), deployed by
  ``SP000000000000000000002Q6VF78`` on a mainnet VM;
* every other folder of ``.clar`` files, deployed by the default sender.

Within a group, contracts go in dependency order; a contract that names a contract outside
its group is ``missing-dep``, one that names a failed contract is ``skipped``. A refusal
whose message names Clarity 5 or later (not implemented) is ``out-of-scope``. This file is not a
test (pytest does not collect it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funai import _core
from funai.clarity import (
    DEFAULT_SENDER,
    ClarityAnalysisError,
    ClarityRuntimeError,
    ClarityVM,
)
from funai.clarity.project import (
    _accounts,
    dependency_order,
    references,
    soft_references,
    weak_references,
)

BOOT = "SP000000000000000000002Q6VF78"
BOOT_TESTNET = "ST000000000000000000002AMW42H"
POX_WITH_CONSTS = ("pox", "pox-2", "pox-3")
_OUT_OF_SCOPE = re.compile(r"Clarity [5-9]")
#: Names that Clarity 2 added: a Clarity 1 contract may define them, a Clarity 2 one may not
#: (the reference refuses the definition too), so such a refusal marks a Clarity 1 contract.
_CLARITY1 = re.compile(
    "'(" + "|".join(map(re.escape, _core.CLARITY2_ONLY)) + ")' is a reserved name"
)


@dataclass
class Item:
    name: str
    path: Path
    deployer: str
    version: int = 2
    requirement: bool = False
    status: str = ""
    message: str = ""
    refs: list[str] = field(default_factory=list)
    soft: list[str] = field(default_factory=list)
    weak: list[str] = field(default_factory=list)

    @property
    def cid(self) -> str:
        return f"{self.deployer}.{self.name}"


@dataclass
class Group:
    label: str
    items: list[Item]
    mainnet: bool = False


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _manifest_group(manifest: Path, covered: set[Path]) -> Group | None:
    root = manifest.parent
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    proj = data.get("project", {})
    try:
        accounts = _accounts(root)
    except Exception:
        accounts = {}
    deployer = accounts.get("deployer", DEFAULT_SENDER)
    items: list[Item] = []
    cache = root / str(proj.get("cache_dir", "./.cache")) / "requirements"
    for req in proj.get("requirements", []) or []:
        cid = req.get("contract_id") if isinstance(req, dict) else None
        if isinstance(cid, str) and "." in cid and (cache / f"{cid}.clar").is_file():
            issuer, name = cid.rsplit(".", 1)
            items.append(Item(name, cache / f"{cid}.clar", issuer, requirement=True))
    for name, cfg in (data.get("contracts") or {}).items():
        if not isinstance(cfg, dict) or not isinstance(cfg.get("path"), str):
            continue
        path = (root / cfg["path"]).resolve()
        covered.add(path)
        owner = cfg.get("deployer")
        who = accounts.get(owner, owner) if isinstance(owner, str) else deployer
        version = cfg.get("clarity_version", 2)
        if not isinstance(version, int):
            version = 2
        items.append(Item(name, path, who, version))
    return Group(str(manifest), items)


def collect(corpus: Path) -> list[Group]:
    groups: list[Group] = []
    covered: set[Path] = set()
    for manifest in sorted(corpus.rglob("Clarinet.toml")):
        g = _manifest_group(manifest, covered)
        if g is not None:
            groups.append(g)
    folders: dict[Path, list[Path]] = {}
    for path in sorted(corpus.rglob("*.clar")):
        rp = path.resolve()
        if rp in covered or any(p.endswith("requirements") for p in rp.parts):
            continue
        folders.setdefault(path.parent, []).append(path)
    for folder, files in folders.items():
        boot = str(folder).endswith("chainstate/stacks/boot")
        who = BOOT if boot else DEFAULT_SENDER
        items = [Item(p.stem, p, who) for p in files]
        groups.append(Group(str(folder), items, mainnet=boot))
    return groups


def requirement_pool(corpus: Path) -> dict[str, Path]:
    """Clarinet requirement caches in the corpus: ``<contract id>.clar`` files."""
    pool: dict[str, Path] = {}
    for boot in sorted(corpus.rglob("chainstate/stacks/boot")):
        for path in sorted(boot.glob("*.clar")):
            for issuer in (BOOT, BOOT_TESTNET):  # Clarinet provides the boot contracts
                pool.setdefault(f"{issuer}.{path.stem}", path)
    for path in sorted(corpus.rglob("*.clar")):
        if any(p.endswith("requirements") for p in path.parts) and path.stem.count(".") == 1:
            pool.setdefault(path.stem, path)
    return pool


def run_group(group: Group, pool: dict[str, Path]) -> None:
    vm = ClarityVM(mainnet=group.mainnet)
    by_id: dict[str, Item] = {}
    sources: dict[str, str] = {}
    known = {it.cid for it in group.items}
    queue = list(group.items)
    while queue:
        it = queue.pop(0)
        src = _read(it.path)
        for ref in references(src or "", it.deployer):
            cid = ref.contract_id
            if cid not in known and cid in pool:
                issuer, name = cid.rsplit(".", 1)
                req = Item(name, pool[cid], issuer, requirement=True)
                known.add(cid)
                group.items.append(req)
                queue.append(req)
    for it in group.items:
        src = _read(it.path)
        if src is None:
            it.status, it.message = "unreadable", str(it.path)
            continue
        net = "mainnet" if it.deployer == BOOT else "testnet"
        consts = it.path.with_name(f"pox-{net}.clar")
        if it.deployer in (BOOT, BOOT_TESTNET) and it.name in POX_WITH_CONSTS and consts.is_file():
            # stacks-core deploys pox, pox-2 and pox-3 as pox-<network>.clar + the body
            src = f"{_read(consts)}\n{src}"
        if it.version >= 5:
            it.status, it.message = "out-of-scope", f"clarity_version {it.version}"
        if it.cid in by_id:
            it.status, it.message = "duplicate", by_id[it.cid].path.as_posix()
            continue
        by_id[it.cid] = it
        sources[it.cid] = src
        it.refs = sorted({r.contract_id for r in references(src, it.deployer)} - {it.cid})
        it.soft = [d for d in soft_references(src, it.deployer) if d != it.cid]
        it.weak = weak_references(src, it.deployer)
    ids = list(by_id)
    hard = {cid: by_id[cid].refs for cid in ids}
    soft = {cid: by_id[cid].soft for cid in ids}
    weak = {cid: by_id[cid].weak for cid in ids}
    order = [by_id[cid] for cid in dependency_order(ids, hard, soft, weak)]
    for it in order:
        if it.status:
            continue
        missing = [d for d in it.refs if d not in by_id]
        if missing:
            it.status, it.message = "missing-dep", ", ".join(missing)
            continue
        bad = [d for d in it.refs if by_id[d].status != "deployed"]
        if bad:
            it.status = "skipped"
            it.message = ", ".join(f"{d} ({by_id[d].status})" for d in bad)
            continue
        try:
            vm.deploy(it.name, sources[it.cid], sender=it.deployer, clarity_version=it.version)
        except ClarityAnalysisError as exc:
            d = exc.diagnostics[0]
            it.message = f"{d.line}:{d.col}: {d.message}"
            it.status = "out-of-scope" if _OUT_OF_SCOPE.search(d.message) else "error"
            if _CLARITY1.search(d.message):
                it.status = "clarity-1"
            gone = [s for s in it.soft if s in by_id and by_id[s].status != "deployed"]
            if any(f"no such contract {s}" in d.message for s in gone):
                it.status = "skipped"  # names a contract of the group that did not deploy
            continue
        except ClarityRuntimeError as exc:
            it.status, it.message = "runtime-error", str(exc)
            continue
        except Exception as exc:
            it.status, it.message = "crash", repr(exc)
            continue
        it.status = "deployed"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    groups = collect(args.corpus)
    pool = requirement_pool(args.corpus)
    rows: list[dict[str, Any]] = []
    for g in groups:
        run_group(g, pool)
        for it in g.items:
            if it.requirement:  # a cached copy of a deployed contract, not counted
                continue
            rel = it.path.resolve().relative_to(args.corpus.resolve()).as_posix()
            rows.append(
                {
                    "group": g.label,
                    "file": rel,
                    "contract": it.cid,
                    "status": it.status,
                    "message": it.message,
                }
            )
    counts = Counter(r["status"] for r in rows)
    for r in rows:
        if args.verbose or r["status"] in ("error", "runtime-error", "crash"):
            print(f"{r['status']:13} {r['file']}: {r['message']}")
    print(json.dumps(dict(sorted(counts.items())), indent=None), "total", len(rows))
    if args.json is not None:
        args.json.write_text(json.dumps({"counts": counts, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
