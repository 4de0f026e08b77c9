"""Node API of the inference layer: ``/v1/l2/...`` (see docs/api.md, "Inference layer").

Read-only views of the node's :class:`~funai.layer2.node.L2Node` (each under its lock, in
a worker thread, through :class:`~funai.node.l2facade.L2Facade`) and ``POST /v1/l2/tx`` for
signed L2 transactions. L2 hashes, keys and accounts are plain hex (no byte reversal); L1
block hashes are shown the way the L1 API shows them. When the node runs no inference layer
every route answers 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from funai.api.jsonbody import JsonBodyError, read_json
from funai.errors import FunaiError
from funai.layer2.transactions import L2Tx, TxKind
from funai.node.l2facade import L2Facade, l2_facade, tx_json

if TYPE_CHECKING:
    from funai.node.node import Node

__all__ = ["l2_routes", "tx_json"]

MAX_LIMIT = 200


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _limit(request: Request, default: int = 20) -> int:
    raw = request.query_params.get("limit", str(default))
    try:
        n = int(raw)
    except ValueError:
        raise ValueError("limit must be an integer") from None
    if not 1 <= n <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    return n


def _hash(text: str, size: int = 32) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError("not hex") from None
    if len(raw) != size:
        raise ValueError(f"expected {size} bytes of hex")
    return raw


def l2_routes(node: Node) -> list[Route]:
    """The ``/v1/l2`` routes of ``node``."""

    def layer2() -> L2Facade:
        l2 = l2_facade(node)
        assert l2 is not None
        return l2

    def guarded(handler: Any) -> Any:
        async def wrapped(request: Request) -> JSONResponse:
            if l2_facade(node) is None:
                return _error(404, "the inference layer is not running on this node")
            try:
                result: JSONResponse = await handler(request)
                return result
            except ValueError as exc:
                return _error(400, str(exc))

        return wrapped

    async def status(request: Request) -> JSONResponse:
        return JSONResponse(await layer2().status())

    async def verifiers(request: Request) -> JSONResponse:
        return JSONResponse(await layer2().verifiers())

    async def elections(request: Request) -> JSONResponse:
        return JSONResponse({"elections": await layer2().elections(_limit(request))})

    async def blocks(request: Request) -> JSONResponse:
        return JSONResponse({"blocks": await layer2().blocks(_limit(request))})

    async def block(request: Request) -> JSONResponse:
        ident = request.path_params["ident"]
        if ident.isdigit():  # the canonical block at that height
            got = await layer2().block(height=int(ident))
        else:  # any stored block (``canonical`` says whether it is on the chain)
            got = await layer2().block(hash_=_hash(ident))
        return JSONResponse(got) if got is not None else _error(404, "no such L2 block")

    async def tx_status(request: Request) -> JSONResponse:
        got = await layer2().tx(_hash(request.path_params["txid"]))
        return JSONResponse(got) if got is not None else _error(404, "unknown L2 transaction")

    async def inference(request: Request) -> JSONResponse:
        return JSONResponse({"inference": await layer2().inference(_limit(request))})

    async def pegout(request: Request) -> JSONResponse:
        got = await layer2().pegout(_hash(request.path_params["txid"]))
        return JSONResponse(got) if got is not None else _error(404, "unknown peg-out")

    async def mempool(request: Request) -> JSONResponse:
        txs = await layer2().mempool()
        return JSONResponse({"size": len(txs), "txs": txs})

    async def account(request: Request) -> JSONResponse:
        return JSONResponse(await layer2().account(_hash(request.path_params["account"], 20)))

    async def submit(request: Request) -> JSONResponse:
        try:
            data = await read_json(request, 1 << 20)
        except JsonBodyError as exc:
            return _error(exc.status, exc.message)
        raw = data.get("hex") if isinstance(data, dict) else None
        if not isinstance(raw, str):
            return _error(400, 'expected {"hex": "<serialized L2 transaction>"}')
        l2 = layer2()
        try:
            tx = L2Tx.deserialize(bytes.fromhex(raw))
            if tx.kind is TxKind.INFERENCE:
                return _error(400, "inference requests go through /v1/chat/completions")
            await l2.submit(tx)
        except ValueError as exc:
            return _error(400, f"malformed transaction: {exc}")
        except FunaiError as exc:
            return _error(400, f"rejected: {exc}")
        return JSONResponse({"txid": tx.txid().hex()})

    return [
        Route("/v1/l2/status", guarded(status)),
        Route("/v1/l2/verifiers", guarded(verifiers)),
        Route("/v1/l2/elections", guarded(elections)),
        Route("/v1/l2/blocks", guarded(blocks)),
        Route("/v1/l2/blocks/{ident}", guarded(block)),
        Route("/v1/l2/tx/{txid}", guarded(tx_status)),
        Route("/v1/l2/inference", guarded(inference)),
        Route("/v1/l2/inference/{txid}", guarded(tx_status)),
        Route("/v1/l2/pegouts/{txid}", guarded(pegout)),
        Route("/v1/l2/mempool", guarded(mempool)),
        Route("/v1/l2/accounts/{account}", guarded(account)),
        Route("/v1/l2/tx", guarded(submit), methods=["POST"]),
    ]
