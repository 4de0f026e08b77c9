"""Replay verification of seeded sampling (funai/inference/replay.py): honest answers, at any
temperature, batched or not, are accepted; an edited token, a truncated answer, an answer
drawn with another seed or another set of parameters are refused."""

from __future__ import annotations

import pytest

from funai.inference import LoadedModel, SamplingParams, generate, generate_many
from funai.inference.replay import replay
from funai.inference.sampling import draw
from tests.inference_fixtures import model, model_dir  # noqa: F401

PROMPTS = [
    "What is the capital of France?",
    "Translate 'thank you' into Spanish.",
    "Write one sentence about the sea.",
    "Name three prime numbers.",
]
SETTINGS = [(0.0, 1.0, 0), (0.7, 0.9, 0), (1.0, 1.0, 0), (1.0, 0.95, 40)]


def _prompt(m: LoadedModel, q: str) -> list[int]:
    return m.encode(m.render_chat([{"role": "user", "content": q}]))


def test_draw_is_counter_based() -> None:
    assert draw(7, 3) == draw(7, 3)
    assert len({draw(7, i) for i in range(100)}) == 100
    assert all(0.0 <= draw(s, i) < 1.0 for s in (0, 2**63) for i in range(50))


@pytest.mark.parametrize(("temperature", "top_p", "top_k"), SETTINGS)
def test_honest_answers_are_accepted(
    model: LoadedModel,  # noqa: F811
    temperature: float,
    top_p: float,
    top_k: int,
) -> None:
    for i, q in enumerate(PROMPTS):
        params = SamplingParams(40, temperature, top_k, top_p, seed=9000 + i)
        out = generate(model, _prompt(model, q), params)
        assert out.finish_reason in ("eos", "length")
        got = replay(model, _prompt(model, q), out.token_ids, params, out.finish_reason)
        assert got.accept, (q, out.text, got)
        assert got.matched == got.tokens


def test_batched_generation_replays_too(model: LoadedModel) -> None:  # noqa: F811
    params = [SamplingParams(32, 1.0, top_p=0.9, seed=77 + i) for i in range(len(PROMPTS))]
    outs = generate_many(model, [_prompt(model, q) for q in PROMPTS], params)
    for q, p, out in zip(PROMPTS, params, outs, strict=True):
        got = replay(model, _prompt(model, q), out.token_ids, p, out.finish_reason)  # type: ignore[arg-type]
        assert got.accept, (q, got)


def test_edits_other_seeds_and_truncation_are_refused(model: LoadedModel) -> None:  # noqa: F811
    q = "Write one sentence about the sea."
    params = SamplingParams(40, 1.0, top_p=0.95, seed=4242)
    prompt = _prompt(model, q)
    out = generate(model, prompt, params)
    ids = list(out.token_ids)
    assert len(ids) > 6
    edited = list(ids)
    edited[len(ids) // 2] = model.encode(" purple")[0]
    bad = replay(model, prompt, edited, params, "eos")
    assert not bad.accept
    assert bad.rule == "replay-token"
    assert bad.first_mismatch == len(ids) // 2
    assert not replay(model, prompt, ids, params.with_(seed=4243), "eos").accept
    assert not replay(model, prompt, ids, params.with_(temperature=0.5), "eos").accept
    cut = replay(model, prompt, ids[:-3], params, "eos")  # cut early: EOS is not the draw
    assert not cut.accept
    assert cut.rule == "replay-stop"
