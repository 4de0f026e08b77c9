"""Runs ``funai devnet`` as a user does (a subprocess) and reads its output line by line."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CLI = "from funai.cli import main; main()"


class Lines:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.seen: list[str] = []
        self.q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def until(self, predicate: object, timeout: float) -> str:
        """The first line for which ``predicate(line)`` holds (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError("funai devnet exited:\n" + "\n".join(self.seen[-40:]))
            self.seen.append(line)
            if predicate(line):  # type: ignore[operator]
                return line
        raise AssertionError("timed out; output so far:\n" + "\n".join(self.seen[-40:]))


@contextmanager
def devnet_cli(args: list[str], env: dict[str, str] | None = None) -> Iterator[Lines]:
    """``funai ARGS`` running; ``env`` replaces the environment when given."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ) if env is None else env,
    )
    lines = Lines(proc)
    try:
        yield lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    assert code == 0, "\n".join(lines.seen[-40:])


def copy_model(models: Path, target_models: Path) -> None:
    """The converted default model copied into another data directory's model store."""
    import shutil

    from funai.inference.defaults import DEFAULT_MODEL

    target_models.mkdir(parents=True, exist_ok=True)
    shutil.copytree(models / DEFAULT_MODEL, target_models / DEFAULT_MODEL)
