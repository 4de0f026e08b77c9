"""``funai devnet``: N real node processes on loopback, one of them mining.

Each node gets its own data directory (``<workdir>/nodeK``, default workdir
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
from typing import Any

import httpx
import typer

from funai.cli.common import fail
from funai.ledger.params import get_params
from funai.node.config import NodeConfig


class _StopRequestedError(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequestedError


def _wait_endpoints(proc: subprocess.Popen[bytes], info: Path, deadline: float) -> dict[str, Any]:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"node exited with code {proc.returncode} (see {info.parent})")
        try:
            data: dict[str, Any] = json.loads(info.read_text())
            if data.get("pid") == proc.pid:
                return data
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"node did not start in time (see {info.parent})")


def start_devnet(
    workdir: Path,
    nodes: int,
    *,
    network: str = "devnet",
    threads: int = 1,
    mine_interval: float = 0.0,
    miners: int = 1,
    timeout: float = 90.0,
) -> tuple[list[subprocess.Popen[bytes]], list[dict[str, Any]]]:
    """Starts the nodes and connects them; returns the processes and their endpoints."""
    params = get_params(network)
    procs: list[subprocess.Popen[bytes]] = []
    endpoints: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        for k in range(nodes):
            datadir = workdir / f"node{k}"
            netdir = datadir / params.name
            netdir.mkdir(parents=True, exist_ok=True)
            (netdir / "node.json").unlink(missing_ok=True)
            cfg = NodeConfig(
                network=network,
                p2p_listen="127.0.0.1:0",
                api_listen="127.0.0.1:0",
                miner=k < miners,
                miner_threads=threads,
                miner_interval=mine_interval,
                synchronous="NORMAL",
            )
            (netdir / "node.toml").write_text(cfg.to_toml())
            log = open(netdir / "stderr.log", "ab")  # noqa: SIM115 (kept for the child)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        "from funai.cli import main; main()",
                        "--datadir",
                        str(datadir),
                        "node",
                        "--network",
                        network,
                        "--config",
                        str(netdir / "node.toml"),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            )
            log.close()
        for k, proc in enumerate(procs):
            info = _wait_endpoints(proc, workdir / f"node{k}" / params.name / "node.json", deadline)
            endpoints.append({"name": f"node{k}", "api": info["api"], "p2p": info["p2p"]})
        with httpx.Client(timeout=10) as client:
            for k in range(1, nodes):
                for j in range(k):
                    client.post(
                        f"{endpoints[k]['api']}/peers/connect", json={"addr": endpoints[j]["p2p"]}
                    ).raise_for_status()
            while True:
                counts = [client.get(f"{e['api']}/status").json()["peers"] for e in endpoints]
                if all(c >= nodes - 1 for c in counts):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nodes did not connect in time (peer counts {counts})")
                time.sleep(0.2)
    except httpx.HTTPError as exc:
        stop_devnet(procs)
        raise RuntimeError(f"a node stopped answering: {exc} (see {workdir})") from None
    except BaseException:
        stop_devnet(procs)
        raise
    return procs, endpoints


def stop_devnet(procs: list[subprocess.Popen[bytes]], timeout: float = 15.0) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
) -> None:
    """Start N local nodes (node0 mines), connect them, and run until Ctrl-C."""
    if network not in ("devnet", "regtest"):
        fail("a devnet runs on devnet or regtest")
    work = (workdir or ctx.obj.datadir / "devnet-nodes").expanduser()
    old_int = signal.signal(signal.SIGINT, _raise_stop)
    old_term = signal.signal(signal.SIGTERM, _raise_stop)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        try:
            procs, endpoints = start_devnet(
                work,
                nodes,
                network=network,
                threads=threads,
                mine_interval=mine_interval,
                miners=miners,
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
            for k, proc in enumerate(procs):
                if proc.poll() is not None:
                    print(f"node{k} exited with code {proc.returncode}", file=sys.stderr)
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
