"""``funai devnet``: N real node processes on loopback, one of them mining.

With ``--l2`` the devnet is the inference layer's (DESIGN 4.8): ``miner``, the five genesis
test verifiers ``verifier0..4`` judging with the model, and ``--inference`` inference nodes
``inference-a..`` serving it (``--model``, a name under ``<datadir>/models`` or a directory;
the default model is fetched and converted when missing). It is ready to use as anvil's or
Hardhat's (:mod:`funai.devnet.ready`): it starts from genesis, prints the well-known
developer accounts (test keys), mines to account 0, funds the inference nodes (they register,
bond and bid on their own, so the L2 chain grows by itself) and the developer accounts on
both layers, installs the API key ``fai-devnet-...`` paying from account 1 on every node,
and prints a ``ready`` line with the URLs and an openai snippet once every node has answered
a request with it. API ports are ``--api-port`` (29634) and up, one per node.

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
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import typer

from funai.cli.common import fail
from funai.devnet.accounts import DevAccount
from funai.devnet.launcher import NodeSpec, l1_layout, l2_layout, start_devnet, stop_devnet


class _StopRequestedError(Exception):
    pass


class _NotReadyError(Exception):
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
    timeout: float = typer.Option(
        0.0, "--timeout", help="Seconds to wait for readiness (default 120, --l2 600)."
    ),
    l2: bool = typer.Option(
        False, "--l2", help="The inference-layer devnet: miner, 5 verifiers, inference nodes."
    ),
    inference: int = typer.Option(2, "--inference", min=1, max=26, help="Inference nodes (--l2)."),
    model: str = typer.Option(
        "smollm2-135m-instruct", "--model", "-m", help="Model name or directory (--l2)."
    ),
    api_port: int = typer.Option(
        29634,
        "--api-port",
        min=0,
        max=65535,
        help="First API port of --l2 (one per node, the miner's first); 0: free ports.",
    ),
) -> None:
    """Start N local nodes (node0 mines), connect them, and run until Ctrl-C.

    --l2: the inference-layer devnet, funded and ready to serve (test keys printed); --json
    prints one line {"nodes": [...], "accounts": [...]} once connected, then one line with
    "ready": true, "openai_base_url", "api_key", "model" and "snippet" once every node has
    served a request.
    """
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
    timeout = timeout or (600.0 if l2 else 120.0)
    work = (workdir or ctx.obj.datadir / "devnet-nodes").expanduser()
    accounts = []
    if l2:
        from funai.devnet.ready import prepare_dev_l2

        try:
            accounts = prepare_dev_l2(work, specs, network, api_port)
        except RuntimeError as exc:
            fail(str(exc))
    old_int = signal.signal(signal.SIGINT, _raise_stop)
    old_term = signal.signal(signal.SIGTERM, _raise_stop)
    procs: list[subprocess.Popen[bytes]] = []
    failed = False
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

        def alive() -> None:
            for spec, proc in zip(specs, procs, strict=True):
                if proc.poll() is not None:
                    print(f"{spec.name} exited with code {proc.returncode}", file=sys.stderr)
                    raise _StopRequestedError

        if as_json:
            first: dict[str, object] = {"nodes": endpoints}
            if l2:
                first.update(accounts=[a.to_json() for a in accounts], ready=False)
            print(json.dumps(first), flush=True)
        else:
            print(f"devnet of {nodes} node(s) on {network}, data in {work}")
            for e in endpoints:
                print(f"  {e['name']}: api {e['api']}  p2p {e['p2p']}")
            if l2:
                _print_accounts(accounts)
            print("Ctrl-C stops all nodes.", flush=True)
        keeper = None
        if l2:
            from funai.devnet.ready import Keeper

            _bring_up(work, endpoints, specs, accounts, model, network, timeout, as_json, alive)
            keeper = Keeper(endpoints, specs, network)
        while True:
            alive()
            if keeper is not None:
                keeper.tick()
            time.sleep(0.5)
    except _StopRequestedError:
        pass
    except _NotReadyError:
        failed = True
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            stop_devnet(procs)
        finally:
            # Always given back, even if stopping failed: an ignored SIGINT left behind
            # would make the caller's Ctrl-C do nothing.
            signal.signal(signal.SIGINT, old_int)
            signal.signal(signal.SIGTERM, old_term)
    if failed:
        raise typer.Exit(1)


def _print_accounts(accounts: list[DevAccount]) -> None:
    from funai.devnet.accounts import DEV_API_KEY, DEV_API_KEY_ACCOUNT, WARNING

    print("developer accounts (L1 address, L2 account, secret key):")
    for a in accounts:
        role = " (the miner's wallet: coinbases)" if a.index == 0 else ""
        if a.index == DEV_API_KEY_ACCOUNT:
            role = " (pays for the API key)"
        print(f"  account {a.index}{role}")
        print(f"    address {a.address}  l2 {a.l2_account}")
        print(f"    secret  {a.secret_key}")
    print(f"API key: {DEV_API_KEY} (every node; pays from account {DEV_API_KEY_ACCOUNT})")
    print(WARNING, flush=True)


def _bring_up(
    work: Path,
    endpoints: list[dict[str, Any]],
    specs: list[NodeSpec],
    accounts: list[DevAccount],
    model: str,
    network: str,
    timeout: float,
    as_json: bool,
    alive: Callable[[], None],
) -> None:
    from funai.devnet.accounts import DEV_API_KEY, openai_snippet
    from funai.devnet.client import StoryError
    from funai.devnet.ready import bring_up

    name = Path(model).name
    say = None if as_json else (lambda line: print(line, flush=True))
    try:
        done = bring_up(
            work,
            endpoints,
            specs,
            accounts,
            name,
            network=network,
            timeout=timeout,
            say=say,
            alive=alive,
        )
    except (StoryError, httpx.HTTPError) as exc:
        print(f"error: the devnet did not become ready: {exc} (see {work})", file=sys.stderr)
        raise _NotReadyError from None
    base = f"{endpoints[0]['api']}"
    snippet = openai_snippet(base, name)
    if as_json:
        print(
            json.dumps(
                {
                    "ready": True,
                    "openai_base_url": base,
                    "api_key": DEV_API_KEY,
                    "model": name,
                    "urls": {e["name"]: e["api"] for e in endpoints},
                    "snippet": snippet,
                    **done,
                }
            ),
            flush=True,
        )
        return
    print(
        f"ready: every node serves {name} through the OpenAI API "
        f"(L1 height {done['l1_height']}, L2 height {done['l2_height']}, {done['seconds']} s)"
    )
    for e in endpoints:
        print(f"  {e['name']}: {e['api']}")
    print(f"OpenAI base URL {base}, API key {DEV_API_KEY}:\n")
    print(snippet + "\n", flush=True)
