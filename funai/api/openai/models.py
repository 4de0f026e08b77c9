"""The models this node serves (:class:`ModelRegistry`, one :class:`ServedModel` each) and
the model list of ``GET /v1/models``, with the models other executors serve on the network.

Models load in worker threads after the API starts (``roles.models`` in node.toml; names
resolve under ``<datadir>/models``); until then requests for them answer 503."""

from __future__ import annotations

import functools
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from funai.api.openai.errors import ApiError
from funai.inference import InferenceEngine, InferenceError, LoadedModel
from funai.node.l2facade import l2_facade

if TYPE_CHECKING:
    from funai.api.metrics import NodeMetrics
    from funai.node.node import Node

__all__ = ["PRICE_UNIT", "ModelRegistry", "ServedModel"]

log = logging.getLogger("funai.api")

PRICE_UNIT = "base units of FAI (1 FAI = 100000000) per prompt or output token"


@dataclass
class ServedModel:
    name: str
    path: Path
    model_id: str = ""
    status: str = "loading"  # loading | ready | error
    error: str = ""
    engine: InferenceEngine | None = None
    inflight: int = 0  # generations running or queued through the API
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def model(self) -> LoadedModel:
        assert self.engine is not None
        return self.engine.model


class ModelRegistry:
    """The models this node serves and their engines."""

    def __init__(self, node: Node | None, metrics: NodeMetrics) -> None:
        self.node = node
        self.l2 = l2_facade(node)  # the inference layer, None without it
        self.metrics = metrics
        self.models: dict[str, ServedModel] = {}
        self.max_batch = 8
        if node is not None and (node.config.inference or node.config.verifier):
            from funai.inference.store import resolve_model_dir

            for entry in node.config.models:
                try:
                    path = resolve_model_dir(node.datadir, entry)
                except InferenceError as exc:
                    name = Path(entry).name
                    self.models[name] = ServedModel(name, Path(entry), status="error")
                    self.models[name].error = str(exc)
                    continue
                self.models[path.name] = ServedModel(path.name, path)

    def add_engine(self, name: str, engine: InferenceEngine) -> None:
        """Serves an already loaded engine (tests, embedding)."""
        self.models[name] = ServedModel(
            name, engine.model.path, engine.model.model_id, "ready", engine=engine
        )

    async def load(self) -> None:
        """Loads every configured model in a worker thread, one after the other."""
        from funai.inference import load_model

        threads_env = os.environ.get("FUNAI_ORT_THREADS")
        for served in list(self.models.values()):
            if served.status != "loading":
                continue
            try:
                threads = int(threads_env) if threads_env else None
                model = await trio.to_thread.run_sync(
                    functools.partial(load_model, served.path, threads=threads)
                )
            except (InferenceError, OSError, ValueError) as exc:
                served.status, served.error = "error", str(exc)
                log.warning("model failed to load", extra={"fields": {"model": served.name}})
                continue
            served.engine = InferenceEngine(model, max_batch=self.max_batch)
            served.model_id = model.model_id
            served.status = "ready"
            log.info("model ready", extra={"fields": {"model": served.name, "id": model.model_id}})

    def find(self, name: str) -> ServedModel:
        served = self.models.get(name)
        if served is None:
            served = next((m for m in self.models.values() if m.model_id == name), None)
        if served is None:
            raise ApiError(
                404,
                f"The model `{name}` does not exist or is not served by this node.",
                param="model",
                code="model_not_found",
            )
        if served.status == "loading":
            raise ApiError(
                503, f"The model `{name}` is loading.", type_="server_error", code="model_loading"
            )
        if served.status == "error":
            raise ApiError(
                503,
                f"The model `{name}` failed to load: {served.error}",
                type_="server_error",
                code="model_unavailable",
            )
        return served

    def served_by(self, served: ServedModel) -> str:
        """``local``: this node executes requests for the model; ``judge-only``: a verifier
        loads it to judge, and requests go to an inference node."""
        l2 = self.l2
        if l2 is None or not served.model_id or l2.serves(bytes.fromhex(served.model_id)):
            return "local"
        return "judge-only"

    def lookup(self, name: str) -> ServedModel | None:
        """The served model ``name`` (or with that model id) in any state; None if none."""
        return self.models.get(name) or next(
            (m for m in self.models.values() if m.model_id == name), None
        )

    def model_json(self, served: ServedModel) -> dict[str, Any]:
        l2 = self.l2
        return {
            "id": served.name,
            "object": "model",
            "created": served.created,
            "owned_by": "funai",
            "funai": {
                "model_id": served.model_id or None,
                "status": served.status,
                "served_by": self.served_by(served),
                "price_per_token": None if l2 is None else l2.price_per_token,
                "price_unit": PRICE_UNIT,
            },
        }

    async def network_models(self) -> list[dict[str, Any]]:
        """Models served on the network by other executors (their adverts, bonded executors
        and active models only), that this node does not execute itself."""
        if self.l2 is None:
            return []
        local = {m.model_id for m in self.models.values() if self.served_by(m) == "local"}
        by_model = await self.l2.network_routes()
        out = []
        for mid, routes in sorted(by_model.items()):
            if not routes or mid.hex() in local:
                continue
            cheapest = routes[0].offer
            out.append(
                {
                    "id": cheapest.name,
                    "object": "model",
                    "created": min(r.ad.time for r in routes),
                    "owned_by": "funai",
                    "funai": {
                        "model_id": mid.hex(),
                        "status": "ready",
                        "served_by": "network",
                        "executors": len(routes),
                        "price_per_token": cheapest.price_per_token,
                        "price_unit": PRICE_UNIT,
                    },
                }
            )
        return out

    async def list_models(self) -> list[dict[str, Any]]:
        """``GET /v1/models``: this node's models, then the network's (by other names)."""
        data = [self.model_json(m) for m in self.models.values()]
        names = {m["id"] for m in data}
        data += [m for m in await self.network_models() if m["id"] not in names]
        return data
