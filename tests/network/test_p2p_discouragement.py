"""Discouragement as in Bitcoin Core since 0.20, and manual bans (``funai ban``).

Before the fix one HTTP request to a devnet node's P2P port from 127.0.0.1 could ban
127.0.0.1 for 24 hours; every devnet node shares that address, so the devnet split, and
the ban was saved in ``peers.json``, so the next ``funai devnet`` on that data directory
waited and failed. Now misbehaviour disconnects and *discourages* (memory only, never
saved), never for loopback addresses; only manual bans are saved, and they expire.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from funai import _core
from funai.network.messages import Headers
from tests.network.netkit import NodeProc, wait_until
from tests.network.rawpeer import closed_by_peer, frame, handshake, raw_connect
from tests.network.test_p2p_hostile import _bad_pow_header

pytestmark = pytest.mark.slow


def bans(node: NodeProc) -> dict[str, dict[str, Any]]:
    return {b["who"]: b for b in node.get("/bans")["bans"]}


def stays_connected(p2p: str, source: str, key: tuple[bytes, bytes] | None = None) -> bool:
    sock = raw_connect(p2p, source)
    try:
        handshake(sock, key)
        return not closed_by_peer(sock, timeout=3)
    except (ConnectionError, OSError, AssertionError):
        return False
    finally:
        sock.close()


def misbehave(p2p: str, source: str, key: tuple[bytes, bytes] | None = None) -> None:
    sock = raw_connect(p2p, source)
    try:
        handshake(sock, key)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(frame(Headers([_bad_pow_header()])))
        assert closed_by_peer(sock), f"{source} was not disconnected"
    finally:
        sock.close()


def test_http_request_from_loopback_does_not_split_a_local_network(
    nodes: Callable[..., NodeProc],
) -> None:
    a = nodes("a")
    b = nodes("b", peers=[a.p2p])
    a.post("/generate", {"blocks": 3})
    wait_until("b to sync", lambda: b.tip == a.tip)
    for node in (a, b):
        sock = raw_connect(node.p2p, "127.0.0.1")
        try:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert closed_by_peer(sock)
        finally:
            sock.close()
    assert not bans(a)
    assert not bans(b)
    # b reconnects (a fresh inbound connection from 127.0.0.1 at a) and keeps syncing.
    b.post("/peers/disconnect", {"addr": a.p2p})
    b.post("/peers/connect", {"addr": a.p2p})
    a.post("/generate", {"blocks": 2})
    wait_until("b to follow a", lambda: b.tip == a.tip)
    assert a.status()["peers"] == 1
    assert b.status()["peers"] == 1


def test_misbehaving_loopback_peer_is_disconnected_not_discouraged(
    nodes: Callable[..., NodeProc],
) -> None:
    a = nodes("a")
    key = _core.ed25519_keygen()
    misbehave(a.p2p, "127.0.0.1", key)
    assert not bans(a)
    assert stays_connected(a.p2p, "127.0.0.1", key), "the loopback peer's key was refused"


def test_discouragement_is_memory_only_and_manual_bans_persist_and_expire(
    nodes: Callable[..., NodeProc],
) -> None:
    a = nodes("a")
    misbehave(a.p2p, "127.0.0.91")
    entry = bans(a)["127.0.0.91"]
    assert entry["manual"] is False
    assert entry["reason"].startswith("invalid-header")
    assert not stays_connected(a.p2p, "127.0.0.91"), "a discouraged host was accepted"
    # long enough to outlive a restart on a loaded machine (the restart checks it is kept)
    a.post("/bans/add", {"who": "127.0.0.92", "seconds": 20, "reason": "test"})
    assert not stays_connected(a.p2p, "127.0.0.92"), "a banned host was accepted"
    a.stop()

    saved = json.loads((a.datadir / "regtest" / "peers.json").read_text())
    assert set(saved["manual_bans"]) == {"127.0.0.92"}
    assert "127.0.0.91" not in json.dumps(saved)

    a = nodes("a")
    assert set(bans(a)) == {"127.0.0.92"}
    assert bans(a)["127.0.0.92"]["manual"] is True
    assert stays_connected(a.p2p, "127.0.0.91"), "discouragement survived a restart"
    assert not stays_connected(a.p2p, "127.0.0.92"), "a manual ban did not survive a restart"
    wait_until("the manual ban to expire", lambda: "127.0.0.92" not in bans(a), timeout=40)
    assert stays_connected(a.p2p, "127.0.0.92")


def test_old_automatic_bans_in_peers_json_are_ignored(
    nodes: Callable[..., NodeProc], tmp_path: Path
) -> None:
    """A data directory from before the fix, with 127.0.0.1 banned for "wrong-magic"."""
    netdir = tmp_path / "a" / "regtest"
    netdir.mkdir(parents=True)
    until = time.time() + 86400
    (netdir / "peers.json").write_text(
        json.dumps({"addrs": {}, "bans": {"127.0.0.1": until}, "ban_reasons": {}})
    )
    a = nodes("a")
    nodes("b", peers=[a.p2p])
    wait_until("b to connect to a", lambda: a.status()["peers"] == 1, timeout=20)
    assert not bans(a)


def funai_cli(datadir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from funai.cli import main; main()",
            "--datadir",
            str(datadir),
            *list(args),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_funai_ban_cli(nodes: Callable[..., NodeProc]) -> None:
    a = nodes("a")
    net = ["--network", "regtest"]
    assert funai_cli(a.datadir, "ban", "--help").returncode == 0
    r = funai_cli(a.datadir, "ban", "add", "10.1.2.3", "--seconds", "100", *net)
    assert r.returncode == 0, r.stderr
    assert "10.1.2.3" in bans(a)
    r = funai_cli(a.datadir, "ban", "list", "--json", *net)
    listed = json.loads(r.stdout)["bans"]
    assert [b["who"] for b in listed] == ["10.1.2.3"]
    assert listed[0]["manual"] is True
    assert funai_cli(a.datadir, "ban", "remove", "10.1.2.3", *net).returncode == 0
    assert funai_cli(a.datadir, "ban", "remove", "10.1.2.3", *net).returncode == 1
    funai_cli(a.datadir, "ban", "add", "10.1.2.4", *net)
    r = funai_cli(a.datadir, "ban", "clear", *net)
    assert r.returncode == 0
    assert "cleared 1" in r.stdout
    assert not bans(a)


def test_devnet_says_what_it_waits_for() -> None:
    """``funai devnet`` that cannot connect names the node, its peer count and its bans."""
    import httpx

    from funai.devnet.launcher import _not_connected

    def answer(request: httpx.Request) -> httpx.Response:
        bans = [{"who": "10.0.0.9", "reason": "wrong-magic", "until": 0, "manual": True}]
        return httpx.Response(200, json={"bans": bans if "node1" in str(request.url) else []})

    endpoints = [
        {"name": f"node{k}", "api": f"http://node{k}/v1", "datadir": f"/d/node{k}"}
        for k in range(3)
    ]
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        text = _not_connected(client, endpoints, [2, 0, 2], "regtest")
    assert "waiting for every node to have 2 peers" in text
    assert "node1 has 0 of 2 peers" in text
    assert "10.0.0.9 (wrong-magic)" in text
    assert "funai --datadir /d/node1 ban clear --network regtest" in text
    assert "node0" not in text
