"""The ``funai`` command line.

Every command has ``--help``; commands that keep state use a data directory
(``~/.funai`` by default, ``--datadir`` or ``FUNAI_DATADIR`` to change).
"""

from __future__ import annotations

from pathlib import Path

import typer

from funai.cli.common import DEFAULT_DATADIR, CliState

app = typer.Typer(
    name="funai",
    help="FUN AI node: proof-of-work ledger, proof-of-inference chain, LLM inference.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
