"""Helpers shared by the CLI commands: errors and exit codes, JSON and colored output.

Exit codes (docs/cli.md): ``EXIT_OK`` 0 success; ``EXIT_FAILURE`` 1 a negative answer or a
failed operation (invalid proof or header, verification failed, insufficient funds, node
unreachable); ``EXIT_USAGE`` 2 usage errors and malformed input (typer uses 2 for its own
usage errors too); ``EXIT_INTERRUPTED`` 130 after Ctrl-C.

Human output goes through rich: colored on a terminal, plain text (no ANSI escapes) in a
pipe or a file, and plain when ``NO_COLOR`` is set. Machine output (``--json``) is one JSON
object on stdout; errors stay one line on stderr.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from funai.errors import FunaiError, MalformedInputError

DEFAULT_DATADIR = Path("~/.funai")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: The ``--json`` option of every command that has one.
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout.")


@dataclass(frozen=True)
class CliState:
    """What the root command hands to its subcommands."""

    datadir: Path


def console(*, stderr: bool = False) -> Console:
    """A console on the *current* stdout/stderr (so test runners and redirections are seen):
    colors only on a terminal, none under ``NO_COLOR``; no markup or highlighting of the
    text, no wrapping of long lines."""
    return Console(stderr=stderr, highlight=False, markup=False, soft_wrap=True, emoji=False)


def echo(text: str = "", style: str | None = None, *, err: bool = False) -> None:
    """Prints one line, in ``style`` on a terminal and as plain text otherwise."""
    console(stderr=err).print(Text(text, style=style or ""))


def echo_parts(*parts: tuple[str, str | None], err: bool = False) -> None:
    """Prints one line made of ``(text, style)`` pieces (style None: plain)."""
    line = Text()
    for text, style in parts:
        line.append(text, style=style or "")
    console(stderr=err).print(line)


def print_json(data: Any) -> None:
    """The ``--json`` output: one JSON object (or list) on one line of stdout."""
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """A one-line ``warning: ...`` on stderr."""
    echo_parts(("warning:", "bold yellow"), (f" {message}", None), err=True)


def parse_hex(value: str, what: str, code: int = EXIT_USAGE) -> bytes:
    """Decodes a hex command-line argument or exits with a one-line error (exit ``code``)."""
    text = value.strip()
    if text.startswith(("0x", "0X")):
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        fail(f"{what} is not valid hex: {value!r}", code)


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Prints a one-line ``error: ...`` to stderr and exits with ``code``."""
    echo_parts(("error:", "bold red"), (f" {message}", None), err=True)
    raise typer.Exit(code)


def exit_code_for(exc: BaseException) -> int:
    """The exit code of an error: malformed input is 2, every other failure 1."""
    return EXIT_USAGE if isinstance(exc, MalformedInputError) else EXIT_FAILURE


def fail_with(exc: FunaiError, prefix: str = "") -> NoReturn:
    """``fail`` for an error raised by the library, with the exit code of its kind."""
    fail(f"{prefix}{exc}", exit_code_for(exc))
