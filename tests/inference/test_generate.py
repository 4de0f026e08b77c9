"""Generation: greedy answer, sampling reproducibility, stop strings, limits, Trio streaming,
concurrency with batching, other ONNX directory layouts, bad input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import trio

from funai.errors import FunaiError
from funai.inference import (
    GenerationParamsError,
    InferenceEngine,
    LoadedModel,
    SamplingParams,
    TokenizerError,
    generate,
    generate_many,
    judge,
    load_model,
)
from funai.inference.model import pick_providers
from funai.inference.sampling import Sampler
from tests.inference_fixtures import model, model_dir  # noqa: F401


def chat(m: LoadedModel, q: str) -> str:
    return m.render_chat([{"role": "user", "content": q}])


def test_greedy_capital_of_france(model: LoadedModel) -> None:  # noqa: F811
    out = generate(model, chat(model, "What is the capital of France?"), SamplingParams(40))
    assert "Paris" in out.text
    assert out.finish_reason == "eos"
    assert out.prompt_tokens > 0


def test_same_seed_same_tokens(model: LoadedModel) -> None:  # noqa: F811
    p = SamplingParams(max_tokens=12, temperature=1.0, top_k=50, top_p=0.95, seed=1234)
    prompt = chat(model, "Tell me a story about a cat.")
    a, b = generate(model, prompt, p), generate(model, prompt, p)
    assert a.token_ids == b.token_ids
    others = {generate(model, prompt, p.with_(seed=s)).token_ids for s in range(4)}
    assert len(others) > 1  # the seed matters


def test_max_tokens_and_stop_strings(model: LoadedModel) -> None:  # noqa: F811
    prompt = chat(model, "What is the capital of France?")
    out = generate(model, prompt, SamplingParams(max_tokens=3))
    assert out.finish_reason == "length"
    assert out.completion_tokens == 3
    stopped = generate(model, prompt, SamplingParams(max_tokens=40, stop=("France",)))
    assert stopped.finish_reason == "stop"
    assert "France" not in stopped.text
    assert stopped.text == "The capital of "


def test_streamed_text_never_shows_a_stop_string(model: LoadedModel) -> None:  # noqa: F811
    pieces: list[str] = []
    out = generate(
        model,
        chat(model, "What is the capital of France?"),
        SamplingParams(max_tokens=40, stop=("is Paris",)),
        lambda d, _c: pieces.append(d),
    )
    assert "".join(pieces) == out.text == "The capital of France "


def test_sampler_rules() -> None:
    logits = np.array([1.0, 5.0, 3.0, 4.9], dtype=np.float32)
    assert Sampler(SamplingParams())(logits, []) == 1
    # repetition penalty pushes the seen best token below the next one
    assert Sampler(SamplingParams(repetition_penalty=1.5))(logits, [1]) == 3
    # top_k=1 is greedy whatever the temperature and seed
    assert {
        Sampler(SamplingParams(temperature=2.0, top_k=1, seed=s))(logits, []) for s in range(20)
    } == {1}
    # top_p keeps only the nucleus
    drawn = {
        Sampler(SamplingParams(temperature=1.0, top_p=0.5, seed=s))(logits, []) for s in range(50)
    }
    assert drawn <= {1, 3}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_tokens": 0},
        {"temperature": -1.0},
        {"top_p": 0.0},
        {"top_p": 1.5},
        {"top_k": -1},
        {"repetition_penalty": 0.0},
        {"seed": -1},
        {"stop": ("",)},
        {"temperature": float("nan")},
    ],
)
def test_bad_parameters(kwargs: dict[str, object]) -> None:
    with pytest.raises(GenerationParamsError):
        SamplingParams(**kwargs)  # type: ignore[arg-type]


def test_empty_prompt_is_rejected(model: LoadedModel) -> None:  # noqa: F811
    with pytest.raises(GenerationParamsError):
        generate(model, [], SamplingParams(4))


QUESTIONS = ["What is 2 + 2?", "Name a color.", "What is the capital of France?", "Say hi."]


def test_batched_equals_one_by_one(model: LoadedModel) -> None:  # noqa: F811
    prompts = [model.encode(chat(model, q)) for q in QUESTIONS]
    p = SamplingParams(max_tokens=12)
    alone = [generate(model, ids, p).token_ids for ids in prompts]
    batched = [c.token_ids for c in generate_many(model, prompts, p, max_batch=4)]
    assert batched == alone


def test_trio_concurrent_streams_are_batched(model: LoadedModel) -> None:  # noqa: F811
    engine = InferenceEngine(model, max_batch=4)
    p = SamplingParams(max_tokens=12)
    expected = [generate(model, chat(model, q), p).text for q in QUESTIONS]
    got: dict[int, str] = {}

    async def one(i: int) -> None:
        parts = [d async for d in engine.stream([{"role": "user", "content": QUESTIONS[i]}], p)]
        got[i] = "".join(parts)

    async def main() -> None:
        async with trio.open_nursery() as n:
            for i in range(len(QUESTIONS)):
                n.start_soon(one, i)

    trio.run(main)
    assert [got[i] for i in range(len(QUESTIONS))] == expected
    assert max(engine.batches_seen) > 1 or len(engine.batches_seen) > 1


def test_trio_generate_and_early_close(model: LoadedModel) -> None:  # noqa: F811
    engine = InferenceEngine(model, max_batch=2)

    async def main() -> tuple[str, str]:
        first = ""
        agen = engine.stream("Count: one, two, three,", SamplingParams(max_tokens=50))
        async for d in agen:
            first += d
            break
        await agen.aclose()  # type: ignore[attr-defined]
        done = await engine.generate(
            [{"role": "user", "content": "What is the capital of France?"}], SamplingParams(20)
        )
        return first, done.text

    first, text = trio.run(main)
    assert first
    assert "Paris" in text


def test_optimum_layout_loads(tmp_path: Path, model_dir: Path, model: LoadedModel) -> None:  # noqa: F811
    d = tmp_path / "optimum"
    d.mkdir()
    shutil.copy(model_dir / "model.onnx", d / "decoder_model_merged.onnx")
    try:  # ONNX Runtime refuses external data behind a symlink out of the directory
        os.link(model_dir / "model.onnx.data", d / "model.onnx.data")
    except OSError:
        shutil.copy(model_dir / "model.onnx.data", d / "model.onnx.data")
    for f in ("tokenizer.json", "tokenizer_config.json", "config.json", "generation_config.json"):
        shutil.copy(model_dir / f, d / f)
    other = load_model(d, device="cpu", threads=2)
    assert other.model_id != model.model_id  # no manifest: computed from its own files
    out = generate(other, chat(other, "What is the capital of France?"), SamplingParams(20))
    assert "Paris" in out.text


def test_missing_tokenizer_is_a_clear_error(tmp_path: Path, model_dir: Path) -> None:  # noqa: F811
    d = tmp_path / "notok"
    d.mkdir()
    shutil.copy(model_dir / "config.json", d / "config.json")
    with pytest.raises(TokenizerError):
        load_model(d)
    (d / "tokenizer.json").write_text("{not json")
    with pytest.raises(TokenizerError):
        load_model(d)
    with pytest.raises(FunaiError):
        load_model(tmp_path / "nowhere")


def test_cpu_is_the_fallback() -> None:
    assert pick_providers("cpu") == ["CPUExecutionProvider"]
    assert pick_providers("auto")[-1] == "CPUExecutionProvider"


def _has_cuda() -> bool:
    """The CUDA provider is installed (onnxruntime-gpu) and an NVIDIA device is present."""
    import onnxruntime as ort  # type: ignore[import-untyped]

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return False
    return Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None


@pytest.mark.gpu
@pytest.mark.skipif(not _has_cuda(), reason="no CUDAExecutionProvider or no NVIDIA GPU")
def test_cuda_matches_cpu(model_dir: Path, model: LoadedModel) -> None:  # noqa: F811
    gpu = load_model(model_dir, device="cuda")
    assert gpu.on_cuda
    p = SamplingParams(max_tokens=16)
    prompt = chat(model, "What is the capital of France?")
    assert generate(gpu, prompt, p).text == generate(model, prompt, p).text
    prompts = [model.encode(chat(model, q)) for q in QUESTIONS]
    assert [c.text for c in generate_many(gpu, prompts, p)] == [
        c.text for c in generate_many(model, prompts, p)
    ]


@pytest.mark.gpu
@pytest.mark.skipif(not _has_cuda(), reason="no CUDAExecutionProvider or no NVIDIA GPU")
def test_cuda_cache_stays_on_device_and_judge_matches(model_dir: Path, model: LoadedModel) -> None:  # noqa: F811
    gpu = load_model(model_dir, device="cuda")
    ids = model.encode(chat(model, "Name a colour."))
    n = len(ids)
    args = (np.array([ids]), np.ones((1, n), np.int64), np.arange(n)[None], None)
    logits, cache = gpu.forward(*args, keep=1)
    assert cache.on_device
    assert cache.length == n
    assert logits.shape == (1, 1, gpu.vocab_size)
    cpu_logits, _ = model.forward(*args, keep=1)
    np.testing.assert_allclose(logits, cpu_logits, atol=2e-2, rtol=0)
    step, cache = gpu.forward(
        np.array([[ids[-1]]]), np.ones((1, n + 1), np.int64), np.array([[n]]), cache, keep=1
    )
    assert step.shape == (1, 1, gpu.vocab_size)
    assert cache.on_device
    assert cache.length == n + 1
    g, c = judge(gpu, "What is 2 + 2?", "4"), judge(model, "What is 2 + 2?", "4")
    assert abs(g.loglik - c.loglik) < 1e-2
    assert abs(g.p_yes - c.p_yes) < 1e-2
