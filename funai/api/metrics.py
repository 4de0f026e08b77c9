"""Prometheus metrics of a node, served at ``GET /metrics`` (text exposition format 0.0.4).

Each app has its own :class:`~prometheus_client.CollectorRegistry` (several nodes can run in
one process in tests). Chain, peer, mempool and miner figures are read from the node at scrape
time; the rest are fed by the code paths that produce them:

* ``funai_api_request_duration_seconds``: every HTTP request (ASGI middleware).
* ``funai_inference_*``: the OpenAI-compatible endpoints, per generation.
* ``funai_judge_verdicts_total`` and ``funai_vote_latency_seconds``: fed by the verifier
  role (:mod:`funai.node.l2runtime`) through :meth:`NodeMetrics.observe_verdict` and
  :meth:`NodeMetrics.observe_vote_latency`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from funai.node.l2facade import l2_facade

if TYPE_CHECKING:
    from funai.node.node import Node

__all__ = ["CONTENT_TYPE", "MetricsMiddleware", "NodeMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_TPS_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


class _NodeCollector(Collector):
    """Figures read from the node at scrape time."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def describe(self) -> Iterator[Metric]:
        """Nothing: registering must not read the node (names are fixed and unique)."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        node = self.node
        status = node.service.status()
        sync = node.net.sync_status()

        def gauge(name: str, doc: str, value: float, **labels: str) -> GaugeMetricFamily:
            fam = GaugeMetricFamily(name, doc, labels=list(labels))
            fam.add_metric(list(labels.values()), value)
            return fam

        heights = GaugeMetricFamily(
            "funai_chain_height", "Height of the chain tip, per layer.", labels=["layer"]
        )
        heights.add_metric(["l1"], float(status["l1_height"]))
        facade = l2_facade(node)
        l2 = facade.heights() if facade is not None else None
        if l2 is not None:
            heights.add_metric(["l2"], float(l2[0]))
        yield heights
        yield gauge("funai_l1_headers_height", "Best known L1 header height.", sync["headers"])
        yield gauge("funai_l1_sync_progress", "Initial-sync progress (0..1).", sync["progress"])
        yield gauge("funai_l1_tip_time_seconds", "Timestamp of the L1 tip.", status["l1_time"])
        peers = GaugeMetricFamily(
            "funai_peers", "Connected peers by direction.", labels=["direction"]
        )
        ready = node.net.ready_peers()
        inbound = sum(1 for p in ready if p.inbound)
        peers.add_metric(["inbound"], inbound)
        peers.add_metric(["outbound"], len(ready) - inbound)
        yield peers
        yield gauge(
            "funai_banned_peers",
            "Manually banned plus discouraged hosts and keys.",
            len(node.addrbook.bans) + len(node.addrbook.discouraged),
        )
        size = GaugeMetricFamily(
            "funai_mempool_transactions", "Transactions in a mempool.", labels=["layer"]
        )
        size.add_metric(["l1"], status["mempool_size"])
        if l2 is not None:
            size.add_metric(["l2"], l2[1])
        yield size
        nbytes = GaugeMetricFamily(
            "funai_mempool_bytes", "Mempool size in bytes.", labels=["layer"]
        )
        nbytes.add_metric(["l1"], status["mempool_bytes"])
        yield nbytes
        yield gauge(
            "funai_hash_rate", "Local miner hash rate (hashes/s).", float(node.miner.stats.rate)
        )
        yield gauge("funai_mining", "1 when the local miner is on.", float(node.miner.enabled))
        mined = CounterMetricFamily("funai_blocks_mined", "L1 blocks mined by this node.")
        mined.add_metric([], node.miner.found)
        yield mined
        yield gauge(
            "funai_uptime_seconds", "Seconds since the node started.", time.time() - node.started
        )


class NodeMetrics:
    """The registry of one node's API and the metrics fed by code paths."""

    def __init__(self, node: Node | None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        if node is not None:
            self.registry.register(_NodeCollector(node))
        r = self.registry
        self.request_latency = Histogram(
            "funai_api_request_duration_seconds",
            "HTTP API request latency (until the response ends, streams included).",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.inference_requests = Counter(
            "funai_inference_requests",
            "Inference requests served, by model, endpoint and outcome.",
            ["model", "endpoint", "outcome"],
            registry=r,
        )
        self.forwarded = Counter(
            "funai_inference_forwarded",
            "Inference requests sent to an executor that serves the model (routing).",
            ["model"],
            registry=r,
        )
        self.prompt_tokens = Counter(
            "funai_inference_prompt_tokens", "Prompt tokens processed.", ["model"], registry=r
        )
        self.completion_tokens = Counter(
            "funai_inference_completion_tokens", "Tokens generated.", ["model"], registry=r
        )
        self.tokens_per_second = Histogram(
            "funai_inference_tokens_per_second",
            "Decode speed of each generation (completion tokens / time after the first token).",
            ["model"],
            buckets=_TPS_BUCKETS,
            registry=r,
        )
        self.time_to_first_token = Histogram(
            "funai_inference_time_to_first_token_seconds",
            "Time from request to the first generated text.",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.judge_verdicts = Counter(
            "funai_judge_verdicts",
            "Judge verdicts on inference transactions, by model and verdict.",
            ["model", "verdict"],
            registry=r,
        )
        self.vote_latency = Histogram(
            "funai_vote_latency_seconds",
            "Time from receiving an inference transaction to this verifier's vote.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    # --- feeding ---------------------------------------------------------------------------
    def observe_generation(
        self,
        model: str,
        endpoint: str,
        prompt_tokens: int,
        completion_tokens: int,
        first_token_s: float | None,
        total_s: float,
    ) -> None:
        self.inference_requests.labels(model, endpoint, "ok").inc()
        self.prompt_tokens.labels(model).inc(prompt_tokens)
        self.completion_tokens.labels(model).inc(completion_tokens)
        if first_token_s is not None:
            self.time_to_first_token.labels(model).observe(first_token_s)
            decode_s = total_s - first_token_s
            if completion_tokens > 1 and decode_s > 0:
                self.tokens_per_second.labels(model).observe((completion_tokens - 1) / decode_s)

    def observe_failure(self, model: str, endpoint: str, outcome: str) -> None:
        self.inference_requests.labels(model, endpoint, outcome).inc()

    def observe_verdict(self, model: str, verdict: str) -> None:
        self.judge_verdicts.labels(model, verdict).inc()

    def observe_vote_latency(self, seconds: float) -> None:
        self.vote_latency.observe(seconds)

    # --- serving ---------------------------------------------------------------------------
    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, request: Request) -> Response:
        return Response(self.render(), media_type=CONTENT_TYPE)


class MetricsMiddleware:
    """Times every HTTP request into ``funai_api_request_duration_seconds``, labelled by route
    template (``/v1/blocks/{hash}``, not the raw path, to bound the label set)."""

    def __init__(self, app: ASGIApp, metrics: NodeMetrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    def _route(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "path", "other"))
        return "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.request_latency.labels(
                scope.get("method", ""), self._route(scope), str(status[0])
            ).observe(time.perf_counter() - start)


def parse_metrics(text: str) -> dict[str, Any]:
    """``{family name: family}`` from exposition text (used by tests and ``funai status``)."""
    from prometheus_client.parser import text_string_to_metric_families

    return {fam.name: fam for fam in text_string_to_metric_families(text)}
