"""Units of funai/api/openai/protocol.py: every refusal of a malformed request is a 400 in
OpenAI's error shape that names the field, and the answer shapes (bodies, stream chunks)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from funai.api.openai.errors import ApiError
from funai.api.openai.protocol import (
    DEFAULT_MAX_TOKENS,
    MAX_STOP,
    ChunkWriter,
    completion_body,
    parse_request,
    sse,
    usage,
)

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
COMPLETION = {"model": "m", "prompt": "Once"}


@pytest.mark.parametrize(
    ("chat", "body", "param"),
    [
        (True, {"messages": CHAT["messages"]}, "model"),
        (True, {**CHAT, "model": ""}, "model"),
        (True, {**CHAT, "n": 2}, "n"),
        (True, {**CHAT, "echo": True}, "echo"),
        (True, {**CHAT, "stream": "yes"}, "stream"),
        (True, {**CHAT, "stream_options": []}, "stream_options"),
        (True, {**CHAT, "max_tokens": 0}, "max_tokens"),
        (True, {**CHAT, "max_completion_tokens": True}, "max_completion_tokens"),
        (True, {**CHAT, "stop": ["a"] * (MAX_STOP + 1)}, "stop"),
        (True, {**CHAT, "stop": [""]}, "stop"),
        (True, {**CHAT, "temperature": 3}, "temperature"),
        (True, {**CHAT, "top_p": -0.1}, "top_p"),
        (True, {**CHAT, "top_k": 1.5}, "top_k"),
        (True, {**CHAT, "repetition_penalty": 0}, "repetition_penalty"),
        (True, {**CHAT, "seed": "1"}, "seed"),
        (True, {**CHAT, "logprobs": 1}, "logprobs"),
        (True, {**CHAT, "top_logprobs": 2}, "top_logprobs"),
        (True, {**CHAT, "logprobs": True, "top_logprobs": 99}, "top_logprobs"),
        (True, {"model": "m", "messages": []}, "messages"),
        (True, {"model": "m", "messages": ["hi"]}, "messages[0]"),
        (True, {"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        (
            True,
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            "messages[0].content",
        ),
        (
            True,
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            "messages[0].content",
        ),
        (True, {"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        (False, {"model": "m"}, "prompt"),
        (False, {**COMPLETION, "prompt": ["a", "b"]}, "prompt"),
        (False, {**COMPLETION, "logprobs": 6}, "logprobs"),
    ],
)
def test_malformed_requests_are_a_clear_400(chat: bool, body: dict[str, Any], param: str) -> None:
    with pytest.raises(ApiError) as exc:
        parse_request(body, chat)
    err = exc.value
    assert err.status == 400
    assert err.param == param
    shape = err.body()["error"]
    assert shape["type"] == "invalid_request_error"
    assert shape["param"] == param
    assert isinstance(shape["message"], str)
    assert shape["message"]


def test_defaults_and_greedy_top_p() -> None:
    req = parse_request({**CHAT, "top_p": 0, "temperature": 1.5}, chat=True)
    assert req.params.max_tokens == DEFAULT_MAX_TOKENS
    assert (req.params.temperature, req.params.top_p) == (0.0, 1.0)  # top_p 0: greedy
    assert req.chat
    assert not req.stream
    assert req.logprobs is None
    assert (req.input, req.context, req.system) == ("hi", "", "")
    req = parse_request({**COMPLETION, "logprobs": 2, "max_tokens": 9}, chat=False)
    assert (req.prompt, req.chat, req.logprobs, req.params.max_tokens) == ("Once", False, 2, 9)
    assert req.request_params().raw  # a completion signs a raw prompt
    assert req.asked().input == "Once"


def test_max_completion_tokens_wins_over_max_tokens() -> None:
    req = parse_request({**CHAT, "max_completion_tokens": 3, "max_tokens": 5}, chat=True)
    assert req.params.max_tokens == 3


def _events(text: str) -> Any:
    assert text.startswith("data: ")
    assert text.endswith("\n\n")
    return json.loads(text[6:])


def test_completion_body_shapes() -> None:
    ext = {"request_id": "r", "receipt": {}}
    chat = parse_request(CHAT, chat=True)
    body = completion_body(chat, "r", 7, "m", "ab" * 20, "hello", "stop", None, usage(2, 3), ext)
    assert body["object"] == "chat.completion"
    assert body["system_fingerprint"] == "fp_" + ("ab" * 6)
    assert body["choices"] == [
        {
            "index": 0,
            "finish_reason": "stop",
            "logprobs": None,
            "message": {"role": "assistant", "content": "hello", "refusal": None},
        }
    ]
    assert body["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    assert body["funai"] is ext
    plain = parse_request(COMPLETION, chat=False)
    body = completion_body(plain, "r", 7, "m", "", "hello", "length", None, usage(1, 1), ext)
    assert body["object"] == "text_completion"
    assert body["choices"][0]["text"] == "hello"


def test_stream_chunks() -> None:
    req = parse_request({**CHAT, "stream": True, "stream_options": {"include_usage": True}}, True)
    out = ChunkWriter(req, None, "r", 7, "m", "00" * 32)  # type: ignore[arg-type]
    first = out.first()
    assert first is not None
    opening = _events(first)
    assert opening["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert opening["usage"] is None
    piece = _events(out.chunk("Hi", None))
    assert piece["object"] == "chat.completion.chunk"
    assert piece["choices"][0]["delta"] == {"content": "Hi"}
    assert piece["usage"] is None
    last = _events(out.chunk(None, "stop", funai={"x": 1}))
    assert last["choices"][0] == {
        "index": 0,
        "delta": {},
        "finish_reason": "stop",
        "logprobs": None,
    }
    assert last["funai"] == {"x": 1}
    tail = _events(out.usage_chunk(usage(1, 2), {"x": 1}))
    assert tail["choices"] == []
    assert tail["usage"]["total_tokens"] == 3
    req = parse_request(COMPLETION, False)
    plain = ChunkWriter(req, None, "r", 7, "m", "")  # type: ignore[arg-type]
    assert plain.first() is None
    assert _events(plain.chunk(None, "stop"))["choices"][0]["text"] == ""
    assert sse({"a": 1}) == 'data: {"a":1}\n\n'
