"""Deploys a sample of real mainnet contracts, each with the contracts it names, into ClarityVM.

Usage::

    PYTHONPATH=. python bench/clarity_deployed_sample.py GIT_DIR [-n 3000] [--seed 7]
        [--prefix SP102V8P0F7JX67ARQ77WEA3D3CFB5XW39REDT0AM. ...] [--json OUT.json] [-v]
        [--max-closure 300] [--rerun EARLIER.json STATUS] [--fund MICRO_STX]

``GIT_DIR`` is a local (bare) clone of boomcrypto/clarity-deployed-contracts, whose ``main``
holds every contract deployed on mainnet as ``contracts/<deployer>/<name>.clar``. No network
is used; this file is not a test. Each sampled contract is deployed into a fresh mainnet VM
after the contracts it names (``use-trait``, ``impl-trait``, ``contract-call?`` and any other
contract principal literal), read from the same snapshot. Statuses: ``deployed``,
``deployed-clarity-1`` (refused as Clarity 2 for a Clarity 1 reason, then deployed as
Clarity 1, as it was on mainnet before Stacks 2.1; dependencies are retried the same way),
``deployed-clarity-3`` and ``deployed-clarity-4`` (refused as Clarity 2 for using Clarity 3
or 4, deployed as such), ``error``, ``runtime-error`` (its top-level code aborts, e.g. an
airdrop that depends on mainnet state), ``out-of-scope`` (Clarity 5 or later),
``clarity-1`` (Clarity 1 code that fails as Clarity 1 too: it defines a name Clarity 2
made a builtin, reuses a ``use-trait`` alias, or defines a trait with a duplicate method,
which the reference refuses under Clarity 2), ``missing-dep``, ``too-deep`` (over ``--max-closure``,
300 by default, contracts to deploy first); ``dep-*`` is the status of a dependency that failed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from funai import _core
from funai.clarity import ClarityAnalysisError, ClarityRuntimeError, ClarityVM
from funai.clarity.project import (
    dependency_order,
    references,
    soft_references,
    weak_references,
)

_OUT_OF_SCOPE = re.compile(r"Clarity [5-9]")  # versions this VM does not implement
_CLARITY1 = re.compile(
    "'(" + "|".join(map(re.escape, _core.CLARITY2_ONLY)) + ")' is a reserved name"
)
_ALIAS = re.compile(r"'([^']+)' (?:is already defined|shadows a definition)|argument '([^']+)'")


def classify(message: str, source: str) -> str:
    """The status of a refusal with ``message`` of a contract with ``source``."""
    if _OUT_OF_SCOPE.search(message):
        return "out-of-scope"
    if _CLARITY1.search(message) or "duplicate trait function" in message:
        return "clarity-1"
    m = _ALIAS.search(message)
    name = m and (m.group(1) or m.group(2))
    if name and re.search(r"\(use-trait\s+" + re.escape(name) + r"\s", source):
        return "clarity-1"  # Clarity 1 keeps use-trait aliases apart from other names
    return "error"


class Snapshot:
    """The contracts of a clarity-deployed-contracts clone, read through ``git cat-file``."""

    def __init__(self, git_dir: Path) -> None:
        self.git = ["git", f"--git-dir={git_dir}"]
        listing = subprocess.run(
            [*self.git, "ls-tree", "-r", "--name-only", "HEAD", "contracts/"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        self.paths: dict[str, str] = {}
        for p in listing.splitlines():
            parts = p.split("/")
            if len(parts) == 3 and p.endswith(".clar"):
                self.paths[f"{parts[1]}.{parts[2][:-5]}"] = p
        self.cat = subprocess.Popen(
            [*self.git, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.cache: dict[str, str | None] = {}

    def source(self, cid: str) -> str | None:
        if cid not in self.cache:
            assert self.cat.stdin is not None
            assert self.cat.stdout is not None
            self.cat.stdin.write(f"HEAD:{self.paths[cid]}\n".encode())
            self.cat.stdin.flush()
            header = self.cat.stdout.readline().split()
            text: str | None = None
            if header and header[-1] != b"missing":
                data = self.cat.stdout.read(int(header[2]))
                self.cat.stdout.read(1)
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
            self.cache[cid] = text
        return self.cache[cid]


def deploy_with_dependencies(
    snap: Snapshot, target: str, max_closure: int = 300, fund: int = 0
) -> tuple[str, str]:
    """Deploys ``target`` after what it names (at most ``max_closure`` contracts in all,
    else ``too-deep``), each deployer holding ``fund`` µSTX first (as it held STX on
    mainnet); returns (status, message)."""
    closure, queue = [target], [target]
    hard: dict[str, list[str]] = {}
    soft: dict[str, list[str]] = {}
    weak: dict[str, list[str]] = {}
    while queue:
        cid = queue.pop()
        src = snap.source(cid)
        if src is None:
            return "unreadable", cid
        issuer = cid.rsplit(".", 1)[0]
        hard[cid] = [r.contract_id for r in references(src, issuer) if r.contract_id != cid]
        soft[cid] = [d for d in soft_references(src, issuer) if d != cid and d in snap.paths]
        weak[cid] = weak_references(src, issuer)
        for d in [*hard[cid], *soft[cid]]:
            if d not in snap.paths:
                return "missing-dep", d
            if d not in closure:
                closure.append(d)
                queue.append(d)
        if len(closure) > max_closure:
            return "too-deep", ""
    vm = ClarityVM(mainnet=True)
    status = "deployed"
    for cid in dependency_order(closure, hard, soft, weak):
        issuer, name = cid.rsplit(".", 1)
        src = snap.source(cid) or ""
        vm.new_block()  # each in a block of its own (a block's cost budget is shared)
        if fund and vm.balance(issuer) == 0:
            vm.store.set_balance(issuer, fund)
        prefix = "" if cid == target else "dep-"
        where = "" if cid == target else f"{cid}: "
        try:
            try:
                vm.deploy(name, src, sender=issuer)
            except ClarityAnalysisError as exc:
                message = exc.diagnostics[0].message
                if classify(message, src) == "clarity-1":
                    version = 1  # Clarity 1 code (deployed before Stacks 2.1)
                elif "is Clarity 3" in message:
                    version = 3  # Clarity 3 code (deployed since Nakamoto)
                elif "is Clarity 4" in message:
                    version = 4  # Clarity 4 code (deployed since epoch 3.3)
                else:
                    raise
                vm.deploy(name, src, sender=issuer, clarity_version=version)
                if cid == target:
                    status = f"deployed-clarity-{version}"
        except ClarityAnalysisError as exc:
            diag = exc.diagnostics[0]
            return prefix + classify(
                diag.message, src
            ), f"{where}{diag.line}:{diag.col}: {diag.message}"
        except ClarityRuntimeError as exc:
            return prefix + "runtime-error", f"{where}{exc}"
    return status, ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("git_dir", type=Path)
    ap.add_argument("-n", type=int, default=3000, help="random contracts to sample")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--prefix", nargs="*", default=[], help="also every contract id so starting")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--max-closure",
        type=int,
        default=300,
        help="contracts deployed for one target at most (more: too-deep)",
    )
    ap.add_argument(
        "--fund",
        type=int,
        default=0,
        help="µSTX each deployer holds before its first deploy (mainnet deployers held STX)",
    )
    ap.add_argument(
        "--rerun",
        nargs=2,
        metavar=("JSON", "STATUS"),
        default=None,
        help="also every contract whose status was STATUS in an earlier --json file",
    )
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    snap = Snapshot(args.git_dir)
    keys = sorted(snap.paths)
    targets = [k for k in keys if any(k.startswith(p) for p in args.prefix)]
    if args.rerun is not None:
        earlier = json.loads(Path(args.rerun[0]).read_text())["results"]
        targets += [t for t, (status, _) in earlier.items() if status == args.rerun[1]]
    targets += random.Random(args.seed).sample(keys, min(args.n, len(keys)))
    results = {
        t: deploy_with_dependencies(snap, t, args.max_closure, args.fund)
        for t in dict.fromkeys(targets)
    }
    for t, (status, message) in results.items():
        if args.verbose or status in ("error", "dep-error"):
            print(f"{status:16} {t}: {message[:200]}")
    counts = Counter(s for s, _ in results.values())
    print(json.dumps(dict(sorted(counts.items()))), "total", len(results))
    if args.json is not None:
        args.json.write_text(json.dumps({"counts": counts, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
