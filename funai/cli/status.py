"""``funai status``: ask a running node for its status over the HTTP API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table

from funai.cli.common import fail
from funai.node.config import DEFAULT_PORTS


def default_node_url(datadir: Path, network: str) -> str:
    info = datadir / network / "node.json"
    try:
        return str(json.loads(info.read_text())["api"])
    except (OSError, ValueError, KeyError):
        return f"http://127.0.0.1:{DEFAULT_PORTS.get(network, (0, 29634))[1]}/v1"


def status(
    ctx: typer.Context,
    node: str | None = typer.Option(
        None, "--node", help="API base URL, e.g. http://127.0.0.1:29634/v1."
    ),
    network: str = typer.Option(
        "devnet", "--network", "-n", help="Network of the local node to find."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the node's /status JSON object."),
) -> None:
    """Print a node's height, tip, peers and sync state.

    Exit 1 when the node cannot be reached. --json: the node's GET /v1/status
    object as is (docs/api.md).
    """
    url = (node or default_node_url(ctx.obj.datadir, network)).rstrip("/")
    try:
        resp = httpx.get(f"{url}/status", timeout=10)
        resp.raise_for_status()
        data = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        fail(f"cannot reach the node at {url}: {exc}")
    if as_json:
        print(json.dumps(data))
        return
    table = Table(show_header=False, box=None)
    for key in ("network", "l1_height", "l1_tip", "peers", "mempool_size", "mining", "p2p", "api"):
        if key in data:
            table.add_row(key, str(data[key]))
    sync = data.get("sync") or {}
    if sync:
        table.add_row("sync", f"{sync.get('blocks')}/{sync.get('headers')} blocks")
    Console().print(table)
