"""OpenAIServing and its routes without a model engine or a node (funai/api/openai/serving.py,
routes.py, errors.py): the refusals before anything runs, each in OpenAI's error shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from funai.api.metrics import NodeMetrics
from funai.api.openai.errors import http_error_handler
from funai.api.openai.models import ModelRegistry, ServedModel
from funai.api.openai.routes import openai_routes

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def _call(requests: list[tuple[str, str, Any]]) -> list[httpx.Response]:
    service = ModelRegistry(None, NodeMetrics(None))
    service.models["loading-model"] = ServedModel("loading-model", Path("x"))
    app = Starlette(
        routes=openai_routes(service, None),
        exception_handlers={HTTPException: http_error_handler},
    )
    out: list[httpx.Response] = []

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            for method, path, body in requests:
                if isinstance(body, bytes):
                    headers = {"content-type": "application/json"}
                    out.append(await client.request(method, path, content=body, headers=headers))
                else:
                    out.append(await client.request(method, path, json=body))

    trio.run(go)
    return out


def _error(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"}
    err: dict[str, Any] = body["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["message"]
    return err


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/completions", "/v1/l2/quote"])
def test_bodies_that_are_not_json_objects_are_400(path: str) -> None:
    for r in _call([("POST", path, b"{nope"), ("POST", path, b"[1]")]):
        assert r.status_code == 400
        assert _error(r)["type"] == "invalid_request_error"


def test_completion_refusals() -> None:
    missing, unknown, loading, bad_prompt = _call(
        [
            ("POST", "/v1/chat/completions", {"messages": CHAT["messages"]}),
            ("POST", "/v1/chat/completions", {**CHAT, "model": "nope"}),
            ("POST", "/v1/chat/completions", {**CHAT, "model": "loading-model"}),
            ("POST", "/v1/completions", {"model": "m", "prompt": 3}),
        ]
    )
    assert (missing.status_code, _error(missing)["param"]) == (400, "model")
    assert (unknown.status_code, _error(unknown)["code"]) == (404, "model_not_found")
    assert (loading.status_code, _error(loading)["code"]) == (503, "model_loading")
    assert (bad_prompt.status_code, _error(bad_prompt)["param"]) == (400, "prompt")


def test_quote_refusals() -> None:
    endpoint, inner, parsed = _call(
        [
            ("POST", "/v1/l2/quote", {"endpoint": "embeddings", "request": CHAT}),
            ("POST", "/v1/l2/quote", {"endpoint": "chat/completions", "request": "x"}),
            ("POST", "/v1/l2/quote", {"endpoint": "completions", "request": {"model": "m"}}),
        ]
    )
    assert (endpoint.status_code, _error(endpoint)["param"]) == (400, "endpoint")
    assert inner.status_code == 400
    assert "request" in _error(inner)["message"]
    assert (parsed.status_code, _error(parsed)["param"]) == (400, "prompt")


def test_models_and_starlette_errors() -> None:
    listed, one, missing, wrong_method, elsewhere = _call(
        [
            ("GET", "/v1/models", None),
            ("GET", "/v1/models/loading-model", None),
            ("GET", "/v1/models/nope", None),
            ("GET", "/v1/chat/completions", None),
            ("GET", "/v1/nothing-here", None),
        ]
    )
    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["data"]] == ["loading-model"]
    assert listed.json()["object"] == "list"
    assert one.json()["funai"]["status"] == "loading"
    assert one.json()["funai"]["served_by"] == "local"
    assert (missing.status_code, _error(missing)["code"]) == (404, "model_not_found")
    assert wrong_method.status_code == 405  # OpenAI's shape under the OpenAI paths
    assert _error(wrong_method)["type"] == "invalid_request_error"
    assert elsewhere.status_code == 404
    assert elsewhere.json() == {"error": "Not Found"}
