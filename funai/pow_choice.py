"""The proof-of-work kernel a miner uses: measured on this CPU, not picked by a fixed order.

Which SHA-256d kernel is fastest depends on the CPU (on an Intel Xeon with SHA-NI and
AVX-512 the AVX-512 kernel did about twice the SHA-NI kernel's nonces/s; on AMD Zen 4 the
SHA-NI kernel won). :func:`choose_backend` measures every kernel the CPU can run for a short
time on one thread (:data:`MEASURE_SECONDS` each) and keeps the fastest; the choice is cached
per CPU model and set of kernels in ``<datadir>/pow-kernel.json``, so later runs start at
once. ``funai mine``, ``funai node --mine`` and ``funai bench pow`` use it; ``--backend NAME``
(or the node config key ``miner.backend``) forces a kernel.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funai import pow as powlib

__all__ = ["CACHE_FILE", "MEASURE_SECONDS", "KernelChoice", "choose_backend", "cpu_model"]

CACHE_FILE = "pow-kernel.json"
MEASURE_SECONDS = 0.25
#: A header whose nonces never meet the target below (the search runs for its time limit).
_HEADER = bytes(range(80))
_IMPOSSIBLE = bytes(32)


@dataclass
class KernelChoice:
    backend: str
    #: nonces/s of each kernel on one thread (empty when forced or only one kernel exists)
    rates: dict[str, float] = field(default_factory=dict)
    source: str = "measured"  # measured | cached | forced | only

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "source": self.source,
            "mhs_by_backend": {k: round(v / 1e6, 3) for k, v in self.rates.items()},
        }


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what the platform reports."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _measure(backend: str, seconds: float) -> float:
    began = time.perf_counter()
    result = powlib.search(_HEADER, _IMPOSSIBLE, threads=1, backend=backend, seconds=seconds)
    return int(result.hashes) / max(time.perf_counter() - began, 1e-9)


def measure(seconds: float = MEASURE_SECONDS) -> dict[str, float]:
    """Nonces/s of every available kernel on one thread (a short warm-up first)."""
    rates = {}
    for name in powlib.backends():
        _measure(name, min(0.02, seconds))
        rates[name] = _measure(name, seconds)
    return rates


def _key() -> str:
    return f"{cpu_model()} | {','.join(powlib.backends())}"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def choose_backend(
    datadir: Path | None, forced: str = "auto", *, seconds: float = MEASURE_SECONDS
) -> KernelChoice:
    """The kernel to mine with: ``forced`` unless ``auto``; else the cached choice for this
    CPU model and kernel set, else the fastest of a short measurement (then cached in
    ``<datadir>/pow-kernel.json`` when ``datadir`` is given). Raises ValueError for a forced
    kernel this CPU cannot run."""
    available = powlib.backends()
    if forced != "auto":
        if forced not in available:
            raise ValueError(
                f"backend {forced!r} is not available here; choose from: {', '.join(available)}"
            )
        return KernelChoice(forced, source="forced")
    if len(available) == 1:
        return KernelChoice(available[0], source="only")
    path = None if datadir is None else Path(datadir).expanduser() / CACHE_FILE
    key = _key()
    if path is not None:
        entry = _read(path).get(key)
        if isinstance(entry, dict) and entry.get("backend") in available:
            rates = entry.get("rates") or {}
            return KernelChoice(
                str(entry["backend"]),
                {str(k): float(v) for k, v in rates.items()},
                source="cached",
            )
    rates = measure(seconds)
    best = max(rates, key=lambda k: rates[k])
    if path is not None:
        data = _read(path)
        data[key] = {"backend": best, "rates": rates, "measured": int(time.time())}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only data directory: measure again next time
    return KernelChoice(best, rates)
