"""The official ``openai`` client against a running node process; SSE framing; errors."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from funai.api.openai_compat import split_chat, verify_receipt
from funai.layer2.request_params import params_from_json
from funai.layer2.transactions import InferenceContent
from tests.api.apinode import ApiNode

MESSAGES: list[Any] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Name a colour."},
]


@pytest.fixture(scope="module")
def client(api_node: ApiNode) -> openai.OpenAI:
    return openai.OpenAI(base_url=api_node.api, api_key="unused", timeout=120, max_retries=0)


def _check_receipt(receipt: dict[str, Any], node_key: str, model_id: str, chash: bytes) -> None:
    assert receipt["kind"] == "provisional"
    assert receipt["inference_txid"] is None  # pending issue 7
    assert receipt["signer"] == node_key
    assert receipt["model_id"] == model_id
    assert receipt["content_hash"] == chash.hex()
    assert verify_receipt(receipt)
    assert not verify_receipt({**receipt, "content_hash": "00" * 32})


def _answer_hash(messages: list[Any], text: str, ext: dict[str, Any]) -> bytes:
    """The content hash of an answer from what the client sees: its chat, the text, and the
    signed parameters, token ids and finish in the ``funai`` extension."""
    inp, ctx, system = split_chat(messages)
    params = params_from_json(ext["params"])
    return InferenceContent(
        inp, text, ctx, system, params, tuple(ext["tokens"]), ext["finish"]
    ).hash()


def test_models(client: openai.OpenAI, model_name: str) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == [model_name]
    model = client.models.retrieve(model_name)
    assert model.owned_by == "funai"
    extra = model.model_extra or {}
    assert len(extra["funai"]["model_id"]) == 64
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_chat_non_stream_and_stream_agree(
    client: openai.OpenAI, api_node: ApiNode, model_name: str
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=model_name, messages=MESSAGES, max_tokens=12, temperature=0
    )
    resp = raw.parse()
    text = resp.choices[0].message.content
    assert isinstance(text, str)
    assert text
    assert resp.choices[0].finish_reason in ("stop", "length")
    assert resp.usage is not None
    assert 0 < resp.usage.completion_tokens <= 12
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    ext = (resp.model_extra or {})["funai"]
    status = api_node.get("/status")
    assert params_from_json(ext["params"]).max_tokens == 12
    assert len(ext["tokens"]) == resp.usage.completion_tokens
    assert ext["receipt"]["seed"] == ext["seed"]
    _check_receipt(
        ext["receipt"], status["node_key"], ext["model_id"], _answer_hash(MESSAGES, text, ext)
    )
    header = raw.headers["x-funai-receipt"]
    from_header = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    assert from_header == ext["receipt"]
    assert raw.headers["x-funai-request-id"] == resp.id

    stream = client.chat.completions.create(
        model=model_name,
        messages=MESSAGES,
        max_tokens=12,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, finish, usage, last_ext = [], None, None, None
    for chunk in stream:
        if chunk.choices:
            delta = chunk.choices[0].delta
            pieces.append(delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
        else:
            usage = chunk.usage
        last_ext = (chunk.model_extra or {}).get("funai", last_ext)
    streamed = "".join(pieces)
    assert streamed == text  # greedy: the same tokens either way
    assert finish in ("stop", "length")
    assert usage is not None
    assert usage.completion_tokens == resp.usage.completion_tokens
    assert last_ext is not None
    _check_receipt(
        last_ext["receipt"],
        status["node_key"],
        ext["model_id"],
        _answer_hash(MESSAGES, streamed, last_ext),
    )
    assert last_ext["tokens"] == ext["tokens"]


def test_seed_is_honoured_and_returned(client: openai.OpenAI, model_name: str) -> None:
    def ask(seed: int) -> tuple[str, dict[str, Any]]:
        resp = client.chat.completions.create(
            model=model_name, messages=MESSAGES, max_tokens=10, temperature=1.0, seed=seed
        )
        return resp.choices[0].message.content or "", (resp.model_extra or {})["funai"]

    (a, ea), (b, eb) = ask(42), ask(42)
    assert (a, ea["tokens"]) == (b, eb["tokens"])  # the same seed draws the same answer
    assert ea["seed"] == eb["seed"] == 42
    assert params_from_json(ea["params"]).seed == 42
    others = {tuple(ask(s)[1]["tokens"]) for s in (1, 2, 3)}
    assert len(others | {tuple(ea["tokens"])}) > 1  # at temperature 1.0 seeds matter


def test_logprobs_openai_shape(client: openai.OpenAI, model_name: str) -> None:
    resp = client.chat.completions.create(
        model=model_name,
        messages=MESSAGES,
        max_tokens=6,
        temperature=0,
        logprobs=True,
        top_logprobs=3,
    )
    lp = resp.choices[0].logprobs
    assert lp is not None
    assert lp.content is not None
    assert resp.usage is not None
    assert len(lp.content) == resp.usage.completion_tokens
    for item in lp.content:
        assert item.logprob <= 0.0
        assert len(item.top_logprobs) == 3
        # greedy: the token taken is the most likely one
        assert item.top_logprobs[0].logprob == pytest.approx(item.logprob)
        assert item.top_logprobs[0].logprob >= item.top_logprobs[1].logprob
    assert "".join(i.token for i in lp.content).startswith(resp.choices[0].message.content or "")
    plain = client.chat.completions.create(
        model=model_name, messages=MESSAGES, max_tokens=6, temperature=0
    )
    assert plain.choices[0].logprobs is None
    legacy = client.completions.create(
        model=model_name, prompt="1, 2, 3,", max_tokens=4, temperature=0, logprobs=2
    )
    llp = legacy.choices[0].logprobs
    assert llp is not None
    assert llp.tokens is not None
    assert llp.top_logprobs is not None
    assert (
        len(llp.tokens)
        == len(llp.top_logprobs)
        == (legacy.usage.completion_tokens if legacy.usage else -1)
    )
    assert all(len(t) <= 2 for t in llp.top_logprobs)  # distinct token texts may merge
    assert llp.text_offset is not None
    assert llp.text_offset[0] == 0
    # streamed: the same log-probabilities, chunk by chunk
    chunks = client.chat.completions.create(
        model=model_name, messages=MESSAGES, max_tokens=6, temperature=0, logprobs=True, stream=True
    )
    streamed = [
        i.logprob
        for c in chunks
        if c.choices and c.choices[0].logprobs
        for i in c.choices[0].logprobs.content or []
    ]
    assert streamed == pytest.approx([i.logprob for i in lp.content])


def test_completions(client: openai.OpenAI, model_name: str) -> None:
    resp = client.completions.create(
        model=model_name, prompt="1, 2, 3,", max_tokens=6, temperature=0
    )
    assert resp.object == "text_completion"
    assert resp.choices[0].text
    assert resp.usage is not None
    assert resp.usage.completion_tokens <= 6
    streamed = "".join(
        c.choices[0].text
        for c in client.completions.create(
            model=model_name, prompt="1, 2, 3,", max_tokens=6, temperature=0, stream=True
        )
        if c.choices
    )
    assert streamed == resp.choices[0].text


def test_sse_framing(api_node: ApiNode, model_name: str) -> None:
    body = {
        "model": model_name,
        "messages": MESSAGES,
        "max_tokens": 5,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.stream("POST", api_node.api + "/chat/completions", json=body, timeout=120) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    assert raw.endswith("data: [DONE]\n\n")
    events = raw.split("\n\n")
    assert events[-1] == ""
    events = events[:-1]
    assert all(e.startswith("data: ") and "\n" not in e for e in events)
    payloads = [json.loads(e[6:]) for e in events[:-1]]
    assert payloads[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(p["object"] == "chat.completion.chunk" for p in payloads)
    assert len({p["id"] for p in payloads}) == 1
    # Every chunk carries "usage": null except the last, which has no choices.
    assert all(p["usage"] is None for p in payloads[:-1])
    assert payloads[-1]["choices"] == []
    assert payloads[-1]["usage"]["completion_tokens"] <= 5
    assert payloads[-2]["choices"][0]["finish_reason"] in ("stop", "length")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": "M", "messages": []}, "messages"),
        ({"model": "M", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"model": "M", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        (
            {"model": "M", "messages": [{"role": "user", "content": "x"}], "temperature": 9},
            "temperature",
        ),
        (
            {"model": "M", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0},
            "max_tokens",
        ),
        ({"model": "M", "messages": [{"role": "user", "content": "x"}], "n": 2}, "n"),
        ({"model": "M", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
        ({"model": "M", "messages": [{"role": "user", "content": "x"}], "stop": [1]}, "stop"),
    ],
)
def test_malformed_requests(
    api_node: ApiNode, model_name: str, body: dict[str, Any], param: str
) -> None:
    if body.get("model") == "M":
        body = {**body, "model": model_name}
    r = httpx.post(api_node.api + "/chat/completions", json=body, timeout=30)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    assert err["param"] == param
    assert err["message"]


def test_bad_json_unknown_model_and_sdk_errors(
    client: openai.OpenAI, api_node: ApiNode, model_name: str
) -> None:
    r = httpx.post(api_node.api + "/chat/completions", content=b"{not json", timeout=30)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    r = httpx.post(api_node.api + "/completions", json=[1, 2], timeout=30)
    assert r.status_code == 400
    r = httpx.get(api_node.api + "/chat/completions", timeout=30)
    assert r.status_code == 405
    with pytest.raises(openai.NotFoundError) as exc:
        client.chat.completions.create(model="nope", messages=MESSAGES)
    assert exc.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model=model_name, prompt=["a", "b"])


def test_client_disconnect_cancels_the_stream(api_node: ApiNode, model_name: str) -> None:
    body = {
        "model": model_name,
        "prompt": "Once upon a time",
        "max_tokens": 200,
        "temperature": 0,
        "stream": True,
    }
    with httpx.stream("POST", api_node.api + "/completions", json=body, timeout=120) as r:
        lines = r.iter_lines()
        assert next(lines).startswith("data: ")
    # The node goes on serving, and counted the request as cancelled.
    r2 = httpx.post(
        api_node.api + "/completions", json={**body, "stream": False, "max_tokens": 2}, timeout=120
    )
    assert r2.status_code == 200

    def cancelled() -> float:
        text = httpx.get(api_node.root + "/metrics", timeout=30).text
        return sum(
            s.value
            for fam in text_string_to_metric_families(text)
            if fam.name == "funai_inference_requests"
            for s in fam.samples
            if s.labels.get("outcome") == "cancelled" and s.name.endswith("_total")
        )

    deadline = time.monotonic() + 30
    while cancelled() < 1:
        assert time.monotonic() < deadline, "the cancelled stream was not counted"
        time.sleep(0.2)
