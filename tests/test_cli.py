"""The command line as a user meets it: every command answers --help, the data directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from funai.cli import app

runner = CliRunner()


def _command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        # typer may ship its own copy of click: look for subcommands by duck typing
        paths.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return paths


COMMANDS = _command_paths()


def test_expected_commands_exist() -> None:
    names = {" ".join(p) for p in COMMANDS}
    for expected in ("bench pow", "vrf prove", "vrf verify", "keys sign", "keys verify", "demo"):
        assert expected in names, sorted(names)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "funai")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert "--help" in result.output


def test_datadir_option_is_global() -> None:
    result = runner.invoke(app, ["--help"])
    assert "--datadir" in result.output
    assert "~/.funai" in result.output


def test_unknown_command_fails() -> None:
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code != 0


def test_console_script_runs(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "funai"
    out = subprocess.run(
        [str(exe), "--datadir", str(tmp_path), "--help"], capture_output=True, text=True, check=True
    )
    assert "FUN AI node" in out.stdout
