"""Local devnets of real node processes on loopback (``funai devnet``, ``funai demo``).

:func:`start_devnet` starts one process per :class:`NodeSpec` (own data directory
``<workdir>/<name>``, free ports picked by the nodes themselves), connects them in a full
mesh and waits until every node sees the others. :func:`l2_layout` is the inference-layer
devnet of DESIGN 4.8: one miner, the five genesis test verifiers (``l2.test_key`` 0-4,
judging with the default model) and inference nodes serving it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from funai.api.wallet_routes import read_cookie
from funai.ledger.params import get_params
from funai.node.config import NodeConfig

__all__ = [
    "NODE_CODE",
    "NodeSpec",
    "l1_layout",
    "l2_layout",
    "spawn_node",
    "start_devnet",
    "stop_devnet",
    "stop_node",
]


#: The ``python -c`` code that runs a devnet node (the ``funai`` command line).
NODE_CODE = "from funai.cli import main; main()"


@dataclass
class NodeSpec:
    """One devnet node: its name (data directory), its NodeConfig settings and the
    ``python -c`` code that runs it (tests launch nodes with a patched behaviour; the code
    gets the ``funai`` command line as ``sys.argv[1:]``)."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    code: str = NODE_CODE


def l1_layout(
    nodes: int, *, miners: int = 1, threads: int = 1, mine_interval: float = 0.0
) -> list[NodeSpec]:
    """``nodes`` plain nodes ``node0..``, the first ``miners`` of them mining."""
    return [
        NodeSpec(
            f"node{k}",
            {"miner": k < miners, "miner_threads": threads, "miner_interval": mine_interval},
        )
        for k in range(nodes)
    ]


#: Seconds between an executor's model adverts on a devnet (the default is 60).
ADVERT_INTERVAL = 5.0


def l2_layout(
    model: str,
    *,
    verifiers: int = 5,
    inference: int = 2,
    mine_interval: float = 2.0,
    threads: int = 1,
    extra: dict[str, Any] | None = None,
) -> list[NodeSpec]:
    """``miner``, ``verifier0..`` (genesis test keys) and ``inference-a..`` serving
    ``model`` (a model name or directory)."""
    specs = [
        NodeSpec(
            "miner",
            {"miner": True, "miner_threads": threads, "miner_interval": mine_interval},
        )
    ]
    specs += [
        NodeSpec(f"verifier{i}", {"verifier": True, "l2_test_key": i, "models": [model]})
        for i in range(verifiers)
    ]
    specs += [
        NodeSpec(
            f"inference-{chr(ord('a') + i)}",
            {"inference": True, "models": [model], "l2_advert_interval": ADVERT_INTERVAL},
        )
        for i in range(inference)
    ]
    for spec in specs:
        spec.settings.update(extra or {})
    return specs


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


def spawn_node(
    datadir: Path,
    network: str,
    *,
    code: str = NODE_CODE,
    env: Mapping[str, str] | None = None,
    new_session: bool = False,
) -> subprocess.Popen[bytes]:
    """Starts ``funai --datadir DATADIR node`` with ``<datadir>/<network>/node.toml`` (``code``
    is the Python that runs the CLI); its output is appended to
    ``<datadir>/<network>/stderr.log``. ``new_session`` detaches it from the terminal's
    process group (a devnet's Ctrl-C is handled by the launcher, which stops its nodes)."""
    netdir = datadir / network
    with open(netdir / "stderr.log", "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                code,
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
            env=None if env is None else dict(env),
            start_new_session=new_session,
        )


def stop_node(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    """Stops one node process: SIGTERM, then SIGKILL after ``timeout``; its exit code."""
    stop_devnet([proc], timeout)
    return proc.returncode


def start_devnet(
    workdir: Path,
    specs: list[NodeSpec],
    *,
    network: str = "devnet",
    timeout: float = 90.0,
) -> tuple[list[subprocess.Popen[bytes]], list[dict[str, Any]]]:
    """Starts the nodes and connects them; returns the processes and their endpoints
    (``{"name", "api", "p2p", "datadir"}`` each)."""
    nodes = len(specs)
    params = get_params(network)
    procs: list[subprocess.Popen[bytes]] = []
    endpoints: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        for spec in specs:
            datadir = workdir / spec.name
            netdir = datadir / params.name
            netdir.mkdir(parents=True, exist_ok=True)
            (netdir / "node.json").unlink(missing_ok=True)
            settings: dict[str, Any] = {
                "p2p_listen": "127.0.0.1:0",
                "api_listen": "127.0.0.1:0",
                "synchronous": "NORMAL",
                **spec.settings,
            }
            cfg = NodeConfig(network=network, **settings)
            (netdir / "node.toml").write_text(cfg.to_toml())
            procs.append(spawn_node(datadir, network, code=spec.code, new_session=True))
        for spec, proc in zip(specs, procs, strict=True):
            datadir = workdir / spec.name
            info = _wait_endpoints(proc, datadir / params.name / "node.json", deadline)
            endpoints.append(
                {"name": spec.name, "api": info["api"], "p2p": info["p2p"], "datadir": str(datadir)}
            )
        with httpx.Client(timeout=10) as client:
            for k in range(1, nodes):
                cookie = read_cookie(Path(endpoints[k]["datadir"]) / params.name)
                for j in range(k):
                    client.post(
                        f"{endpoints[k]['api']}/peers/connect",
                        json={"addr": endpoints[j]["p2p"]},
                        headers={"Authorization": f"Bearer {cookie}"},
                    ).raise_for_status()
            while True:
                counts = [client.get(f"{e['api']}/status").json()["peers"] for e in endpoints]
                if all(c >= nodes - 1 for c in counts):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(_not_connected(client, endpoints, counts, params.name))
                time.sleep(0.2)
    except httpx.HTTPError as exc:
        stop_devnet(procs)
        raise RuntimeError(f"a node stopped answering: {exc} (see {workdir})") from None
    except BaseException:
        stop_devnet(procs)
        raise
    return procs, endpoints


def _not_connected(
    client: httpx.Client, endpoints: list[dict[str, Any]], counts: list[int], network: str
) -> str:
    """What the devnet was waiting for when it gave up: which nodes lack peers, and any
    bans or discouragement that keep them apart."""
    want = len(endpoints) - 1
    lines = [f"nodes did not connect in time: waiting for every node to have {want} peers"]
    for e, c in zip(endpoints, counts, strict=True):
        if c >= want:
            continue
        line = f"{e['name']} has {c} of {want} peers ({e['datadir']})"
        try:
            bans = client.get(f"{e['api']}/bans").json().get("bans", [])
        except (httpx.HTTPError, ValueError):
            bans = []
        if bans:
            shown = ", ".join(f"{b['who']} ({b['reason']})" for b in bans[:5])
            line += (
                f"; it refuses {shown}: `funai --datadir {e['datadir']} ban clear"
                f" --network {network}`"
            )
        lines.append(line)
    return "; ".join(lines)


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
