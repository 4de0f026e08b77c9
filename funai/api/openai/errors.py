"""Errors of the OpenAI-compatible API: :class:`ApiError` (OpenAI's error shape
``{"error": {"message", "type", "param", "code"}}``) and the handler that gives Starlette's own
errors (unknown route, wrong method) the same shape under the OpenAI paths."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["ApiError", "http_error_handler", "payment_required"]

_OPENAI_PREFIXES = ("/v1/chat/", "/v1/completions", "/v1/models")


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


def payment_required(exc: Exception) -> ApiError:
    """The 402 of a paying account that cannot cover a request (PaymentRequiredError)."""
    return ApiError(402, str(exc), type_="insufficient_quota", code="insufficient_funds")


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
