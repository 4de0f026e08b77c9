"""``funai mine``: mine blocks on the local chainstate (devnet by default)."""

from __future__ import annotations

import os
import time

import typer
from rich.console import Console
from rich.live import Live

from funai.cli.common import fail
from funai.errors import MalformedInputError
from funai.ledger.address import decode_address
from funai.ledger.datadir import format_amount, open_node, wallet_path
from funai.ledger.errors import ConsensusError
from funai.ledger.header import display_hash
from funai.ledger.miner import MiningStats, build_template, solve
from funai.ledger.params import get_params
from funai.ledger.wallet import Wallet, WalletError


def mine(
    ctx: typer.Context,
    network: str = typer.Option("devnet", "--network", "-n", help="main, test, devnet or regtest."),
    blocks: int = typer.Option(0, "--blocks", min=0, help="Stop after N blocks (0: forever)."),
    address: str | None = typer.Option(
        None, "--address", help="Payout address (default: the wallet's first address)."
    ),
    threads: int = typer.Option(0, "--threads", min=0, help="PoW threads (0: all cores)."),
    refresh: float = typer.Option(10.0, "--refresh", help="Seconds before a template is rebuilt."),
) -> None:
    """Build templates from chainstate + mempool, search nonces, submit blocks."""
    try:
        params = get_params(network)
    except ValueError as exc:
        fail(str(exc))
    datadir = ctx.obj.datadir
    if address is None:
        try:
            address = Wallet.load(wallet_path(datadir, params), params).address(0)
        except WalletError as exc:
            fail(f"{exc}; or pass --address")
    try:
        payout = decode_address(address, params.hrp).output(0)
    except MalformedInputError as exc:
        fail(f"bad payout address: {exc}")
    chain, mempool = open_node(datadir, params)
    console = Console(stderr=True)
    console.print(
        f"mining {params.name} to {address} from height {chain.height + 1} "
        f"with {threads or os.cpu_count()} thread(s)"
    )
    found = 0
    stats = MiningStats()
    started = time.monotonic()
    try:
        with Live(console=console, refresh_per_second=4, transient=True) as live:
            while blocks == 0 or found < blocks:
                mempool.reload()
                template = build_template(chain, mempool, payout)
                built = time.monotonic()
                tip = chain.tip.hash

                def stale(built: float = built, tip: bytes = tip) -> bool:
                    return time.monotonic() - built > refresh or chain.tip.hash != tip

                def show(s: MiningStats, height: int = template.height, found: int = found) -> None:
                    live.update(
                        f"height {height}  {s.rate / 1e6:8.3f} MH/s  "
                        f"{found} block(s) in {time.monotonic() - started:6.1f} s"
                    )

                block = solve(
                    template,
                    chunk=1 << 20,
                    threads=threads,
                    stats=stats,
                    should_stop=stale,
                    on_progress=show,
                )
                if block is None:
                    continue
                try:
                    chain.submit_block(block)
                except ConsensusError as exc:
                    console.print(f"[red]block rejected: {exc}[/red]")
                    continue
                found += 1
                console.print(
                    f"block {template.height} {display_hash(block.hash())} "
                    f"{len(block.txs) - 1} tx(s) fees {format_amount(template.fees)} FAI "
                    f"{stats.rate / 1e6:.3f} MH/s"
                )
    except KeyboardInterrupt:
        pass
    finally:
        chain.close()
    print(f"mined {found} block(s); tip height {chain.height}")
