"""The composition root (as Bitcoin Core's init): builds a node and wires the API into it.

Layers import only downward (cli -> daemon/devnet -> api -> node -> layer2 -> network ->
ledger/inference/clarity -> storage/core; docs/architecture.md), so the node never imports
the API: :func:`run_daemon` creates the :class:`~funai.node.node.Node` and hands it
:func:`funai.api.server.serve_api`, which serves the HTTP API inside the node's nursery and
gives the loaded models and the metrics to the node's inference layer.
"""

from __future__ import annotations

import functools
import logging
import signal
from pathlib import Path

import trio

from funai.api.server import serve_api
from funai.ledger.datadir import network_dir
from funai.ledger.params import get_params
from funai.node.config import NodeConfig
from funai.node.logs import setup_logging
from funai.node.node import Node

__all__ = ["run_daemon"]

log = logging.getLogger("funai.node")


async def run_daemon(datadir: Path, config: NodeConfig) -> None:
    """Runs a node with its API until SIGINT or SIGTERM (``funai node``)."""
    params = get_params(config.network)
    netdir = network_dir(datadir, params)
    setup_logging(config.log_level, config.log_json, netdir / "node.log")
    node = Node(datadir, config)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(functools.partial(node.run, serve_api=serve_api))

            async def stop_on_signal() -> None:
                async for signum in signals:
                    log.info("shutting down", extra={"fields": {"signal": signum}})
                    nursery.cancel_scope.cancel()
                    return

            nursery.start_soon(stop_on_signal)
