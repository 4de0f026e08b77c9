"""``funai bench``: speed of the node's hot paths, measured on this machine."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from funai import pow as powlib
from funai.cli.common import EXIT_USAGE, fail

app = typer.Typer(help="Measure the node's hot paths on this machine.", no_args_is_help=True)

#: A fixed, arbitrary header: the speed does not depend on its contents.
BENCH_HEADER = bytes(range(80))
#: Nothing meets it (a hash of 0), so every search runs for its whole time budget.
IMPOSSIBLE_TARGET = bytes(32)
#: Length of one timed search; the live rate is updated between them.
SLICE_SECONDS = 0.25

Report = Callable[[float, int], None]  # (seconds done, hashes done)


def hashlib_rate(seconds: float, report: Report | None = None) -> float:
    """Nonces/s of a plain Python search: ``sha256(sha256(header).digest())`` over the
    whole 80-byte header per nonce, and the target comparison."""
    prefix = BENCH_HEADER[:76]
    target = int.from_bytes(IMPOSSIBLE_TARGET, "little")
    top = IMPOSSIBLE_TARGET[31]
    sha256 = hashlib.sha256
    hashes = 0
    nonce = 0
    began = time.perf_counter()
    next_report = began + SLICE_SECONDS
    while True:
        for n in range(nonce, nonce + 4096):
            digest = sha256(sha256(prefix + n.to_bytes(4, "little")).digest()).digest()
            if digest[31] <= top and int.from_bytes(digest, "little") <= target:
                break  # never: nothing meets the target
        nonce += 4096
        hashes += 4096
        now = time.perf_counter()
        if report is not None and now >= next_report:
            report(now - began, hashes)
            next_report = now + SLICE_SECONDS
        if now - began >= seconds:
            return hashes / (now - began)


def rust_rate(seconds: float, threads: int, backend: str, report: Report | None = None) -> float:
    """Nonces/s of ``pow_search`` on ``threads`` threads, in slices of ``SLICE_SECONDS``."""
    hashes = 0
    start = 0
    began = time.perf_counter()
    while True:
        spent = time.perf_counter() - began
        if spent >= seconds:
            return hashes / spent
        result = powlib.search(
            BENCH_HEADER,
            IMPOSSIBLE_TARGET,
            start_nonce=start,
            threads=threads,
            backend=backend,
            seconds=min(SLICE_SECONDS, seconds - spent),
        )
        hashes += result.hashes
        start = (start + result.hashes) % (1 << 32)
        if report is not None:
            report(time.perf_counter() - began, hashes)


def thread_counts(limit: int) -> list[int]:
    """1, 2, 4, ... up to ``limit``, and ``limit`` itself."""
    counts = []
    n = 1
    while n < limit:
        counts.append(n)
        n *= 2
    counts.append(limit)
    return counts


@app.command("pow")
def bench_pow(
    ctx: typer.Context,
    seconds: float = typer.Option(
        3.0, "--seconds", "-s", min=0.01, help="Seconds to measure each configuration."
    ),
    threads: int = typer.Option(
        0, "--threads", "-t", min=0, help="Most threads to try (0 = all cores)."
    ),
    backend: str = typer.Option(
        "auto", "--backend", "-b", help="Proof-of-work backend (see the table), or auto."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead."),
) -> None:
    """Proof-of-work nonces/s: the Rust search on 1..N threads against Python hashlib."""
    from funai.pow_choice import choose_backend

    available = powlib.backends()
    try:
        kernel = choose_backend(ctx.obj.datadir, backend)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    name = kernel.backend
    cores = os.cpu_count() or 1
    counts = thread_counts(threads or cores)

    console = Console()
    rates: dict[int, float] = {}
    if as_json:
        hashlib_hs = hashlib_rate(seconds)
        for n in counts:
            rates[n] = rust_rate(seconds, n, name)
    else:
        columns = (
            TextColumn("{task.description:<22}"),
            BarColumn(),
            TextColumn("{task.fields[rate]:>14}"),
            TimeRemainingColumn(),
        )
        err = Console(stderr=True)
        with Progress(
            *columns, console=err, transient=True, disable=not err.is_terminal
        ) as progress:

            def reporter(task: TaskID) -> Report:
                def report(done: float, hashes: int) -> None:
                    progress.update(
                        task,
                        completed=min(done, seconds),
                        rate=f"{hashes / max(done, 1e-9) / 1e6:.2f} MH/s",
                    )

                return report

            task = progress.add_task("python hashlib", total=seconds, rate="")
            hashlib_hs = hashlib_rate(seconds, reporter(task))
            progress.update(task, completed=seconds)
            for n in counts:
                label = f"rust {name}, {n} thread{'s' if n > 1 else ''}"
                task = progress.add_task(label, total=seconds, rate="")
                rates[n] = rust_rate(seconds, n, name, reporter(task))
                progress.update(task, completed=seconds)

    hashlib_mhs = hashlib_hs / 1e6
    mhs = {n: r / 1e6 for n, r in rates.items()}
    one = mhs[counts[0]]
    result = {
        "backend": name,
        "backends": available,
        "kernel": kernel.to_json(),
        "cpu_features": powlib.cpu_features(),
        "cpu_count": cores,
        "seconds": seconds,
        "hashlib_mhs": round(hashlib_mhs, 4),
        "mhs_by_threads": {str(n): round(v, 3) for n, v in mhs.items()},
        "ratio": round(one / hashlib_mhs, 2),
        "ratio_by_threads": {str(n): round(v / hashlib_mhs, 2) for n, v in mhs.items()},
        "scaling_by_threads": {str(n): round(v / one, 3) for n, v in mhs.items()},
    }
    if as_json:
        print(json.dumps(result))
        return

    table = Table(title=f"Proof of work, {seconds:g} s per row ({cores} cores)")
    table.add_column("engine")
    table.add_column("threads", justify="right")
    table.add_column("M nonces/s", justify="right")
    table.add_column("x hashlib", justify="right")
    table.add_column("x 1 thread", justify="right")
    table.add_row("python hashlib", "1", f"{hashlib_mhs:.3f}", "1.0", "")
    for n, v in mhs.items():
        table.add_row(
            f"rust {name}", str(n), f"{v:.2f}", f"{v / hashlib_mhs:.1f}", f"{v / one:.2f}"
        )
    console.print(table)
    if kernel.rates:
        shown = ", ".join(f"{k} {v / 1e6:.2f}" for k, v in kernel.rates.items())
        console.print(
            f"kernel {name} ({kernel.source}; M nonces/s on 1 thread: {shown}; "
            f"--backend forces one)"
        )
    console.print(
        f"backends here: {', '.join(available)}; CPU features: "
        f"{', '.join(powlib.cpu_features()) or 'none detected'}"
    )
