"""``funai demo``: an end-to-end tour of what the node can do today.

At this stage it exercises the Rust core the way the node will: it mines a short chain of
80-byte headers with the multi-threaded proof-of-work search (each block re-checked with
Python's hashlib), runs a VRF sortition among three would-be inference nodes over the tip's
hash (each proof verified, the winner drawn in proportion to its bid with integer
arithmetic), and signs the tip with a BIP340 Schnorr key. Later work grows it into a full
local devnet.
"""

from __future__ import annotations

import hashlib
import struct
import time

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from funai import _core

DEMO_BLOCKS = 6
# Expected work per block: 2**DEMO_WORK_BITS hashes (about a tenth of a second on one core).
DEMO_WORK_BITS = 22


def _header(prev: bytes, merkle: bytes, timestamp: int, bits: int, nonce: int = 0) -> bytes:
    return struct.pack("<I32s32sIII", 1, prev, merkle, timestamp, bits, nonce)


def _hashlib_sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def _target(work_bits: int) -> bytes:
    """A target (little-endian bytes) that a random hash meets once in 2**work_bits tries."""
    return ((1 << (256 - work_bits)) - 1).to_bytes(32, "little")


def run_demo(console: Console, blocks: int, work_bits: int, threads: int) -> None:
    console.rule("[bold]FUN AI demo: the Rust core at work")
    backend = _core.pow_best_backend()
    console.print(
        f"Proof-of-work backend [bold]{backend}[/], {threads or 'all'} thread(s); "
        f"mining {blocks} blocks, about 2^{work_bits} hashes each."
    )
    target = _target(work_bits)
    prev = bytes(32)
    total_hashes = 0
    started = time.perf_counter()
    table = Table("height", "nonce", "block hash", "hashes", "checked by hashlib")
    with Progress(
        TextColumn("[bold blue]mining"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} blocks"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("mine", total=blocks, rate="")
        for height in range(1, blocks + 1):
            coinbase = _core.sha256d(b"demo coinbase at height %d" % height)
            merkle = _core.merkle_root([coinbase])
            header = _header(prev, merkle, int(time.time()), 0x1F00FFFF)
            result = _core.pow_search(header, target, threads=threads)
            if result.nonce is None or result.hash is None:
                raise RuntimeError(f"no nonce found for block {height} in the whole range")
            sealed = header[:76] + struct.pack("<I", result.nonce)
            ok = _hashlib_sha256d(sealed) == result.hash and _core.hash_meets_target(
                result.hash, target
            )
            if not ok:
                raise RuntimeError(f"block {height} failed the independent hashlib check")
            total_hashes += result.hashes
            prev = result.hash
            elapsed = time.perf_counter() - started
            progress.update(
                task, advance=1, rate=f"{total_hashes / max(elapsed, 1e-9) / 1e6:.1f} MH/s"
            )
            table.add_row(
                str(height),
                str(result.nonce),
                result.hash[::-1].hex(),
                f"{result.hashes:,}",
                "[green]ok",
            )
    elapsed = time.perf_counter() - started
    console.print(table)
    console.print(
        f"{total_hashes:,} hashes in {elapsed:.2f} s = "
        f"[bold]{total_hashes / elapsed / 1e6:.1f} M hashes/s[/]"
    )

    console.rule("[bold]VRF sortition over the tip")
    seed = _core.sha256(b"demo sortition seed")
    sortition = _core.sha256(seed + prev)
    bids = {"node-a": 5_000, "node-b": 20_000, "node-c": 75_000}
    total = sum(bids.values())
    # Map the sortition hash onto the bids' cumulative ranges: proportional to the bid.
    draw = (int.from_bytes(sortition, "big") * total) >> 256
    table = Table("node", "bid", "VRF output (beta)", "proof verified", "range")
    winner = ""
    low = 0
    betas: dict[str, bytes] = {}
    for name, bid in bids.items():
        sk, pk = _core.vrf_keygen()
        proof = _core.vrf_prove(sk, seed)
        betas[name] = _core.vrf_verify(pk, seed, proof)
        high = low + bid
        if low <= draw < high:
            winner = name
        table.add_row(
            name, f"{bid:,}", betas[name][:12].hex() + "…", "[green]yes", f"[{low}, {high})"
        )
        low = high
    console.print(table)
    next_seed = _core.sha256(seed + betas[winner])
    console.print(
        f"draw {draw} of {total}: [bold]{winner}[/] wins; next seed {next_seed[:8].hex()}…"
    )

    console.rule("[bold]Schnorr signature (BIP340) over the tip")
    sk, pk = _core.schnorr_keygen()
    sig = _core.schnorr_sign(sk, prev)
    valid = _core.schnorr_verify(pk, prev, sig)
    tampered = _core.schnorr_verify(pk, bytes([prev[0] ^ 1]) + prev[1:], sig)
    console.print(
        f"public key {pk.hex()}\nsignature  {sig.hex()}\n"
        f"verifies: [bold]{valid}[/]; on a tampered message: [bold]{tampered}[/]"
    )
    if not valid or tampered:
        raise RuntimeError("signature check failed")
    console.rule("[bold green]demo finished")


def demo(
    blocks: int = typer.Option(DEMO_BLOCKS, min=1, max=1000, help="Blocks to mine."),
    work_bits: int = typer.Option(
        DEMO_WORK_BITS, min=1, max=40, help="Difficulty: about 2^N hashes per block."
    ),
    threads: int = typer.Option(0, min=0, help="Mining threads (0 = all cores)."),
) -> None:
    """Mine a short chain, run a VRF sortition and sign the tip: a tour of the core."""
    run_demo(Console(), blocks, work_bits, threads)
