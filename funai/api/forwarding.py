"""Routing API requests to an executor that serves the model (docs/api.md, "Routing").

A node that does not execute the requested model (it has no such model, or loads it only to
judge) sends the request to an executor that advertises it (:mod:`funai.layer2.routing`):

1. **Quote**: ``POST {executor}/l2/quote`` with the OpenAI request gives the executor's
   prompt token count, the effective ``max_tokens``, its price and so the gas limit
   ``price_per_token * (prompt_tokens + max_tokens)``. The quoted price must not exceed the
   advertised one.
2. **Sign**: this node (which holds the paying wallet) sets the gas limit aside from the
   account's available balance (402 otherwise) and signs the user's request with it and the
   account's next nonce (:func:`funai.layer2.node.sign_request`).
3. **Execute**: the OpenAI request goes to the executor's own endpoint with the signed
   request in the ``X-FunAI-Request`` header (hex of the transaction). The executor checks it
   like any request (signature, request hash, nonce, balance), runs it at once, charges the
   gas actually used (at most the limit) in its receipt and gossips the transaction. The
   answer, streamed or not, is passed through; this node verifies the executor's receipt
   before answering: its signature and key, the request it signed, this node's network, gas
   within the limit, and that its content hash is the hash of this request's input, context
   and system prompt with the text the client gets (:func:`_receipt_ok`). A stream is relayed
   event by event as an SSE client reads it, its text added up and checked against the
   receipt it ends with; text after the receipt, or a stream that ends without one, is
   refused too. An answer that fails the check is a 502 ``bad_executor_receipt`` (in a
   stream: an error event, then ``[DONE]``).

If the executor refuses the request before running it, the nonce is given back; if it failed
in the middle or its answer is refused, the nonce is filled (``L2Runtime.return_nonce``) so
that the account's later transactions stay valid. A refused quote or an unreachable executor
moves on to the next route (cheapest first).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import trio
from starlette.responses import JSONResponse, Response, StreamingResponse

from funai.api.openai.errors import ApiError, payment_required
from funai.api.openai.protocol import ParsedRequest
from funai.api.openai.receipts import encode_receipt, verify_receipt
from funai.errors import FunaiError
from funai.layer2.node import sign_request
from funai.layer2.routing import Route
from funai.layer2.transactions import InferencePayload, L2Tx
from funai.node.l2facade import L2Facade, PaymentRequiredError, Reservation

if TYPE_CHECKING:
    from funai.api.metrics import NodeMetrics

__all__ = ["REQUEST_HEADER", "Forwarder", "signed_request"]

log = logging.getLogger("funai.api")

#: The header that carries a request signed by its user (hex of the L2 transaction).
REQUEST_HEADER = "X-FunAI-Request"
#: Routes tried for one request (an unreachable executor or a refused quote moves on).
MAX_ROUTES = 3
TIMEOUT = httpx.Timeout(600.0, connect=5.0)


def signed_request(headers: Any) -> L2Tx | None:
    """The user-signed request of a forwarded API request, if any (ApiError 400 if bad)."""
    raw = headers.get(REQUEST_HEADER)
    if raw is None:
        return None
    try:
        return L2Tx.deserialize(bytes.fromhex(raw))
    except (ValueError, FunaiError) as exc:
        raise ApiError(400, f"{REQUEST_HEADER} is not a signed L2 transaction: {exc}") from None


def _receipt_ok(
    ext: Any,
    route: Route,
    request: L2Tx,
    req: ParsedRequest,
    output: str,
    network_id: bytes,
) -> bool:
    """The executor's receipt verifies, is by the routed executor for ``request`` on
    ``network_id`` with gas within its limit, and covers the answer the client gets: its
    content hash is that of ``req``'s request part (input, context, system prompt and the
    signed sampling parameters) with ``output`` and the token ids and finish the executor
    names (whether those tokens decode to ``output`` is the verifiers' rule
    ``content-tokens``: an executor that lies there loses its bond)."""
    try:
        tokens, finish = ext["tokens"], ext["finish"]
        if not isinstance(tokens, list) or not all(type(t) is int for t in tokens):
            return False
        content = req.asked().answered(output, tuple(tokens), str(finish))
        receipt = ext["receipt"]
        return (
            receipt["kind"] == "executor"
            and verify_receipt(receipt)
            and receipt["signer"] == route.ad.executor_key.hex()
            and receipt["user_txid"] == request.user_txid().hex()
            and bytes.fromhex(receipt["network_id"]) == network_id
            and bytes.fromhex(receipt["content_hash"]) == content.hash()
            and 0 < int(receipt["gas"]) <= request.payload_as(InferencePayload).gas_limit
        )
    except (KeyError, TypeError, ValueError, AttributeError, FunaiError):
        return False


def _answer_text(answer: dict[str, Any], chat: bool) -> str | None:
    """The text a client reads in a non-streamed answer (its one choice); None if the answer
    is not one choice with a text."""
    choices = answer.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return None
    choice = choices[0]
    if chat:
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else None
    else:
        text = choice.get("text")
    return text if isinstance(text, str) else None


def _chunk_text(chunk: dict[str, Any], chat: bool) -> str | None:
    """The text a streamed chunk adds (its choices' ``delta.content`` or ``text``); None if
    its choices are malformed (not a list of choice 0 with string text)."""
    choices = chunk.get("choices", [])
    if not isinstance(choices, list):
        return None
    out = []
    for choice in choices:
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            return None
        if chat:
            delta = choice.get("delta", {})
            if not isinstance(delta, dict):
                return None
            piece = delta.get("content")
        else:
            piece = choice.get("text")
        if piece is not None and not isinstance(piece, str):
            return None
        out.append(piece or "")
    return "".join(out)


async def _sse_events(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The data of each server-sent event, as an SSE client reads it: its ``data:`` lines
    joined with newlines (other fields and comments are dropped); an unterminated event at
    the end counts too."""
    data: list[str] = []
    async for line in lines:
        if line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
        elif not line and data:
            yield "\n".join(data)
            data = []
    if data:
        yield "\n".join(data)


class Forwarder:
    """Sends requests for models this node does not execute to executors that do."""

    def __init__(self, l2: L2Facade, metrics: NodeMetrics) -> None:
        self.l2 = l2
        self.metrics = metrics

    async def routes(self, model: str) -> list[Route]:
        return await self.l2.routes(model)

    async def forward(
        self, data: dict[str, Any], req: ParsedRequest, chat: bool, routes: list[Route]
    ) -> Response:
        """Answers ``req`` through the first executor of ``routes`` that takes it."""
        endpoint = "chat/completions" if chat else "completions"
        try:
            payer_sk = self.l2.payer_key(req.wallet)
        except PaymentRequiredError as exc:
            raise payment_required(exc) from None
        failures = []
        for route in routes[:MAX_ROUTES]:
            base = route.ad.api_url
            try:
                async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                    q = await client.post(
                        f"{base}/l2/quote",
                        json={"endpoint": endpoint, "request": {**data, "model": route.offer.name}},
                    )
            except httpx.HTTPError as exc:
                failures.append(f"{base}: {exc!r}")
                continue
            if 400 <= q.status_code < 500 and q.status_code not in (404, 409):
                return _passthrough(q)  # the request itself is refused (too long, ...)
            quote = _valid_quote(q, route)
            if quote is None:
                failures.append(f"{base}: quote refused ({q.status_code})")
                continue
            return await self._execute(data, req, route, chat, quote, payer_sk)
        log.warning("no executor took the request", extra={"fields": {"tried": failures}})
        raise ApiError(
            502,
            f"No executor serving `{req.model}` took the request ({'; '.join(failures)}).",
            type_="server_error",
            code="executor_unavailable",
        )

    async def _execute(
        self,
        data: dict[str, Any],
        req: ParsedRequest,
        route: Route,
        chat: bool,
        quote: dict[str, Any],
        payer_sk: bytes,
    ) -> Response:
        endpoint = "chat/completions" if chat else "completions"
        gas_limit = int(quote["gas_limit"])
        try:
            reservation = await self.l2.reserve_gas(payer_sk, gas_limit)
        except PaymentRequiredError as exc:
            raise payment_required(exc) from None
        # the executor is sent (and parses) max_tokens from the quote: sign the same
        req.params = dataclasses.replace(req.params, max_tokens=int(quote["max_tokens"]))
        nonce = await self.l2.take_nonce(reservation.account)
        request = sign_request(
            payer_sk,
            nonce,
            route.offer.model_id,
            gas_limit,
            req.input,
            self.l2.network_id,
            context=req.context,
            system_prompt=req.system,
            params=req.asked().params,
        )
        body = {**data, "model": route.offer.name, "max_tokens": int(quote["max_tokens"])}
        body.pop("max_completion_tokens", None)
        url = f"{route.ad.api_url}/{endpoint}"
        headers = {REQUEST_HEADER: request.serialize().hex()}
        client = httpx.AsyncClient(timeout=TIMEOUT)
        try:
            sent = client.build_request("POST", url, json=body, headers=headers)
            r = await client.send(sent, stream=req.stream)
        except httpx.HTTPError as exc:
            await client.aclose()
            await self._failed(reservation, payer_sk, nonce, maybe_used=True)
            raise ApiError(
                502,
                f"the executor {url} failed: {exc!r}",
                type_="server_error",
                code="executor_unavailable",
            ) from None
        if r.status_code != 200:
            await r.aread()
            await r.aclose()
            await client.aclose()
            await self._failed(reservation, payer_sk, nonce, maybe_used=r.status_code >= 500)
            return _passthrough(r)
        if req.stream:
            return StreamingResponse(
                self._relay(client, r, route, request, req, chat, reservation, payer_sk, nonce),
                media_type="text/event-stream",
                headers=_forward_headers(r, route),
            )
        try:
            answer = r.json()
        except ValueError:
            answer = {}
        finally:
            await client.aclose()
        text = _answer_text(answer, chat) if isinstance(answer, dict) else None
        network_id = self.l2.network_id
        if text is None or not _receipt_ok(
            answer.get("funai"), route, request, req, text, network_id
        ):
            log.warning("executor receipt does not verify", extra={"fields": {"url": url}})
            # the executor may have recorded the request all the same: fill the nonce
            await self._failed(reservation, payer_sk, nonce, maybe_used=True)
            raise _bad_receipt("the executor's answer carries no valid receipt for it")
        self.l2.release(reservation)
        headers = _forward_headers(r, route)
        headers["X-FunAI-Receipt"] = encode_receipt(answer["funai"]["receipt"])
        return JSONResponse(answer, headers=headers)

    async def _relay(
        self,
        client: httpx.AsyncClient,
        r: httpx.Response,
        route: Route,
        request: L2Tx,
        req: ParsedRequest,
        chat: bool,
        reservation: Reservation,
        payer_sk: bytes,
        nonce: int,
    ) -> AsyncIterator[str]:
        """Relays the executor's event stream event by event, adding up the text it sends
        and checking the receipt it ends with against that text (the events are re-encoded
        from what was checked, so the client reads what the check read)."""
        network_id = self.l2.network_id
        text: list[str] = []
        receipted = False
        failed = False  # the executor reported an error: it ends the stream, no receipt
        refused: str | None = None
        try:
            async for data in _sse_events(r.aiter_lines()):
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except ValueError:
                    chunk = None
                if not isinstance(chunk, dict):
                    refused = "the executor's stream carries an event that is not a JSON object"
                    break
                piece = _chunk_text(chunk, chat)
                if piece is None:
                    refused = "the executor's stream carries malformed choices"
                    break
                if piece and receipted:
                    refused = "the executor's stream carries text after its receipt"
                    break
                text.append(piece)
                if "funai" in chunk:
                    ok = _receipt_ok(chunk["funai"], route, request, req, "".join(text), network_id)
                    if not ok:
                        refused = "the executor's answer carries no valid receipt for it"
                        break
                    receipted = True
                yield f"data: {json.dumps(chunk, separators=(',', ':'))}\n\n"
                if "error" in chunk:
                    failed = True
                    break
            if refused is None and not receipted and not failed:
                refused = "the executor's stream ended without a receipt"
            if refused is not None:
                log.warning(
                    "executor stream refused",
                    extra={"fields": {"url": str(r.url), "why": refused}},
                )
                receipted = False
                yield f"data: {json.dumps(_bad_receipt(refused).body())}\n\n"
            yield "data: [DONE]\n\n"
        finally:
            with trio.CancelScope(shield=True):
                await r.aclose()
                await client.aclose()
                if receipted:
                    self.l2.release(reservation)
                else:
                    await self._failed(reservation, payer_sk, nonce, maybe_used=True)

    async def _failed(
        self, r: Reservation, payer_sk: bytes, nonce: int, *, maybe_used: bool
    ) -> None:
        self.l2.release(r)
        await self.l2.return_nonce(payer_sk, nonce, maybe_used=maybe_used)


def _valid_quote(q: httpx.Response, route: Route) -> dict[str, Any] | None:
    """The executor's quote if it is well formed and for the advertised executor, model and
    (at most) price; None otherwise (a malformed answer moves on to the next route)."""
    if q.status_code != 200:
        return None
    try:
        quote = q.json()
        ok = (
            isinstance(quote, dict)
            and quote.get("model_id") == route.offer.model_id.hex()
            and quote.get("executor_key") == route.ad.executor_key.hex()
            and isinstance(quote.get("price_per_token"), int)
            and quote["price_per_token"] <= route.offer.price_per_token
            and isinstance(quote.get("gas_limit"), int)
            and quote["gas_limit"] > 0
            and isinstance(quote.get("max_tokens"), int)
            and quote["max_tokens"] > 0
        )
    except ValueError:
        return None
    return quote if ok else None


def _bad_receipt(why: str) -> ApiError:
    return ApiError(502, why, type_="server_error", code="bad_executor_receipt")


def _forward_headers(r: httpx.Response, route: Route) -> dict[str, str]:
    """The executor's headers this node passes on (its receipt header is never one: a
    non-streamed answer carries the receipt checked in its body, a stream none)."""
    out = {"X-FunAI-Executor": route.ad.executor_key.hex()}
    for name in ("X-FunAI-Request-Id", "Cache-Control"):
        if name in r.headers:
            out[name] = r.headers[name]
    return out


def _passthrough(r: httpx.Response) -> Response:
    """The executor's error answer, as it gave it."""
    return Response(r.content, status_code=r.status_code, media_type=r.headers.get("content-type"))
