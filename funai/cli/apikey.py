"""``funai api-key``: keys of the node's OpenAI-compatible API, each mapped to a local wallet."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from funai.api.auth import KEYS_FILE, list_keys, new_key, revoke_key
from funai.cli.common import EXIT_USAGE, JSON_OPTION, fail, print_json
from funai.ledger.datadir import network_dir, wallet_path
from funai.ledger.params import get_params
from funai.ledger.wallet import Wallet, WalletError

app = typer.Typer(
    help="API keys of the OpenAI-compatible endpoints (key -> local wallet).", no_args_is_help=True
)
NETWORK = typer.Option("devnet", "--network", "-n", help="main, test, devnet or regtest.")


def _keys_path(ctx: typer.Context, network: str) -> tuple[Path, Path]:
    try:
        params = get_params(network)
    except (KeyError, ValueError) as exc:
        fail(f"unknown network {network!r}: {exc}", EXIT_USAGE)
    netdir = network_dir(ctx.obj.datadir, params)
    return netdir / KEYS_FILE, wallet_path(ctx.obj.datadir, params)


@app.command("new")
def new(
    ctx: typer.Context,
    wallet: Path | None = typer.Option(
        None, "--wallet", help="Wallet file paying for the key (default: the node's wallet)."
    ),
    label: str = typer.Option("", "--label", help="A note shown by `list`."),
    network: str = NETWORK,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a key for a wallet and print it (stored hashed: it cannot be shown again).

    --json fields: key, wallet, file.
    """
    path, default_wallet = _keys_path(ctx, network)
    wallet_file = wallet or default_wallet
    try:
        Wallet.load(wallet_file, get_params(network))
    except WalletError as exc:
        fail(str(exc))
    key = new_key(path, wallet_file, label)
    if as_json:
        print_json({"key": key, "wallet": str(wallet_file), "file": str(path)})
    else:
        print(key)


@app.command("list")
def list_(
    ctx: typer.Context,
    network: str = NETWORK,
    as_json: bool = JSON_OPTION,
) -> None:
    """List the keys (hash prefix, wallet, label).

    --json: a list of objects with fields hash, wallet, label, created.
    """
    path, _ = _keys_path(ctx, network)
    try:
        entries = list_keys(path)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            [
                {"hash": e.hash, "wallet": str(e.wallet), "label": e.label, "created": e.created}
                for e in entries
            ]
        )
        return
    table = Table("hash", "wallet", "label")
    for e in entries:
        table.add_row(e.hash[:16], str(e.wallet), e.label)
    Console().print(table)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    hash_prefix: str = typer.Argument(..., help="At least 8 hex digits of the key's hash."),
    network: str = NETWORK,
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove keys by hash prefix.

    Exit 1 when none matched, 2 for a prefix too short. --json fields: revoked.
    """
    path, _ = _keys_path(ctx, network)
    try:
        n = revoke_key(path, hash_prefix)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    if as_json:
        print_json({"revoked": n})
    if n == 0:
        fail("no key matched")
    if not as_json:
        print(f"revoked {n}")
