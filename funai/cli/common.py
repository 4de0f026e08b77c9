"""Helpers shared by the CLI commands."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import typer

DEFAULT_DATADIR = Path("~/.funai")


@dataclass(frozen=True)
class CliState:
    """What the root command hands to its subcommands."""

    datadir: Path


def parse_hex(value: str, what: str, code: int = 2) -> bytes:
    """Decodes a hex command-line argument or exits with a one-line error (exit ``code``)."""
    text = value.strip()
    if text.startswith(("0x", "0X")):
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        fail(f"{what} is not valid hex: {value!r}", code)


def fail(message: str, code: int = 1) -> NoReturn:
    """Prints a one-line error to stderr and exits with ``code``."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)
