"""Hostile JSON gets a 400 with a clear message on every route, never a 500.

Before the fix JSON nested 50,000 deep was a 500 on six routes (``RecursionError``), a lone
surrogate (``"\\ud800"``) in a prompt was a 500 (a ``TypeError`` from the tokenizer) and
``{"blocks": Infinity}`` to ``/v1/generate`` was a 500 (``OverflowError``). Every route that
reads JSON now parses it with :mod:`funai.api.jsonbody`: depth limit, finite numbers
only, valid Unicode only.
"""

from __future__ import annotations

import httpx
import pytest

from funai.api.jsonbody import JsonBodyError, parse_json
from tests.api.apinode import ApiNode

pytestmark = pytest.mark.slow

ROUTES = [
    "/v1/peers/connect",
    "/v1/peers/disconnect",
    "/v1/bans/add",
    "/v1/bans/remove",
    "/v1/tx",
    "/v1/generate",
    "/v1/miner",
    "/v1/wallet/send",
    "/v1/wallet/pay",
    "/v1/wallet/peg-in",
    "/v1/wallet/peg-out",
    "/v1/l2/unbond",
    "/v1/chat/completions",
    "/v1/completions",
]

DEEP = "[" * 50_000  # 50,000 levels (unclosed: the parser recursed before it saw the end)
DEEP_CLOSED = "[" * 50_000 + "]" * 50_000


def send(node: ApiNode, path: str, raw: str) -> httpx.Response:
    return httpx.post(node.root + path, content=raw.encode(), headers=node.headers(), timeout=60)


def message(r: httpx.Response) -> str:
    err = r.json()["error"]
    return str(err["message"] if isinstance(err, dict) else err)


@pytest.mark.parametrize("path", ROUTES)
def test_deep_nesting_is_a_400(api_node: ApiNode, path: str) -> None:
    r = send(api_node, path, DEEP)
    assert r.status_code == 400, r.text
    assert "nested deeper than" in message(r)
    if path in ("/v1/chat/completions", "/v1/completions"):
        r = send(api_node, path, '{"model": ' + DEEP_CLOSED + "}")
        assert r.status_code == 400, r.text
        assert "nested deeper than" in message(r)


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/completions", '{"model": "%s", "prompt": "\\ud800", "max_tokens": 1}'),
        (
            "/v1/chat/completions",
            '{"model": "%s", "messages": [{"role": "user", "content": "a\\udfffb"}]}',
        ),
    ],
)
def test_lone_surrogate_in_a_prompt_is_a_400(
    api_node: ApiNode, model_name: str, path: str, raw: str
) -> None:
    r = send(api_node, path, raw % model_name)
    assert r.status_code == 400, r.text
    assert "surrogate" in message(r)


@pytest.mark.parametrize(
    "raw", ['{"blocks": Infinity}', '{"blocks": -Infinity}', '{"blocks": NaN}', '{"blocks": 1e999}']
)
def test_non_finite_numbers_are_a_400(api_node: ApiNode, raw: str) -> None:
    r = send(api_node, "/v1/generate", raw)
    assert r.status_code == 400, r.text
    assert "finite" in message(r)
    r = send(api_node, "/v1/completions", raw.replace("blocks", "temperature"))
    assert r.status_code == 400, r.text


def test_invalid_utf8_and_non_objects_are_a_400(api_node: ApiNode) -> None:
    r = httpx.post(
        api_node.api + "/generate", content=b'{"blocks": "\xff"}', headers=api_node.headers()
    )
    assert r.status_code == 400
    assert "UTF-8" in message(r)
    for raw in ("[1]", "1", '"x"', "null", "", "{"):
        assert send(api_node, "/v1/generate", raw).status_code == 400, raw


def test_parser_units() -> None:
    assert parse_json(b'{"a": [1, 2.5, "\\ud83d\\ude00", true]}') == {
        "a": [1, 2.5, "\U0001f600", True]
    }
    assert parse_json(b"[" * 64 + b"]" * 64) is not None
    for bad in (b"[" * 65 + b"]" * 65, b'"\\ud800"', b"Infinity", b"1e400", b'{"\\udc00": 1}'):
        with pytest.raises(JsonBodyError) as exc:
            parse_json(bad)
        assert exc.value.status == 400
    # Brackets inside strings do not count as nesting.
    assert parse_json(b'"' + b"[" * 1000 + b'"') == "[" * 1000
