"""Hypothesis fuzzing of every operation in the node's OpenAPI document: no 5xx, JSON errors.

Bodies are arbitrary JSON, invalid bytes, or objects shaped by the operation's schema with
arbitrary or well-typed values. Values that would make the node dial out, mine or start the
miner are never well-typed (loopback only, bounded time); see ``UNSAFE``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.apinode import ApiNode

# (path, property) pairs never given a well-typed value.
UNSAFE = {
    ("/v1/peers/connect", "addr"),
    ("/v1/generate", "blocks"),
    ("/v1/miner", "enabled"),
    ("/v1/chat/completions", "model"),
    ("/v1/completions", "model"),
    ("/v1/l2/quote", "request"),
}

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _typed(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    if "oneOf" in schema:
        return st.one_of([_typed(s) for s in schema["oneOf"]])
    kind = schema.get("type")
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        return st.text(max_size=30)
    if kind == "array":
        return st.lists(_typed(schema.get("items", {})), max_size=3)
    if kind == "object":
        return _object(schema, "")
    return JSON


def _object(schema: dict[str, Any], path: str) -> st.SearchStrategy[Any]:
    props = schema.get("properties", {})
    fields = {
        name: (JSON if (path, name) in UNSAFE else st.one_of(_typed(sub), JSON))
        for name, sub in props.items()
    }
    return st.fixed_dictionaries({}, optional=fields)


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


@pytest.fixture(scope="module")
def doc(api_node: ApiNode) -> dict[str, Any]:
    r = httpx.get(api_node.api + "/openapi.json", timeout=30)
    assert r.status_code == 200
    data: dict[str, Any] = r.json()
    assert data["openapi"].startswith("3.")
    return data


def test_document_covers_the_endpoints(doc: dict[str, Any]) -> None:
    paths = set(doc["paths"])
    assert {
        "/v1/status",
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/models",
        "/metrics",
        "/",
        "/v1/blocks/{hash}",
    } <= paths


PATH_VALUE = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.text(max_size=70),
    st.binary(min_size=32, max_size=32).map(bytes.hex),
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(data=st.data())
def test_fuzz_no_5xx(api_node: ApiNode, doc: dict[str, Any], data: st.DataObject) -> None:
    ops = list(_operations(doc))
    path, method, op = data.draw(st.sampled_from(ops), label="operation")
    url = path
    for param in op.get("parameters", []):
        if param["in"] == "path":
            value = data.draw(PATH_VALUE, label=param["name"])
            url = url.replace("{" + param["name"] + "}", quote(value, safe="") or "x")
    query = {}
    if data.draw(st.booleans(), label="query"):
        query["hex"] = data.draw(st.text(max_size=5), label="hex")
    content: bytes | None = None
    if method == "post":
        body_doc = op.get("requestBody", {"content": {"application/json": {"schema": {}}}})
        schema = body_doc["content"]["application/json"]["schema"]
        body = data.draw(
            st.one_of(
                _object(schema, path).map(lambda v: json.dumps(v).encode()),
                JSON.map(lambda v: json.dumps(v).encode()),
                st.binary(max_size=40),
            ),
            label="body",
        )
        content = body
    verb = data.draw(
        st.sampled_from([method.upper(), method.upper(), "GET", "POST", "PUT"]), label="method"
    )
    with httpx.Client(timeout=60) as client:
        r = client.request(
            verb,
            api_node.root + url,
            params=query,
            content=content,
            headers={"content-type": "application/json"},
        )
    assert r.status_code < 500, (verb, url, content, r.status_code, r.text[:500])
    if r.status_code >= 400:
        assert "error" in r.json(), (verb, url, r.text[:300])


TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
SAMPLING = {
    "temperature": st.floats(0, 2),
    "top_p": st.floats(0, 1),
    "top_k": st.integers(0, 100_000),
    "seed": st.integers(-(2**63), 2**64 - 1),
    "repetition_penalty": st.floats(0.01, 10),
    "stop": st.one_of(TEXT, st.lists(TEXT.filter(bool), max_size=4)),
    "stream": st.booleans(),
    "stream_options": st.fixed_dictionaries({}, optional={"include_usage": st.booleans()}),
}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    chat=st.booleans(),
    messages=st.lists(
        st.fixed_dictionaries(
            {
                "role": st.sampled_from(["system", "developer", "user", "assistant", "tool"]),
                "content": TEXT,
            }
        ),
        min_size=1,
        max_size=3,
    ),
    prompt=TEXT,
    extra=st.fixed_dictionaries({}, optional=SAMPLING),
)
def test_fuzz_generation_no_5xx(
    api_node: ApiNode,
    model_name: str,
    chat: bool,
    messages: list[dict[str, str]],
    prompt: str,
    extra: dict[str, Any],
) -> None:
    """Well-formed requests for the served model with odd text and sampling values: the node
    generates (at most 2 tokens) or refuses with a 4xx, never a 5xx, and streams end in
    ``[DONE]``."""
    body: dict[str, Any] = {"model": model_name, "max_tokens": 2, **extra}
    if chat:
        body["messages"] = messages
    else:
        body["prompt"] = prompt
    path = "/chat/completions" if chat else "/completions"
    r = httpx.post(api_node.api + path, json=body, timeout=120)
    assert r.status_code < 500, (body, r.text[:500])
    if r.status_code >= 400:
        assert r.json()["error"]["message"]
    elif body.get("stream"):
        assert r.text.endswith("data: [DONE]\n\n")
        assert '"error"' not in r.text, r.text[-500:]
    else:
        assert r.json()["usage"]["completion_tokens"] <= 2
