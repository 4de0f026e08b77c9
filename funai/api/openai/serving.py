"""Serving the OpenAI-compatible endpoints: :class:`OpenAIServing` answers a completion
request here (parse, check the context length, pay on the inference layer, generate, settle
and sign the receipt; streamed or not), forwards it to an executor of the model
(:mod:`funai.api.forwarding`), lists the models and quotes a request's cost.

Each completion carries a ``funai`` extension object: the request id, the model id (BLAKE3 of
the model files), and the receipt (:mod:`funai.api.openai.receipts`).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from funai.api.auth import ApiKeys
from funai.api.forwarding import Forwarder, signed_request
from funai.api.openai.errors import ApiError, payment_required
from funai.api.openai.models import ModelRegistry, ServedModel
from funai.api.openai.protocol import (
    SSE_DONE,
    ChunkWriter,
    ParsedRequest,
    choice_logprobs,
    completion_body,
    json_body,
    parse_request,
    sse_error,
    usage,
)
from funai.api.openai.receipts import answer_extension, receipt_headers
from funai.errors import FunaiError
from funai.inference import GenerationParamsError, InferenceError, SamplingParams
from funai.inference.generate import Completion
from funai.layer2.routing import Route as ModelRoute
from funai.layer2.transactions import InferenceContent, L2Tx
from funai.node.l2facade import PaymentRequiredError, Reservation

if TYPE_CHECKING:
    from funai.node.node import Node

__all__ = ["MAX_INFLIGHT", "OpenAIServing"]

log = logging.getLogger("funai.api")

MAX_INFLIGHT = 64  # per model: more concurrent requests get 429


def _not_recorded(exc: FunaiError) -> ApiError:
    return ApiError(
        503,
        f"the answer could not be recorded as an inference transaction: {exc}",
        type_="server_error",
        code="inference_not_recorded",
    )


class OpenAIServing:
    """The OpenAI-compatible endpoints over the models of ``service`` on ``node`` (None: a
    bare engine, no API keys, no inference layer, unsigned provisional receipts)."""

    def __init__(self, service: ModelRegistry, node: Node | None) -> None:
        self.service = service
        self.metrics = service.metrics
        self.l2 = service.l2
        self.keys = ApiKeys(node) if node is not None else None
        self.forwarder = Forwarder(self.l2, self.metrics) if self.l2 is not None else None
        self.node = node

    # --- receipts and payment ---------------------------------------------------------------
    def extension(
        self,
        served: ServedModel,
        content: InferenceContent,
        seed: int,
        rid: str,
        tx: L2Tx | None = None,
    ) -> dict[str, Any]:
        """The ``funai`` extension of an answer (see :func:`answer_extension`)."""
        return answer_extension(
            served.model_id,
            content,
            seed,
            rid,
            tx=tx,
            network_id=None if self.l2 is None else self.l2.network_id,
            node_key=self.node_key(),
        )

    def node_key(self) -> tuple[bytes, bytes] | None:
        """The node's Ed25519 key (secret, public) that signs provisional receipts."""
        if self.node is None:
            return None
        return self.node.identity.secret_key, self.node.identity.public_key

    def release(self, r: Reservation | None) -> None:
        if r is not None and self.l2 is not None:
            self.l2.release(r)

    async def charge(
        self, served: ServedModel, req: ParsedRequest, prompt_tokens: int
    ) -> Reservation | None:
        """The inference layer's checks before running: this node executes the model, the
        model is active on the inference layer and the paying account can cover prompt +
        max_tokens (raises ApiError 404 / 409 / 402)."""
        if self.l2 is None:
            return None
        await self.check_executes(served)
        try:
            return await self.l2.reserve(
                self.l2.payer_key(req.wallet), prompt_tokens + req.params.max_tokens
            )
        except PaymentRequiredError as exc:
            raise payment_required(exc) from None

    async def pay_signed(
        self, served: ServedModel, req: ParsedRequest, signed: L2Tx
    ) -> Reservation:
        """A request signed by its user on a forwarding node: this node executes the model
        and the signed request is valid and covers the worst case at this node's price."""
        if self.l2 is None:
            raise ApiError(400, "This node runs no inference layer: it takes no signed requests.")
        await self.check_executes(served)
        try:
            return await self.l2.reserve_signed(
                signed,
                bytes.fromhex(served.model_id),
                req.asked(),
                self.prompt_tokens_of(served, req) + req.params.max_tokens,
            )
        except PaymentRequiredError as exc:
            raise payment_required(exc) from None
        except FunaiError as exc:
            raise ApiError(400, f"the signed request is not valid: {exc}") from None

    async def check_executes(self, served: ServedModel) -> None:
        """This node executes ``served`` (404) and the model is active (409)."""
        l2 = self.l2
        assert l2 is not None
        mid = bytes.fromhex(served.model_id)
        if not l2.serves(mid):
            raise ApiError(
                404,
                f"This node does not execute `{served.name}` (it is not an inference node "
                "for it); send the request to a node that lists it with served_by=local.",
                param="model",
                code="model_not_served",
            )
        if not await l2.model_active(mid):  # rule model-active: it could not be recorded
            raise ApiError(
                409,
                f"The model `{served.name}` is not active on the inference layer (a new model "
                "needs a MODEL_PROPOSE, a quorum of verifier MODEL_VOTEs and then "
                "model_activation_delay L2 blocks).",
                param="model",
                code="model_inactive",
            )

    async def seed_for(
        self, served: ServedModel, asked: InferenceContent, r: Reservation | None
    ) -> int:
        """The seed the answer is drawn with. On the inference layer the request is signed
        first (or, signed by its user elsewhere, checked) and the seed follows from it (rule
        ``inference-seed``); without it, the client's seed or a fresh random one."""
        if r is None or self.l2 is None:
            return asked.params.seed if asked.params.seed is not None else secrets.randbits(64)
        try:
            return await self.l2.sign_reserved(r, bytes.fromhex(served.model_id), asked)
        except FunaiError as exc:
            self.release(r)
            raise ApiError(
                503,
                f"the request could not be signed as an inference transaction: {exc}",
                type_="server_error",
                code="inference_not_recorded",
            ) from None

    async def settle(
        self, r: Reservation | None, asked: InferenceContent, done: Completion
    ) -> tuple[InferenceContent, L2Tx | None]:
        """The answered content and, on the inference layer, its transaction."""
        finish = done.finish_reason if done.finish_reason in ("eos", "stop") else "length"
        content = asked.answered(done.text, done.token_ids, finish)
        if r is None or self.l2 is None:
            return content, None
        tokens = done.prompt_tokens + done.completion_tokens
        return content, await self.l2.settle(r, content, tokens)

    # --- prompts ----------------------------------------------------------------------------
    @staticmethod
    def prompt_tokens_of(served: ServedModel, req: ParsedRequest) -> int:
        return len(served.engine.prompt_ids(req.prompt)) if served.engine else 0

    @staticmethod
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

    async def route(self, req: ParsedRequest, fwd: Forwarder) -> list[ModelRoute] | None:
        """Executors to send ``req`` to when this node does not execute its model itself
        (it does not have it, or only judges with it); None to answer here."""
        local = self.service.lookup(req.model)
        if local is not None and (not local.model_id or self.service.served_by(local) == "local"):
            return None
        return await fwd.routes(req.model) or None

    # --- completions ------------------------------------------------------------------------
    async def create_completion(self, request: Request, chat: bool) -> Response:
        """``POST /v1/chat/completions`` (``chat``) or ``POST /v1/completions``."""
        metrics = self.metrics
        endpoint = "chat" if chat else "completions"
        wallet = None
        try:
            signed = signed_request(request.headers)
        except ApiError as exc:
            return exc.response()
        if self.keys is not None and signed is None:  # a signed request pays by its signature
            denied, wallet = await self.keys.authorize(request)
            if denied is not None:
                metrics.observe_failure("", endpoint, f"http_{denied.status}")
                return denied.response()
        req: ParsedRequest | None = None
        try:
            data = await json_body(request)
            req = parse_request(data, chat)
            req.wallet = wallet
            if signed is None and self.forwarder is not None:
                routed = await self.route(req, self.forwarder)
                if routed is not None:
                    metrics.forwarded.labels(req.model).inc()
                    return await self.forwarder.forward(data, req, chat, routed)
            served = self.service.find(req.model)
            prompt_tokens = self.prepare(served, req)
            asked = req.asked()
            if signed is not None:
                reservation: Reservation | None = await self.pay_signed(served, req, signed)
            else:
                reservation = await self.charge(served, req, prompt_tokens)
        except ApiError as exc:
            if exc.status == 402:
                metrics.observe_failure(req.model if req else "", endpoint, "http_402")
            return exc.response()
        assert served.engine is not None
        if served.inflight >= MAX_INFLIGHT:
            self.release(reservation)
            metrics.observe_failure(served.name, endpoint, "http_429")
            return ApiError(
                429,
                f"Too many concurrent requests for `{served.name}`; retry.",
                type_="requests",
                code="rate_limit_exceeded",
            ).response()
        try:
            seed = await self.seed_for(served, asked, reservation)
        except ApiError as exc:
            metrics.observe_failure(served.name, endpoint, "unrecorded")
            return exc.response()
        rid = ("chatcmpl-" if chat else "cmpl-") + secrets.token_hex(12)
        created = int(time.time())
        if req.stream:
            return StreamingResponse(
                self.stream(served, req, asked, seed, rid, created, prompt_tokens, reservation),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-FunAI-Request-Id": rid},
            )
        return await self.complete(served, req, asked, seed, rid, created, reservation)

    async def complete(
        self,
        served: ServedModel,
        req: ParsedRequest,
        asked: InferenceContent,
        seed: int,
        rid: str,
        created: int,
        reservation: Reservation | None,
    ) -> Response:
        """A whole (non-streamed) answer, its receipt in the body and the headers."""
        metrics = self.metrics
        endpoint = "chat" if req.chat else "completions"
        assert served.engine is not None
        start = time.perf_counter()
        served.inflight += 1
        try:
            done = await served.engine.generate(
                req.prompt, asked.params.sampling(seed), logprobs=req.logprobs
            )
        except GenerationParamsError as exc:
            self.release(reservation)
            metrics.observe_failure(served.name, endpoint, "rejected")
            return ApiError(400, str(exc)).response()
        except Exception as exc:
            self.release(reservation)
            metrics.observe_failure(served.name, endpoint, "error")
            log.exception("generation failed", extra={"fields": {"model": served.name}})
            return ApiError(500, f"generation failed: {exc}", type_="server_error").response()
        except BaseException:
            self.release(reservation)
            raise
        finally:
            served.inflight -= 1
        try:
            content, tx = await self.settle(reservation, asked, done)
        except FunaiError as exc:
            metrics.observe_failure(served.name, endpoint, "unrecorded")
            return _not_recorded(exc).response()
        total = time.perf_counter() - start
        metrics.observe_generation(
            served.name, endpoint, done.prompt_tokens, done.completion_tokens, None, total
        )
        if done.completion_tokens > 0 and total > 0:
            metrics.tokens_per_second.labels(served.name).observe(done.completion_tokens / total)
        finish = "length" if content.finish == "length" else "stop"
        ext = self.extension(served, content, seed, rid, tx)
        body = completion_body(
            req,
            rid,
            created,
            served.name,
            served.model_id,
            done.text,
            finish,
            choice_logprobs(served.model, req, done.logprobs),
            usage(done.prompt_tokens, done.completion_tokens),
            ext,
        )
        return JSONResponse(body, headers=receipt_headers(ext))

    async def stream(
        self,
        served: ServedModel,
        req: ParsedRequest,
        asked: InferenceContent,
        seed: int,
        rid: str,
        created: int,
        prompt_tokens: int,
        reservation: Reservation | None,
    ) -> AsyncIterator[str]:
        """A streamed answer's events; the last chunk with text carries the receipt."""
        metrics = self.metrics
        endpoint = "chat" if req.chat else "completions"
        assert served.engine is not None
        out = ChunkWriter(req, served.model, rid, created, served.name, served.model_id)
        first = out.first()
        if first is not None:
            yield first
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
                        yield out.chunk(piece, None, lps)
        except Exception as exc:
            self.release(reservation)
            metrics.observe_failure(served.name, endpoint, "error")
            log.exception("generation failed", extra={"fields": {"model": served.name}})
            yield sse_error(ApiError(500, f"generation failed: {exc}", type_="server_error"))
            yield SSE_DONE
            return
        except BaseException:
            self.release(reservation)
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
            content, tx = await self.settle(reservation, asked, done)
        except FunaiError as exc:
            metrics.observe_failure(served.name, endpoint, "unrecorded")
            yield sse_error(_not_recorded(exc))
            yield SSE_DONE
            return
        ext = self.extension(served, content, seed, rid, tx)
        finish = "length" if content.finish == "length" else "stop"
        yield out.chunk(None, finish, funai=ext)
        if req.include_usage:
            yield out.usage_chunk(usage(prompt_tokens, completion_tokens), ext)
        yield SSE_DONE

    # --- models and quotes ------------------------------------------------------------------
    async def list_models(self) -> Response:
        """``GET /v1/models``."""
        return JSONResponse({"object": "list", "data": await self.service.list_models()})

    async def show_model(self, name: str) -> Response:
        """``GET /v1/models/{model}`` (this node's models, in any state)."""
        served = self.service.lookup(name)
        if served is None:
            return ApiError(
                404, f"The model `{name}` does not exist.", param="model", code="model_not_found"
            ).response()
        return JSONResponse(self.service.model_json(served))

    async def quote(self, request: Request) -> Response:
        """What an OpenAI request would cost here at most (for a forwarding node, which
        signs the request with this gas limit): prompt tokens, the effective max_tokens
        and ``gas_limit = price_per_token * (prompt_tokens + max_tokens)``."""
        try:
            body = await json_body(request)
            kind = body.get("endpoint")
            if kind not in ("chat/completions", "completions"):
                raise ApiError(
                    400, "`endpoint` must be chat/completions or completions.", param="endpoint"
                )
            inner = body.get("request")
            if not isinstance(inner, dict):
                raise ApiError(400, "`request` must be an OpenAI request object.")
            req = parse_request(inner, kind == "chat/completions")
            served = self.service.find(req.model)
            prompt_tokens = self.prepare(served, req)
            if self.l2 is None:
                raise ApiError(400, "This node runs no inference layer.")
            await self.check_executes(served)
        except ApiError as exc:
            return exc.response()
        price = self.l2.price_per_token
        return JSONResponse(
            {
                "model": served.name,
                "model_id": served.model_id,
                "executor_key": self.l2.executor_key.hex(),
                "prompt_tokens": prompt_tokens,
                "max_tokens": req.params.max_tokens,
                "price_per_token": price,
                "gas_limit": price * (prompt_tokens + req.params.max_tokens),
            }
        )
