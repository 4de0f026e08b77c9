"""Inference benchmarks: time to first token / prefill, decode at batch 1, 4 and 8, judge
latency, for the default (int4) and the float32 export; baselines in the same run:
onnxruntime-genai on the same int4 ONNX graph (loaded through the ``genai_config.json`` the
converter writes) and llama-cpp-python on the original GGUF (skipped cleanly when not
installed). Decode rates go to ``extra_info["decode_tok_s"]`` (medians of the rounds)."""

from __future__ import annotations

import importlib.util
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from funai.inference import LoadedModel, SamplingParams, generate_many, judge, load_model
from tests.inference_fixtures import gguf_path, model, model_dir, model_dir_fp32, model_fp32  # noqa: F401

N = 32
ROUNDS = 5


def _prompt(m: LoadedModel) -> list[int]:
    return m.encode(m.render_chat([{"role": "user", "content": "Tell me about Paris. " * 8}]))


def _decode_rate(benchmark: Any, run: Callable[[], tuple[float, int]]) -> None:
    """``run()`` returns (seconds spent decoding, tokens decoded); records the median rate."""
    rates: list[float] = []

    def once() -> None:
        dt, n = run()
        rates.append(n / dt)

    benchmark.pedantic(once, rounds=ROUNDS, warmup_rounds=1)
    benchmark.extra_info["decode_tok_s"] = statistics.median(rates[-ROUNDS:])


def test_prefill(benchmark: Any, model: LoadedModel) -> None:  # noqa: F811
    ids = _prompt(model)
    benchmark.extra_info["prompt_tokens"] = len(ids)
    benchmark.pedantic(
        generate_many, (model, [ids], SamplingParams(max_tokens=1)), rounds=ROUNDS * 2
    )


def _ours(m: LoadedModel, batch: int) -> Callable[[], tuple[float, int]]:
    ids = _prompt(m)

    def run() -> tuple[float, int]:
        t0 = time.perf_counter()
        generate_many(m, [ids] * batch, SamplingParams(max_tokens=1), batch)
        ttft = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = generate_many(m, [ids] * batch, SamplingParams(max_tokens=N, stop=()), batch)
        dt = time.perf_counter() - t0 - ttft
        return dt, sum(o.completion_tokens - 1 for o in out)

    return run


@pytest.mark.parametrize("batch", [1, 4, 8])
def test_decode(benchmark: Any, model: LoadedModel, batch: int) -> None:  # noqa: F811
    _decode_rate(benchmark, _ours(model, batch))


def test_decode_fp32(benchmark: Any, model_fp32: LoadedModel) -> None:  # noqa: F811
    _decode_rate(benchmark, _ours(model_fp32, 1))


def test_judge_latency(benchmark: Any, model: LoadedModel) -> None:  # noqa: F811
    benchmark(judge, model, "What is the capital of France?", "The capital of France is Paris.")


def _genai_dir(src: Path, tmp: Path, threads: int) -> Path:
    """The model directory with ``intra_op_num_threads`` set in its genai_config.json (the
    other files linked), so both engines run the same graph with the same threads."""
    d = tmp / f"genai-t{threads}"
    d.mkdir()
    for f in src.iterdir():
        if f.name != "genai_config.json":
            (d / f.name).symlink_to(f)
    cfg = json.loads((src / "genai_config.json").read_text())
    cfg["model"]["decoder"]["session_options"]["intra_op_num_threads"] = threads
    (d / "genai_config.json").write_text(json.dumps(cfg))
    return d


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime_genai") is None, reason="no ort-genai")
@pytest.mark.parametrize("threads", [1, 2])
def test_baseline_ort_genai_decode(
    benchmark: Any,
    model_dir: Path,  # noqa: F811
    tmp_path: Path,
    threads: int,
) -> None:
    """onnxruntime-genai on the same int4 model.onnx, interleaved round by round with our
    engine at the same intra-op thread count (the machine is shared: interleaving exposes
    both to the same load). Records both medians and their ratio."""
    import onnxruntime_genai as og  # type: ignore[import-untyped, import-not-found, unused-ignore]

    ours = load_model(model_dir, device="cpu", threads=threads)
    gm = og.Model(str(_genai_dir(model_dir, tmp_path, threads)))
    ids = _prompt(ours)
    ours_run = _ours(ours, 1)

    def genai_run() -> tuple[float, int]:
        params = og.GeneratorParams(gm)
        params.set_search_options(max_length=len(ids) + N, do_sample=False)
        gen = og.Generator(gm, params)
        gen.append_tokens(ids)  # prefill, and the first token's logits
        t0 = time.perf_counter()
        n = 0
        while not gen.is_done():
            gen.generate_next_token()
            n += 1
        return time.perf_counter() - t0, n - 1

    mine: list[float] = []
    theirs: list[float] = []

    def once() -> None:
        dt, n = ours_run()
        mine.append(n / dt)
        dt, n = genai_run()
        theirs.append(n / dt)

    benchmark.pedantic(once, rounds=ROUNDS, warmup_rounds=1)
    ratios = [a / b for a, b in zip(mine[-ROUNDS:], theirs[-ROUNDS:], strict=True)]
    benchmark.extra_info["decode_tok_s"] = statistics.median(mine[-ROUNDS:])
    benchmark.extra_info["genai_decode_tok_s"] = statistics.median(theirs[-ROUNDS:])
    benchmark.extra_info["ratio"] = statistics.median(ratios)


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="no llama-cpp-python")
def test_baseline_llama_cpp_decode(benchmark: Any, gguf_path: Path, model: LoadedModel) -> None:  # noqa: F811
    from llama_cpp import Llama  # type: ignore[import-untyped, import-not-found, unused-ignore]

    llm = Llama(model_path=str(gguf_path), n_ctx=512, n_threads=2, verbose=False)
    ids = _prompt(model)
    benchmark.pedantic(lambda: llm.create_completion(ids, max_tokens=N, temperature=0.0), rounds=3)
