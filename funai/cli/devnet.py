"""``funai devnet``: N real node processes on loopback, one of them mining.

With ``--l2`` the devnet is the inference layer's (DESIGN 4.8): ``miner``, the five genesis
test verifiers ``verifier0..4`` judging with the model, and ``--inference`` inference nodes
``inference-a..`` serving it (``--model``, a name under ``<datadir>/models`` or a directory).
The inference nodes register, bid and bond on their own once their wallets hold L1 coins:
pay them from the miner with ``POST /v1/wallet/send`` (docs/layer2.md, "A devnet by hand").

Each node gets its own data directory (``<workdir>/<name>``, default workdir
``<datadir>/devnet-nodes``), free ports picked by the nodes themselves (port 0), and a full
mesh of connections. Once every node is connected the endpoints are printed (``--json``: one
line ``{"nodes": [{"name", "api", "p2p"}, ...]}``); Ctrl-C or SIGTERM stops them all.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import typer

from funai.cli.common import fail
from funai.node.devnet import l1_layout, l2_layout, start_devnet, stop_devnet


class _StopRequestedError(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequestedError


def devnet(
    ctx: typer.Context,
    nodes: int = typer.Option(3, "--nodes", "-N", min=1, max=64, help="Number of nodes."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON line with the endpoints."),
    workdir: Path | None = typer.Option(None, "--workdir", help="Default <datadir>/devnet-nodes."),
    threads: int = typer.Option(1, "--threads", min=1, help="Mining threads of node0."),
    miners: int = typer.Option(1, "--miners", min=0, help="How many nodes mine (node0 first)."),
    mine_interval: float = typer.Option(0.0, "--mine-interval", help="Min seconds between blocks."),
    network: str = typer.Option("devnet", "--network", "-n", help="devnet or regtest."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds to wait for readiness."),
    l2: bool = typer.Option(
        False, "--l2", help="The inference-layer devnet: miner, 5 verifiers, inference nodes."
    ),
    inference: int = typer.Option(2, "--inference", min=1, max=26, help="Inference nodes (--l2)."),
    model: str = typer.Option(
        "smollm2-135m-instruct", "--model", "-m", help="Model name or directory (--l2)."
    ),
) -> None:
    """Start N local nodes (node0 mines), connect them, and run until Ctrl-C."""
    if network not in ("devnet", "regtest"):
        fail("a devnet runs on devnet or regtest")
    if l2:
        from funai.inference.defaults import model_dir_or_fetch
        from funai.inference.errors import InferenceError

        try:
            model = str(model_dir_or_fetch(ctx.obj.datadir, model))
        except InferenceError as exc:
            fail(str(exc))
        specs = l2_layout(
            model,
            inference=inference,
            mine_interval=mine_interval or 2.0,
            threads=threads,
        )
    else:
        specs = l1_layout(nodes, miners=miners, threads=threads, mine_interval=mine_interval)
    nodes = len(specs)
    work = (workdir or ctx.obj.datadir / "devnet-nodes").expanduser()
    old_int = signal.signal(signal.SIGINT, _raise_stop)
    old_term = signal.signal(signal.SIGTERM, _raise_stop)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        try:
            procs, endpoints = start_devnet(
                work,
                specs,
                network=network,
                timeout=timeout,
            )
        except RuntimeError as exc:
            fail(str(exc))
        if as_json:
            print(json.dumps({"nodes": endpoints}), flush=True)
        else:
            print(f"devnet of {nodes} node(s) on {network}, data in {work}")
            for e in endpoints:
                print(f"  {e['name']}: api {e['api']}  p2p {e['p2p']}")
            print("Ctrl-C stops all nodes.", flush=True)
        while True:
            for spec, proc in zip(specs, procs, strict=True):
                if proc.poll() is not None:
                    print(f"{spec.name} exited with code {proc.returncode}", file=sys.stderr)
                    raise _StopRequestedError
            time.sleep(0.5)
    except _StopRequestedError:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_devnet(procs)
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
