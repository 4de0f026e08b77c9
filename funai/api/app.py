"""Routes of the node API (JSON). All under ``/v1``.

* ``GET /v1/status``: ``network``, ``l1_height``, ``l1_tip``, ``peers`` (count), sync, mining.
* ``GET /v1/peers``; ``POST /v1/peers/connect`` / ``/v1/peers/disconnect`` ``{"addr": "h:p"}``
  (``"*"`` disconnects all).
* ``GET /v1/bans`` (manual bans, saved, and discouraged peers, in memory);
  ``POST /v1/bans/add`` ``{"who": host | "key:<hex>", "seconds"?: n, "reason"?: text}``,
  ``POST /v1/bans/remove`` ``{"who": ...}``, ``POST /v1/bans/clear``.
* ``GET /v1/blocks/tip``, ``GET /v1/blocks/{hash}``, ``GET /v1/blocks/height/{n}``
  (``?hex=1`` adds the serialized block).
* ``GET /v1/mempool``; ``GET /v1/tx/{txid}`` (mempool); ``POST /v1/tx`` ``{"hex": ...}``.
* ``GET /v1/l1/tx/{txid}/proof`` (``?height=n``, else the last 1000 blocks): the Merkle
  proof that a mined transaction is in its block, for the Clarity library ``fai-l1-proofs``
  (:meth:`funai.ledger.proof.TxProof.to_json` plus ``confirmations``).
* ``POST /v1/generate`` ``{"blocks": n}`` (devnet/regtest); ``POST /v1/miner``
  ``{"enabled": bool}``.

Every POST route that changes the node's state needs the API cookie and
``Content-Type: application/json``; every body is size-limited, read with a timeout and
parsed as strict JSON (:mod:`funai.api.guard`, :mod:`funai.api.jsonbody`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from funai.api.guard import RequestGuard
from funai.api.jsonbody import JsonBodyError, get_bool, get_int, get_str, read_json_object
from funai.api.l2_routes import l2_routes
from funai.api.metrics import MetricsMiddleware, NodeMetrics
from funai.api.openai.errors import http_error_handler
from funai.api.openai.models import ModelRegistry
from funai.api.openai.routes import openai_routes
from funai.api.openapi import openapi_endpoint
from funai.api.status_page import status_page
from funai.api.wallet_routes import ensure_cookie, wallet_routes
from funai.errors import MalformedInputError
from funai.ledger.block import Block
from funai.ledger.errors import MempoolError
from funai.ledger.header import display_hash
from funai.ledger.proof import find_tx_proof
from funai.ledger.tx import Transaction
from funai.node.l2facade import l2_facade

if TYPE_CHECKING:
    from funai.node.node import Node

__all__ = ["block_json", "build_app"]


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def block_json(block: Block, height: int | None, with_hex: bool) -> dict[str, Any]:
    h = block.header
    out: dict[str, Any] = {
        "hash": display_hash(block.hash()),
        "height": height,
        "version": h.version,
        "prev_hash": display_hash(h.prev_hash),
        "merkle_root": h.merkle_root[::-1].hex(),
        "time": h.time,
        "bits": f"{h.bits:08x}",
        "nonce": h.nonce,
        "size": block.size,
        "txids": [t.txid()[::-1].hex() for t in block.txs],
    }
    if with_hex:
        out["hex"] = block.serialize().hex()
    return out


def _parse_hash(text: str) -> bytes:
    raw = bytes.fromhex(text)
    if len(raw) != 32:
        raise ValueError("a hash is 32 bytes")
    return raw[::-1]


async def _body(request: Request) -> dict[str, Any]:
    return await read_json_object(request)


def build_app(node: Node) -> Starlette:
    service = node.service
    chain = service.chain
    cookie = ensure_cookie(node.netdir).encode()
    body_timeout = float(getattr(node.config, "api_body_timeout", 30.0))

    async def status(request: Request) -> JSONResponse:
        return JSONResponse(node.status())

    async def peers(request: Request) -> JSONResponse:
        return JSONResponse({"peers": node.net.peer_info(), "manual": sorted(node.net.manual)})

    async def peers_connect(request: Request) -> JSONResponse:
        addr = get_str(await _body(request), "addr")
        try:
            node.net.connect(addr)
        except ValueError as exc:
            return _error(400, f"bad request: {exc}")
        return JSONResponse({"ok": True, "addr": addr})

    async def peers_disconnect(request: Request) -> JSONResponse:
        addr = get_str(await _body(request), "addr")
        return JSONResponse({"ok": True, "closed": node.net.disconnect(addr)})

    async def bans(request: Request) -> JSONResponse:
        return JSONResponse({"bans": node.addrbook.ban_list()})

    async def bans_add(request: Request) -> JSONResponse:
        data = await _body(request)
        who = get_str(data, "who").strip()
        seconds = get_int(data, "seconds", int(node.net.config.ban_seconds))
        reason = get_str(data, "reason") if "reason" in data else "manual"
        if not who or len(who) > 200:
            return _error(400, "who must be a host or key:<hex>")
        if not 0 < seconds <= 10 * 365 * 86400:
            return _error(400, "seconds must be 1 .. 10 years")
        node.net.ban(who, reason[:200], float(seconds))
        return JSONResponse({"ok": True, "who": who, "seconds": seconds})

    async def bans_remove(request: Request) -> JSONResponse:
        who = get_str(await _body(request), "who").strip()
        found = node.addrbook.unban(who)
        node.addrbook.save()
        return JSONResponse({"ok": True, "removed": found})

    async def bans_clear(request: Request) -> JSONResponse:
        n = node.addrbook.clear_bans()
        node.addrbook.save()
        return JSONResponse({"ok": True, "cleared": n})

    async def _block_response(block_hash: bytes, request: Request) -> JSONResponse:
        block = await service.run(chain.get_block, block_hash)
        if block is None:
            return _error(404, "block not found")
        entry = chain.index.get(block_hash)
        out = block_json(
            block, entry.height if entry else None, bool(request.query_params.get("hex"))
        )
        out["active"] = chain.is_active(block_hash)
        return JSONResponse(out)

    async def block_tip(request: Request) -> JSONResponse:
        return await _block_response(chain.active[-1], request)

    async def block_by_hash(request: Request) -> JSONResponse:
        try:
            h = _parse_hash(request.path_params["hash"])
        except ValueError:
            return _error(400, "bad block hash")
        return await _block_response(h, request)

    async def block_by_height(request: Request) -> JSONResponse:
        n = int(request.path_params["height"])
        active = chain.active
        if not 0 <= n < len(active):
            return _error(404, "no block at that height")
        return await _block_response(active[n], request)

    async def mempool(request: Request) -> JSONResponse:
        entries = list(service.mempool.entries.values())
        return JSONResponse(
            {
                "size": len(entries),
                "bytes": service.mempool.total_bytes,
                "txids": [e.tx.txid()[::-1].hex() for e in entries],
            }
        )

    async def tx_get(request: Request) -> JSONResponse:
        try:
            txid = _parse_hash(request.path_params["txid"])
        except ValueError:
            return _error(400, "bad txid")
        entry = service.mempool.entries.get(txid)
        if entry is None:
            return _error(404, "transaction not in the mempool")
        return JSONResponse(
            {
                "txid": txid[::-1].hex(),
                "fee": entry.fee,
                "size": entry.size,
                "hex": entry.tx.serialize().hex(),
            }
        )

    async def tx_submit(request: Request) -> JSONResponse:
        raw = get_str(await _body(request), "hex")
        try:
            tx = Transaction.deserialize(bytes.fromhex(raw))
        except ValueError as exc:
            return _error(400, f"bad transaction: {exc}")
        try:
            await service.accept_tx(tx)
        except MempoolError as exc:
            return _error(422, "transaction rejected", rule=exc.rule, detail=exc.detail)
        return JSONResponse({"txid": tx.txid()[::-1].hex()})

    async def tx_proof_get(request: Request) -> JSONResponse:
        try:
            txid = _parse_hash(request.path_params["txid"])
        except ValueError:
            return _error(400, "bad txid")
        raw = request.query_params.get("height")
        if raw is not None and not (raw.isdigit() and len(raw) < 12):
            return _error(400, "height must be a non-negative integer")
        height = None if raw is None else int(raw)
        proof = await service.run(find_tx_proof, chain, txid, height)
        if proof is None:
            where = f"at height {height}" if height is not None else "in the recent active chain"
            return _error(404, f"transaction not found {where}")
        out = proof.to_json()
        out["confirmations"] = len(chain.active) - proof.height
        return JSONResponse(out)

    async def generate(request: Request) -> JSONResponse:
        if node.params.name not in ("devnet", "regtest"):
            return _error(403, "generate is only available on devnet and regtest")
        n = get_int(await _body(request), "blocks", 1)
        if not 0 < n <= 1000:
            return _error(400, "blocks must be 1..1000")
        blocks = await node.miner.generate(n)
        return JSONResponse(
            {"hashes": [display_hash(b.hash()) for b in blocks], "height": chain.height}
        )

    async def miner(request: Request) -> JSONResponse:
        enabled = get_bool(await _body(request), "enabled")
        node.miner.set_enabled(enabled)
        return JSONResponse({"mining": enabled})

    routes = [
        Route("/v1/status", status),
        Route("/v1/peers", peers),
        Route("/v1/peers/connect", peers_connect, methods=["POST"]),
        Route("/v1/peers/disconnect", peers_disconnect, methods=["POST"]),
        Route("/v1/bans", bans),
        Route("/v1/bans/add", bans_add, methods=["POST"]),
        Route("/v1/bans/remove", bans_remove, methods=["POST"]),
        Route("/v1/bans/clear", bans_clear, methods=["POST"]),
        Route("/v1/blocks/tip", block_tip),
        Route("/v1/blocks/height/{height:int}", block_by_height),
        Route("/v1/blocks/{hash}", block_by_hash),
        Route("/v1/mempool", mempool),
        Route("/v1/tx", tx_submit, methods=["POST"]),
        Route("/v1/tx/{txid}", tx_get),
        Route("/v1/l1/tx/{txid}/proof", tx_proof_get),
        Route("/v1/generate", generate, methods=["POST"]),
        Route("/v1/miner", miner, methods=["POST"]),
        *wallet_routes(node),
        *l2_routes(node),
    ]

    async def handle_malformed(request: Request, exc: Exception) -> JSONResponse:
        return _error(400, str(exc))

    async def handle_body(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, JsonBodyError)
        return _error(exc.status, exc.message)

    # Issue 8: OpenAI-compatible endpoints, Prometheus /metrics, the status page at /.
    metrics = NodeMetrics(node)
    l2 = l2_facade(node)
    if l2 is not None:
        l2.attach_metrics(metrics)  # the verifier's judge verdicts and vote latency
    inference = ModelRegistry(node, metrics)
    routes += [
        *openai_routes(inference, node),
        Route("/v1/openapi.json", openapi_endpoint),
        Route("/metrics", metrics.endpoint),
        Route("/", status_page),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            MalformedInputError: handle_malformed,
            JsonBodyError: handle_body,
            HTTPException: http_error_handler,
        },
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics, routes=routes),
            Middleware(RequestGuard, cookie=lambda: cookie, body_timeout=body_timeout),
        ],
    )
    app.state.metrics = metrics
    app.state.inference = inference
    return app
