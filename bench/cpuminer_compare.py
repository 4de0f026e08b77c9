"""Our SHA-256d kernels against cpuminer-opt's ``sha256d`` benchmark, interleaved.

cpuminer-opt (GPL, https://github.com/JayDDee/cpuminer-opt) is built outside this
repository; pass its binary with ``--cpuminer PATH`` (or ``CPUMINER=PATH``), and optionally a
second build with ``--cpuminer-alt PATH``. Each round runs cpuminer-opt's built-in benchmark
(``-a sha256d --benchmark -t T``) for ``--cpuminer-seconds`` and reads the hash rates it
reports after the first one (with ``--cpu-priority 2``: nice 0 like us; by default
cpuminer-opt drops its miner threads to nice 19 and ``SCHED_IDLE``, which on a machine
shared with other work would starve it), then each of our kernels on the same thread count
(``funai.pow.search`` with a target nothing meets) for ``--seconds``. Rounds alternate
(A B A B ...) so that load from other processes hits both alike; the summary gives the
median and range over the rounds, and the ratio of medians.

Besides the wall-clock rates it prints each rate per CPU second: ours divided by this
process's CPU time, cpuminer-opt's reported rate divided by the cores' worth of CPU time it
got over its run (from ``getrusage``), which is what to compare on a loaded machine.

    PYTHONPATH=. python bench/cpuminer_compare.py --cpuminer /tmp/cpuminer-opt/cpuminer \\
        --threads 1 2 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import time

from funai import pow as powlib

HEADER = bytes(range(80))
NOTHING = bytes(32)
_TOTAL = re.compile(r"Total: ([0-9.]+) ([kMG]?)H/s")
_SCALE = {"": 1e-6, "k": 1e-3, "M": 1.0, "G": 1e3}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpuminer_rate(binary: str, threads: int, seconds: float) -> tuple[float, float] | None:
    """M hashes/s cpuminer-opt reports (median of its reports after the first), and that
    rate per CPU second; None if it reported fewer than two rates (a starved run)."""
    cpu = _children_cpu()
    began = time.perf_counter()
    proc = subprocess.run(
        [
            *("timeout", "-s", "INT", str(seconds), binary),
            *("-a", "sha256d", "--benchmark", "-t", str(threads)),
            *("--no-color", "--cpu-priority", "2"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    share = (_children_cpu() - cpu) / (time.perf_counter() - began)
    rates = [float(v) * _SCALE[u] for v, u in _TOTAL.findall(proc.stdout + proc.stderr)]
    if len(rates) < 2:
        return None
    rate = statistics.median(rates[1:])
    return rate, rate / max(share, 1e-9)


def our_rate(backend: str, threads: int, seconds: float) -> tuple[float, float]:
    """M nonces/s of ``funai.pow.search`` (a short warm-up first), and per CPU second."""
    powlib.search(HEADER, NOTHING, threads=threads, backend=backend, seconds=0.05)
    cpu = time.process_time()
    began = time.perf_counter()
    result = powlib.search(HEADER, NOTHING, threads=threads, backend=backend, seconds=seconds)
    wall = time.perf_counter() - began
    mhs = int(result.hashes) / 1e6
    return mhs / wall, mhs / max(time.process_time() - cpu, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser(description="ours against cpuminer-opt, interleaved")
    ap.add_argument("--cpuminer", default=os.environ.get("CPUMINER", ""))
    ap.add_argument("--cpuminer-alt", default="", help="a second cpuminer-opt build")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--cpuminer-seconds", type=float, default=22.0)
    ap.add_argument("--backends", nargs="*", default=None, help="default: every kernel here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    backends = args.backends or powlib.backends()
    miners = [("cpuminer-opt", args.cpuminer), ("cpuminer-alt", args.cpuminer_alt)]
    samples: dict[str, list[float]] = {}
    for r in range(args.rounds):
        for t in args.threads:
            for label, binary in miners:
                if not binary:
                    continue
                got = cpuminer_rate(binary, t, args.cpuminer_seconds)
                if got is None:
                    print(f"round {r} {label} t{t}: no rate (starved)", flush=True)
                    continue
                samples.setdefault(f"{label} t{t}", []).append(got[0])
                samples.setdefault(f"{label} t{t} cpu", []).append(got[1])
                print(f"round {r} {label} t{t}: {got[0]:.2f} ({got[1]:.2f}/cpu-s)", flush=True)
            for b in backends:
                wall, per_cpu = our_rate(b, t, args.seconds)
                samples.setdefault(f"{b} t{t}", []).append(wall)
                samples.setdefault(f"{b} t{t} cpu", []).append(per_cpu)
                print(f"round {r} {b} t{t}: {wall:.2f} ({per_cpu:.2f}/cpu-s)", flush=True)
    summary = {
        k: {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}
        for k, v in samples.items()
    }
    for suffix, title in (("", "wall clock"), (" cpu", "per CPU second")):
        print(f"\nM hashes/s, {title} (median [min..max] over rounds)")
        for t in args.threads:
            base = summary.get(f"cpuminer-opt t{t}{suffix}")
            for name in ["cpuminer-opt", "cpuminer-alt", *backends]:
                s = summary.get(f"{name} t{t}{suffix}")
                if s is None:
                    continue
                ratio = f"  x{s['median'] / base['median']:.2f}" if base else ""
                print(
                    f"t{t} {name:>13}: {s['median']:7.2f} [{s['min']:.2f}..{s['max']:.2f}]{ratio}"
                )
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
