"""API benchmarks: ``/v1/chat/completions`` under concurrent clients against a node process,
and the same requests on the engine called directly in this process (same model, same ONNX
Runtime threads), so the HTTP + node overhead is a ratio of two figures from one run; time to
first token through the API (SSE) vs direct (``engine.stream``).

Figures go to ``extra_info``: ``direct_*`` and ``api_*`` ``rps`` and latency ``p50``/``p90``/
``p99`` (seconds), ``overhead_ratio_p50`` (API p50 / direct p50), ``rps_ratio``; ``ttft`` and,
on the API row, ``overhead_ratio`` (API / direct time to first token)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import trio

from funai.inference import InferenceEngine, SamplingParams, load_model
from funai.inference.defaults import ensure_default_model
from tests.api.apinode import ApiNode, model_cache, running_api_node

CLIENTS = 4
REQUESTS = 8  # per round, spread over the clients
MAX_TOKENS = 16
ROUNDS = 3
MESSAGES = [{"role": "user", "content": "Tell me one fact about Paris."}]
FIGURES: dict[str, dict[str, float]] = {}  # direct time to first token, for the API row


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    with running_api_node(tmp_path_factory.mktemp("benchapi")) as n:
        yield n


@pytest.fixture(scope="module")
def engine() -> InferenceEngine:
    model = load_model(ensure_default_model(model_cache()), device="cpu", threads=2)
    return InferenceEngine(model, max_batch=8)


def _percentiles(xs: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(xs, n=100, method="inclusive")
    return {"p50": statistics.median(xs), "p90": qs[89], "p99": qs[98]}


async def _load(request: Any) -> tuple[float, list[float]]:
    """REQUESTS requests over CLIENTS concurrent tasks: (wall seconds, latencies)."""
    latencies: list[float] = []
    todo = list(range(REQUESTS))

    async def client() -> None:
        while todo:
            todo.pop()
            t0 = time.perf_counter()
            await request()
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(CLIENTS):
            nursery.start_soon(client)
    return time.perf_counter() - t0, latencies


def _figures(wall: list[float], lat: list[float]) -> dict[str, float]:
    return {"rps": REQUESTS * len(wall) / sum(wall), **_percentiles(lat)}


def test_chat_api_vs_direct(benchmark: Any, node: ApiNode, engine: InferenceEngine) -> None:
    """Each round runs the load once on the engine directly, then once through the API, so
    both see the same machine load (the timed figure is the pair)."""
    model = node.get("/models")["data"][0]["id"]
    body = {"model": model, "messages": MESSAGES, "max_tokens": MAX_TOKENS, "temperature": 0}
    params = SamplingParams(max_tokens=MAX_TOKENS, temperature=0)
    runs: dict[str, tuple[list[float], list[float]]] = {"direct": ([], []), "api": ([], [])}

    async def direct() -> tuple[float, list[float]]:
        async def request() -> None:
            await engine.generate(MESSAGES, params)

        return await _load(request)

    async def api() -> tuple[float, list[float]]:
        async with httpx.AsyncClient(timeout=120) as http:

            async def request() -> None:
                r = await http.post(node.api + "/chat/completions", json=body)
                r.raise_for_status()

            return await _load(request)

    def once() -> None:
        for key, fn in (("direct", direct), ("api", api)):
            w, ls = trio.run(fn)
            runs[key][0].append(w)
            runs[key][1].extend(ls)

    benchmark.pedantic(once, rounds=ROUNDS, warmup_rounds=1)
    figures = {k: _figures(w[-ROUNDS:], ls[-ROUNDS * REQUESTS :]) for k, (w, ls) in runs.items()}
    for key, values in figures.items():
        for name, value in values.items():
            benchmark.extra_info[f"{key}_{name}"] = value
    benchmark.extra_info["overhead_ratio_p50"] = figures["api"]["p50"] / figures["direct"]["p50"]
    benchmark.extra_info["rps_ratio"] = figures["api"]["rps"] / figures["direct"]["rps"]


def test_ttft_direct(benchmark: Any, engine: InferenceEngine) -> None:
    params = SamplingParams(max_tokens=MAX_TOKENS, temperature=0)

    async def first() -> float:
        t0 = time.perf_counter()
        async for _piece in engine.stream(MESSAGES, params):
            return time.perf_counter() - t0
        return time.perf_counter() - t0

    times: list[float] = []
    benchmark.pedantic(lambda: times.append(trio.run(first)), rounds=ROUNDS * 2, warmup_rounds=1)
    FIGURES["direct_ttft"] = {"ttft": statistics.median(times)}
    benchmark.extra_info["ttft"] = statistics.median(times)


def test_ttft_api(benchmark: Any, node: ApiNode) -> None:
    model = node.get("/models")["data"][0]["id"]
    body = {
        "model": model,
        "messages": MESSAGES,
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
        "stream": True,
    }

    def first() -> float:
        with httpx.Client(timeout=120) as http:
            t0 = time.perf_counter()
            with http.stream("POST", node.api + "/chat/completions", json=body) as r:
                for line in r.iter_lines():
                    # The first chunk only announces the role; the first text is the second.
                    if (
                        line.startswith("data: ")
                        and '"content":"' in line
                        and '"content":""' not in line
                    ):
                        return time.perf_counter() - t0
        return time.perf_counter() - t0

    times: list[float] = []
    benchmark.pedantic(lambda: times.append(first()), rounds=ROUNDS * 2, warmup_rounds=1)
    ttft = statistics.median(times)
    benchmark.extra_info["ttft"] = ttft
    direct = FIGURES.get("direct_ttft")
    if direct:
        benchmark.extra_info["overhead_ratio"] = ttft / direct["ttft"]
