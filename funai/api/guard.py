"""Request guard of the node API (ASGI middleware): body limits, slow bodies, cross-site.

* **Body limits on every route**, streamed: a request whose ``Content-Length`` is over the
  route's limit is answered 413 before a byte of the body is read; a body without a length
  (chunked) is refused with a 413 as soon as the limit has been read. Nothing larger than
  the limit is ever held in memory. Limits: :data:`ROUTE_LIMITS` (by path prefix), else
  :data:`funai.api.jsonbody.DEFAULT_LIMIT`.
* **Slow bodies**: the whole body must arrive within ``api.body_timeout`` seconds (408).
* **Cross-site requests**: a state-changing node route (:data:`STATE_CHANGING`, POST)
  needs the API cookie (``Authorization: Bearer <the token in api.cookie>``, else 401) and
  ``Content-Type: application/json`` (else 415). A web page can send neither without a
  CORS preflight, which this API never grants, so a page open in a browser on the same
  machine cannot call them. The wallet routes check the cookie themselves; the guard
  requires their content type.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio

from funai.api.jsonbody import DEFAULT_LIMIT

__all__ = ["JSON_ROUTES", "ROUTE_LIMITS", "STATE_CHANGING", "RequestGuard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Body limits (bytes) by path prefix, first match wins.
ROUTE_LIMITS: tuple[tuple[str, int], ...] = (
    ("/v1/tx", 4 * 1024 * 1024 + 1024),  # a transaction of up to 2 MB, as hex
    ("/v1/l2/tx", 1024 * 1024),
    ("/v1/chat/completions", 1 << 20),
    ("/v1/completions", 1 << 20),
    ("/v1/l2/quote", 1 << 20),
    ("/v1/l2/execute", 1 << 20),
    ("/v1/l2/", 1 << 20),
)

#: POST routes that change the node's state: cookie and application/json required.
STATE_CHANGING = frozenset(
    {
        "/v1/peers/connect",
        "/v1/peers/disconnect",
        "/v1/bans/add",
        "/v1/bans/remove",
        "/v1/bans/clear",
        "/v1/tx",
        "/v1/generate",
        "/v1/miner",
        "/v1/l2/tx",
    }
)

#: Prefixes of POST routes that check the cookie themselves but need application/json.
JSON_ROUTES = ("/v1/wallet", "/v1/l2/unbond")


def limit_for(path: str) -> int:
    for prefix, limit in ROUTE_LIMITS:
        if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
            return limit
    return DEFAULT_LIMIT


async def _answer(send: Send, status: int, message: str, code: str) -> None:
    body = json.dumps({"error": message, "code": code}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """The middleware; ``cookie`` gives the API cookie (bytes)."""

    def __init__(
        self, app: ASGIApp, *, cookie: Callable[[], bytes], body_timeout: float = 30.0
    ) -> None:
        self.app = app
        self.cookie = cookie
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if method == "POST" and (path in STATE_CHANGING or path.startswith(JSON_ROUTES)):
            if path in STATE_CHANGING:
                scheme, _, token = headers.get("authorization", "").partition(" ")
                if scheme.lower() != "bearer" or not hmac.compare_digest(
                    token.strip().encode(), self.cookie()
                ):
                    await _answer(
                        send,
                        401,
                        "this route needs Authorization: Bearer <the token in api.cookie>",
                        "unauthorized",
                    )
                    return
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                await _answer(
                    send, 415, "the body must be sent as Content-Type: application/json", "media"
                )
                return
        limit = limit_for(path)
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                await _answer(send, 400, "bad Content-Length", "bad_request")
                return
            if int(length) > limit:
                await _answer(send, 413, f"the body is larger than {limit} bytes", "too_large")
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        disconnect: Message | None = None
        with anyio.move_on_after(self.body_timeout) as scope_timeout:
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnect = message
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await _answer(send, 413, f"the body is larger than {limit} bytes", "too_large")
                    return
                chunks.append(chunk)
                more = bool(message.get("more_body", False))
        if scope_timeout.cancelled_caught:
            await _answer(
                send,
                408,
                f"the body did not arrive within {self.body_timeout:g} seconds",
                "timeout",
            )
            return
        if disconnect is not None:
            return
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
