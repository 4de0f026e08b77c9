"""`funai demo` (what `make demo` runs) works end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.inference_fixtures import model_cache, model_dir  # noqa: F401


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path, model_dir: Path) -> None:  # noqa: F811
    exe = Path(sys.executable).parent / "funai"
    env = {**os.environ, "FUNAI_MODEL_CACHE": str(model_dir.parent), "COLUMNS": "120"}
    out = subprocess.run(
        [str(exe), "--datadir", str(tmp_path), "demo", "--blocks", "2", "--work-bits", "12"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=True,
    ).stdout
    assert "checked by hashlib" in out
    assert "verifies: True; on a tampered message: False" in out
    assert "all 3 nodes agree on the tip" in out
    assert "Paris" in out
    assert "judge on the answer: accept=True" in out
    assert "judge on a wrong answer: accept=False" in out
    assert "The inference layer" in out
    assert "reclaimed: True" in out
    assert "demo finished" in out


@pytest.mark.slow
def test_demo_json_lifecycle(tmp_path: Path, model_dir: Path) -> None:  # noqa: F811
    exe = Path(sys.executable).parent / "funai"
    env = {**os.environ, "FUNAI_MODEL_CACHE": str(model_dir.parent)}
    out = subprocess.run(
        [str(exe), "--datadir", str(tmp_path), "demo", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=True,
    ).stdout
    summary = json.loads(out)
    for key in ("response", "l2_height", "votes_accept", "anchor_l1_height"):
        assert key in summary
    assert "Paris" in summary["response"]
    assert summary["votes_accept"] >= 3
    assert summary["l2_height"] >= 1
    assert summary["finalized"] is True
    assert summary["confirmed"] is True
    assert summary["reclaimed"] is True
    # separate processes: the miner, five verifiers and two inference nodes all saw it
    assert summary["nodes"] == 8
    assert summary["accepted"] is True
    assert summary["state_roots_agree"] is True
    assert summary["gas"] > 0  # the client paid per token
