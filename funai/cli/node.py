"""``funai node``: run a long-lived node (P2P, chain, mempool, miner role, HTTP API)."""

from __future__ import annotations

from pathlib import Path

import trio
import typer

from funai.cli.common import fail
from funai.ledger.datadir import network_dir
from funai.ledger.params import get_params
from funai.node.config import load_config


def node(
    ctx: typer.Context,
    network: str | None = typer.Option(
        None, "--network", "-n", help="main, test, devnet or regtest (default devnet)."
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="TOML config (default <datadir>/<network>/node.toml if present).",
    ),
    listen: str | None = typer.Option(
        None, "--listen", help="P2P HOST:PORT (port 0: any free port)."
    ),
    api_listen: str | None = typer.Option(None, "--api-listen", help="HTTP API HOST:PORT."),
    peer: list[str] = typer.Option(
        [], "--peer", help="Peer HOST:PORT to keep connected (repeatable)."
    ),
    mine: bool | None = typer.Option(None, "--mine/--no-mine", help="Run the miner role."),
    threads: int | None = typer.Option(None, "--threads", min=1, help="Mining threads."),
    miner_address: str | None = typer.Option(None, "--miner-address", help="Payout address."),
    backend: str | None = typer.Option(
        None,
        "--backend",
        "-b",
        help="SHA-256d mining kernel (see `funai bench pow`); auto (default): the fastest, "
        "measured once per CPU model and cached in <datadir>/pow-kernel.json.",
    ),
    mine_interval: float | None = typer.Option(
        None, "--mine-interval", help="Min seconds between mined blocks."
    ),
    discover: bool | None = typer.Option(
        None, "--discover/--no-discover", help="Learn and dial peer addresses."
    ),
    log_level: str | None = typer.Option(None, "--log-level", help="debug, info, warning, error."),
    log_json: bool | None = typer.Option(
        None, "--log-json/--log-text", help="Log format on stderr."
    ),
) -> None:
    """Run a node until Ctrl-C / SIGTERM."""
    from funai.daemon import run_daemon

    datadir: Path = ctx.obj.datadir
    try:
        if config is None and network is not None:
            default = network_dir(datadir, get_params(network)) / "node.toml"
            config = default if default.exists() else None
        cfg = load_config(
            config,
            {
                "network": network,
                "p2p_listen": listen,
                "api_listen": api_listen,
                "peers": list(peer) or None,
                "miner": mine,
                "miner_threads": threads,
                "miner_address": miner_address,
                "miner_interval": mine_interval,
                "miner_backend": backend,
                "discover": discover,
                "log_level": log_level,
                "log_json": log_json,
            },
        )
        if cfg.miner_backend != "auto":
            from funai.pow_choice import choose_backend

            choose_backend(None, cfg.miner_backend)  # a kernel this CPU lacks: say so now
    except (ValueError, OSError) as exc:
        fail(f"bad configuration: {exc}")
    try:
        trio.run(run_daemon, datadir, cfg)
    except OSError as exc:
        fail(str(exc))
