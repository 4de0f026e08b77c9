"""The executor and verifier roles with the real default model (CPU): honest answers, greedy or
sampled at temperature 1.0, are accepted; garbage, edited, truncated and other-seed answers are
rejected (rules ``content-tokens``, ``replay-token``, ``replay-stop``, ``inference-seed``)."""

from __future__ import annotations

import json
import math

import pytest

from funai.inference import LoadedModel
from funai.layer2.judging import engine_generate, engine_judge, scores_to_verdict
from funai.layer2.request_params import RequestParams
from funai.layer2.transactions import InferenceContent
from funai.testing.cluster import MODEL
from tests.inference_fixtures import model, model_dir  # noqa: F401

QUESTION = "What is the capital of France?"


def test_scores_to_verdict_integers() -> None:
    v = scores_to_verdict(True, 0.4321234, -1.2346)
    assert (v.accept, v.p_yes_ppm, v.loglik_milli) == (True, 432123, -1235)
    v = scores_to_verdict(False, float("nan"), -math.inf)
    assert v.p_yes_ppm == 0
    assert v.loglik_milli == -(2**62)


def test_engine_executes_and_judges_greedy(model: LoadedModel) -> None:  # noqa: F811
    gen = engine_generate(model)
    judge = engine_judge(model, score=False)
    asked = InferenceContent(QUESTION, "", params=RequestParams(max_tokens=24))
    answer = gen(MODEL, asked, 1)
    assert answer.output.strip()
    assert answer.request_only() == asked
    assert gen(MODEL, asked, 2) == answer  # greedy: the seed does not matter
    assert judge(MODEL, answer, 1).accept
    garbage = "purple elephant quantum sandwich drift lollipop"
    assert not judge(MODEL, asked.answered(garbage, (), answer.finish), 1).accept


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_sampled_answers_accepted_edits_rejected(model: LoadedModel, seed: int) -> None:  # noqa: F811
    gen = engine_generate(model)
    judge = engine_judge(model, score=False)
    params = RequestParams(max_tokens=20, temperature_ppm=1_000_000)
    asked = InferenceContent(QUESTION, "", params=params)
    answer = gen(MODEL, asked, seed)
    assert judge(MODEL, answer, seed).accept  # an honest answer at temperature 1.0
    toks = list(answer.tokens)
    assert len(toks) >= 2
    # one token edited (the output re-decoded so rule content-tokens holds)
    edited = [*toks]
    edited[len(toks) // 2] = (edited[len(toks) // 2] + 17) % model.vocab_size
    text = model.decode(edited)
    assert not judge(MODEL, asked.answered(text, tuple(edited), answer.finish), seed).accept
    # truncated: cut early but claiming it ended by itself
    short = toks[: len(toks) // 2]
    assert not judge(MODEL, asked.answered(model.decode(short), tuple(short), "eos"), seed).accept
    # tokens that do not decode to the output shown
    assert not judge(
        MODEL, asked.answered(answer.output + "!", answer.tokens, answer.finish), seed
    ).accept
    # the answer checked against another seed (drawn with another one)
    assert not judge(MODEL, answer, seed + 1000).accept


def test_chat_context_and_raw_completion(model: LoadedModel) -> None:  # noqa: F811
    gen = engine_generate(model)
    judge = engine_judge(model, score=False)
    context = json.dumps(
        [
            {"content": "Hi", "role": "user"},
            {"content": "Hello! How can I help?", "role": "assistant"},
        ],
        separators=(",", ":"),
        sort_keys=True,
    )
    params = RequestParams(max_tokens=12, temperature_ppm=700_000, top_p_ppm=900_000)
    chat = InferenceContent("Name a fruit.", "", context, "Be brief.", params)
    a = gen(MODEL, chat, 5)
    assert judge(MODEL, a, 5).accept
    raw = InferenceContent(
        "The capital of France is", "", params=RequestParams(max_tokens=8, raw=True)
    )
    b = gen(MODEL, raw, 5)
    assert judge(MODEL, b, 5).accept
    # the same answer claimed for the chat form of the prompt is a different request
    as_chat = InferenceContent(
        raw.input, b.output, params=RequestParams(max_tokens=8), tokens=b.tokens, finish=b.finish
    )
    assert not judge(MODEL, as_chat, 5).accept
    # a raw completion has no context or system prompt
    bad = InferenceContent("x", "", "ctx", "", RequestParams(max_tokens=8, raw=True))
    assert not judge(MODEL, bad.answered("", (), "eos"), 5).accept
