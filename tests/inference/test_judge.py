"""The judge: determinism, clear verdicts, thresholds, and quality on the labeled set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from funai.inference import GenerationParamsError, JudgeConfig, LoadedModel, judge
from funai.inference.chat import Message
from funai.inference.judge import evaluate, judge_many
from tests.inference_fixtures import REPO, model, model_dir  # noqa: F401

CASES = Path(__file__).resolve().parents[1] / "data" / "judge_cases.jsonl"
Q = "What is the capital of France?"
A = "The capital of France is Paris."


def test_judge_is_deterministic(model: LoadedModel) -> None:  # noqa: F811
    a, b = judge(model, Q, A), judge(model, Q, A)
    assert a == b
    assert 0.0 <= a.p_yes <= 1.0
    assert a.loglik < 0


def test_judge_accepts_the_models_answer_and_rejects_garbage(model: LoadedModel) -> None:  # noqa: F811
    good = judge(model, Q, A)
    assert good.accept
    bad = judge(model, Q, "purple elephant quantum sandwich drift lollipop")
    assert not bad.accept
    assert bad.loglik < good.loglik - 3


def test_thresholds_are_configurable(model: LoadedModel) -> None:  # noqa: F811
    v = judge(model, Q, A, JudgeConfig(p_yes_threshold=1.0))
    assert not v.accept
    assert not v.accept_p_yes
    assert v.accept_loglik
    v = judge(model, Q, A, JudgeConfig(loglik_threshold=-0.01))
    assert not v.accept
    assert not v.accept_loglik
    with pytest.raises(GenerationParamsError):
        JudgeConfig(p_yes_threshold=1.5)
    with pytest.raises(GenerationParamsError):
        JudgeConfig(loglik_threshold=1.0)


def test_batched_judging_equals_one_by_one(model: LoadedModel) -> None:  # noqa: F811
    chat: list[Message] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": Q},
    ]
    items: list[tuple[str | list[Message], str, bool]] = [
        (Q, A, True),
        ("What is 2 + 2?", "The answer to this classic math problem is 4.", True),
        (Q, "purple elephant quantum", True),
        (chat, "Paris.", False),
    ]
    alone = [judge(model, r, s, complete=c) for r, s, c in items]
    batched = judge_many(model, items, batch_size=4)
    assert len(batched) == len(items)
    for a, b in zip(alone, batched, strict=True):
        assert a.accept == b.accept
        assert a.response_tokens == b.response_tokens
        assert abs(a.loglik - b.loglik) < 1e-3
        assert abs(a.p_yes - b.p_yes) < 1e-3
    assert alone[3].response_tokens == len(model.encode("Paris."))  # complete=False: no end token
    with pytest.raises(GenerationParamsError):
        judge_many(model, items, batch_size=0)


def test_truncation_lowers_the_score(model: LoadedModel) -> None:  # noqa: F811
    full = judge(model, Q, A)
    cut = judge(model, Q, "The capital of France")
    assert cut.loglik < full.loglik


def test_labeled_set_is_well_formed() -> None:
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    assert len(cases) >= 60
    cats = {c["category"] for c in cases}
    assert {"model-greedy", "other-question", "truncated", "edited", "random"} <= cats
    assert {"other-model", "shuffled"} <= cats
    assert all(isinstance(c["label"], bool) for c in cases)


def _documented_floor() -> float:
    text = (REPO / "docs" / "judge.md").read_text()
    m = re.search(r"combined-accuracy-floor:\s*([0-9.]+)", text)
    assert m, "docs/judge.md must state the combined accuracy floor"
    return float(m.group(1))


@pytest.mark.slow
def test_judge_quality_does_not_regress(model: LoadedModel) -> None:  # noqa: F811
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    ev = evaluate(model, cases)
    floor = _documented_floor()
    assert ev.combined.accuracy >= floor, ev.combined
    # the likelihood score must carry the verdict: random and shuffled text always rejected
    for c, v in zip(cases, ev.verdicts, strict=True):
        if c["category"] in ("random", "shuffled"):
            assert not v.accept, c
