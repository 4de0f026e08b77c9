"""A gateway that forwards a request (funai/api/forwarding.py, docs/api.md "Routing") must
not pass on an answer its executor's receipt does not cover.

The receipt an executor returns is a BIP340 signature over ``(network_id, user_txid,
content_hash, gas)``. Checking only its signature, signer, request and gas lets a malicious
executor answer with any text next to a valid receipt for another output, or with a receipt
made for another network (which no verifier on this network accepts). The gateway must
recompute the content hash of what its client gets (``input, output, context, system
prompt``) and check the receipt's network id, streamed or not; a refused answer is a 502
``bad_executor_receipt`` and the request's nonce is filled, since the executor may have
recorded the request.

In process: the real :class:`Forwarder` talks over loopback HTTP to a fake executor (a
Starlette app on hypercorn, no model) that signs real receipts with ``with_receipt``; the
inference layer under the gateway is a small stand-in that records reservations and nonces.
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route as HttpRoute

from funai import _core
from funai.api.forwarding import Forwarder, signed_request
from funai.api.metrics import NodeMetrics
from funai.api.openai_compat import ApiError, parse_request, verify_receipt
from funai.hashing import sha256
from funai.layer2.routing import ModelOffer, Route, ServiceAd
from funai.layer2.transactions import InferenceContent, account_of, with_receipt
from funai.node.l2runtime import L2Runtime, Reservation

NETWORK = sha256(b"gateway trusts executor: this network")
OTHER_NETWORK = sha256(b"gateway trusts executor: another network")
MODEL_ID = sha256(b"gateway trusts executor: model")
MODEL = "fake-model"
EXECUTOR_SK = sha256(b"gateway trusts executor: executor key")
PAYER_SK = sha256(b"gateway trusts executor: payer key")
PRICE = 2
GAS_LIMIT = 1_000
GAS_USED = 300
TRUE_ANSWER = "The capital of France is Paris."
FALSE_ANSWER = "The capital of France is Berlin."
MESSAGES = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "Hello."},
    {"role": "assistant", "content": "Hi."},
    {"role": "user", "content": "What is the capital of France?"},
]
PROMPT = "The capital of France is"
TOKENS = (504, 3575, 282, 4649, 314, 7042, 30)  # the answer's token ids, as the receipt names


def _like(real: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Makes a stand-in method async exactly when L2Runtime's real one is."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if not inspect.iscoroutinefunction(real):
            return fn

        @functools.wraps(fn)
        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return wrapped

    return deco


class GatewayL2:
    """What the Forwarder uses of the gateway's L2Runtime: the payer's key, gas set aside,
    nonces taken and given back."""

    def __init__(self) -> None:
        self.params = SimpleNamespace(network_id=NETWORK)
        self.reserved = 0
        self.nonce = 0
        self.returned: list[tuple[int, bool]] = []  # (nonce, maybe_used)

    def payer_key(self, wallet: Any) -> bytes:
        return PAYER_SK

    @_like(L2Runtime.reserve_gas)
    def reserve_gas(self, payer_sk: bytes, max_gas: int) -> Reservation:
        self.reserved += max_gas
        return Reservation(payer_sk, account_of(_core.schnorr_public_key(payer_sk)), max_gas)

    @_like(L2Runtime.take_nonce)
    def take_nonce(self, account: bytes) -> int:
        self.nonce += 1
        return self.nonce - 1

    def release(self, r: Reservation) -> None:
        self.reserved -= r.max_gas

    @_like(L2Runtime.return_nonce)
    def return_nonce(self, payer_sk: bytes, nonce: int, *, maybe_used: bool) -> None:
        self.returned.append((nonce, maybe_used))


@dataclass
class Executor:
    """A fake executor: quotes, checks the signed request, answers ``says`` and signs a
    receipt for the output ``receipted`` on network ``network``. ``second_choice`` adds a
    choice to a whole answer. Stream tricks: ``split_data`` sends each event's JSON over two
    ``data:`` lines (one SSE event), ``tail`` is text sent after the receipt."""

    says: str = TRUE_ANSWER
    receipted: str = TRUE_ANSWER
    network: bytes = NETWORK
    header_receipt_for: str | None = None
    hashes_system: bool = True
    split_data: bool = False
    tail: str = ""
    ending: str = "receipt"  # how a stream ends: "receipt", "error" (it failed) or "nothing"
    second_choice: str | None = None
    seen: list[Any] = field(default_factory=list)

    def ext(self, req: Any, signed: Any, output: str, network: bytes) -> dict[str, Any]:
        system = req.system if self.hashes_system else ""
        params = req.asked().params
        content = InferenceContent(req.input, output, req.context, system, params, TOKENS, "eos")
        tx = with_receipt(signed, EXECUTOR_SK, content.hash(), GAS_USED, network)
        receipt = {
            "version": 1,
            "kind": "executor",
            "scheme": "bip340",
            "request_id": "chatcmpl-fake",
            "model_id": MODEL_ID.hex(),
            "content_hash": content.hash().hex(),
            "inference_txid": tx.txid().hex(),
            "user_txid": tx.user_txid().hex(),
            "network_id": network.hex(),
            "payer": tx.sender.hex(),
            "gas": GAS_USED,
            "gas_limit": int(tx.payload[2]),
            "signer": bytes(tx.payload[3]).hex(),
            "signature": bytes(tx.payload[5]).hex(),
        }
        return {
            "request_id": "chatcmpl-fake",
            "model_id": MODEL_ID.hex(),
            "inference_txid": tx.txid().hex(),
            "tokens": list(TOKENS),
            "finish": "eos",
            "receipt": receipt,
        }

    async def quote(self, request: Request) -> Response:
        body = await request.json()
        return JSONResponse(
            {
                "model": MODEL,
                "model_id": MODEL_ID.hex(),
                "executor_key": _core.schnorr_public_key(EXECUTOR_SK).hex(),
                "prompt_tokens": 20,
                "max_tokens": body["request"].get("max_tokens", 16),
                "price_per_token": PRICE,
                "gas_limit": GAS_LIMIT,
            }
        )

    async def answer(self, request: Request) -> Response:
        chat = request.url.path.endswith("/chat/completions")
        body = await request.json()
        req = parse_request(body, chat)
        signed = signed_request(request.headers)
        assert signed is not None
        signed.verify_signature(NETWORK)
        self.seen.append(signed)
        ext = self.ext(req, signed, self.receipted, self.network)
        if req.stream:
            return StreamingResponse(self.events(chat, ext), media_type="text/event-stream")
        if chat:
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": self.says, "refusal": None},
            }
        else:
            choice = {"index": 0, "text": self.says}
        answer: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion" if chat else "text_completion",
            "model": MODEL,
            "choices": [{**choice, "finish_reason": "stop", "logprobs": None}],
            "funai": ext,
        }
        if self.second_choice is not None:
            answer["choices"].append({"index": 1, "text": self.second_choice})
        shown = ext
        if self.header_receipt_for is not None:
            shown = self.ext(req, signed, self.header_receipt_for, self.network)
        return JSONResponse(answer, headers={"X-FunAI-Receipt": _header(shown["receipt"])})

    async def events(self, chat: bool, ext: dict[str, Any]) -> Any:
        def event(delta: str | None, **extra: Any) -> str:
            if chat:
                d = {} if delta is None else {"content": delta}
                choice: dict[str, Any] = {"index": 0, "delta": d}
            else:
                choice = {"index": 0, "text": delta or ""}
            data = json.dumps({"object": "chunk", "choices": [choice], **extra})
            if self.split_data:  # one SSE event over two data lines (joined with "\n")
                cut = data.index(",")
                return f"data: {data[: cut + 1]}\ndata: {data[cut + 1 :]}\n\n"
            return f"data: {data}\n\n"

        words = self.says.split(" ")
        for i, word in enumerate(words):
            yield event(word if i == 0 else " " + word)
        if self.ending == "receipt":
            yield event(None, funai=ext)
        elif self.ending == "error":
            yield f"data: {json.dumps({'error': {'code': 'inference_not_recorded'}})}\n\n"
        if self.tail:
            yield event(self.tail)
        yield "data: [DONE]\n\n"


def _header(receipt: dict[str, Any]) -> str:
    raw = json.dumps(receipt, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _request(chat: bool, stream: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"model": MODEL, "max_tokens": 16, "stream": stream}
    if chat:
        data["messages"] = MESSAGES
    else:
        data["prompt"] = PROMPT
    return data


@dataclass
class Outcome:
    status: int
    body: Any  # the JSON answer, or the list of events of a stream
    headers: dict[str, str]
    l2: GatewayL2
    executor: Executor

    @property
    def error_code(self) -> str | None:
        if self.status != 200:
            return str(self.body["error"]["code"])
        if isinstance(self.body, list):
            errors = [e["error"]["code"] for e in self.body if isinstance(e, dict) and "error" in e]
            return errors[0] if errors else None
        return None

    def text(self, chat: bool) -> str:
        if isinstance(self.body, list):
            out = []
            for e in self.body:
                for c in e.get("choices", []) if isinstance(e, dict) else []:
                    out.append(c["delta"].get("content", "") if chat else c["text"])
            return "".join(out)
        c = self.body["choices"][0]
        return str(c["message"]["content"] if chat else c["text"])

    def receipts(self) -> list[dict[str, Any]]:
        events = self.body if isinstance(self.body, list) else [self.body]
        return [e["funai"]["receipt"] for e in events if isinstance(e, dict) and "funai" in e]


def _events(raw: str) -> list[Any]:
    """The events of an event stream, as an SSE client reads them (data lines joined)."""
    out: list[Any] = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(
            line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")
        )
        if data:
            out.append("[DONE]" if data == "[DONE]" else json.loads(data))
    return out


def forward_through(executor: Executor, *, chat: bool = True, stream: bool = False) -> Outcome:
    """One request through a gateway's Forwarder to ``executor`` (served on loopback)."""
    l2 = GatewayL2()

    async def main() -> Outcome:
        app = Starlette(
            routes=[
                HttpRoute("/v1/l2/quote", executor.quote, methods=["POST"]),
                HttpRoute("/v1/chat/completions", executor.answer, methods=["POST"]),
                HttpRoute("/v1/completions", executor.answer, methods=["POST"]),
            ]
        )
        config = Config()
        config.bind = ["127.0.0.1:0"]
        config.accesslog = None
        config.graceful_timeout = 0.5
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(functools.partial(serve, app, config))  # type: ignore[arg-type]
            base = binds[0].rstrip("/") + "/v1"
            ad = ServiceAd(
                _core.schnorr_public_key(EXECUTOR_SK),
                base,
                (ModelOffer(MODEL_ID, MODEL, PRICE),),
                int(time.time()),
            ).signed(EXECUTOR_SK, NETWORK)
            route = Route(ad, ad.offers[0])
            forwarder = Forwarder(l2, NodeMetrics(None))  # type: ignore[arg-type]
            data = _request(chat, stream)
            try:
                resp = await forwarder.forward(data, parse_request(data, chat), chat, [route])
            except ApiError as exc:
                out = Outcome(exc.status, exc.body(), {}, l2, executor)
            else:
                if isinstance(resp, StreamingResponse):
                    parts = [
                        p if isinstance(p, str) else bytes(p).decode()
                        async for p in resp.body_iterator
                    ]
                    body: Any = _events("".join(parts))
                else:
                    body = json.loads(bytes(resp.body))
                out = Outcome(resp.status_code, body, dict(resp.headers), l2, executor)
            nursery.cancel_scope.cancel()
        return out

    return trio.run(main)


def assert_refused(out: Outcome, stream: bool, *, receipt_relayed: bool = False) -> None:
    """A 502 bad_executor_receipt (an error event ending a stream), no receipt that fails
    the check reaches the client, the gas set aside is back and the nonce is filled (the
    executor may have recorded the request)."""
    assert out.error_code == "bad_executor_receipt", out.body
    if stream:
        assert out.status == 200  # the stream had started
        assert out.body[-2:] == [{"error": out.body[-2]["error"]}, "[DONE]"]
        assert len(out.receipts()) == int(receipt_relayed)
    else:
        assert out.status == 502
    assert len(out.executor.seen) == 1
    assert out.l2.reserved == 0
    assert out.l2.returned == [(out.executor.seen[0].nonce, True)]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("chat", [True, False], ids=["chat", "completions"])
def test_honest_executor_answer_passes_through(chat: bool, stream: bool) -> None:
    out = forward_through(Executor(), chat=chat, stream=stream)
    assert out.status == 200
    assert out.error_code is None
    assert out.text(chat) == TRUE_ANSWER
    (receipt,) = out.receipts()
    assert verify_receipt(receipt)
    assert receipt["network_id"] == NETWORK.hex()
    if not stream:
        assert out.headers["x-funai-receipt"] == _header(receipt)
    assert out.l2.reserved == 0
    assert out.l2.returned == []  # the executor recorded the request: nonce used


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("chat", [True, False], ids=["chat", "completions"])
def test_receipt_for_another_output_refused(chat: bool, stream: bool) -> None:
    """The executor answers a text of its own with a valid receipt for the true answer."""
    out = forward_through(Executor(says=FALSE_ANSWER), chat=chat, stream=stream)
    assert_refused(out, stream)
    if not stream:  # a stream's text was sent before its receipt came
        assert FALSE_ANSWER not in json.dumps(out.body)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_receipt_for_another_request_content_refused(stream: bool) -> None:
    """The receipt covers the text the client gets, but not with this request's system
    prompt: the content hash is over input, output, context and system prompt."""
    out = forward_through(Executor(hashes_system=False), stream=stream)
    assert_refused(out, stream)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("chat", [True, False], ids=["chat", "completions"])
def test_receipt_for_another_network_refused(chat: bool, stream: bool) -> None:
    out = forward_through(Executor(network=OTHER_NETWORK), chat=chat, stream=stream)
    assert_refused(out, stream)


def test_stream_text_after_the_receipt_refused() -> None:
    """Text streamed after the receipt is not covered by it (the receipt, which covers the
    text before it, had been relayed already)."""
    out = forward_through(Executor(tail=" Or Berlin."), stream=True)
    assert_refused(out, stream=True, receipt_relayed=True)
    assert "Berlin" not in out.text(chat=True)


def test_stream_event_split_over_data_lines_checked() -> None:
    """An SSE event whose JSON spans several ``data:`` lines is one event to the client:
    the gateway reads it the same way, so a lie split like this is still caught."""
    honest = forward_through(Executor(split_data=True), stream=True)
    assert honest.error_code is None
    assert honest.text(chat=True) == TRUE_ANSWER
    assert len(honest.receipts()) == 1
    lying = forward_through(Executor(says=FALSE_ANSWER, split_data=True), stream=True)
    assert_refused(lying, stream=True)


def test_receipt_header_is_the_verified_receipt() -> None:
    """The X-FunAI-Receipt header the client gets is the receipt checked in the body, not a
    header of the executor's choosing."""
    out = forward_through(Executor(header_receipt_for=FALSE_ANSWER))
    assert out.status == 200
    (receipt,) = out.receipts()
    assert out.headers["x-funai-receipt"] == _header(receipt)


def test_whole_answer_with_a_second_choice_refused() -> None:
    """A receipt covers one text: an answer with another choice beside it is refused."""
    out = forward_through(Executor(second_choice=FALSE_ANSWER), chat=False)
    assert_refused(out, stream=False)


def test_stream_without_a_receipt_refused() -> None:
    out = forward_through(Executor(ending="nothing"), stream=True)
    assert_refused(out, stream=True)


def test_stream_the_executor_reports_failed_passes_its_error() -> None:
    """An executor that reports an error (it could not record the answer) ends the stream:
    its error reaches the client as it is, and the nonce is filled."""
    out = forward_through(Executor(ending="error"), stream=True)
    assert out.error_code == "inference_not_recorded"
    assert out.body[-1] == "[DONE]"
    assert not out.receipts()
    assert out.l2.reserved == 0
    assert out.l2.returned == [(out.executor.seen[0].nonce, True)]
