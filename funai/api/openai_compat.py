"""OpenAI-compatible endpoints: ``POST /v1/chat/completions``, ``POST /v1/completions``,
``GET /v1/models``, ``GET /v1/models/{model}`` and the routing quote ``POST /v1/l2/quote``
(see docs/api.md).

Served by the local inference engine for the models this node serves (``roles.inference =
true`` and ``roles.models = [name or directory, ...]`` in node.toml; names resolve under
``<datadir>/models``). Models load in worker threads after the API starts; until then the
endpoints answer 503. A request for a model this node does not execute goes to an executor
that advertises it (``funai.api.forwarding``).

Each completion carries a ``funai`` extension object: the request id, the model id (BLAKE3 of
the model files), and the receipt: with the inference layer, the executor's BIP340 receipt
over the L2 inference transaction (``inference_txid``); without it, a *provisional* receipt
signed with the node's Ed25519 key (``inference_txid`` is ``null``). Non-streaming
responses also carry the receipt in the ``X-FunAI-Receipt`` header (base64url of the
receipt's compact JSON).
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from funai import _core
from funai.api.auth import ApiKeys
from funai.api.jsonbody import JsonBodyError, read_json_object
from funai.errors import FunaiError
from funai.inference import (
    GenerationParamsError,
    InferenceEngine,
    InferenceError,
    LoadedModel,
    SamplingParams,
)
from funai.inference.generate import MAX_TOP_LOGPROBS, Completion, TokenLogprob
from funai.layer2.chat_content import chat_messages, split_chat
from funai.layer2.models import is_active
from funai.layer2.request_params import RequestParams
from funai.layer2.routing import Route as ModelRoute
from funai.layer2.transactions import InferenceContent, InferencePayload, L2Tx, content_hash
from funai.layer2.transactions import receipt_message as l2_receipt_message
from funai.ledger.tx import tagged_hash
from funai.ledger.wallet import Wallet
from funai.node.l2runtime import PaymentRequiredError, Reservation

if TYPE_CHECKING:
    from funai.api.forwarding import Forwarder
    from funai.api.metrics import NodeMetrics
    from funai.node.node import Node

__all__ = [
    "ApiError",
    "InferenceService",
    "ServedModel",
    "content_hash",
    "encode_receipt",
    "http_error_handler",
    "openai_routes",
    "provisional_receipt_message",
    "split_chat",
    "verify_receipt",
]

log = logging.getLogger("funai.api")

RECEIPT_TAG = b"FunAI/api-receipt-v0"
DEFAULT_MAX_TOKENS = 256
MAX_STOP = 4
MAX_BODY = 1 << 20  # bytes of a request body
PRICE_UNIT = "base units of FAI (1 FAI = 100000000) per prompt or output token"
MAX_INFLIGHT = 64  # per model: more concurrent requests get 429


class ApiError(Exception):
    """An OpenAI-style error: ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


_OPENAI_PREFIXES = ("/v1/chat/", "/v1/completions", "/v1/models")


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """JSON bodies for Starlette's own errors (unknown route 404, wrong method 405): the
    OpenAI error shape under the OpenAI paths, the node API's ``{"error": message}`` elsewhere."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    if request.url.path.startswith(_OPENAI_PREFIXES):
        err = ApiError(exc.status_code, exc.detail, type_="invalid_request_error")
        return JSONResponse(err.body(), status_code=exc.status_code, headers=headers)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)


# --- content hash and provisional receipt ------------------------------------------------


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def provisional_receipt_message(model_id: bytes, chash: bytes, request_id: str) -> bytes:
    """What the provisional receipt signs: ``tagged_hash("FunAI/api-receipt-v0", model_id ||
    content_hash || lp(request_id))``."""
    return tagged_hash(RECEIPT_TAG, model_id + chash + _lp(request_id.encode()))


def verify_receipt(receipt: Mapping[str, Any]) -> bool:
    """Checks a receipt's signature.

    * ``kind: "executor"`` (inference layer running): the executor's BIP340 signature
      (``signer``, an x-only key) over ``receipt_message(network_id, user_txid,
      content_hash, gas)`` of :mod:`funai.layer2.transactions`, the same bytes the verifiers check
      on chain;
    * ``kind: "provisional"`` (no inference layer): Ed25519 by the node key (``GET
      /v1/status``) over :func:`provisional_receipt_message`.
    """
    try:
        if receipt.get("kind") == "executor":
            msg = l2_receipt_message(
                bytes.fromhex(receipt["network_id"]),
                bytes.fromhex(receipt["user_txid"]),
                bytes.fromhex(receipt["content_hash"]),
                int(receipt["gas"]),
            )
            return bool(
                _core.schnorr_verify(
                    bytes.fromhex(receipt["signer"]), msg, bytes.fromhex(receipt["signature"])
                )
            )
        msg = provisional_receipt_message(
            bytes.fromhex(receipt["model_id"]),
            bytes.fromhex(receipt["content_hash"]),
            str(receipt["request_id"]),
        )
        return bool(
            _core.ed25519_verify(
                bytes.fromhex(receipt["signer"]), msg, bytes.fromhex(receipt["signature"])
            )
        )
    except (KeyError, ValueError, TypeError, FunaiError):
        return False


def encode_receipt(receipt: Mapping[str, Any]) -> str:
    """A receipt as the ``X-FunAI-Receipt`` header carries it: base64url (unpadded) of its
    compact JSON with sorted keys."""
    raw = json.dumps(receipt, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- models --------------------------------------------------------------------------------


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


class InferenceService:
    """The models this node serves and their engines."""

    def __init__(self, node: Node | None, metrics: NodeMetrics) -> None:
        self.node = node
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
        l2 = None if self.node is None else self.node.l2
        if l2 is None or not served.model_id or l2.serves(bytes.fromhex(served.model_id)):
            return "local"
        return "judge-only"

    def model_json(self, served: ServedModel) -> dict[str, Any]:
        l2 = None if self.node is None else self.node.l2
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


# --- request parsing -------------------------------------------------------------------------


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


async def _json_body(request: Request) -> dict[str, Any]:
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


# --- endpoints --------------------------------------------------------------------------------


def openai_routes(service: InferenceService, node: Node | None) -> list[Route]:
    """The OpenAI-compatible routes over ``service``."""
    from funai.api.forwarding import Forwarder, signed_request

    metrics = service.metrics
    keys = ApiKeys(node) if node is not None else None
    forwarder = Forwarder(node.l2, metrics) if node is not None and node.l2 is not None else None

    def sign(
        served: ServedModel,
        content: InferenceContent,
        seed: int,
        rid: str,
        tx: L2Tx | None = None,
    ) -> dict[str, Any]:
        """The ``funai`` extension of an answer: the request's signed sampling parameters,
        the seed it was drawn with, its token ids and finish, and its receipt."""
        chash = content.hash()
        answer = {
            "seed": seed,
            "params": content.params.to_json(),
            "tokens": list(content.tokens),
            "finish": content.finish,
        }
        if tx is not None and node is not None and node.l2 is not None:
            txid, body = tx.txid().hex(), tx.payload_as(InferencePayload)
            executor: dict[str, Any] = {
                "version": 1,
                "kind": "executor",
                "scheme": "bip340",
                "request_id": rid,
                "model_id": served.model_id,
                "content_hash": chash.hex(),
                "inference_txid": txid,
                "user_txid": tx.user_txid().hex(),
                "network_id": node.l2.params.network_id.hex(),
                "payer": tx.sender.hex(),
                "gas": body.gas_used,
                "gas_limit": body.gas_limit,
                "seed": seed,
                "signer": body.executor_key.hex(),
                "signature": body.executor_sig.hex(),
            }
            return {
                "request_id": rid,
                "model_id": served.model_id,
                "inference_txid": txid,
                **answer,
                "receipt": executor,
            }
        model_id = bytes.fromhex(served.model_id) if served.model_id else b""
        receipt: dict[str, Any] = {
            "version": 0,
            "kind": "provisional",
            "request_id": rid,
            "model_id": served.model_id,
            "content_hash": chash.hex(),
            "inference_txid": None,
            "seed": seed,
            "status": "no inference layer on this node: no inference transaction",
        }
        if node is not None:
            sk, pk = node.identity.secret_key, node.identity.public_key
            receipt["scheme"] = "ed25519"
            receipt["signer"] = pk.hex()
            receipt["signature"] = _core.ed25519_sign(
                sk, provisional_receipt_message(model_id, chash, rid)
            ).hex()
        return {
            "request_id": rid,
            "model_id": served.model_id,
            "inference_txid": None,
            **answer,
            "receipt": receipt,
        }

    def release(r: Reservation | None) -> None:
        if r is not None and node is not None and node.l2 is not None:
            node.l2.release(r)

    async def charge(
        served: ServedModel, req: ParsedRequest, prompt_tokens: int
    ) -> Reservation | None:
        """The inference layer's checks before running: this node executes the model, the
        model is active on the inference layer and the paying account can cover prompt +
        max_tokens (raises ApiError 404 / 409 / 402)."""
        if node is None or node.l2 is None:
            return None
        await check_executes(served)
        try:
            return await node.l2.reserve(
                node.l2.payer_key(req.wallet), prompt_tokens + req.params.max_tokens
            )
        except PaymentRequiredError as exc:
            raise ApiError(
                402, str(exc), type_="insufficient_quota", code="insufficient_funds"
            ) from None

    async def pay_signed(served: ServedModel, req: ParsedRequest, signed: L2Tx) -> Reservation:
        """A request signed by its user on a forwarding node: this node executes the model
        and the signed request is valid and covers the worst case at this node's price."""
        if node is None or node.l2 is None:
            raise ApiError(400, "This node runs no inference layer: it takes no signed requests.")
        await check_executes(served)
        try:
            return await trio.to_thread.run_sync(
                node.l2.reserve_signed,
                signed,
                bytes.fromhex(served.model_id),
                req.asked(),
                prompt_tokens_of(served, req) + req.params.max_tokens,
            )
        except PaymentRequiredError as exc:
            raise ApiError(
                402, str(exc), type_="insufficient_quota", code="insufficient_funds"
            ) from None
        except FunaiError as exc:
            raise ApiError(400, f"the signed request is not valid: {exc}") from None

    async def check_executes(served: ServedModel) -> None:
        assert node is not None
        assert node.l2 is not None
        l2 = node.l2
        mid = bytes.fromhex(served.model_id)
        if not l2.serves(mid):
            raise ApiError(
                404,
                f"This node does not execute `{served.name}` (it is not an inference node "
                "for it); send the request to a node that lists it with served_by=local.",
                param="model",
                code="model_not_served",
            )
        active = await l2.aquery(lambda n: is_active(n.state, mid, n.state.height + 1))
        if not active:  # rule model-active: the transaction could not be recorded
            raise ApiError(
                409,
                f"The model `{served.name}` is not active on the inference layer (a new model "
                "needs a MODEL_PROPOSE, a quorum of verifier MODEL_VOTEs and then "
                "model_activation_delay L2 blocks).",
                param="model",
                code="model_inactive",
            )

    async def seed_for(served: ServedModel, asked: InferenceContent, r: Reservation | None) -> int:
        """The seed the answer is drawn with. On the inference layer the request is signed
        first (or, signed by its user elsewhere, checked) and the seed follows from it (rule
        ``inference-seed``); without it, the client's seed or a fresh random one."""
        if r is None or node is None or node.l2 is None:
            return asked.params.seed if asked.params.seed is not None else secrets.randbits(64)
        try:
            return await node.l2.sign_reserved(r, bytes.fromhex(served.model_id), asked)
        except FunaiError as exc:
            release(r)
            raise ApiError(
                503,
                f"the request could not be signed as an inference transaction: {exc}",
                type_="server_error",
                code="inference_not_recorded",
            ) from None

    async def settle(
        r: Reservation | None, asked: InferenceContent, done: Completion
    ) -> tuple[InferenceContent, L2Tx | None]:
        """The answered content and, on the inference layer, its transaction."""
        finish = done.finish_reason if done.finish_reason in ("eos", "stop") else "length"
        content = asked.answered(done.text, done.token_ids, finish)
        if r is None or node is None or node.l2 is None:
            return content, None
        tokens = done.prompt_tokens + done.completion_tokens
        return content, await node.l2.settle(r, content, tokens)

    def receipt_header(ext: dict[str, Any]) -> dict[str, str]:
        return {
            "X-FunAI-Receipt": encode_receipt(ext["receipt"]),
            "X-FunAI-Request-Id": ext["request_id"],
        }

    def prompt_tokens_of(served: ServedModel, req: ParsedRequest) -> int:
        return len(served.engine.prompt_ids(req.prompt)) if served.engine else 0

    def prepare(served: ServedModel, req: ParsedRequest) -> int:
        """Prompt tokens; checks the context length (and lowers max_tokens to fit it)."""
        try:
            ids = served.engine.prompt_ids(req.prompt) if served.engine else []
        except InferenceError as exc:
            raise ApiError(400, str(exc)) from None
        limit = served.model.max_length
        if len(ids) >= limit:
            raise ApiError(
                400,
                f"The prompt has {len(ids)} tokens; the context is {limit}.",
                param="messages" if isinstance(req.prompt, list) else "prompt",
                code="context_length_exceeded",
            )
        if len(ids) + req.params.max_tokens > limit:
            req.params = SamplingParams(
                max_tokens=limit - len(ids),
                temperature=req.params.temperature,
                top_k=req.params.top_k,
                top_p=req.params.top_p,
                repetition_penalty=req.params.repetition_penalty,
                seed=req.params.seed,
                stop=req.params.stop,
            )
        return len(ids)

    async def route(req: ParsedRequest, fwd: Forwarder) -> list[ModelRoute] | None:
        """Executors to send ``req`` to when this node does not execute its model itself
        (it does not have it, or only judges with it); None to answer here."""
        local = service.models.get(req.model) or next(
            (m for m in service.models.values() if m.model_id == req.model), None
        )
        if local is not None and (not local.model_id or service.served_by(local) == "local"):
            return None
        return await fwd.routes(req.model) or None

    async def handle(request: Request, chat: bool) -> Response:
        endpoint = "chat" if chat else "completions"
        wallet = None
        try:
            signed = signed_request(request.headers)
        except ApiError as exc:
            return exc.response()
        if keys is not None and signed is None:  # a signed request pays by its signature
            denied, wallet = await keys.authorize(request)
            if denied is not None:
                metrics.observe_failure("", endpoint, f"http_{denied.status}")
                return denied.response()
        req: ParsedRequest | None = None
        try:
            data = await _json_body(request)
            req = parse_request(data, chat)
            req.wallet = wallet
            if signed is None and forwarder is not None:
                routed = await route(req, forwarder)
                if routed is not None:
                    metrics.forwarded.labels(req.model).inc()
                    return await forwarder.forward(data, req, chat, routed)
            served = service.find(req.model)
            prompt_tokens = prepare(served, req)
            asked = req.asked()
            if signed is not None:
                reservation: Reservation | None = await pay_signed(served, req, signed)
            else:
                reservation = await charge(served, req, prompt_tokens)
        except ApiError as exc:
            if exc.status == 402:
                metrics.observe_failure(req.model if req else "", endpoint, "http_402")
            return exc.response()
        assert served.engine is not None
        if served.inflight >= MAX_INFLIGHT:
            release(reservation)
            metrics.observe_failure(served.name, endpoint, "http_429")
            return ApiError(
                429,
                f"Too many concurrent requests for `{served.name}`; retry.",
                type_="requests",
                code="rate_limit_exceeded",
            ).response()
        try:
            seed = await seed_for(served, asked, reservation)
        except ApiError as exc:
            metrics.observe_failure(served.name, endpoint, "unrecorded")
            return exc.response()
        rid = ("chatcmpl-" if chat else "cmpl-") + secrets.token_hex(12)
        created = int(time.time())
        if req.stream:
            return StreamingResponse(
                _stream(served, req, asked, seed, rid, created, prompt_tokens, reservation),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-FunAI-Request-Id": rid},
            )
        start = time.perf_counter()
        served.inflight += 1
        try:
            done = await served.engine.generate(
                req.prompt, asked.params.sampling(seed), logprobs=req.logprobs
            )
        except GenerationParamsError as exc:
            release(reservation)
            metrics.observe_failure(served.name, endpoint, "rejected")
            return ApiError(400, str(exc)).response()
        except Exception as exc:
            release(reservation)
            metrics.observe_failure(served.name, endpoint, "error")
            log.exception("generation failed", extra={"fields": {"model": served.name}})
            return ApiError(500, f"generation failed: {exc}", type_="server_error").response()
        except BaseException:
            release(reservation)
            raise
        finally:
            served.inflight -= 1
        try:
            content, tx = await settle(reservation, asked, done)
        except FunaiError as exc:
            metrics.observe_failure(served.name, endpoint, "unrecorded")
            return ApiError(
                503,
                f"the answer could not be recorded as an inference transaction: {exc}",
                type_="server_error",
                code="inference_not_recorded",
            ).response()
        total = time.perf_counter() - start
        metrics.observe_generation(
            served.name, endpoint, done.prompt_tokens, done.completion_tokens, None, total
        )
        if done.completion_tokens > 0 and total > 0:
            metrics.tokens_per_second.labels(served.name).observe(done.completion_tokens / total)
        usage = {
            "prompt_tokens": done.prompt_tokens,
            "completion_tokens": done.completion_tokens,
            "total_tokens": done.prompt_tokens + done.completion_tokens,
        }
        finish = "length" if content.finish == "length" else "stop"
        ext = sign(served, content, seed, rid, tx)
        choice: dict[str, Any] = {
            "index": 0,
            "finish_reason": finish,
            "logprobs": choice_logprobs(served, req, done.logprobs),
        }
        if chat:
            choice["message"] = {"role": "assistant", "content": done.text, "refusal": None}
        else:
            choice["text"] = done.text
        body = {
            "id": rid,
            "object": "chat.completion" if chat else "text_completion",
            "created": created,
            "model": served.name,
            "system_fingerprint": f"fp_{served.model_id[:12]}",
            "choices": [choice],
            "usage": usage,
            "funai": ext,
        }
        return JSONResponse(body, headers=receipt_header(ext))

    def choice_logprobs(
        served: ServedModel, req: ParsedRequest, lps: Sequence[TokenLogprob], offset: int = 0
    ) -> dict[str, Any] | None:
        if req.logprobs is None:
            return None
        if req.chat:
            return {"content": chat_logprobs(served.model, lps), "refusal": None}
        return completion_logprobs(served.model, lps, offset)

    async def _stream(
        served: ServedModel,
        req: ParsedRequest,
        asked: InferenceContent,
        seed: int,
        rid: str,
        created: int,
        prompt_tokens: int,
        reservation: Reservation | None,
    ) -> AsyncIterator[str]:
        chat = req.chat
        endpoint = "chat" if chat else "completions"
        assert served.engine is not None
        obj = "chat.completion.chunk" if chat else "text_completion"
        base = {
            "id": rid,
            "object": obj,
            "created": created,
            "model": served.name,
            "system_fingerprint": f"fp_{served.model_id[:12]}",
        }
        offset = 0

        def chunk(
            delta: str | None,
            finish: str | None,
            lps: Sequence[TokenLogprob] = (),
            **extra: Any,
        ) -> str:
            nonlocal offset
            logprobs = choice_logprobs(served, req, lps, offset) if lps else None
            offset += len(delta or "")
            if chat:
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
            body = {**base, "choices": [choice], **extra}
            if req.include_usage:
                body.setdefault("usage", None)
            return f"data: {json.dumps(body, separators=(',', ':'))}\n\n"

        if chat:
            first = {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                        "logprobs": None,
                    }
                ],
            }
            if req.include_usage:
                first["usage"] = None
            yield f"data: {json.dumps(first, separators=(',', ':'))}\n\n"
        start = time.perf_counter()
        first_s: float | None = None
        done: Completion | None = None
        served.inflight += 1
        try:
            events = served.engine.events(
                req.prompt, asked.params.sampling(seed), logprobs=req.logprobs
            )
            async with aclosing(events) as gen:  # type: ignore[type-var]
                async for piece, finished, lps in gen:
                    if finished is not None:
                        done = finished
                    if piece or lps:
                        if first_s is None:
                            first_s = time.perf_counter() - start
                        yield chunk(piece, None, lps)
        except Exception as exc:
            release(reservation)
            metrics.observe_failure(served.name, endpoint, "error")
            log.exception("generation failed", extra={"fields": {"model": served.name}})
            err = ApiError(500, f"generation failed: {exc}", type_="server_error").body()
            yield f"data: {json.dumps(err)}\n\n"
            yield "data: [DONE]\n\n"
            return
        except BaseException:
            release(reservation)
            metrics.observe_failure(served.name, endpoint, "cancelled")
            raise
        finally:
            served.inflight -= 1
        assert done is not None
        completion_tokens = done.completion_tokens
        metrics.observe_generation(
            served.name,
            endpoint,
            prompt_tokens,
            completion_tokens,
            first_s,
            time.perf_counter() - start,
        )
        try:
            content, tx = await settle(reservation, asked, done)
        except FunaiError as exc:
            metrics.observe_failure(served.name, endpoint, "unrecorded")
            err = ApiError(
                503,
                f"the answer could not be recorded as an inference transaction: {exc}",
                type_="server_error",
                code="inference_not_recorded",
            ).body()
            yield f"data: {json.dumps(err)}\n\n"
            yield "data: [DONE]\n\n"
            return
        ext = sign(served, content, seed, rid, tx)
        finish = "length" if content.finish == "length" else "stop"
        yield chunk(None, finish, funai=ext)
        if req.include_usage:
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
            body = {**base, "choices": [], "usage": usage, "funai": ext}
            yield f"data: {json.dumps(body, separators=(',', ':'))}\n\n"
        yield "data: [DONE]\n\n"

    async def chat_completions(request: Request) -> Response:
        return await handle(request, chat=True)

    async def completions(request: Request) -> Response:
        return await handle(request, chat=False)

    async def network_models() -> list[dict[str, Any]]:
        """Models served on the network by other executors (their adverts, bonded executors
        and active models only), that this node does not execute itself."""
        if node is None or node.l2 is None:
            return []
        now = int(time.time())
        local = {m.model_id for m in service.models.values() if service.served_by(m) == "local"}

        def read(n: Any) -> dict[bytes, list[ModelRoute]]:
            return {mid: n.route(mid, now) for mid in n.routes.models(now)}

        by_model = await node.l2.aquery(read)
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

    async def models(request: Request) -> Response:
        data = [service.model_json(m) for m in service.models.values()]
        names = {m["id"] for m in data}
        data += [m for m in await network_models() if m["id"] not in names]
        return JSONResponse({"object": "list", "data": data})

    async def quote(request: Request) -> Response:
        """What an OpenAI request would cost here at most (for a forwarding node, which
        signs the request with this gas limit): prompt tokens, the effective max_tokens
        and ``gas_limit = price_per_token * (prompt_tokens + max_tokens)``."""
        try:
            body = await _json_body(request)
            kind = body.get("endpoint")
            if kind not in ("chat/completions", "completions"):
                raise ApiError(
                    400, "`endpoint` must be chat/completions or completions.", param="endpoint"
                )
            inner = body.get("request")
            if not isinstance(inner, dict):
                raise ApiError(400, "`request` must be an OpenAI request object.")
            req = parse_request(inner, kind == "chat/completions")
            served = service.find(req.model)
            prompt_tokens = prepare(served, req)
            if node is None or node.l2 is None:
                raise ApiError(400, "This node runs no inference layer.")
            await check_executes(served)
        except ApiError as exc:
            return exc.response()
        price = node.l2.price_per_token
        return JSONResponse(
            {
                "model": served.name,
                "model_id": served.model_id,
                "executor_key": node.l2.l2.key.hex(),
                "prompt_tokens": prompt_tokens,
                "max_tokens": req.params.max_tokens,
                "price_per_token": price,
                "gas_limit": price * (prompt_tokens + req.params.max_tokens),
            }
        )

    async def model_get(request: Request) -> Response:
        name = request.path_params["model"]
        served = service.models.get(name) or next(
            (m for m in service.models.values() if m.model_id == name), None
        )
        if served is None:
            return ApiError(
                404, f"The model `{name}` does not exist.", param="model", code="model_not_found"
            ).response()
        return JSONResponse(service.model_json(served))

    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/models", models),
        Route("/v1/l2/quote", quote, methods=["POST"]),
        Route("/v1/models/{model:path}", model_get),
    ]
