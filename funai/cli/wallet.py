"""``funai wallet``: keys, addresses, balance and payments on the local chainstate."""

from __future__ import annotations

import typer

from funai.cli.common import CliState, fail
from funai.ledger.datadir import format_amount, open_node, parse_amount, wallet_path
from funai.ledger.errors import MempoolError
from funai.ledger.params import ChainParams, get_params
from funai.ledger.wallet import Wallet, WalletError

app = typer.Typer(help="Ledger wallet: keys (mode 0600), balance, payments.", no_args_is_help=True)

NETWORK = typer.Option("devnet", "--network", "-n", help="main, test, devnet or regtest.")


def _params(network: str) -> ChainParams:
    try:
        return get_params(network)
    except ValueError as exc:
        fail(str(exc))


def _load(ctx: typer.Context, params: ChainParams) -> Wallet:
    state: CliState = ctx.obj
    try:
        return Wallet.load(wallet_path(state.datadir, params), params)
    except WalletError as exc:
        fail(str(exc))


@app.command("new")
def new(ctx: typer.Context, network: str = NETWORK) -> None:
    """Create a wallet with a fresh key and print its address."""
    params = _params(network)
    path = wallet_path(ctx.obj.datadir, params)
    try:
        wallet = Wallet.create(path, params)
    except WalletError as exc:
        fail(str(exc))
    print(f"created {path}")
    print(wallet.address())


@app.command("address")
def address(
    ctx: typer.Context,
    network: str = NETWORK,
    new_key: bool = typer.Option(False, "--new", help="Derive and print a fresh address."),
    all_keys: bool = typer.Option(False, "--all", help="Print every address."),
) -> None:
    """Print the wallet's receiving address."""
    wallet = _load(ctx, _params(network))
    if new_key:
        print(wallet.new_address())
    elif all_keys:
        print("\n".join(wallet.addresses()))
    else:
        print(wallet.address(0))


@app.command("balance")
def balance(ctx: typer.Context, network: str = NETWORK) -> None:
    """Spendable, immature (young coinbase) and pending amounts, in FAI."""
    params = _params(network)
    wallet = _load(ctx, params)
    chain, mempool = open_node(ctx.obj.datadir, params)
    b = wallet.balance(chain, mempool)
    print(f"height     {chain.height}")
    print(f"spendable  {format_amount(b.spendable)} FAI")
    print(f"immature   {format_amount(b.immature)} FAI")
    print(f"pending    {format_amount(b.pending_out)} FAI (spent by unconfirmed transactions)")
    chain.close()


@app.command("send")
def send(
    ctx: typer.Context,
    to: str = typer.Argument(..., help="Destination address (fai1... / tfai1...)."),
    amount: str = typer.Argument(..., help="Amount in FAI, e.g. 1.25."),
    fee_rate: int = typer.Option(2, "--fee-rate", min=1, help="Fee in base units per byte."),
    network: str = NETWORK,
) -> None:
    """Pay AMOUNT FAI to TO; the transaction waits in the mempool for `funai mine`."""
    params = _params(network)
    wallet = _load(ctx, params)
    try:
        units = parse_amount(amount)
    except ValueError as exc:
        fail(str(exc))
    chain, mempool = open_node(ctx.obj.datadir, params)
    try:
        tx = wallet.create_transaction(chain, mempool, to, units, fee_rate)
        entry = mempool.accept(tx)
    except (WalletError, MempoolError) as exc:
        fail(str(exc))
    finally:
        chain.close()
    print(f"txid {tx.txid()[::-1].hex()}")
    print(
        f"sent {format_amount(units)} FAI, fee {format_amount(entry.fee)} FAI ({entry.size} bytes)"
    )
