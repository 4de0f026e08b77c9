"""Start a node process serving the default model (API tests and bench/test_bench_api.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from funai.api.wallet_routes import read_cookie
from funai.devnet.launcher import spawn_node, stop_node
from funai.inference.defaults import default_models_dir, ensure_default_model
from funai.node.config import NodeConfig

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 120.0


def model_cache() -> Path:
    return default_models_dir()


@dataclass
class ApiNode:
    datadir: Path
    proc: subprocess.Popen[bytes]
    api: str = ""  # http://host:port/v1

    @property
    def root(self) -> str:
        return self.api.removesuffix("/v1")

    def get(self, path: str) -> Any:
        r = httpx.get(self.api + path, timeout=30)
        r.raise_for_status()
        return r.json()

    @property
    def cookie(self) -> str:
        return read_cookie(self.datadir / "regtest")

    def headers(self) -> dict[str, str]:
        """The API cookie and JSON content type every state-changing route needs."""
        return {"Authorization": f"Bearer {self.cookie}", "Content-Type": "application/json"}

    def post(self, path: str, body: Any, timeout: float = 120) -> httpx.Response:
        """POSTs ``body`` as JSON with the cookie (the state-changing node routes)."""
        return httpx.post(self.api + path, json=body, headers=self.headers(), timeout=timeout)

    def log(self) -> str:
        path = self.datadir / "regtest" / "stderr.log"
        return path.read_text()[-4000:] if path.exists() else ""


def _wait(what: str, node: ApiNode, fn: Any) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        assert node.proc.poll() is None, f"node exited:\n{node.log()}"
        try:
            if fn():
                return
        except (httpx.HTTPError, OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{node.log()}")


@contextmanager
def running_api_node(datadir: Path) -> Iterator[ApiNode]:
    """A regtest node with ``roles.inference = true`` serving the default model (by path),
    without the inference layer (``l2.enabled = false``; tests/layer2/test_devnet_l2.py runs
    the API through the layer), in ``datadir``; stopped (SIGTERM, then SIGKILL) on exit."""
    model_dir = ensure_default_model(model_cache())
    netdir = datadir / "regtest"
    netdir.mkdir(parents=True)
    config = NodeConfig(
        network="regtest",
        p2p_listen="127.0.0.1:0",
        api_listen="127.0.0.1:0",
        discover=False,
        inference=True,
        models=[str(model_dir)],
        l2_enabled=False,  # a standalone inference server: provisional receipts, no L2
        synchronous="NORMAL",
        log_level="debug",
    )
    (netdir / "node.toml").write_text(config.to_toml())
    env = {**os.environ, "FUNAI_ORT_THREADS": "2"}
    proc = spawn_node(datadir, "regtest", env=env)
    node = ApiNode(datadir, proc)
    info = netdir / "node.json"

    def started() -> bool:
        if not info.exists():
            return False
        data = json.loads(info.read_text())
        node.api = data["api"] if data["pid"] == proc.pid else ""
        return bool(node.api)

    try:
        _wait("the node to start", node, started)
        _wait(
            "the model to load",
            node,
            lambda: all(m["funai"]["status"] == "ready" for m in node.get("/models")["data"]),
        )
        yield node
    finally:
        stop_node(proc)


@contextmanager
def running_plain_node(datadir: Path, **settings: Any) -> Iterator[ApiNode]:
    """A regtest node without models or the inference layer (the node API alone), with
    NodeConfig ``settings``; stopped on exit."""
    netdir = datadir / "regtest"
    netdir.mkdir(parents=True)
    values: dict[str, Any] = {
        "network": "regtest",
        "p2p_listen": "127.0.0.1:0",
        "api_listen": "127.0.0.1:0",
        "discover": False,
        "l2_enabled": False,
        "synchronous": "NORMAL",
        "log_level": "debug",
    }
    values.update(settings)
    (netdir / "node.toml").write_text(NodeConfig(**values).to_toml())
    proc = spawn_node(datadir, "regtest")
    node = ApiNode(datadir, proc)
    info = netdir / "node.json"

    def started() -> bool:
        if not info.exists():
            return False
        data = json.loads(info.read_text())
        node.api = data["api"] if data["pid"] == proc.pid else ""
        return bool(node.api) and bool(node.get("/status"))

    try:
        _wait("the node to start", node, started)
        yield node
    finally:
        stop_node(proc)
