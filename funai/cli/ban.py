"""``funai ban``: list, add, remove and clear bans of a running node (over its API).

Manual bans are saved in ``<datadir>/<network>/peers.json`` and expire; peers discouraged
for misbehaviour are kept in the node's memory only and are listed too (``manual: false``).
Every change is sent with the node's API cookie (``<datadir>/<network>/api.cookie``).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import typer

from funai.cli.common import JSON_OPTION, echo, fail, print_json
from funai.cli.status import default_node_url

__all__ = ["app"]

app = typer.Typer(
    help="List, add, remove and clear the bans of a running node (docs/node.md).",
    no_args_is_help=True,
)

NETWORK_OPTION = typer.Option("devnet", "--network", "-n", help="Network of the local node.")
NODE_OPTION = typer.Option(
    None, "--node", help="API base URL of the running node (default: the local node's)."
)


def _call(ctx: typer.Context, network: str, node: str | None, path: str, body: Any) -> Any:
    from funai.api.wallet_routes import read_cookie

    datadir = ctx.obj.datadir
    url = (node or default_node_url(datadir, network)).rstrip("/")
    try:
        if body is None:
            r = httpx.get(f"{url}{path}", timeout=30)
        else:
            try:
                cookie = read_cookie(datadir / network)
            except (OSError, ValueError) as exc:
                fail(f"no API cookie in {datadir / network} (is the node running?): {exc}")
            r = httpx.post(
                f"{url}{path}",
                json=body,
                headers={"Authorization": f"Bearer {cookie}"},
                timeout=30,
            )
    except httpx.HTTPError as exc:
        fail(f"cannot reach the node at {url}: {exc}")
    try:
        data = r.json()
    except ValueError:
        fail(f"the node answered {r.status_code} without JSON")
    if r.status_code >= 400:
        message = data.get("error") if isinstance(data, dict) else None
        fail(f"the node refused ({r.status_code}): {message or r.text}")
    return data


@app.command("list")
def list_bans(
    ctx: typer.Context,
    network: str = NETWORK_OPTION,
    node: str | None = NODE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List manual bans (saved, expiring) and discouraged peers (memory only)."""
    data = _call(ctx, network, node, "/bans", None)
    if as_json:
        print_json(data)
        return
    bans = data.get("bans", [])
    if not bans:
        echo("no bans")
    now = time.time()
    for b in bans:
        kind = "banned" if b.get("manual") else "discouraged"
        left = max(0, int(float(b["until"]) - now))
        echo(f"{b['who']}  {kind}  {left} s left  {b.get('reason', '')}")


@app.command("add")
def add(
    ctx: typer.Context,
    who: str = typer.Argument(..., help="A host (IP address or name) or key:<node key hex>."),
    seconds: int = typer.Option(86400, "--seconds", min=1, help="How long the ban lasts."),
    reason: str = typer.Option("manual", "--reason", help="Saved with the ban."),
    network: str = NETWORK_OPTION,
    node: str | None = NODE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Ban a host or node key (saved in peers.json; expires after --seconds)."""
    data = _call(
        ctx, network, node, "/bans/add", {"who": who, "seconds": seconds, "reason": reason}
    )
    if as_json:
        print_json(data)
    else:
        echo(f"banned {who} for {seconds} s")


@app.command("remove")
def remove(
    ctx: typer.Context,
    who: str = typer.Argument(..., help="The banned or discouraged host or key:<hex>."),
    network: str = NETWORK_OPTION,
    node: str | None = NODE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Lift the ban or discouragement of one host or key (exit 1 if there was none)."""
    data = _call(ctx, network, node, "/bans/remove", {"who": who})
    if as_json:
        print_json(data)
    elif data.get("removed"):
        echo(f"removed {who}")
    if not data.get("removed"):
        fail(f"{who} was neither banned nor discouraged")


@app.command("clear")
def clear(
    ctx: typer.Context,
    network: str = NETWORK_OPTION,
    node: str | None = NODE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Lift every ban and discouragement."""
    data = _call(ctx, network, node, "/bans/clear", {})
    if as_json:
        print_json(data)
    else:
        echo(f"cleared {data.get('cleared', 0)}")
