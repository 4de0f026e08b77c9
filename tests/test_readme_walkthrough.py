"""The README's walkthrough, run with its own commands: after ``make demo`` (here: the model
copied where ``make model`` converts it, ``~/.funai/models`` of a fresh HOME), ``funai infer``
answers, ``funai devnet --l2`` prints "ready:", and the README's openai snippet, run verbatim
(only the base URL changed when port 29634 is taken on this machine), gets an answer with an
inference transaction."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.inference_fixtures import model_cache, model_dir  # noqa: F401
from tests.layer2.devnet_cli import CLI, copy_model, devnet_cli

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[1] / "README.md"


def _walkthrough() -> tuple[list[str], str]:
    """The walkthrough's ``funai`` commands and its python snippet."""
    text = README.read_text()
    section = text.split("### Walkthrough", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    sh = next(body for lang, body in blocks if lang == "sh")
    py = next(body for lang, body in blocks if lang == "python")
    commands = [
        line.split("  #")[0].strip() for line in sh.splitlines() if line.startswith("funai ")
    ]
    return commands, py


def _ports_free(first: int, count: int) -> bool:
    for port in range(first, first + count):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def test_readme_walkthrough(tmp_path: Path, model_dir: Path) -> None:  # noqa: F811
    commands, snippet = _walkthrough()
    assert [c.split()[1] for c in commands] == ["infer", "devnet"]
    assert "make demo" in README.read_text().split("### Walkthrough", 1)[1][:400]
    home = tmp_path / "home"
    copy_model(model_cache(), home / ".funai" / "models")
    # a fresh user: no FUNAI_* variables, the model only where `make model` puts it
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FUNAI_")}
    clean["HOME"] = str(home)

    infer = shlex.split(commands[0])[1:]
    r = subprocess.run(
        [sys.executable, "-c", CLI, *infer], env=clean, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert "Paris" in r.stdout

    devnet = shlex.split(commands[1])[1:]
    verbatim = _ports_free(29634, 8)
    if not verbatim:
        devnet += ["--api-port", "0"]
    with devnet_cli(devnet, env=clean) as out:
        out.until(lambda line: "never use them on main" in line, 300)
        out.until(lambda line: line.startswith("ready:"), 600)
        base = out.until(lambda line: line.startswith("OpenAI base URL"), 10).split()[3]
        base = base.rstrip(",")
        if verbatim:
            assert base == "http://127.0.0.1:29634/v1"
        code = snippet.replace("http://127.0.0.1:29634/v1", base)
        r = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
        )
        assert r.returncode == 0, r.stderr
        assert re.search(r"[0-9a-f]{64}$", r.stdout.strip()), r.stdout
