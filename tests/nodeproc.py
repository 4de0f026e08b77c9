"""Starting a real ``funai node`` process for multi-process tests (shared by the suites)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def spawn_node(
    datadir: Path, network: str, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Runs ``funai --datadir DATADIR node`` with ``<datadir>/<network>/node.toml``; its
    output is appended to ``<datadir>/<network>/stderr.log``."""
    netdir = datadir / network
    with open(netdir / "stderr.log", "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from funai.cli import main; main()",
                "--datadir",
                str(datadir),
                "node",
                "--network",
                network,
                "--config",
                str(netdir / "node.toml"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=None if env is None else dict(env),
        )
