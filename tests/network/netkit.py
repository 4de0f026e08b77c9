"""Helpers for the multi-process network tests: start nodes, poll their APIs, build chains."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from funai import _core
from funai.api.wallet_routes import read_cookie
from funai.devnet.launcher import spawn_node, stop_node
from funai.ledger.address import encode_address, hash160
from funai.ledger.chainstate import Chainstate
from funai.ledger.compact import decode_compact, hash_to_int
from funai.ledger.datadir import chain_path
from funai.ledger.genesis import genesis_hash
from funai.ledger.header import BlockHeader
from funai.ledger.miner import build_template
from funai.ledger.params import REGTEST
from funai.ledger.tx import OutputKind, TxOut
from funai.node.config import NodeConfig

SK_A = (1).to_bytes(32, "big")
ADDR_A = encode_address(REGTEST.hrp, 0, hash160(_core.schnorr_public_key(SK_A)))
READY_TIMEOUT = 90.0


def pkh_out(sk: bytes, value: int) -> TxOut:
    return TxOut(int(OutputKind.PAY_TO_KEY_HASH), value, hash160(_core.schnorr_public_key(sk)))


def grind(header: BlockHeader) -> BlockHeader:
    target = decode_compact(header.bits).target
    nonce = 0
    while hash_to_int(header.with_nonce(nonce).hash()) > target:
        nonce += 1
    return header.with_nonce(nonce)


def build_chain(datadir: Path, blocks: int) -> str:
    """Mines ``blocks`` regtest blocks (paying SK_A) into ``datadir``; returns the tip hash."""
    chain = Chainstate(chain_path(datadir, REGTEST), REGTEST, synchronous="NORMAL")
    try:
        for _ in range(blocks):
            template = build_template(chain, None, pkh_out(SK_A, 0), txs=[])
            block = template.block
            chain.submit_block(block.with_header(grind(block.header)))
        return chain.tip.hash[::-1].hex()
    finally:
        chain.close()


def wait_until(what: str, fn: Callable[[], bool], timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if fn():
                return
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last error: {last})")


@dataclass
class NodeProc:
    name: str
    datadir: Path
    proc: subprocess.Popen[bytes]
    api: str = ""
    p2p: str = ""

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

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = httpx.post(self.api + path, json=body, headers=self.headers(), timeout=120)
        return r.json()

    def status(self) -> dict[str, Any]:
        return dict(self.get("/status"))

    @property
    def height(self) -> int:
        return int(self.status()["l1_height"])

    @property
    def tip(self) -> str:
        return str(self.status()["l1_tip"])

    def connect(self, other: NodeProc) -> None:
        self.post("/peers/connect", {"addr": other.p2p})

    def log(self) -> str:
        path = self.datadir / "regtest" / "stderr.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> int:
        return stop_node(self.proc)


def start_node(root: Path, name: str, **config: Any) -> NodeProc:
    """Starts a regtest node process in ``root/name`` and waits for its endpoints."""
    datadir = root / name
    netdir = datadir / "regtest"
    netdir.mkdir(parents=True, exist_ok=True)
    (netdir / "node.json").unlink(missing_ok=True)
    settings: dict[str, Any] = {
        "network": "regtest",
        "p2p_listen": "127.0.0.1:0",
        "api_listen": "127.0.0.1:0",
        "discover": False,
        "miner_address": ADDR_A,
        "synchronous": "NORMAL",
        "log_level": "debug",
    }
    settings.update(config)
    (netdir / "node.toml").write_text(NodeConfig(**settings).to_toml())
    proc = spawn_node(datadir, "regtest")
    node = NodeProc(name, datadir, proc)
    info_path = netdir / "node.json"

    def ready() -> bool:
        assert proc.poll() is None, f"{name} exited:\n{node.log()[-3000:]}"
        if not info_path.exists():
            return False
        info = json.loads(info_path.read_text())
        if info["pid"] != proc.pid:
            return False
        node.api, node.p2p = info["api"], info["p2p"]
        return True

    wait_until(f"{name} to start", ready)
    return node


def spend_coinbase(node: NodeProc, height: int, fee: int = 10_000) -> tuple[str, str]:
    """A signed transaction spending the SK_A coinbase at ``height``: (hex, display txid)."""
    from funai.ledger.block import Block
    from funai.ledger.tx import OutPoint, Transaction, TxIn, sighash

    block = Block.deserialize(bytes.fromhex(node.get(f"/blocks/height/{height}?hex=1")["hex"]))
    cb = block.txs[0]
    out = cb.outputs[0]
    unsigned = Transaction(1, (TxIn(OutPoint(cb.txid(), 0)),), (pkh_out(SK_A, out.value - fee),), 0)
    sig = _core.schnorr_sign(SK_A, sighash(unsigned, 0, [out], genesis_hash(REGTEST)))
    tx = unsigned.with_witnesses(((_core.schnorr_public_key(SK_A), sig),))
    return tx.serialize().hex(), tx.txid()[::-1].hex()
