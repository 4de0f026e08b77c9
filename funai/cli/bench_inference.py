"""``funai bench inference``: prefill and decode speed, time to first token, judge latency."""

from __future__ import annotations

import json
import time

import typer

from funai.cli.common import CliState, fail_with
from funai.errors import FunaiError


def bench_inference(
    ctx: typer.Context,
    model: str = typer.Option("smollm2-135m-instruct", "--model", "-m"),
    device: str = typer.Option("auto", "--device"),
    tokens: int = typer.Option(32, "--tokens", help="Tokens to decode per run."),
    batch: list[int] = typer.Option([1, 4, 8], "--batch", help="Batch sizes to try (repeatable)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Measure the local inference engine (figures for docs/performance.md)."""
    from funai.inference import SamplingParams, generate_many, judge, load_model
    from funai.inference.defaults import model_dir_or_fetch

    state: CliState = ctx.obj
    try:
        m = load_model(model_dir_or_fetch(state.datadir, model), device=device)
        prompt = m.encode(m.render_chat([{"role": "user", "content": "Tell me about Paris. " * 8}]))
        res: dict[str, float | str] = {"provider": m.providers[0], "prompt_tokens": len(prompt)}
        generate_many(m, [prompt], SamplingParams(max_tokens=1))  # warm-up
        t0 = time.perf_counter()
        generate_many(m, [prompt], SamplingParams(max_tokens=1))
        ttft = time.perf_counter() - t0
        res["ttft_s"] = ttft
        res["prefill_tok_s"] = len(prompt) / ttft
        for b in batch:
            p = SamplingParams(max_tokens=tokens, stop=())
            t0 = time.perf_counter()
            outs = generate_many(m, [prompt] * b, p, max_batch=b)
            dt = time.perf_counter() - t0 - ttft * b
            n = sum(o.completion_tokens - 1 for o in outs)
            res[f"decode_tok_s_b{b}"] = n / max(dt, 1e-9)
        t0 = time.perf_counter()
        judge(m, "What is the capital of France?", "The capital of France is Paris.")
        res["judge_s"] = time.perf_counter() - t0
    except FunaiError as exc:
        fail_with(exc)
    if as_json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:<18}{v:.3f}" if isinstance(v, float) else f"{k:<18}{v}")
