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
from funai.cli.common import EXIT_FAILURE, EXIT_USAGE, JSON_OPTION, echo_parts, fail, print_json

app = typer.Typer(
    help="Clarity smart contracts: type-check a file, or run expressions against it.",
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


@app.command()
def check(
    file: Path = typer.Argument(..., help="A .clar contract."),
    name: str | None = typer.Option(None, "--name", help="Contract name (default: file stem)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Parse and type-check FILE; print line:col errors and exit 1 if it does not check.

    --json fields: file, ok, errors (each: line, col, message), interface
    (null when it does not check); errors also go to stderr.
    """
    source = _read(file)
    vm = ClarityVM()
    try:
        iface = vm.check(source, name=name or file.stem)
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
    file: Path = typer.Argument(..., help="A .clar contract."),
    exprs: list[str] = typer.Argument(None, help="Expressions to evaluate in order."),
    name: str | None = typer.Option(None, "--name", help="Contract name (default: file stem)."),
    sender: str = typer.Option(DEFAULT_SENDER, "--sender", help="Deployer and sender principal."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of results."),
) -> None:
    """Deploy FILE in a fresh sandbox and evaluate each EXPR as a call by the sender."""
    source = _read(file)
    store = MemoryStore()
    sender = sender.lstrip("'")
    vm = ClarityVM(store, SimpleChain())
    try:
        store.set_balance(sender, SANDBOX_BALANCE)
    except ValueError as exc:
        fail(f"bad --sender: {exc}", EXIT_USAGE)
    contract = name or file.stem
    try:
        vm.deploy(contract, source, sender=sender)
    except ClarityAnalysisError as exc:
        _report(file, exc)
        raise typer.Exit(EXIT_FAILURE) from None
    except ClarityRuntimeError as exc:
        fail(str(exc))
    results: list[dict[str, object]] = []
    status = 0
    for expr in exprs or []:
        try:
            res = vm.eval(expr, sender=sender)
        except ClarityAnalysisError as exc:
            status = 1
            msg = "; ".join(str(d) for d in exc.diagnostics)
            results.append(
                {"expr": expr, "result": None, "events": [], "error": f"analysis: {msg}"}
            )
            if not as_json:
                typer.echo(f"error: {msg}", err=True)
            continue
        entry = {"expr": expr, **res.to_json()}
        results.append(entry)
        if not as_json:
            typer.echo(res.result if res.result is not None else f"error: {res.error}")
    if as_json:
        print_json(results)
    if status:
        raise typer.Exit(status)
