"""Starting a real ``funai node`` process for multi-process tests (shared by the suites)."""

from __future__ import annotations

import signal
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


def stop_node(proc: subprocess.Popen[bytes]) -> int:
    """Stops a node process: SIGTERM, then SIGKILL after 20 s; returns its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
