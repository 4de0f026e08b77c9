"""Strict JSON request bodies, shared by every route of the node API that reads JSON.

A body is refused with a 400 and a message that says why when it is not valid UTF-8, not
JSON, nested deeper than :data:`MAX_DEPTH`, holds a number that is not finite (``NaN``,
``Infinity`` or one that overflows, such as ``1e999``) or a string with a lone UTF-16
surrogate (``"\\ud800"``, which no Unicode text contains). The depth is checked before the
body is parsed, so a 50,000-deep nesting costs one linear scan, never a deep recursion.
Bodies larger than the route's limit are refused with a 413 while they are read (see
:mod:`funai.api.guard`, which also times out slow bodies); :func:`read_json` enforces the
limit itself too, for an app run without that middleware.

Route helpers read typed fields the same strict way: :func:`get_bool` takes only real
booleans (``"false"`` is a 400, never true), :func:`get_int` only integers (not ``true``,
not ``1.5``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from starlette.requests import Request

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_DEPTH",
    "JsonBodyError",
    "get_bool",
    "get_int",
    "get_str",
    "parse_json",
    "read_json",
    "read_json_object",
]

#: Deepest nesting of arrays and objects a body may have.
MAX_DEPTH = 64
#: Bytes of a body when a route names no other limit.
DEFAULT_LIMIT = 64 * 1024

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JsonBodyError(Exception):
    """A refused body: ``status`` (400 or 413) and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _too_deep(text: str, max_depth: int) -> bool:
    depth = 0
    for m in _TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif c in "]}":
            depth -= 1
    return False


def _constant(name: str) -> Any:
    raise JsonBodyError(400, f"the body holds {name}: only finite numbers are allowed")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonBodyError(400, f"the number {text[:40]} is not finite")
    return value


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if not v.isascii():
                try:
                    v.encode("utf-8")
                except UnicodeEncodeError:
                    raise JsonBodyError(
                        400, "the body holds a lone UTF-16 surrogate: strings must be valid Unicode"
                    ) from None
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


def parse_json(raw: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``raw`` parsed as strict JSON; raises :class:`JsonBodyError` (400)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonBodyError(400, "the body is not valid UTF-8") from None
    if text.count("[") + text.count("{") > max_depth and _too_deep(text, max_depth):
        raise JsonBodyError(400, f"the body is nested deeper than {max_depth} levels")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except JsonBodyError:
        raise
    except RecursionError:  # not reached after the depth check; kept as a guard
        raise JsonBodyError(400, f"the body is nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise JsonBodyError(400, f"the body is not valid JSON: {exc}") from None
    _check_strings(value)
    return value


async def read_json(request: Request, limit: int = DEFAULT_LIMIT) -> Any:
    """The request's body as strict JSON, read at most ``limit`` bytes (413 past it)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise JsonBodyError(413, f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise JsonBodyError(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return parse_json(b"".join(chunks))


async def read_json_object(request: Request, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """:func:`read_json`, which must give a JSON object."""
    data = await read_json(request, limit)
    if not isinstance(data, dict):
        raise JsonBodyError(400, "the body must be a JSON object")
    return data


def get_bool(data: dict[str, Any], key: str, default: bool | None = None) -> bool:
    """``data[key]`` as a real JSON boolean (400 for ``"false"``, ``0``, ...)."""
    if key not in data and default is not None:
        return default
    value = data.get(key)
    if not isinstance(value, bool):
        raise JsonBodyError(400, f"{key!r} must be true or false (a JSON boolean)")
    return value


def get_int(data: dict[str, Any], key: str, default: int | None = None) -> int:
    """``data[key]`` as a JSON integer (400 for booleans, floats and strings)."""
    if key not in data and default is not None:
        return default
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise JsonBodyError(400, f"{key!r} must be an integer")
    return value


def get_str(data: dict[str, Any], key: str) -> str:
    """``data[key]`` as a JSON string (400 otherwise)."""
    value = data.get(key)
    if not isinstance(value, str):
        raise JsonBodyError(400, f"{key!r} must be a string")
    return value
