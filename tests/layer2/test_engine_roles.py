"""The executor and verifier roles with the real default model (CPU): an honest answer is
accepted, garbage and edited answers are rejected."""

from __future__ import annotations

import math

from inference_fixtures import model, model_dir  # noqa: F401
from l2kit import MODEL

from funai.inference import LoadedModel
from funai.layer2.judging import engine_generate, engine_judge, scores_to_verdict
from funai.layer2.transactions import InferenceContent


def test_scores_to_verdict_integers() -> None:
    v = scores_to_verdict(True, 0.4321234, -1.2346)
    assert (v.accept, v.p_yes_ppm, v.loglik_milli) == (True, 432123, -1235)
    v = scores_to_verdict(False, float("nan"), -math.inf)
    assert v.p_yes_ppm == 0
    assert v.loglik_milli == -(2**62)


def test_engine_executes_and_judges(model: LoadedModel) -> None:  # noqa: F811
    gen = engine_generate(model)
    judge = engine_judge(model)
    question = "What is the capital of France?"
    answer = gen(MODEL, question, "", "")
    assert answer.strip()
    assert gen(MODEL, question, "", "") == answer  # greedy: deterministic
    assert judge(MODEL, InferenceContent(question, answer)).accept
    garbage = "purple elephant quantum sandwich drift lollipop"
    assert not judge(MODEL, InferenceContent(question, garbage)).accept
