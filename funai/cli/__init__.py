"""The ``funai`` command line.

Every command has ``--help``; commands that keep state use a data directory
(``~/.funai`` by default, ``--datadir`` or ``FUNAI_DATADIR`` to change).
"""

from __future__ import annotations

from pathlib import Path

import typer

from funai.cli import apikey, bench, clarity, headers, keys, mine, vrf, wallet
from funai.cli import devnet as devnet_cli
from funai.cli import node as node_cli
from funai.cli import status as status_cli
from funai.cli.bench_inference import bench_inference
from funai.cli.common import DEFAULT_DATADIR, CliState
from funai.cli.demo import demo
from funai.cli.infer import infer
from funai.cli.judge import judge
from funai.cli.model import app as model_app
from funai.cli.security import security

app = typer.Typer(
    name="funai",
    help="FUN AI node: proof-of-work ledger, proof-of-inference chain, LLM inference.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench.app.command("inference")(bench_inference)
app.add_typer(bench.app, name="bench")
app.add_typer(clarity.app, name="clarity")
app.add_typer(vrf.app, name="vrf")
app.add_typer(keys.app, name="keys")
app.add_typer(headers.app, name="headers")
app.add_typer(wallet.app, name="wallet")
app.command("mine")(mine.mine)
app.add_typer(model_app, name="model")
app.command("infer")(infer)
app.command("judge")(judge)
app.command("demo")(demo)
app.command("node")(node_cli.node)
app.command("devnet")(devnet_cli.devnet)
app.command("status")(status_cli.status)
app.command("security")(security)
app.add_typer(apikey.app, name="api-key")


@app.callback()
def _root(
    ctx: typer.Context,
    datadir: Path = typer.Option(
        DEFAULT_DATADIR,
        "--datadir",
        envvar="FUNAI_DATADIR",
        help="Data directory for chain state, keys and models.",
        show_default=True,
    ),
) -> None:
    ctx.obj = CliState(datadir=datadir.expanduser())


def main() -> None:
    """Entry point of the ``funai`` script."""
    app()
