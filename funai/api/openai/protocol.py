"""The OpenAI wire format: a request parsed and checked into a typed :class:`ParsedRequest`
(every refusal an :class:`~funai.api.openai.errors.ApiError` 400 naming the field), and the
shapes of answers: completion bodies, stream chunks and log-probabilities."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from funai.api.jsonbody import JsonBodyError, read_json_object
from funai.api.openai.errors import ApiError
from funai.errors import FunaiError
from funai.inference import InferenceError, LoadedModel, SamplingParams
from funai.inference.generate import MAX_TOP_LOGPROBS, TokenLogprob
from funai.layer2.chat_content import chat_messages, split_chat
from funai.layer2.request_params import RequestParams
from funai.layer2.transactions import InferenceContent
from funai.ledger.wallet import Wallet

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "MAX_BODY",
    "MAX_STOP",
    "ParsedRequest",
    "chat_logprobs",
    "completion_logprobs",
    "json_body",
    "parse_request",
    "sse",
]

DEFAULT_MAX_TOKENS = 256
MAX_STOP = 4
MAX_BODY = 1 << 20  # bytes of a request body


# --- requests ----------------------------------------------------------------------------------


@dataclass
class ParsedRequest:
    model: str
    #: what the engine is given: the raw prompt of a completion, or the chat as the
    #: verifiers rebuild it from the transaction's content (rule ``chat-content``)
    prompt: str | list[dict[str, str]]
    params: SamplingParams
    stream: bool
    include_usage: bool
    input: str
    context: str
    system: str
    wallet: Wallet | None = None  # the API key's wallet (pays on the inference layer)
    chat: bool = True
    #: None: no log-probabilities; n: each token's and the n most likely alternatives
    logprobs: int | None = None

    def request_params(self) -> RequestParams:
        """The signed sampling parameters of this request (rule ``request-params``)."""
        try:
            return RequestParams.from_sampling(self.params, raw=not self.chat)
        except FunaiError as exc:
            raise ApiError(400, str(exc)) from None

    def asked(self) -> InferenceContent:
        """The request part of this request's inference content."""
        return InferenceContent(self.input, "", self.context, self.system, self.request_params())


async def json_body(request: Request) -> dict[str, Any]:
    try:
        return await read_json_object(request, MAX_BODY)  # strict JSON (funai/api/jsonbody.py)
    except JsonBodyError as exc:
        raise ApiError(exc.status, f"The request body is refused: {exc.message}.") from None


def _number(data: dict[str, Any], key: str, lo: float, hi: float, default: float) -> float:
    v = data.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
        raise ApiError(400, f"`{key}` must be a number in [{lo}, {hi}].", param=key)
    return float(v)


def _int(data: dict[str, Any], key: str, lo: int, hi: int) -> int | None:
    v = data.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ApiError(400, f"`{key}` must be an integer in [{lo}, {hi}].", param=key)
    return v


def _content(value: Any, i: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise ApiError(
                    400, "Only text content parts are supported.", param=f"messages[{i}].content"
                )
            if not isinstance(part.get("text"), str):
                raise ApiError(
                    400, "A text part needs a string `text`.", param=f"messages[{i}].content"
                )
            parts.append(part["text"])
        return "".join(parts)
    raise ApiError(
        400,
        "A message's `content` must be a string or a list of text parts.",
        param=f"messages[{i}].content",
    )


def _messages(data: dict[str, Any]) -> list[dict[str, str]]:
    msgs = data.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise ApiError(400, "`messages` must be a non-empty array.", param="messages")
    out = []
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            raise ApiError(400, "Each message must be an object.", param=f"messages[{i}]")
        role = m.get("role")
        if role == "developer":
            role = "system"
        if role not in ("system", "user", "assistant", "tool"):
            raise ApiError(400, f"Unsupported role {role!r}.", param=f"messages[{i}].role")
        content = m.get("content")
        out.append({"role": role, "content": "" if content is None else _content(content, i)})
    return out


def parse_request(data: dict[str, Any], chat: bool) -> ParsedRequest:
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "`model` is required.", param="model")
    n = _int(data, "n", 1, 1)
    del n
    if data.get("echo") not in (None, False):
        raise ApiError(400, "`echo` is not supported.", param="echo")
    logprobs = _logprobs(data, chat)
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "`stream` must be a boolean.", param="stream")
    opts = data.get("stream_options")
    if opts is not None and not isinstance(opts, dict):
        raise ApiError(400, "`stream_options` must be an object.", param="stream_options")
    include_usage = bool((opts or {}).get("include_usage", False))
    max_tokens = _int(data, "max_completion_tokens", 1, 1 << 20)
    if max_tokens is None:
        max_tokens = _int(data, "max_tokens", 1, 1 << 20)
    stop = data.get("stop")
    if stop is None:
        stops: tuple[str, ...] = ()
    elif isinstance(stop, str):
        stops = (stop,) if stop else ()
    elif (
        isinstance(stop, list)
        and len(stop) <= MAX_STOP
        and all(isinstance(s, str) and s for s in stop)
    ):
        stops = tuple(stop)
    else:
        raise ApiError(400, f"`stop` must be a string or up to {MAX_STOP} strings.", param="stop")
    seed = _int(data, "seed", -(1 << 63), (1 << 64) - 1)
    top_k = _int(data, "top_k", 0, 1 << 20)
    top_p = _number(data, "top_p", 0.0, 1.0, 1.0)
    try:
        params = SamplingParams(
            max_tokens=max_tokens or DEFAULT_MAX_TOKENS,
            # top_p = 0 keeps only the most likely token: greedy decoding.
            temperature=_number(data, "temperature", 0.0, 2.0, 1.0) if top_p > 0 else 0.0,
            top_p=top_p or 1.0,
            top_k=top_k or 0,
            repetition_penalty=_number(data, "repetition_penalty", 0.01, 10.0, 1.0),
            seed=None if seed is None else seed % (1 << 64),
            stop=stops,
        )
    except InferenceError as exc:
        raise ApiError(400, str(exc)) from None
    if chat:
        inp, ctx, system = split_chat(_messages(data))
        messages = [dict(m) for m in chat_messages(inp, ctx, system)]
        return ParsedRequest(
            model, messages, params, stream, include_usage, inp, ctx, system, None, True, logprobs
        )
    prompt = data.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise ApiError(
            400, "`prompt` must be a string (batches are not supported).", param="prompt"
        )
    return ParsedRequest(
        model, prompt, params, stream, include_usage, prompt, "", "", None, False, logprobs
    )


def _logprobs(data: dict[str, Any], chat: bool) -> int | None:
    """How many alternatives per token a request wants (None: no log-probabilities):
    chat: ``logprobs: true`` and ``top_logprobs`` 0-20; completions: ``logprobs`` 0-5."""
    if not chat:
        return _int(data, "logprobs", 0, 5)
    want = data.get("logprobs")
    if want is not None and not isinstance(want, bool):
        raise ApiError(400, "`logprobs` must be a boolean.", param="logprobs")
    top = _int(data, "top_logprobs", 0, MAX_TOP_LOGPROBS)
    if top is not None and not want:
        raise ApiError(400, "`top_logprobs` needs `logprobs: true`.", param="top_logprobs")
    return (top or 0) if want else None


def _token_text(model: LoadedModel, token_id: int) -> str:
    return model.decode([token_id], skip_special=False)


def chat_logprobs(model: LoadedModel, lps: Sequence[TokenLogprob]) -> list[dict[str, Any]]:
    """OpenAI's ``choices[].logprobs.content`` items for generated tokens."""

    def item(token_id: int, logprob: float) -> dict[str, Any]:
        text = _token_text(model, token_id)
        return {"token": text, "logprob": logprob, "bytes": list(text.encode())}

    return [
        {**item(t.token_id, t.logprob), "top_logprobs": [item(i, lp) for i, lp in t.top]}
        for t in lps
    ]


def completion_logprobs(
    model: LoadedModel, lps: Sequence[TokenLogprob], offset: int = 0
) -> dict[str, Any]:
    """OpenAI's legacy ``choices[].logprobs`` of /v1/completions (``text_offset`` counts
    characters of the answer from ``offset``)."""
    tokens = [_token_text(model, t.token_id) for t in lps]
    offsets = []
    for tok in tokens:
        offsets.append(offset)
        offset += len(tok)
    return {
        "tokens": tokens,
        "token_logprobs": [t.logprob for t in lps],
        "top_logprobs": [{_token_text(model, i): lp for i, lp in t.top} for t in lps],
        "text_offset": offsets,
    }


# --- answers -----------------------------------------------------------------------------------


def sse(body: Any) -> str:
    """One server-sent event of a stream (compact JSON)."""
    return f"data: {json.dumps(body, separators=(',', ':'))}\n\n"


def sse_error(err: ApiError) -> str:
    """A stream's error event (the OpenAI error shape, default JSON separators)."""
    return f"data: {json.dumps(err.body())}\n\n"


SSE_DONE = "data: [DONE]\n\n"


def choice_logprobs(
    model: LoadedModel, req: ParsedRequest, lps: Sequence[TokenLogprob], offset: int = 0
) -> dict[str, Any] | None:
    """A choice's ``logprobs``: None unless asked for; the chat or the legacy shape."""
    if req.logprobs is None:
        return None
    if req.chat:
        return {"content": chat_logprobs(model, lps), "refusal": None}
    return completion_logprobs(model, lps, offset)


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion_body(
    req: ParsedRequest,
    rid: str,
    created: int,
    model_name: str,
    model_id: str,
    text: str,
    finish: str,
    logprobs: dict[str, Any] | None,
    usage_: dict[str, int],
    ext: dict[str, Any],
) -> dict[str, Any]:
    """A non-streamed answer (``chat.completion`` or ``text_completion``)."""
    choice: dict[str, Any] = {"index": 0, "finish_reason": finish, "logprobs": logprobs}
    if req.chat:
        choice["message"] = {"role": "assistant", "content": text, "refusal": None}
    else:
        choice["text"] = text
    return {
        "id": rid,
        "object": "chat.completion" if req.chat else "text_completion",
        "created": created,
        "model": model_name,
        "system_fingerprint": f"fp_{model_id[:12]}",
        "choices": [choice],
        "usage": usage_,
        "funai": ext,
    }


class ChunkWriter:
    """The events of one streamed answer: the chunks share their id, object, creation time,
    model and fingerprint; completions' ``text_offset`` runs on over the chunks."""

    def __init__(
        self,
        req: ParsedRequest,
        model: LoadedModel,
        rid: str,
        created: int,
        model_name: str,
        model_id: str,
    ) -> None:
        self.req = req
        self.model = model
        self.offset = 0
        self.base = {
            "id": rid,
            "object": "chat.completion.chunk" if req.chat else "text_completion",
            "created": created,
            "model": model_name,
            "system_fingerprint": f"fp_{model_id[:12]}",
        }

    def first(self) -> str | None:
        """A chat stream's opening chunk (the assistant role); None for completions."""
        if not self.req.chat:
            return None
        first: dict[str, Any] = {
            **self.base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": ""},
                    "finish_reason": None,
                    "logprobs": None,
                }
            ],
        }
        if self.req.include_usage:
            first["usage"] = None
        return sse(first)

    def chunk(
        self,
        delta: str | None,
        finish: str | None,
        lps: Sequence[TokenLogprob] = (),
        **extra: Any,
    ) -> str:
        req = self.req
        logprobs = choice_logprobs(self.model, req, lps, self.offset) if lps else None
        self.offset += len(delta or "")
        if req.chat:
            d: dict[str, Any] = {} if delta is None else {"content": delta}
            choice: dict[str, Any] = {
                "index": 0,
                "delta": d,
                "finish_reason": finish,
                "logprobs": logprobs,
            }
        else:
            choice = {
                "index": 0,
                "text": delta or "",
                "finish_reason": finish,
                "logprobs": logprobs,
            }
        body = {**self.base, "choices": [choice], **extra}
        if req.include_usage:
            body.setdefault("usage", None)
        return sse(body)

    def usage_chunk(self, usage_: dict[str, int], ext: dict[str, Any]) -> str:
        """The closing usage chunk (``stream_options.include_usage``)."""
        return sse({**self.base, "choices": [], "usage": usage_, "funai": ext})
