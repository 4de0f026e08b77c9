"""Multi-process network tests on loopback: convergence, sync, partitions, restarts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from funai.api.wallet_routes import read_cookie
from tests.network.netkit import NodeProc, build_chain, spend_coinbase, wait_until

pytestmark = pytest.mark.slow

NodeFactory = Callable[..., NodeProc]


def test_devnet_five_nodes_converge_while_one_mines(tmp_path: Path) -> None:
    """``funai devnet --nodes 5 --json``: one JSON line, then every node follows the miner."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from funai.cli import main; main()",
            "--datadir",
            str(tmp_path),
            "devnet",
            "--nodes",
            "5",
            "--json",
            "--network",
            "regtest",
            "--mine-interval",
            "0.3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        info = json.loads(line)
        assert [n["name"] for n in info["nodes"]] == [f"node{k}" for k in range(5)]
        apis = [n["api"] for n in info["nodes"]]
        for n in info["nodes"]:
            assert n["api"].startswith("http://127.0.0.1:")
            assert n["api"].endswith("/v1")
            assert n["p2p"].startswith("127.0.0.1:")

        def status(api: str) -> dict[str, object]:
            return dict(httpx.get(api + "/status", timeout=30).json())

        wait_until("node0 to mine 8 blocks", lambda: int(status(apis[0])["l1_height"]) >= 8)  # type: ignore[call-overload]
        # Every node follows while mining goes on...
        wait_until(
            "all nodes to pass height 8",
            lambda: all(int(status(a)["l1_height"]) >= 8 for a in apis),  # type: ignore[call-overload]
        )
        # ...and once it stops, all agree on one tip.
        cookie = read_cookie(Path(info["nodes"][0]["datadir"]) / "regtest")
        httpx.post(
            apis[0] + "/miner",
            json={"enabled": False},
            headers={"Authorization": f"Bearer {cookie}"},
            timeout=30,
        ).raise_for_status()
        wait_until("one tip everywhere", lambda: len({status(a)["l1_tip"] for a in apis}) == 1)
        assert all(int(status(a)["peers"]) >= 1 for a in apis)  # type: ignore[call-overload]
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "from funai.cli import main; main()",
                "status",
                "--node",
                apis[3],
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        st = json.loads(out.stdout)
        assert {"l1_height", "l1_tip", "peers"} <= set(st)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert proc.returncode == 0
    # Every node shut down cleanly (node.json is removed at exit).
    assert not list((tmp_path / "devnet-nodes").glob("node*/regtest/node.json"))


def test_late_node_syncs_500_blocks(tmp_path: Path, nodes: NodeFactory) -> None:
    tip = build_chain(tmp_path / "a", 520)
    a = nodes("a")
    assert a.height == 520
    assert a.tip == tip
    b = nodes("b", peers=[a.p2p])
    wait_until("b to sync 520 blocks", lambda: b.tip == tip, timeout=180)
    sync = b.status()["sync"]
    assert sync["headers"] == 520
    assert sync["blocks"] == 520


def test_partition_heals_to_most_work_chain(tmp_path: Path, nodes: NodeFactory) -> None:
    n = [nodes(f"n{k}") for k in range(4)]
    for k in range(1, 4):
        n[k].connect(n[k - 1])
    wait_until("a line of 4", lambda: all(x.status()["peers"] >= 1 for x in n))
    n[0].post("/generate", {"blocks": 11})
    common = n[0].tip
    wait_until("common chain everywhere", lambda: all(x.tip == common for x in n))
    # Split into {n0, n1} and {n2, n3}.
    n[2].post("/peers/disconnect", {"addr": n[1].p2p})
    n[1].post("/peers/disconnect", {"addr": n[2].p2p})
    wait_until("the split", lambda: n[1].status()["peers"] == 1 and n[2].status()["peers"] == 1)
    # The losing side confirms a payment in 2 blocks; the winning side mines 4.
    tx_hex, txid = spend_coinbase(n[0], 1)
    assert n[0].post("/tx", {"hex": tx_hex}) == {"txid": txid}
    wait_until("the tx to reach n1", lambda: txid in n[1].get("/mempool")["txids"])
    n[0].post("/generate", {"blocks": 2})
    lose_tip = n[0].tip
    wait_until("n1 on the losing branch", lambda: n[1].tip == lose_tip)
    assert txid not in n[1].get("/mempool")["txids"]
    n[3].post("/generate", {"blocks": 4})
    win_tip = n[3].tip
    wait_until("n2 on the winning branch", lambda: n[2].tip == win_tip)
    assert n[2].height == n[0].height + 2
    # Heal.
    n[1].connect(n[2])
    wait_until("the most-work chain everywhere", lambda: all(x.tip == win_tip for x in n))
    # The payment left the chain with the losing blocks and is back in the mempools.
    wait_until(
        "the tx back in the losing side's mempools",
        lambda: all(txid in x.get("/mempool")["txids"] for x in n[:2]),
    )


def test_restart_keeps_chain_peers_and_mempool(tmp_path: Path, nodes: NodeFactory) -> None:
    b = nodes("b")
    a = nodes("a", discover=True, peers=[])
    a.connect(b)
    wait_until("a and b connected", lambda: a.status()["peers"] == 1)
    a.post("/generate", {"blocks": 12})
    tx_hex, txid = spend_coinbase(a, 1)
    a.post("/tx", {"hex": tx_hex})
    wait_until("b to follow", lambda: b.tip == a.tip and txid in b.get("/mempool")["txids"])
    height, tip = a.height, a.tip
    assert a.stop() == 0
    # Same data directory, no configured peers: the address book brings b back.
    a2 = nodes("a", discover=True, peers=[])
    assert (a2.height, a2.tip) == (height, tip)
    assert txid in a2.get("/mempool")["txids"]
    wait_until("a to reconnect to b", lambda: a2.status()["peers"] == 1)
    b.post("/generate", {"blocks": 1})
    wait_until("a to follow b again", lambda: a2.tip == b.tip)
