"""``funai wallet``: keys, addresses, balance and payments on the local chainstate; moving
FAI between the layers (``peg-in``, ``peg-out``) and withdrawing the node's executor bond
(``unbond``) through the running node's wallet API.

Exit status: 0 on success; 1 when the operation fails (no wallet, wallet already exists,
insufficient funds, the mempool refuses the payment); 2 for malformed input (unknown
network, bad amount or address). ``--json`` prints one JSON object (docs/cli.md).
"""

from __future__ import annotations

from typing import Any

import httpx
import typer

from funai.cli.common import EXIT_USAGE, JSON_OPTION, CliState, echo, fail, print_json
from funai.errors import MalformedInputError
from funai.ledger.address import decode_address
from funai.ledger.datadir import format_amount, open_node, parse_amount, wallet_path
from funai.ledger.errors import MempoolError
from funai.ledger.params import ChainParams, get_params
from funai.ledger.wallet import Wallet, WalletError

app = typer.Typer(help="Ledger wallet: keys (mode 0600), balance, payments.", no_args_is_help=True)

NETWORK = typer.Option("devnet", "--network", "-n", help="main, test, devnet or regtest.")


def _params(network: str) -> ChainParams:
    try:
        return get_params(network)
    except (KeyError, ValueError) as exc:
        fail(str(exc), EXIT_USAGE)


def _units(amount: str) -> int:
    """An amount in FAI (``"1.25"``) in base units; exit 2 when malformed."""
    try:
        return parse_amount(amount)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)


def _load(ctx: typer.Context, params: ChainParams) -> Wallet:
    state: CliState = ctx.obj
    try:
        return Wallet.load(wallet_path(state.datadir, params), params)
    except WalletError as exc:
        fail(str(exc))


@app.command("new")
def new(ctx: typer.Context, network: str = NETWORK, as_json: bool = JSON_OPTION) -> None:
    """Create a wallet with a fresh key and print its address.

    --json fields: network, wallet (the file), address.
    """
    params = _params(network)
    path = wallet_path(ctx.obj.datadir, params)
    try:
        wallet = Wallet.create(path, params)
    except WalletError as exc:
        fail(str(exc))
    if as_json:
        print_json({"network": params.name, "wallet": str(path), "address": wallet.address()})
        return
    print(f"created {path}")
    print(wallet.address())


@app.command("address")
def address(
    ctx: typer.Context,
    network: str = NETWORK,
    new_key: bool = typer.Option(False, "--new", help="Derive and print a fresh address."),
    all_keys: bool = typer.Option(False, "--all", help="Print every address."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print the wallet's receiving address.

    --json fields: address, or addresses (a list) with --all.
    """
    wallet = _load(ctx, _params(network))
    if all_keys and not new_key:
        addresses = wallet.addresses()
        if as_json:
            print_json({"addresses": addresses})
        else:
            print("\n".join(addresses))
        return
    addr = wallet.new_address() if new_key else wallet.address(0)
    if as_json:
        print_json({"address": addr})
    else:
        print(addr)


@app.command("balance")
def balance(ctx: typer.Context, network: str = NETWORK, as_json: bool = JSON_OPTION) -> None:
    """Spendable, immature (young coinbase) and pending amounts, in FAI.

    --json fields: network, height, spendable, immature, pending (base units,
    1 FAI = 10^8), fai (the same three amounts as decimal FAI strings).
    """
    params = _params(network)
    wallet = _load(ctx, params)
    chain, mempool = open_node(ctx.obj.datadir, params)
    try:
        b = wallet.balance(chain, mempool)
        height = chain.height
    finally:
        chain.close()
    if as_json:
        amounts = {"spendable": b.spendable, "immature": b.immature, "pending": b.pending_out}
        print_json(
            {
                "network": params.name,
                "height": height,
                **amounts,
                "fai": {k: format_amount(v) for k, v in amounts.items()},
            }
        )
        return
    print(f"height     {height}")
    print(f"spendable  {format_amount(b.spendable)} FAI")
    print(f"immature   {format_amount(b.immature)} FAI")
    print(f"pending    {format_amount(b.pending_out)} FAI (spent by unconfirmed transactions)")


@app.command("send")
def send(
    ctx: typer.Context,
    to: str = typer.Argument(..., help="Destination address (fai1... / tfai1...)."),
    amount: str = typer.Argument(..., help="Amount in FAI, e.g. 1.25."),
    fee_rate: int = typer.Option(2, "--fee-rate", min=1, help="Fee in base units per byte."),
    network: str = NETWORK,
    as_json: bool = JSON_OPTION,
) -> None:
    """Pay AMOUNT FAI to TO; the transaction waits in the mempool for `funai mine`.

    Exit 1 on insufficient funds. --json fields: txid, to, amount and fee
    (base units), size (bytes), fee_rate.
    """
    params = _params(network)
    units = _units(amount)
    try:
        decode_address(to, params.hrp)
    except MalformedInputError as exc:
        fail(f"bad address: {exc}", EXIT_USAGE)
    wallet = _load(ctx, params)
    chain, mempool = open_node(ctx.obj.datadir, params)
    try:
        tx = wallet.create_transaction(chain, mempool, to, units, fee_rate)
        entry = mempool.accept(tx)
    except (WalletError, MempoolError) as exc:
        fail(str(exc))
    finally:
        chain.close()
    txid = tx.txid()[::-1].hex()
    if as_json:
        print_json(
            {
                "txid": txid,
                "to": to,
                "amount": units,
                "fee": entry.fee,
                "size": entry.size,
                "fee_rate": fee_rate,
            }
        )
        return
    print(f"txid {txid}")
    echo(
        f"sent {format_amount(units)} FAI, fee {format_amount(entry.fee)} FAI ({entry.size} bytes)",
        "green",
    )


NODE_OPTION = typer.Option(
    None, "--node", help="API base URL of the running node (default: the local node's)."
)


def _node_post(ctx: typer.Context, network: str, node: str | None, path: str, body: Any) -> Any:
    """POSTs ``body`` to the running node's wallet route ``path`` with its API cookie."""
    from funai.api.wallet_routes import read_cookie
    from funai.cli.status import default_node_url

    params = _params(network)
    netdir = ctx.obj.datadir / params.name
    url = (node or default_node_url(ctx.obj.datadir, params.name)).rstrip("/")
    try:
        cookie = read_cookie(netdir)
    except (OSError, ValueError) as exc:
        fail(f"no API cookie for the node in {netdir} (is the node running?): {exc}")
    try:
        r = httpx.post(
            f"{url}{path}", json=body, headers={"Authorization": f"Bearer {cookie}"}, timeout=60
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach the node at {url}: {exc}")
    try:
        data = r.json()
    except ValueError:
        fail(f"the node answered {r.status_code}: {r.text[:200]}")
    if r.status_code != 200:
        failed = data.get("code") in ("insufficient_funds", "exceeds_bond")  # not usage
        code = EXIT_USAGE if r.status_code == 400 and not failed else 1
        fail(f"{data.get('error', r.text)} ({data.get('code', r.status_code)})", code)
    return data


@app.command("peg-in")
def peg_in(
    ctx: typer.Context,
    amount: str = typer.Argument(..., help="Amount in FAI to move to the inference layer."),
    account: str | None = typer.Option(
        None, "--account", help="L2 account to credit (40 hex digits; default: this wallet's)."
    ),
    fee_rate: int = typer.Option(2, "--fee-rate", min=1, help="L1 fee in base units per byte."),
    node: str | None = NODE_OPTION,
    network: str = NETWORK,
    as_json: bool = JSON_OPTION,
) -> None:
    """Lock AMOUNT FAI on L1 in the verifier set's peg pool, credited to an L2 account
    once the payment has the network's confirmations (through the running node's wallet).

    --json fields: txid, fee, size, account, pool.
    """
    units = _units(amount)
    body: dict[str, Any] = {"amount": units, "fee_rate": fee_rate}
    if account is not None:
        body["account"] = account.lower()
    data = _node_post(ctx, network, node, "/wallet/peg-in", body)
    if as_json:
        print_json(data)
        return
    print(f"txid {data['txid']}")
    echo(
        f"pegged in {format_amount(units)} FAI for L2 account {data['account']} "
        f"(fee {format_amount(data['fee'])} FAI); credited after the confirmations",
        "green",
    )


@app.command("peg-out")
def peg_out(
    ctx: typer.Context,
    amount: str = typer.Argument(..., help="Amount in FAI to withdraw from the L2 account."),
    to: str | None = typer.Option(
        None, "--to", help="L1 address paid (default: this wallet's first address)."
    ),
    node: str | None = NODE_OPTION,
    network: str = NETWORK,
    as_json: bool = JSON_OPTION,
) -> None:
    """Withdraw AMOUNT FAI from this wallet's L2 account to L1: a PEG_OUT transaction that
    the verifier quorum pays from the peg pool, less the network's peg-out fee.

    --json fields: txid (L2), amount, pegout_fee, to, status (the route to follow it).
    """
    units = _units(amount)
    body: dict[str, Any] = {"amount": units}
    if to is not None:
        body["to"] = to
    data = _node_post(ctx, network, node, "/wallet/peg-out", body)
    if as_json:
        print_json(data)
        return
    print(f"txid {data['txid']}")
    echo(
        f"peg-out of {format_amount(units)} FAI to {data['to']} requested "
        f"(L1 pays {format_amount(units - data['pegout_fee'])} FAI); follow {data['status']}",
        "green",
    )


@app.command("unbond")
def unbond(
    ctx: typer.Context,
    amount: str = typer.Argument(..., help="Amount in FAI of the executor bond to withdraw."),
    force: bool = typer.Option(
        False, "--force", help="Unbond below l2.bond even though this executor re-posts it."
    ),
    node: str | None = NODE_OPTION,
    network: str = NETWORK,
    as_json: bool = JSON_OPTION,
) -> None:
    """Withdraw AMOUNT FAI of the running node's executor bond: an UNBOND transaction signed
    with the node's own L2 key; the coins return to its L2 balance unbonding_delay L2 blocks
    after the block that includes it. An executor (roles.inference) posts its bond again up
    to l2.bond, so lower l2.bond or set roles.inference = false and restart first (or --force).

    --json fields: txid (L2), amount, bond (left after this and pending unbonds),
    release_height (the earliest: the next L2 block + unbonding_delay).
    """
    units = _units(amount)
    body: dict[str, Any] = {"amount": units}
    if force:
        body["force"] = True
    data = _node_post(ctx, network, node, "/l2/unbond", body)
    if as_json:
        print_json(data)
        return
    print(f"txid {data['txid']}")
    echo(
        f"unbonding {format_amount(units)} FAI of the executor bond (left: "
        f"{format_amount(data['bond'])} FAI); back in the L2 balance at L2 height "
        f"{data['release_height']} at the earliest",
        "green",
    )


@app.command("proof")
def proof(
    ctx: typer.Context,
    txid: str = typer.Argument(..., help="A mined L1 transaction id (64 hex digits)."),
    height: int | None = typer.Option(
        None, "--height", min=0, help="Its block height (default: search the last 1000 blocks)."
    ),
    node: str | None = NODE_OPTION,
    network: str = NETWORK,
    as_json: bool = JSON_OPTION,
) -> None:
    """Print the Merkle proof that L1 transaction TXID was mined, as the four Clarity
    arguments of fai-l1-proofs' verify-tx-mined (height header tx proof), from the running
    node's GET /v1/l1/tx/TXID/proof.

    Exit 1 when it is not found (or the node cannot be reached), 2 for a malformed txid.
    --json: the node's object (txid, height, block_hash, confirmations, header, tx, proof,
    clarity).
    """
    from funai.cli.status import default_node_url

    if len(txid) != 64 or any(c not in "0123456789abcdefABCDEF" for c in txid):
        fail("a txid is 64 hex digits", EXIT_USAGE)
    params = _params(network)
    url = (node or default_node_url(ctx.obj.datadir, params.name)).rstrip("/")
    query = "" if height is None else f"?height={height}"
    try:
        r = httpx.get(f"{url}/l1/tx/{txid.lower()}/proof{query}", timeout=60)
        data = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        fail(f"cannot reach the node at {url}: {exc}")
    if r.status_code != 200:
        fail(str(data.get("error", r.text)) if isinstance(data, dict) else r.text[:200])
    if as_json:
        print_json(data)
        return
    echo(
        f"txid {data['txid']} in block {data['block_hash']} at height {data['height']} "
        f"({data['confirmations']} confirmation(s))",
        "green",
    )
    for key in ("height", "header", "tx", "proof"):
        print(data["clarity"][key])
