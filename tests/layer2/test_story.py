"""The narrated in-process story (what ``funai demo`` shows) gives the expected summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from l2kit import fake_judge, good_answer, good_text

from funai.layer2.story import DEMO_MODEL, run_story


def test_story_summary(tmp_path: Path) -> None:
    steps: list[tuple[str, dict[str, Any]]] = []
    out = run_story(
        tmp_path,
        generate=good_answer,
        judge=fake_judge,
        on_step=lambda title, details: steps.append((title, details)),
    )
    json.dumps(out)  # JSON-ready
    assert out["response"] == good_text(DEMO_MODEL, "What is the capital of France?")
    assert out["votes_accept"] == 5
    assert out["finalized"] is True
    assert out["confirmed"] is True
    assert out["reclaimed"] is True
    assert out["state_roots_agree"] is True
    assert out["anchor_l1_height"] is not None
    assert out["l2_height"] >= 1
    assert [s[0] for s in steps] == [
        "registration",
        "peg-in",
        "election",
        "bond",
        "request",
        "l2 block and votes",
        "anchor",
        "confirmation and reclamation",
    ]
