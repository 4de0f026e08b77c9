"""``funai mine``: mine blocks on the local chainstate (devnet by default).

Progress goes to stderr; stdout gets a one-line summary (or one JSON object with --json).
Ctrl-C stops mining: the summary is still printed, and the exit code is 130.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import typer
from rich.live import Live

from funai.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    JSON_OPTION,
    console,
    fail,
    print_json,
)
from funai.errors import MalformedInputError
from funai.ledger.address import decode_address
from funai.ledger.datadir import format_amount, open_node, wallet_path
from funai.ledger.errors import ConsensusError
from funai.ledger.header import display_hash
from funai.ledger.miner import MiningStats, build_template, solve, too_early
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
    backend: str = typer.Option(
        "auto",
        "--backend",
        "-b",
        help="SHA-256d kernel (sha-ni, avx512, avx2, scalar); auto: the fastest, measured "
        "once per CPU model and cached in <datadir>/pow-kernel.json.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Build templates from chainstate + mempool, search nonces, submit blocks.

    Ctrl-C stops mining: the summary is still printed, then exit 130.
    --json fields: network, address, found, height, tip, interrupted,
    blocks (each: height, hash, txs, fees).
    """
    try:
        params = get_params(network)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    datadir = ctx.obj.datadir
    if address is None:
        try:
            address = Wallet.load(wallet_path(datadir, params), params).address(0)
        except WalletError as exc:
            fail(f"{exc}; or pass --address")
    try:
        payout = decode_address(address, params.hrp).output(0)
    except MalformedInputError as exc:
        fail(f"bad payout address: {exc}", EXIT_USAGE)
    from funai.pow_choice import choose_backend

    try:
        kernel = choose_backend(datadir, backend)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    chain, mempool = open_node(datadir, params)
    err = console(stderr=True)  # progress and logs: one line per block, even in a pipe
    measured = ", ".join(f"{k} {v / 1e6:.1f}" for k, v in kernel.rates.items())
    err.print(
        f"mining {params.name} to {address} from height {chain.height + 1} "
        f"with {threads or os.cpu_count()} thread(s), kernel {kernel.backend} ({kernel.source}"
        + (f"; M nonces/s on 1 thread: {measured}" if measured else "")
        + ")"
    )
    found = 0
    mined: list[dict[str, object]] = []
    interrupted = False
    stats = MiningStats()
    started = time.monotonic()
    # Ctrl-C sets this flag; the loop stops at its next check (the search stops within a
    # chunk, a block being stored is stored whole). A KeyboardInterrupt raised anywhere could
    # be swallowed by a C extension (cbor2's encoder reports it as "Exception ignored") and
    # the miner would go on. A second Ctrl-C raises at once.
    interrupt = threading.Event()

    def on_sigint(signum: int, frame: object) -> None:
        if interrupt.is_set():
            raise KeyboardInterrupt
        interrupt.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with Live(console=err, refresh_per_second=4, transient=True) as live:
            while blocks == 0 or found < blocks:
                if interrupt.is_set():
                    raise KeyboardInterrupt
                mempool.reload()
                template = build_template(chain, mempool, payout)
                wait = too_early(template, chain)
                if wait:  # the block times ran 2 h ahead of the clock (rule time-too-new)
                    live.update(
                        f"height {template.height}: waiting {wait} s for the clock "
                        "(block times may be at most 2 h ahead)"
                    )
                    time.sleep(min(wait, 1.0))
                    continue
                built = time.monotonic()
                tip = chain.tip.hash

                def stale(built: float = built, tip: bytes = tip) -> bool:
                    return (
                        interrupt.is_set()
                        or time.monotonic() - built > refresh
                        or chain.tip.hash != tip
                    )

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
                    backend=kernel.backend,
                )
                if block is None:
                    continue
                try:
                    chain.submit_block(block)
                except ConsensusError as exc:
                    err.print(f"block rejected: {exc}", style="red", markup=False)
                    continue
                found += 1
                mined.append(
                    {
                        "height": template.height,
                        "hash": display_hash(block.hash()),
                        "txs": len(block.txs) - 1,
                        "fees": template.fees,
                    }
                )
                err.print(
                    f"block {template.height} {display_hash(block.hash())} "
                    f"{len(block.txs) - 1} tx(s) fees {format_amount(template.fees)} FAI "
                    f"{stats.rate / 1e6:.3f} MH/s"
                )
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGINT, previous)
        height, tip_shown = chain.height, display_hash(chain.tip.hash)
        chain.close()
    if as_json:
        print_json(
            {
                "network": params.name,
                "address": address,
                "found": found,
                "height": height,
                "tip": tip_shown,
                "interrupted": interrupted,
                "blocks": mined,
            }
        )
    else:
        print(f"mined {found} block(s); tip height {height}")
    if interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
