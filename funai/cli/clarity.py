"""``funai clarity``: check contracts and run them in a sandbox (a minimal Clarinet console)."""

from __future__ import annotations

from pathlib import Path

import typer

from funai.clarity import (
    DEFAULT_SENDER,
    ClarityAnalysisError,
    ClarityRuntimeError,
    ClarityVM,
    MemoryStore,
    SimpleChain,
)
from funai.clarity.project import (
    ContractReport,
    Project,
    ProjectError,
    deploy_project,
    load_project,
)
from funai.cli.common import EXIT_FAILURE, EXIT_USAGE, JSON_OPTION, echo_parts, fail, print_json

app = typer.Typer(
    help="Clarity smart contracts: type-check a file or a project (Clarinet.toml), or run "
    "expressions against it.",
    no_args_is_help=True,
)

#: FAI base units given to the sender in the sandbox (1,000,000 FAI).
SANDBOX_BALANCE = 10**14


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}", EXIT_USAGE)


def _report(path: Path, exc: ClarityAnalysisError) -> None:
    for d in exc.diagnostics:
        typer.echo(f"{path}:{d.line}:{d.col}: error: {d.message}", err=True)


def _is_path(arg: str) -> bool:
    return arg.endswith((".clar", ".toml")) or Path(arg).is_dir()


VERSION_OPTION = typer.Option(
    None,
    "--clarity-version",
    min=1,
    max=4,
    help="Clarity version of the .clar files given: 1 to 4 (default 2). Mainnet contracts "
    "deployed before Stacks 2.1 are Clarity 1. A Clarinet.toml says it per contract.",
)


def _load(paths: list[Path], deployer: str | None, version: int | None = None) -> Project:
    try:
        project = load_project(paths, deployer)
    except ProjectError as exc:
        fail(str(exc), EXIT_USAGE if exc.malformed else EXIT_FAILURE)
    if version is not None:
        if project.manifest is not None:
            fail(
                "--clarity-version applies to .clar files; a Clarinet.toml sets "
                "clarity_version per contract",
                EXIT_USAGE,
            )
        for c in project.contracts:
            c.clarity_version = version
    return project


def _deploy(
    vm: ClarityVM, project: Project, as_json: bool, *, quiet: bool = False
) -> tuple[list[ContractReport], bool]:
    """Deploys the project; prints one line per contract (unless ``as_json``; with
    ``quiet`` the deployed ones go to stderr)."""
    try:
        reports = deploy_project(vm, project)
    except ProjectError as exc:
        if as_json:
            print_json({"ok": False, "error": str(exc), "contracts": []})
        fail(str(exc), EXIT_USAGE if exc.malformed else EXIT_FAILURE)
    ok = all(r.status == "deployed" for r in reports)
    for r in reports:
        c = r.contract
        for d in r.errors:
            typer.echo(f"{c.path}:{d.line}:{d.col}: error: {d.message}", err=True)
        if r.message is not None and r.status == "error":
            typer.echo(f"{c.path}: error: {r.message}", err=True)
        if as_json:
            continue
        if r.status == "deployed":
            echo_parts(
                ("deployed ", None),
                (c.contract_id, "bold green"),
                (f" ({c.path})", None),
                err=quiet,
            )
        else:
            why = f": {r.message}" if r.status == "skipped" else ""
            echo_parts((f"{r.status} ", None), (c.contract_id, "bold red"), (why, None), err=True)
    return reports, ok


def _project_json(project: Project, reports: list[ContractReport], ok: bool) -> dict[str, object]:
    return {
        "ok": ok,
        "project": project.name,
        "manifest": None if project.manifest is None else str(project.manifest),
        "deployer": project.deployer,
        "contracts": [r.to_json() for r in reports],
    }


def _sandbox() -> tuple[ClarityVM, MemoryStore]:
    store = MemoryStore()
    return ClarityVM(store, SimpleChain()), store


@app.command()
def check(
    paths: list[Path] = typer.Argument(
        ...,
        metavar="FILE.clar... | Clarinet.toml | DIR",
        help="A .clar contract, several, or a Clarinet.toml (or the folder holding one).",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Contract name of a single file (default: file stem)."
    ),
    deployer: str | None = typer.Option(
        None, "--deployer", help="Deployer principal (default: the project's, else ST1PQ…GM)."
    ),
    clarity_version: int | None = VERSION_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Parse and type-check contracts; print file:line:col errors, exit 1 if any fails.

    One .clar file is checked alone. Several files, or a Clarinet.toml project, are deployed
    in dependency order (use-trait, impl-trait and contract-call? references, `.name` or
    full principals) into one sandbox; a missing dependency or a cycle is an error before
    anything deploys. Exit codes: 0 all ok, 1 a contract fails (or a dependency is missing,
    or a cycle), 2 unreadable files or a malformed manifest.

    --json fields, one file: file, ok, errors (each: line, col, message), interface
    (null when it does not check). A project: ok, project, manifest, deployer, contracts
    (each: name, contract_id, file, status deployed|error|skipped, errors, message,
    functions); errors also go to stderr.
    """
    if len(paths) == 1 and paths[0].suffix != ".toml" and not paths[0].is_dir():
        _check_one(paths[0], name, deployer, clarity_version or 2, as_json)
        return
    if name is not None:
        fail("--name applies to a single file", EXIT_USAGE)
    project = _load(paths, deployer, clarity_version)
    vm, _ = _sandbox()
    reports, ok = _deploy(vm, project, as_json)
    if as_json:
        print_json(_project_json(project, reports, ok))
    if not ok:
        raise typer.Exit(EXIT_FAILURE)


def _check_one(
    file: Path, name: str | None, deployer: str | None, version: int, as_json: bool
) -> None:
    source = _read(file)
    vm = ClarityVM()
    try:
        iface = vm.check(
            source,
            name=name or file.stem,
            sender=(deployer or DEFAULT_SENDER),
            clarity_version=version,
        )
    except ValueError as exc:
        fail(f"bad --deployer or --name: {exc}", EXIT_USAGE)
    except ClarityAnalysisError as exc:
        _report(file, exc)
        if as_json:
            errors = [{"line": d.line, "col": d.col, "message": d.message} for d in exc.diagnostics]
            print_json({"file": str(file), "ok": False, "errors": errors, "interface": None})
        raise typer.Exit(EXIT_FAILURE) from None
    if as_json:
        print_json({"file": str(file), "ok": True, "errors": [], "interface": iface})
        return
    fns = iface["functions"]
    echo_parts((f"{file}: ", None), ("ok", "bold green"), (f" ({len(fns)} function(s))", None))


@app.command()
def run(
    args: list[str] = typer.Argument(
        ...,
        metavar="CONTRACTS... [EXPR]...",
        help="Contracts (.clar files, or one Clarinet.toml or project folder), then "
        "expressions to evaluate in order.",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Contract name of a single file (default: file stem)."
    ),
    sender: str | None = typer.Option(
        None, "--sender", help="Sender of the expressions (default: the deployer)."
    ),
    deployer: str | None = typer.Option(
        None, "--deployer", help="Deployer principal (default: the project's, else ST1PQ…GM)."
    ),
    clarity_version: int | None = VERSION_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of results."),
) -> None:
    """Deploy contracts in a fresh sandbox and evaluate each EXPR as a call by the sender.

    The leading arguments that end in .clar or .toml, or name a folder, are the contracts
    (deployed in dependency order as by `check`); the rest are expressions, where `.name`
    is relative to the sender. Every deployer and the sender get 1,000,000 FAI. Exit 1
    when a contract fails to deploy or an expression fails analysis, 2 for unreadable
    files or a malformed manifest. --json prints the list of results (each: expr, result,
    events, committed, error, cost); with a project, an object {deployed, results}.
    """
    paths: list[Path] = []
    for a in args:
        if _manifest_taken(paths) or not _is_path(a):
            break
        paths.append(Path(a))
    exprs = args[len(paths) :]
    if not paths:
        fail("name a .clar file, a Clarinet.toml or a project folder first", EXIT_USAGE)
    single = len(paths) == 1 and paths[0].suffix == ".clar"
    if name is not None and not single:
        fail("--name applies to a single file", EXIT_USAGE)
    if single:
        project = _load(
            paths, (sender or deployer) if deployer is None else deployer, clarity_version
        )
        if name is not None:
            project.contracts[0].name = name
    else:
        project = _load(paths, deployer, clarity_version)
    vm, store = _sandbox()
    who = (sender or project.deployer).lstrip("'")
    try:
        for p in {who, *(c.deployer for c in project.contracts)}:
            store.set_balance(p, SANDBOX_BALANCE)
    except ValueError as exc:
        fail(f"bad --sender: {exc}", EXIT_USAGE)
    if single:
        c = project.contracts[0]
        try:
            vm.deploy(c.name, c.source, sender=c.deployer, clarity_version=c.clarity_version)
        except ValueError as exc:
            fail(f"bad --name: {exc}", EXIT_USAGE)
        except ClarityAnalysisError as exc:
            _report(c.path, exc)
            raise typer.Exit(EXIT_FAILURE) from None
        except ClarityRuntimeError as exc:
            fail(str(exc))
        reports: list[ContractReport] = []
    else:
        reports, ok = _deploy(vm, project, as_json, quiet=True)
        if not ok:
            if as_json:
                print_json({"deployed": [r.to_json() for r in reports], "results": []})
            raise typer.Exit(EXIT_FAILURE)
    results, status = _eval_all(vm, exprs, who, as_json)
    if as_json:
        if single:
            print_json(results)
        else:
            print_json({"deployed": [r.to_json() for r in reports], "results": results})
    if status:
        raise typer.Exit(status)


def _manifest_taken(paths: list[Path]) -> bool:
    """True once a Clarinet.toml or folder was taken: nothing may follow it but
    expressions."""
    return len(paths) == 1 and (paths[0].suffix == ".toml" or paths[0].is_dir())


def _eval_all(
    vm: ClarityVM, exprs: list[str], sender: str, as_json: bool
) -> tuple[list[dict[str, object]], int]:
    results: list[dict[str, object]] = []
    status = 0
    for expr in exprs:
        try:
            res = vm.eval(expr, sender=sender)
        except ClarityAnalysisError as exc:
            status = EXIT_FAILURE
            msg = "; ".join(str(d) for d in exc.diagnostics)
            results.append(
                {"expr": expr, "result": None, "events": [], "error": f"analysis: {msg}"}
            )
            if not as_json:
                typer.echo(f"error: {msg}", err=True)
            continue
        results.append({"expr": expr, **res.to_json()})
        if not as_json:
            typer.echo(res.result if res.result is not None else f"error: {res.error}")
    return results, status
