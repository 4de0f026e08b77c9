"""``funai headers``: validate raw header chains (conformance checks against real data)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from funai.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    JSON_OPTION,
    echo_parts,
    fail,
    parse_hex,
    print_json,
    warn,
)
from funai.errors import MalformedInputError
from funai.ledger.errors import HeaderChainError
from funai.ledger.header import display_hash
from funai.ledger.headerchain import verify_headers
from funai.ledger.params import header_rules

app = typer.Typer(help="Validate chains of raw 80-byte block headers.", no_args_is_help=True)


@app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="File of consecutive raw 80-byte headers."),
    params: str = typer.Option(
        "bitcoin", "--params", help="Header rules: bitcoin, main, test, devnet or regtest."
    ),
    start_height: int = typer.Option(
        ..., "--start-height", min=0, help="Height of the first header."
    ),
    prev_hash: str | None = typer.Option(
        None, "--prev-hash", help="Hash (display hex) the first header must link to."
    ),
    check_time: bool = typer.Option(
        False, "--check-future/--no-check-future", help="Reject headers 2 h ahead of now."
    ),
    backend: str = typer.Option("rust", "--backend", help="rust or python (reference)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check PoW, bits and retargets, median-time-past, versions and linkage of FILE.

    Exits 0 when every header is valid, 1 naming the first bad height
    otherwise, 2 for unusable input (unreadable file, a length that is not a
    multiple of 80, bad options).

    --json fields: valid, count, start_height, last_height, retargets_checked,
    unchecked_retargets, tip, params, backend, ms; when invalid: valid (false),
    height, rule, detail.
    """
    try:
        rules = header_rules(params)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    if backend not in ("rust", "python"):
        fail(f"unknown backend {backend!r}", EXIT_USAGE)
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}", EXIT_USAGE)
    prev = parse_hex(prev_hash, "--prev-hash")[::-1] if prev_hash else None
    if prev is not None and len(prev) != 32:
        fail("--prev-hash must be 32 bytes", EXIT_USAGE)
    count = len(data) // 80
    console = Console(stderr=True)
    started = time.perf_counter()
    try:
        with Progress(
            TextColumn("verifying headers"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,  # no bar (nor stray newline) in a pipe
        ) as bar:
            task = bar.add_task("headers", total=count)
            result = verify_headers(
                data,
                rules,
                start_height,
                prev_hash=prev,
                now=int(time.time()) if check_time else None,
                backend=backend,
                chunk=500,
                progress=lambda done: bar.update(task, completed=done),
            )
    except HeaderChainError as exc:
        if as_json:
            print_json(
                {"valid": False, "height": exc.height, "rule": exc.rule, "detail": exc.detail}
            )
        fail(f"invalid header at height {exc.height}: {exc.rule} ({exc.detail})", EXIT_FAILURE)
    except MalformedInputError as exc:
        fail(str(exc), EXIT_USAGE)
    elapsed = time.perf_counter() - started
    last = start_height + result.count - 1
    boundaries = (
        sum(1 for h in range(start_height + 1, last + 1) if h % rules.retarget_interval == 0)
        if rules.retarget
        else 0
    )
    checked = boundaries - result.unchecked_retargets
    if as_json:
        print_json(
            {
                "valid": True,
                "count": result.count,
                "start_height": start_height,
                "last_height": last,
                "retargets_checked": checked,
                "unchecked_retargets": result.unchecked_retargets,
                "tip": display_hash(result.tip_hash),
                "params": params,
                "backend": backend,
                "ms": round(elapsed * 1000, 3),
            }
        )
        return
    echo_parts(
        ("ok:", "bold green"),
        (
            f" {result.count} headers, heights {start_height}..{last}, "
            f"{checked} retargets checked, tip {display_hash(result.tip_hash)} "
            f"({params} rules, {backend}, {elapsed * 1000:.1f} ms)",
            None,
        ),
    )
    if result.unchecked_retargets:
        warn(
            f"{result.unchecked_retargets} retarget(s) start before the file; "
            "their bits were accepted as given"
        )
