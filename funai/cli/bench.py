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
        3.0, "--seconds", "-s", min=0.01, help="Seconds to measure each kernel and thread count."
    ),
    threads: int = typer.Option(
        0, "--threads", "-t", min=0, help="Most threads to try (0 = all cores)."
    ),
    backend: str = typer.Option(
        "auto",
        "--backend",
        "-b",
        help="Measure only this kernel (see the table); auto: every kernel this CPU runs.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead."),
) -> None:
    """Proof-of-work nonces/s of every kernel this CPU runs, on 1..N threads, against Python
    hashlib; marks the fastest and the kernel that auto (the miner) picks."""
    from funai.pow_choice import CACHE_FILE, choose_backend, cpu_model

    available = powlib.backends()
    try:
        kernel = choose_backend(ctx.obj.datadir, backend)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    name = kernel.backend
    kernels = available if backend == "auto" else [name]
    cores = os.cpu_count() or 1
    counts = thread_counts(threads or cores)
    model = cpu_model()

    console = Console()
    rates: dict[str, dict[int, float]] = {k: {} for k in kernels}
    if as_json:
        hashlib_hs = hashlib_rate(seconds)
        for k in kernels:
            for n in counts:
                rates[k][n] = rust_rate(seconds, n, k)
    else:
        columns = (
            TextColumn("{task.description:<24}"),
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
            for k in kernels:
                for n in counts:
                    label = f"rust {k}, {n} thread{'s' if n > 1 else ''}"
                    task = progress.add_task(label, total=seconds, rate="")
                    rates[k][n] = rust_rate(seconds, n, k, reporter(task))
                    progress.update(task, completed=seconds)

    hashlib_mhs = hashlib_hs / 1e6
    by_kernel = {k: {n: r / 1e6 for n, r in by_n.items()} for k, by_n in rates.items()}
    fastest = {n: max(kernels, key=lambda k: by_kernel[k][n]) for n in counts}
    mhs = by_kernel[name]
    one = mhs[counts[0]]
    result = {
        "backend": name,
        "backends": available,
        "kernel": kernel.to_json(),
        "cpu_model": model,
        "cpu_features": powlib.cpu_features(),
        "cpu_count": cores,
        "seconds": seconds,
        "hashlib_mhs": round(hashlib_mhs, 4),
        "mhs_by_threads": {str(n): round(v, 3) for n, v in mhs.items()},
        "ratio": round(one / hashlib_mhs, 2),
        "ratio_by_threads": {str(n): round(v / hashlib_mhs, 2) for n, v in mhs.items()},
        "scaling_by_threads": {str(n): round(v / one, 3) for n, v in mhs.items()},
        "by_kernel": {
            k: {str(n): round(v, 3) for n, v in by_n.items()} for k, by_n in by_kernel.items()
        },
        "ratio_by_kernel": {
            k: {str(n): round(v / hashlib_mhs, 2) for n, v in by_n.items()}
            for k, by_n in by_kernel.items()
        },
        "fastest_by_threads": {str(n): k for n, k in fastest.items()},
    }
    if as_json:
        print(json.dumps(result))
        return

    table = Table(
        title=f"Proof of work on {model} ({cores} cores), {seconds:g} s per cell",
        caption="M nonces/s (x python hashlib); * fastest per column",
    )
    table.add_column("kernel")
    for n in counts:
        table.add_column(f"{n} thread{'s' if n > 1 else ''}", justify="right")
    table.add_column("auto", justify="center")
    table.add_row("python hashlib", f"{hashlib_mhs:.3f} (1x)", *([""] * (len(counts) - 1)), "")
    for k in kernels:
        cells = []
        for n in counts:
            v = by_kernel[k][n]
            cell = f"{v:.2f} ({v / hashlib_mhs:.1f}x)"
            if len(kernels) > 1 and fastest[n] == k:
                cell = f"[bold green]* {cell}[/]"
            cells.append(cell)
        picked = ("forced" if kernel.source == "forced" else "<- auto") if k == name else ""
        table.add_row(f"rust {k}", *cells, picked)
    console.print(table)
    if kernel.source == "forced":
        how = "forced with --backend; auto measures every kernel"
    elif kernel.source == "only":
        how = "the only kernel here"
    else:
        how = f"auto picks it; choice {kernel.source}"
        if kernel.source == "cached":
            how += " (<datadir>/pow-kernel.json)"
        if kernel.rates:
            shown = ", ".join(f"{k} {v / 1e6:.2f}" for k, v in kernel.rates.items())
            how += f"; that measurement, M nonces/s on 1 thread: {shown}"
    console.print(f"kernel {name}: {how}")
    if len(kernels) > 1 and by_kernel[fastest[1]][1] > 1.1 * by_kernel[name][1]:
        console.print(
            f"note: {fastest[1]} beat {name} by over 10% on 1 thread in this run (delete "
            f"<datadir>/{CACHE_FILE} to measure the choice again, or --backend NAME)"
        )
    console.print(
        f"backends here: {', '.join(available)}; CPU features: "
        f"{', '.join(powlib.cpu_features()) or 'none detected'}"
    )
