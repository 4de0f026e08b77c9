"""The ``funai`` command line.

Every command has ``--help``; commands that keep state use a data directory
(``~/.funai`` by default, ``--datadir`` or ``FUNAI_DATADIR`` to change). Exit codes, the
``--json`` outputs and colors are described in docs/cli.md (helpers in
:mod:`funai.cli.common`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from funai.cli import apikey, ban, bench, clarity, headers, keys, mine, vrf, wallet
from funai.cli import devnet as devnet_cli
from funai.cli import node as node_cli
from funai.cli import status as status_cli
from funai.cli.bench_inference import bench_inference
from funai.cli.common import (
    DEFAULT_DATADIR,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    CliState,
    echo,
    fail,
    fail_with,
)
from funai.cli.demo import demo
from funai.cli.infer import infer
from funai.cli.judge import judge
from funai.cli.model import app as model_app
from funai.cli.security import security
from funai.cli.verify import verify
from funai.errors import FunaiError


class _Root(TyperGroup):
    """The root command: turns what a command lets escape into a one-line error and an exit
    code (docs/cli.md), never a traceback. Ctrl-C exits 130 after a short message; a
    ``FunaiError`` exits 2 for malformed input and 1 otherwise, as does an ``OSError``."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            echo("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except FunaiError as exc:
            fail_with(exc)
        except BrokenPipeError:
            raise  # the reader went away (`funai ... | head`): typer exits quietly
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}", EXIT_FAILURE)


app = typer.Typer(
    cls=_Root,
    name="funai",
    help="FUN AI node: proof-of-work ledger, proof-of-inference chain, LLM inference.",
    epilog="Exit codes: 0 success, 1 a negative answer or a failed operation, 2 usage "
    "error or malformed input, 130 interrupted (Ctrl-C). --json prints one JSON object on "
    "stdout; errors are one line on stderr. See docs/cli.md.",
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
app.command("verify")(verify)
app.command("demo")(demo)
app.command("node")(node_cli.node)
app.command("devnet")(devnet_cli.devnet)
app.command("status")(status_cli.status)
app.command("security")(security)
app.add_typer(apikey.app, name="api-key")
app.add_typer(ban.app, name="ban")


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
    try:
        app()
    except KeyboardInterrupt:  # outside a command (argument parsing, start-up)
        echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
