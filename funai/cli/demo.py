"""``funai demo``: an end-to-end tour of what the node can do today.

1. The Rust core the way the node uses it: it mines a short chain of 80-byte headers with
   the multi-threaded proof-of-work search (each block re-checked with Python's hashlib),
   runs a VRF sortition among three would-be inference nodes over the tip's hash (each proof
   verified, the winner drawn in proportion to its bid with integer arithmetic), and signs
   the tip with a BIP340 Schnorr key.
2. A local network: three real node processes on loopback (one mining), watched until they
   agree on one chain tip.
3. The model: the default model answers a question and the judge scores the answer.
4. The inference layer on a devnet of eight separate node processes (one miner, the five
   genesis test verifiers, two inference nodes; :mod:`funai.devnet.story`):
   registration, peg-in, elections, a request through the OpenAI-compatible API with its
   immediate answer and receipt, the L2 block, the votes, the anchor in L1, the confirmation
   and the reclamation of the content on every node.

``--json`` runs only step 4 and prints its summary as one JSON object.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from funai import _core
from funai.cli.common import CliState, fail

DEMO_NODES = 3
DEMO_L1_BLOCKS = 5
DEMO_QUESTION = "What is the capital of France?"
DEFAULT_MODEL = "smollm2-135m-instruct"

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


def run_devnet(console: Console, nodes: int, blocks: int) -> None:
    """Starts real node processes, lets node0 mine, and waits until every node has the tip."""
    import httpx

    from funai.devnet.launcher import l1_layout, start_devnet, stop_devnet

    console.rule(f"[bold]A local network: {nodes} nodes, node0 mines")
    with tempfile.TemporaryDirectory(prefix="funai-demo-") as work:
        procs, endpoints = start_devnet(
            Path(work), l1_layout(nodes, mine_interval=0.5), network="regtest", timeout=120
        )
        try:
            for e in endpoints:
                console.print(f"  {e['name']}: API {e['api']}  P2P {e['p2p']}")
            deadline = time.monotonic() + 120
            with httpx.Client(timeout=5) as client:
                while True:
                    states = [client.get(f"{e['api']}/status").json() for e in endpoints]
                    tips = {st["l1_tip"] for st in states}
                    heights = [st["l1_height"] for st in states]
                    if min(heights) >= blocks and len(tips) == 1:
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the nodes did not converge: heights {heights}")
                    time.sleep(0.5)
            table = Table("node", "L1 height", "L1 tip", "peers", "mining")
            for e, st in zip(endpoints, states, strict=True):
                table.add_row(
                    e["name"],
                    str(st["l1_height"]),
                    st["l1_tip"][:20] + "…",
                    str(st["peers"]),
                    "yes" if st.get("mining") else "no",
                )
            console.print(table)
            console.print(f"all {nodes} nodes agree on the tip at height {min(heights)}")
        finally:
            stop_devnet(procs)
    console.print("nodes stopped")


def run_model(console: Console, model_dir: Path) -> None:
    """The default model answers a question; the judge scores the answer."""
    from funai.inference import SamplingParams, generate, judge, load_model

    console.rule("[bold]The model answers, the judge checks")
    model = load_model(model_dir)
    console.print(f"model {model_dir.name} on {model.providers[0]}")
    console.print(f"[bold]question:[/] {DEMO_QUESTION}")
    prompt = model.render_chat([{"role": "user", "content": DEMO_QUESTION}])
    answer = generate(model, prompt, SamplingParams(max_tokens=48)).text.strip()
    console.print(f"[bold]answer:[/]   {answer}")
    for response, label in ((answer, "the answer"), ("Bananas are yellow.", "a wrong answer")):
        v = judge(model, DEMO_QUESTION, response)
        console.print(
            f"judge on {label}: accept=[bold]{v.accept}[/] "
            f"P(yes)={v.p_yes:.3f} mean log-likelihood={v.loglik:.2f}"
        )


_STORY_TEXT = {
    "network": "Eight node processes start on loopback, each with its own data directory, "
    "and connect: one miner, the five genesis test verifiers, two inference nodes.",
    "funding": "The miner's coinbase matures; its wallet pays each inference node's wallet.",
    "registration": "Inference nodes register: each publishes its VRF public key in an L1 output.",
    "peg-in": "Coins move from L1 to L2: locked in the peg pool, credited after confirmations "
    "by the next L2 block producer.",
    "election": "Nodes commit bids in L1; a VRF sortition over the chained seed picks the "
    "producer of the next L2 block, the same winner on every node.",
    "bond": "The executor posts a bond that pays for penalties if its answers are rejected.",
    "request": "A user's signed request reaches an inference node, which runs the model at "
    "once and returns the answer with a signed receipt, then gossips the transaction.",
    "l2 block and votes": "The elected producer packs the transaction into an L2 block; five "
    "verifiers re-check it with the judge and vote; 3 of 5 matching votes finalize it.",
    "anchor": "The finalized L2 block hash is written into an L1 data output (the anchor).",
    "confirmation and reclamation": "After the anchor's L1 confirmations the block is "
    "confirmed and every node deletes the inference content from disk.",
}


def run_inference_layer(console: Console, model_dir: Path) -> None:
    """The inference layer's lifecycle, narrated step by step."""
    console.rule("[bold]The inference layer")

    def step(title: str, details: dict[str, Any]) -> None:
        console.print(f"[bold cyan]{title}[/]: {_STORY_TEXT.get(title, '')}")
        for key, value in details.items():
            if key != "what":
                console.print(f"    {key}: {value}")

    out = run_story_json(model_dir, on_step=step)
    console.print(
        f"the client received: {out['response']!r}; L2 block {out['l2_height']} finalized="
        f"{out['finalized']} with {out['votes_accept']} accept votes, anchored at L1 height "
        f"{out['anchor_l1_height']}, confirmed={out['confirmed']}, reclaimed={out['reclaimed']}"
    )


def run_story_json(model_dir: Path, on_step: Any = None) -> dict[str, Any]:
    """The inference-layer lifecycle on a devnet of node processes, serving ``model_dir``."""
    from funai.devnet.story import run_devnet_story

    with tempfile.TemporaryDirectory(prefix="funai-demo-") as tmp:
        return run_devnet_story(
            Path(tmp), str(model_dir.resolve()), prompt=DEMO_QUESTION, on_step=on_step
        )


def _model_dir(datadir: Path) -> Path:
    """The default model: ``FUNAI_MODEL_CACHE`` (a models directory, as the tests set it)
    when it holds it, else ``<datadir>/models``, fetched and converted there when missing
    (raises ModelNotFoundError offline)."""
    from funai.inference.defaults import model_dir_or_fetch

    cache = os.environ.get("FUNAI_MODEL_CACHE")
    if cache and (Path(cache) / DEFAULT_MODEL).is_dir():
        return Path(cache) / DEFAULT_MODEL
    return model_dir_or_fetch(datadir, DEFAULT_MODEL)


def demo(
    ctx: typer.Context,
    blocks: int = typer.Option(DEMO_BLOCKS, min=1, max=1000, help="Blocks to mine."),
    work_bits: int = typer.Option(
        DEMO_WORK_BITS, min=1, max=40, help="Difficulty: about 2^N hashes per block."
    ),
    threads: int = typer.Option(0, min=0, help="Mining threads (0 = all cores)."),
    nodes: int = typer.Option(DEMO_NODES, min=0, max=16, help="Devnet nodes (0 = skip)."),
    model: bool = typer.Option(True, "--model/--no-model", help="Run the model and judge."),
    as_json: bool = typer.Option(
        False, "--json", help="Run only the inference-layer lifecycle; print it as one JSON object."
    ),
) -> None:
    """A tour: mine with the Rust core, run a VRF sortition, start a local network of nodes,
    and let the model answer a question and judge the answer."""
    state: CliState = ctx.obj
    console = Console()
    from funai.inference.errors import ModelNotFoundError

    if as_json:
        try:
            model_dir = _model_dir(state.datadir)
        except ModelNotFoundError as exc:
            fail(str(exc))
        try:
            print(json.dumps(run_story_json(model_dir)))
        except RuntimeError as exc:  # StoryError and devnet start failures
            fail(str(exc))
        return
    run_demo(console, blocks, work_bits, threads)
    if nodes:
        run_devnet(console, nodes, DEMO_L1_BLOCKS)
    if model:
        try:
            model_dir = _model_dir(state.datadir)
        except ModelNotFoundError as exc:
            console.print(str(exc), markup=False, style="yellow")
        else:
            run_model(console, model_dir)
            run_inference_layer(console, model_dir)
    console.rule("[bold green]demo finished")
