"""The node's OpenAPI 3.1 document, served at ``GET /v1/openapi.json`` (hand-written: the routes
are plain Starlette). The API tests fuzz every operation in it (no 5xx) and check that every
route of the app is documented."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from funai.api.guard import STATE_CHANGING

__all__ = ["openapi_document", "openapi_endpoint"]

_OBJ: dict[str, Any] = {"type": "object"}
_HASH: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_ERR = {"description": "Error", "content": {"application/json": {"schema": _OBJ}}}
_OK = {"description": "OK", "content": {"application/json": {"schema": _OBJ}}}

_MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"enum": ["system", "developer", "user", "assistant", "tool"]},
        "content": {"type": "string"},
    },
}
_SAMPLING: dict[str, Any] = {
    "model": {"type": "string"},
    "max_tokens": {"type": "integer", "minimum": 1},
    "max_completion_tokens": {"type": "integer", "minimum": 1},
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "top_k": {"type": "integer", "minimum": 0},
    "repetition_penalty": {"type": "number", "minimum": 0.01, "maximum": 10},
    "seed": {"type": "integer"},
    "stop": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 4}]
    },
    "n": {"const": 1},
    "stream": {"type": "boolean"},
    "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    *,
    body: dict[str, Any] | None = None,
    errors: tuple[int, ...] = (),
    params: list[dict[str, Any]] | None = None,
    tag: str = "node",
    content: str = "application/json",
) -> dict[str, Any]:
    ok = (
        _OK
        if content == "application/json"
        else {"description": "OK", "content": {content: {"schema": {"type": "string"}}}}
    )
    op: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": {"200": ok, **{str(code): _ERR for code in errors}},
    }
    if body is not None:
        op["requestBody"] = _body(body)
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


_HEX_Q = {"name": "hex", "in": "query", "required": False, "schema": {"type": "string"}}


def _wallet_paths() -> dict[str, Any]:
    """The wallet routes (funai/api/wallet_routes.py); all need the API cookie."""
    fee_rate = {"type": "integer", "minimum": 1, "maximum": 100_000}
    output = {
        "type": "object",
        "required": ["kind", "value", "payload"],
        "properties": {
            "kind": {"enum": [0, 1, 2]},
            "value": {"type": "integer", "minimum": 0},
            "payload": {"type": "string", "pattern": "^([0-9a-fA-F]{2})*$"},
        },
    }
    ops = {
        "/v1/wallet": (
            "get",
            _op("The node wallet: addresses, balance, L2 account", errors=(401, 404, 503)),
        ),
        "/v1/wallet/address": (
            "post",
            _op("A new receiving address", errors=(401, 404, 503)),
        ),
        "/v1/wallet/send": (
            "post",
            _op(
                "Pay an address from the node wallet",
                errors=(400, 401, 404, 413, 422, 503),
                body={
                    "type": "object",
                    "required": ["to", "amount"],
                    "properties": {
                        "to": {"type": "string"},
                        "amount": {"type": "integer", "minimum": 547},
                        "fee_rate": fee_rate,
                    },
                },
            ),
        ),
        "/v1/wallet/pay": (
            "post",
            _op(
                "A payment with arbitrary outputs (payments and data) from the node wallet",
                errors=(400, 401, 404, 413, 422, 503),
                body={
                    "type": "object",
                    "required": ["outputs"],
                    "properties": {
                        "outputs": {
                            "type": "array",
                            "items": output,
                            "minItems": 1,
                            "maxItems": 100,
                        },
                        "fee_rate": fee_rate,
                    },
                },
            ),
        ),
        "/v1/wallet/peg-in": (
            "post",
            _op(
                "Lock FAI in the verifier set's peg pool for an L2 account (default: the wallet's)",
                errors=(400, 401, 404, 409, 413, 422, 503),
                body={
                    "type": "object",
                    "required": ["amount"],
                    "properties": {
                        "amount": {"type": "integer", "minimum": 1},
                        "account": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
                        "fee_rate": fee_rate,
                    },
                },
            ),
        ),
        "/v1/wallet/peg-out": (
            "post",
            _op(
                "Withdraw from the wallet's L2 account to an L1 address (verifier quorum pays)",
                errors=(400, 401, 404, 409, 413, 503),
                body={
                    "type": "object",
                    "required": ["amount"],
                    "properties": {
                        "amount": {"type": "integer", "minimum": 1},
                        "to": {"type": "string"},
                    },
                },
            ),
        ),
        "/v1/l2/unbond": (
            "post",
            _op(
                "Withdraw the node's executor bond: an UNBOND signed with its L2 key",
                errors=(400, 401, 409, 413, 422),
                body={
                    "type": "object",
                    "required": ["amount"],
                    "properties": {
                        "amount": {"type": "integer", "minimum": 1},
                        "force": {"type": "boolean"},
                    },
                },
            ),
        ),
    }
    out: dict[str, Any] = {}
    for path, (method, op) in ops.items():
        op["tags"] = ["wallet"]
        op["security"] = [{"cookie": []}]
        out[path] = {method: op}
    return out


def _l2_paths() -> dict[str, Any]:
    """The inference-layer routes (funai/api/l2_routes.py); 404 when the node runs no L2."""
    limit = {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    }
    txid = [_path_param("txid", _HASH)]

    def get(summary: str, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"get": _op(summary, errors=(400, 404), params=params, tag="l2")}

    return {
        "/v1/l2/status": get("L2 tip, state root, this node's account, bond and roles"),
        "/v1/l2/verifiers": get("The verifier set and quorum"),
        "/v1/l2/elections": get("Recent sortition rounds, newest first", [limit]),
        "/v1/l2/blocks": get("Recent L2 blocks, newest first", [limit]),
        "/v1/l2/blocks/{ident}": get(
            "An L2 block by hash or height, with transactions and the quorum's decision",
            [_path_param("ident", {"type": "string"})],
        ),
        "/v1/l2/tx/{txid}": get("An L2 transaction and its lifecycle stage", txid),
        "/v1/l2/inference": get("Recent inference transactions with their lifecycle", [limit]),
        "/v1/l2/inference/{txid}": get(
            "An inference transaction: executed, in_block, finalized, anchored, confirmed, "
            "reclaimed; votes and verdict",
            txid,
        ),
        "/v1/l2/pegouts/{txid}": get(
            "A withdrawal (PEG_OUT txid): requested, signed, broadcast or paid on L1 by the "
            "verifier quorum's transaction",
            txid,
        ),
        "/v1/l2/mempool": get("The L2 mempool"),
        "/v1/l2/accounts/{account}": get(
            "Balance, nonce, bond and stake of an L2 account",
            [_path_param("account", {"type": "string", "pattern": "^[0-9a-f]{40}$"})],
        ),
        "/v1/l2/tx": {
            "post": _op(
                "Submit a signed L2 transaction (not an inference: those go through "
                "/v1/chat/completions)",
                errors=(400, 404),
                tag="l2",
                body={
                    "type": "object",
                    "required": ["hex"],
                    "properties": {"hex": {"type": "string"}},
                },
            )
        },
    }


def openapi_document() -> dict[str, Any]:
    addr = {"type": "object", "required": ["addr"], "properties": {"addr": {"type": "string"}}}
    chat = {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            **_SAMPLING,
            "messages": {"type": "array", "items": _MESSAGE, "minItems": 1},
        },
    }
    completion = {
        "type": "object",
        "required": ["model", "prompt"],
        "properties": {**_SAMPLING, "prompt": {"type": "string"}},
    }
    paths: dict[str, Any] = {
        "/v1/status": {"get": _op("Node status: network, L1 tip, peers, sync, roles")},
        "/v1/peers": {"get": _op("Connected and manual peers")},
        "/v1/peers/connect": {"post": _op("Keep a peer connected", body=addr, errors=(400,))},
        "/v1/peers/disconnect": {"post": _op("Close and forget a peer", body=addr, errors=(400,))},
        "/v1/bans": {"get": _op("Manual bans (saved) and discouraged peers (memory only)")},
        "/v1/bans/add": {
            "post": _op(
                "Ban a host or key:<hex> (saved, expires)",
                errors=(400,),
                body={
                    "type": "object",
                    "required": ["who"],
                    "properties": {
                        "who": {"type": "string"},
                        "seconds": {"type": "integer", "minimum": 1},
                        "reason": {"type": "string"},
                    },
                },
            )
        },
        "/v1/bans/remove": {
            "post": _op(
                "Lift one ban or discouragement",
                errors=(400,),
                body={
                    "type": "object",
                    "required": ["who"],
                    "properties": {"who": {"type": "string"}},
                },
            )
        },
        "/v1/bans/clear": {"post": _op("Lift every ban and discouragement")},
        "/v1/blocks/tip": {"get": _op("The L1 tip block", params=[_HEX_Q])},
        "/v1/blocks/height/{height}": {
            "get": _op(
                "L1 block at a height of the active chain",
                errors=(404,),
                params=[_path_param("height", {"type": "integer", "minimum": 0}), _HEX_Q],
            )
        },
        "/v1/blocks/{hash}": {
            "get": _op(
                "L1 block by hash", errors=(400, 404), params=[_path_param("hash", _HASH), _HEX_Q]
            )
        },
        "/v1/mempool": {"get": _op("L1 mempool")},
        "/v1/tx": {
            "post": _op(
                "Submit an L1 transaction",
                errors=(400, 422),
                body={
                    "type": "object",
                    "required": ["hex"],
                    "properties": {"hex": {"type": "string"}},
                },
            )
        },
        "/v1/tx/{txid}": {
            "get": _op(
                "An L1 mempool transaction", errors=(400, 404), params=[_path_param("txid", _HASH)]
            )
        },
        "/v1/l1/tx/{txid}/proof": {
            "get": _op(
                "Merkle proof that a mined L1 transaction is in its block (for fai-l1-proofs)",
                errors=(400, 404),
                params=[
                    _path_param("txid", _HASH),
                    {
                        "name": "height",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 0},
                    },
                ],
            )
        },
        "/v1/generate": {
            "post": _op(
                "Mine blocks now (devnet and regtest)",
                errors=(400, 403),
                body={
                    "type": "object",
                    "properties": {"blocks": {"type": "integer", "minimum": 1, "maximum": 1000}},
                },
            )
        },
        "/v1/miner": {
            "post": _op(
                "Start or stop the miner",
                errors=(400,),
                body={
                    "type": "object",
                    "required": ["enabled"],
                    "properties": {"enabled": {"type": "boolean"}},
                },
            )
        },
        **_wallet_paths(),
        **_l2_paths(),
        "/v1/chat/completions": {
            "post": _op(
                "OpenAI-compatible chat completion (SSE with stream: true)",
                body=chat,
                errors=(400, 401, 402, 404, 409, 413, 429, 502, 503),
                tag="openai",
            )
        },
        "/v1/completions": {
            "post": _op(
                "OpenAI-compatible text completion (SSE with stream: true)",
                body=completion,
                errors=(400, 401, 402, 404, 409, 413, 429, 502, 503),
                tag="openai",
            )
        },
        "/v1/models": {
            "get": _op("Models served by this node and, through routing, the network", tag="openai")
        },
        "/v1/l2/quote": {
            "post": _op(
                "The gas limit an executor asks for an OpenAI request (routing)",
                errors=(400, 404, 409, 413, 503),
                body={
                    "type": "object",
                    "required": ["endpoint", "request"],
                    "properties": {
                        "endpoint": {"enum": ["chat/completions", "completions"]},
                        "request": {"type": "object"},
                    },
                },
            )
        },
        "/v1/models/{model}": {
            "get": _op(
                "One model (by name or model id)",
                errors=(404,),
                tag="openai",
                params=[_path_param("model", {"type": "string"})],
            )
        },
        "/v1/openapi.json": {"get": _op("This document")},
        "/metrics": {"get": _op("Prometheus metrics", tag="metrics", content="text/plain")},
        "/": {"get": _op("Status page", tag="page", content="text/html")},
    }
    for path in STATE_CHANGING:  # cookie and application/json (funai/api/guard.py)
        op = paths[path]["post"]
        op["security"] = [{"cookie": []}]
        for code in ("401", "413", "415"):
            op["responses"].setdefault(code, _ERR)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FUN AI node API",
            "version": "0.1.0",
            "description": "Node API, OpenAI-compatible endpoints, metrics. See docs/api.md.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "cookie": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token in <datadir>/<network>/api.cookie",
                }
            }
        },
    }


async def openapi_endpoint(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())
