"""Inference transactions per second through the whole pipeline on a devnet of node processes
(API request to finalized L2 block), with the time split into inference, judging, consensus
and storage, against running the same requests on the engine directly in the same run.

One round: ``REQUESTS`` chat requests, sent concurrently to the two inference nodes of
:func:`funai.devnet.story.open_l2_devnet` (1 miner, 5 verifiers, 2 inference nodes,
each a ``funai node`` process), followed on ``verifier0`` until every one is in a finalized
L2 block. The split comes from the nodes themselves (``/v1/l2/status`` ``timings``: seconds
in block validation and state transition, SQLite and content-store writes, judging) and from
the clients (the API's answer time). The baseline is the engine in this process, answering
the same prompts with the same settings, as one concurrent batch.

Run with ``make bench`` (or ``pytest bench/test_bench_devnet.py``); the figures go to
docs/performance.md.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from funai.devnet.story import open_l2_devnet
from funai.inference import InferenceEngine, SamplingParams, load_model
from funai.inference.defaults import ensure_default_model

REQUESTS = int(os.environ.get("FUNAI_BENCH_DEVNET_REQUESTS", "16"))
MAX_TOKENS = 24
PROMPTS = [
    "What is the capital of France?",
    "Name a primary color.",
    "What is 2 + 2?",
    "Which planet is known as the red planet?",
]

pytestmark = pytest.mark.slow


def _model_dir() -> Path:
    from funai.inference.defaults import default_models_dir

    return ensure_default_model(default_models_dir())


def _direct(model_dir: Path, prompts: list[str]) -> float:
    """Seconds for the engine alone to answer every prompt (one concurrent batch)."""
    engine = InferenceEngine(load_model(model_dir), max_batch=8)
    params = SamplingParams(max_tokens=MAX_TOKENS, temperature=0.0)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for p in prompts:
                chat = [{"role": "user", "content": p}]
                nursery.start_soon(engine.generate, chat, params)

    t = time.perf_counter()
    trio.run(main)
    return time.perf_counter() - t


def test_devnet_pipeline(benchmark: Any, tmp_path: Path) -> None:
    model_dir = _model_dir()
    prompts = [PROMPTS[i % len(PROMPTS)] + f" (request {i})" for i in range(REQUESTS)]
    result: dict[str, Any] = {}

    with open_l2_devnet(tmp_path / "devnet", str(model_dir), timeout=900) as dev:
        net = dev.net
        before = {n: net.get(n, "/l2/status")["timings"] for n in net.nodes}

        def ask(i: int) -> tuple[str, float]:
            node = dev.executors[i % len(dev.executors)]
            t = time.perf_counter()
            r = httpx.post(
                net.url(node, "/chat/completions"),
                json={
                    "model": dev.model_name,
                    "messages": [{"role": "user", "content": prompts[i]}],
                    "max_tokens": MAX_TOKENS,
                    "temperature": 0,
                },
                timeout=300,
            )
            r.raise_for_status()
            return str(r.json()["funai"]["inference_txid"]), time.perf_counter() - t

        def pipeline() -> None:
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
                answers = list(pool.map(ask, range(REQUESTS)))
            answered = time.perf_counter() - t0

            def all_final() -> bool:
                return all(
                    net.get("verifier0", f"/l2/inference/{txid}").get("finalized")
                    for txid, _ in answers
                )

            net.wait("every request in a finalized block", all_final, poll=0.25)
            result["wall"] = time.perf_counter() - t0
            result["answered"] = answered
            result["latencies"] = sorted(s for _, s in answers)
            heights = {net.get("verifier0", f"/l2/inference/{t}")["l2_height"] for t, _ in answers}
            result["blocks"] = len(heights)

        benchmark.pedantic(pipeline, rounds=1, iterations=1)
        after = {n: net.get(n, "/l2/status")["timings"] for n in net.nodes}

    direct = _direct(model_dir, prompts)
    spent = {
        kind: sum(after[n][kind] - before[n][kind] for n in after) / len(after)
        for kind in ("consensus", "storage", "judging")
    }
    verifiers = [n for n in after if n.startswith("verifier")]
    judging = sum(after[n]["judging"] - before[n]["judging"] for n in verifiers) / len(verifiers)
    lat = result["latencies"]
    figures = {
        "requests": REQUESTS,
        "max_tokens": MAX_TOKENS,
        "wall_seconds": round(result["wall"], 2),
        "tx_per_second": round(REQUESTS / result["wall"], 3),
        "answered_seconds": round(result["answered"], 2),
        "api_latency_p50": round(lat[len(lat) // 2], 3),
        "api_latency_max": round(lat[-1], 3),
        "l2_blocks": result["blocks"],
        "per_node_seconds": {k: round(v, 4) for k, v in spent.items()},
        "judging_per_verifier_seconds": round(judging, 3),
        "direct_engine_seconds": round(direct, 2),
        "answer_overhead_ratio": round(result["answered"] / direct, 2),
        "finality_overhead_ratio": round(result["wall"] / direct, 2),
    }
    benchmark.extra_info.update(figures)
    print(json.dumps(figures))
    assert result["blocks"] >= 1
