"""The node: chain service, P2P manager, miner, inference layer (and the HTTP API the daemon
gives it) under one Trio nursery.

Files in ``<datadir>/<network>/``: ``chainstate.sqlite`` (chain and mempool), ``node.key``
(Ed25519 node key, mode 0600), ``peers.json`` (address book and bans), ``node.log``
(JSON lines) and ``node.json`` (the endpoints of the running node, removed at exit).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

from funai import _core
from funai.layer2.node import L2Node
from funai.layer2.params import network_l2_params
from funai.ledger.address import decode_address
from funai.ledger.chainservice import ChainService
from funai.ledger.datadir import chain_path, network_dir, wallet_path
from funai.ledger.params import get_params
from funai.ledger.tx import TxOut
from funai.ledger.wallet import Wallet, WalletError
from funai.network.addrbook import AddrBook, parse_hostport
from funai.network.handshake import LocalIdentity, Services
from funai.network.manager import NetConfig, PeerManager
from funai.node.config import NodeConfig
from funai.node.keyfile import load_secret
from funai.node.l2runtime import L2Runtime
from funai.node.miner import Miner

__all__ = ["ApiServer", "Node", "load_node_key"]

#: Serves a node's HTTP API on ``listen`` and reports its base URL once bound (the API layer's
#: ``serve_api``; the node knows only this shape, the daemon wires the two).
ApiServer = Callable[..., Awaitable[None]]

log = logging.getLogger("funai.node")


def load_node_key(path: Path) -> tuple[bytes, bytes]:
    """The node's Ed25519 key pair, created (mode 0600) on first use."""
    sk = load_secret(path, lambda: _core.ed25519_keygen()[0])
    return sk, _core.ed25519_public_key(sk)


def _payout(config: NodeConfig, datadir: Path) -> TxOut:
    params = get_params(config.network)
    address = config.miner_address
    if not address:
        path = wallet_path(datadir, params)
        try:
            wallet = Wallet.load(path, params)
        except WalletError:
            wallet = Wallet.create(path, params)
        address = wallet.address(0)
    return decode_address(address, params.hrp).output(0)


class Node:
    """One running node."""

    def __init__(self, datadir: Path, config: NodeConfig) -> None:
        self.datadir = datadir
        self.config = config
        self.params = get_params(config.network)
        self.netdir = network_dir(datadir, self.params)
        self.started = time.time()
        self.service = ChainService(
            chain_path(datadir, self.params), self.params, synchronous=config.synchronous
        )
        sk, pk = load_node_key(self.netdir / "node.key")
        services = Services.NETWORK
        if config.miner:
            services |= Services.MINER
        if config.inference:
            services |= Services.INFERENCE
        if config.verifier:
            services |= Services.VERIFIER
        self.identity = LocalIdentity(
            self.params.name, self.service.chain.genesis_hash, sk, pk, int(services), 0
        )
        host, port = parse_hostport(config.p2p_listen)
        self.addrbook = AddrBook(self.netdir / "peers.json")
        self.net = PeerManager(
            self.service,
            self.identity,
            NetConfig(
                listen_host=host,
                listen_port=port,
                peers=list(config.peers),
                outbound=config.outbound,
                inbound=config.inbound,
                discover=config.discover,
                ban_seconds=config.ban_seconds,
                whitelist=list(config.whitelist),
                block_timeout=config.block_timeout,
            ),
            self.addrbook,
        )
        self.miner = Miner(
            self.service,
            _payout(config, datadir),
            threads=config.miner_threads,
            interval=config.miner_interval,
            backend=config.miner_backend,
            datadir=datadir,
        )
        self.api_url = ""
        self.p2p_addr = ""
        self.l2: L2Runtime | None = None
        l2_params = network_l2_params(config.network) if config.l2_enabled else None
        if l2_params is not None:
            self.l2 = L2Runtime(self, l2_params)
        elif config.l2_enabled and (config.inference or config.verifier):
            log.warning(
                "the inference layer has no genesis verifier set on this network yet; "
                "the node serves its API without L2 transactions"
            )

    def status(self) -> dict[str, Any]:
        out = self.service.status()
        out.update(
            {
                "peers": len(self.net.ready_peers()),
                "node_key": self.identity.public_key.hex(),
                "p2p": self.p2p_addr,
                "api": self.api_url,
                "roles": {
                    "miner": self.config.miner,
                    "inference": self.config.inference,
                    "verifier": self.config.verifier,
                    "models": self.config.models,
                },
                "mining": self.miner.enabled,
                "hash_rate": round(self.miner.stats.rate, 1),
                "pow_kernel": None if self.miner.kernel is None else self.miner.kernel.backend,
                "blocks_mined": self.miner.found,
                "sync": self.net.sync_status(),
                "uptime": round(time.time() - self.started, 1),
                "l2_height": None if self.l2 is None else self.l2.heights()[0],
            }
        )
        return out

    async def run(
        self,
        *,
        serve_api: ApiServer | None = None,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Runs the node's tasks; ``serve_api`` (given by the composition root,
        :mod:`funai.daemon`) serves its HTTP API inside the node's nursery, so the API stops
        before the chain and the inference layer close."""
        try:
            async with trio.open_nursery() as nursery:
                port = await nursery.start(self.net.run)
                host = parse_hostport(self.config.p2p_listen)[0]
                self.p2p_addr = f"{host}:{port}"
                if serve_api is not None:
                    self.api_url = await nursery.start(serve_api, self, self.config.api_listen)
                nursery.start_soon(self.miner.run)
                if self.l2 is not None:
                    nursery.start_soon(self.l2.run)
                    nursery.start_soon(self.l2.advertise)
                nursery.start_soon(self._progress)
                if self.config.miner:
                    self.miner.set_enabled(True)
                info = {"pid": os.getpid(), "p2p": self.p2p_addr, "api": self.api_url}
                (self.netdir / "node.json").write_text(json.dumps(info))
                log.info("node started", extra={"fields": {**info, "height": self.service.height}})
                task_status.started()
        finally:
            self.addrbook.dirty = True
            self.addrbook.save()
            (self.netdir / "node.json").unlink(missing_ok=True)
            with trio.CancelScope(shield=True):
                if self.l2 is not None:
                    await trio.to_thread.run_sync(self.l2.query, L2Node.close)
                await self.service.close()
            log.info("node stopped")

    async def _progress(self) -> None:
        """Initial-sync progress: a rich bar on a terminal, log lines otherwise."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(stderr=True)
        progress: Progress | None = None
        task = None
        last_log = 0.0
        while True:
            await trio.sleep(0.5)
            s = self.net.sync_status()
            behind = s["headers"] - s["blocks"]
            if behind > 50:
                if console.is_terminal:
                    if progress is None:
                        progress = Progress(
                            TextColumn("syncing"),
                            BarColumn(),
                            TextColumn("{task.completed}/{task.total} blocks"),
                            TextColumn("{task.fields[peers]} peers"),
                            TimeRemainingColumn(),
                            console=console,
                            transient=True,
                        )
                        progress.start()
                        task = progress.add_task("sync", total=s["headers"], peers=0)
                    assert task is not None
                    progress.update(
                        task,
                        completed=s["blocks"],
                        total=s["headers"],
                        peers=len(self.net.ready_peers()),
                    )
                elif time.monotonic() - last_log > 5:
                    last_log = time.monotonic()
                    log.info("syncing", extra={"fields": s})
            elif progress is not None:
                progress.stop()
                progress = None
