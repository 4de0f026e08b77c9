"""``funai security``: whitepaper section 11 figures next to the exact attacker race."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from funai.cli.common import fail
from funai.security import plot_success, security_report


def security(
    attacker_share: float = typer.Option(
        0.1, "--attacker-share", "-q", help="Attacker's share of ledger hash rate (H_a/H_L)."
    ),
    confirmations: int = typer.Option(6, "--confirmations", "-z", help="Confirmations z."),
    cycles: int = typer.Option(1, "--cycles", "-k", help="Attack cycles k."),
    tx_cost: float = typer.Option(0.0001, "--tx-cost", help="Ledger transfer fee C_tx."),
    inference_share: float | None = typer.Option(
        None, "--inference-share", help="Attacker share M_a of PoI miners (default: q)."
    ),
    ledger_fork: float | None = typer.Option(
        None, "--ledger-fork", help="P_fork_L (default: the exact success probability)."
    ),
    trials: int = typer.Option(100_000, "--trials", help="Monte-Carlo trials (<= 10^7)."),
    seed: int = typer.Option(0, "--seed", help="Monte-Carlo seed."),
    max_z: int = typer.Option(10, "--max-z", help="Last z of the table."),
    plot: Path | None = typer.Option(
        None, "--plot", help="Write a PNG of success probability vs share and confirmations."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Attack cost, attacker success (paper vs Nakamoto vs exact vs Monte Carlo), fork odds."""
    try:
        report = security_report(
            attacker_share,
            confirmations,
            cycles=cycles,
            tx_cost=tx_cost,
            inference_attacker_share=inference_share,
            ledger_fork_probability=ledger_fork,
            trials=trials,
            seed=seed,
            table_z=range(max(0, min(max_z, 1000)) + 1),
        )
    except ValueError as exc:
        fail(str(exc), 2)
    data = report.to_dict()
    if plot is not None:
        data["plot"] = str(plot_success(plot))
    if as_json:
        print(json.dumps(data))
        return
    console = Console()
    summary = Table(show_header=False, box=None)
    q, z = report.attacker_hash_share, report.confirmations
    rows = [
        ("attacker hash share q", f"{q:g}"),
        ("confirmations z", str(z)),
        ("C_attack = k*C_tx*M_a", f"{report.attack_cost:.8g}"),
        ("P_success paper (q^z e^-2z)", f"{report.paper_success:.7g}"),
        ("P_success Nakamoto (Poisson)", f"{report.nakamoto_success:.7g}"),
        ("P_success exact (neg. binomial)", f"{report.exact_success:.7g}"),
        (
            "P_success Monte Carlo",
            f"{report.monte_carlo_success:.7g} ± {report.monte_carlo_stderr:.2g} "
            f"({report.monte_carlo_trials} trials, seed {report.seed})",
        ),
        ("P_fork_L", f"{report.ledger_fork_probability:.7g}"),
        ("P_fork_P = P_fork_L*(1-M_h)", f"{report.inference_fork_probability:.7g}"),
    ]
    for key, value in rows:
        summary.add_row(key, value)
    if "plot" in data:
        summary.add_row("plot", data["plot"])
    console.print(summary)
    table = Table(title=f"attacker success vs z (q={q:g})")
    for col in ("z", "paper", "Nakamoto", "exact", "paper/exact"):
        table.add_column(col, justify="right")
    for row in report.table:
        ratio = row["paper"] / row["exact"] if row["exact"] > 0 else float("nan")
        table.add_row(
            str(int(row["z"])),
            f"{row['paper']:.4g}",
            f"{row['nakamoto']:.7f}",
            f"{row['exact']:.7f}",
            f"{ratio:.3g}",
        )
    console.print(table)
