"""Node API of the inference layer: ``/v1/l2/...`` (see docs/api.md, "Inference layer").

Read-only views of the node's :class:`~funai.layer2.service.L2Node` (each under its lock, in
a worker thread) and ``POST /v1/l2/tx`` for signed L2 transactions. L2 hashes, keys and
accounts are plain hex (no byte reversal); L1 block hashes are shown the way the L1 API shows
them. When the node runs no inference layer every route answers 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from funai.api.jsonbody import JsonBodyError, read_json
from funai.errors import FunaiError
from funai.layer2.block import L2Block
from funai.layer2.service import L2Node
from funai.layer2.transactions import InferencePayload, L2Tx, TxKind
from funai.ledger.encoding import CborValue
from funai.ledger.header import display_hash

if TYPE_CHECKING:
    from funai.node.l2runtime import L2Runtime
    from funai.node.node import Node

__all__ = ["l2_routes", "tx_json"]

MAX_LIMIT = 200


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _jsonable(v: CborValue | None) -> Any:
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


def tx_json(tx: L2Tx) -> dict[str, Any]:
    out: dict[str, Any] = {
        "txid": tx.txid().hex(),
        "kind": tx.kind.name.lower(),
        "sender": tx.sender.hex(),
        "nonce": tx.nonce,
        "fee": tx.fee,
    }
    if isinstance(body := tx.body, InferencePayload):
        out.update(
            {
                "model_id": body.model_id.hex(),
                "request_hash": body.request_hash.hex(),
                "gas": body.gas_used,
                "gas_limit": body.gas_limit,
                "executor_key": body.executor_key.hex(),
                "content_hash": body.content_hash.hex(),
                "user_txid": tx.user_txid().hex(),
            }
        )
    else:
        out["payload"] = _jsonable(list(tx.payload))
    return out


def _block_json(l2: L2Node, block: L2Block, full: bool) -> dict[str, Any]:
    h = block.header
    bh = block.hash()
    qc = l2.qcs.get(bh)
    out: dict[str, Any] = {
        "hash": bh.hex(),
        "height": h.height,
        "parent": h.parent.hex(),
        "l1_block": display_hash(h.l1_block),
        "producer_key": h.producer_key.hex(),
        "state_root": h.state_root.hex(),
        "tx_root": h.tx_root.hex(),
        "time": h.time,
        "txs": len(block.txs),
        "votes": len(l2.votes.get(bh, [])),
        "canonical": l2.chain.on_canonical(bh),
        "finalized": qc is not None,
        "anchor_l1_height": l2.anchors.anchor_height(bh),
        "confirmed": l2.confirmed(bh),
        # rule equivocation: its producer signed another block for the same election
        "forfeited": l2.state.get("forfeit", h.l1_block) is not None,
    }
    if full:
        out["transactions"] = [tx_json(t) for t in block.txs]
        out["decision"] = None if qc is None else list(qc.decision)
    return out


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

    def runtime() -> L2Runtime | None:
        return node.l2

    async def read(fn: Any) -> Any:
        rt = runtime()
        assert rt is not None
        return await rt.aquery(fn)

    def guarded(handler: Any) -> Any:
        async def wrapped(request: Request) -> JSONResponse:
            if runtime() is None:
                return _error(404, "the inference layer is not running on this node")
            try:
                result: JSONResponse = await handler(request)
                return result
            except ValueError as exc:
                return _error(400, str(exc))

        return wrapped

    async def status(request: Request) -> JSONResponse:
        rt = runtime()
        assert rt is not None
        return JSONResponse(await trio.to_thread.run_sync(rt.status))

    async def verifiers(request: Request) -> JSONResponse:
        def q(l2: L2Node) -> dict[str, Any]:
            return {
                "epoch_length": l2.params.epoch_length,
                "quorum": l2.params.quorum,
                "verifiers": [
                    {
                        "key": v.key.hex(),
                        "account": v.account.hex(),
                        "stake": v.stake,
                        "payout_kind": v.payout_kind,
                        "payout": v.payout.hex(),
                    }
                    for v in l2.state.verifiers()
                ],
            }

        return JSONResponse(await read(q))

    async def elections(request: Request) -> JSONResponse:
        limit = _limit(request)

        def q(l2: L2Node) -> list[dict[str, Any]]:
            rounds = sorted(l2.sortition.rounds.values(), key=lambda r: -r.height)
            out = []
            seen: set[int] = set()
            for r in rounds:
                if r.height in seen:
                    continue  # an orphaned L1 block's round
                seen.add(r.height)
                block = l2.by_election.get(r.l1_hash)
                w = r.winner
                out.append(
                    {
                        "l1_height": r.height,
                        "l1_hash": display_hash(r.l1_hash),
                        "commitments": len(r.bids),
                        "total_bid": r.total_bids,
                        "winner": None
                        if w is None
                        else {
                            "registration": [w.reg.l1_height, w.reg.tx_index, w.reg.output_index],
                            "account": w.registration.l2_account.hex(),
                            "bid": w.bid,
                            "weight": w.weight,
                        },
                        "l2_block": None if block is None else block.hash().hex(),
                        "l2_height": None if block is None else block.header.height,
                    }
                )
                if len(out) >= limit:
                    break
            return out

        return JSONResponse({"elections": await read(q)})

    async def blocks(request: Request) -> JSONResponse:
        limit = _limit(request)

        def q(l2: L2Node) -> list[dict[str, Any]]:
            chain = list(reversed(l2.chain.canonical))[:limit]  # the canonical chain
            return [_block_json(l2, l2.chain.entries[h].block, False) for h in chain]

        return JSONResponse({"blocks": await read(q)})

    async def block(request: Request) -> JSONResponse:
        ident = request.path_params["ident"]

        def q(l2: L2Node) -> dict[str, Any] | None:
            if ident.isdigit():  # the canonical block at that height
                height = int(ident)
                canonical = l2.chain.canonical
                b = l2.chain.entries[canonical[height]].block if height < len(canonical) else None
            else:  # any stored block (``canonical`` says whether it is on the chain)
                b = l2.blocks.get(_hash(ident))
            return None if b is None else _block_json(l2, b, True)

        got = await read(q)
        return JSONResponse(got) if got is not None else _error(404, "no such L2 block")

    async def tx_status(request: Request) -> JSONResponse:
        txid = _hash(request.path_params["txid"])

        def q(l2: L2Node) -> dict[str, Any] | None:
            st = l2.tx_status(txid)
            if st is None:
                return None
            tx = l2.mempool.get(txid)
            if tx is None:
                bh = l2.tx_block[txid]
                tx = next(t for t in l2.blocks[bh].txs if t.txid() == txid)
            return {**tx_json(tx), **{k: _jsonable(v) for k, v in st.items()}}

        got = await read(q)
        return JSONResponse(got) if got is not None else _error(404, "unknown L2 transaction")

    async def inference(request: Request) -> JSONResponse:
        limit = _limit(request)

        def q(l2: L2Node) -> list[dict[str, Any]]:
            txs: list[L2Tx] = [t for t in l2.mempool.values() if t.kind is TxKind.INFERENCE]
            for b in sorted(l2.blocks.values(), key=lambda b: -b.header.height):
                if len(txs) >= limit:
                    break
                txs += [t for t in b.txs if t.kind is TxKind.INFERENCE]
            out = []
            for t in txs[:limit]:
                st = l2.tx_status(t.txid()) or {}
                out.append({**tx_json(t), **{k: _jsonable(v) for k, v in st.items()}})
            return out

        return JSONResponse({"inference": await read(q)})

    async def pegout(request: Request) -> JSONResponse:
        txid = _hash(request.path_params["txid"])

        def q(l2: L2Node) -> dict[str, Any] | None:
            st = l2.pegout_status(txid)
            if st is None:
                return None
            out = {k: _jsonable(v) for k, v in st.items()}
            if isinstance(st.get("l1_txid"), bytes):
                out["l1_txid"] = display_hash(bytes(st["l1_txid"]))  # as the L1 API shows ids
            return out

        got = await read(q)
        return JSONResponse(got) if got is not None else _error(404, "unknown peg-out")

    async def mempool(request: Request) -> JSONResponse:
        def q(l2: L2Node) -> list[dict[str, Any]]:
            return [tx_json(t) for t in l2.mempool.values()]

        txs = await read(q)
        return JSONResponse({"size": len(txs), "txs": txs})

    async def account(request: Request) -> JSONResponse:
        acct = _hash(request.path_params["account"], 20)

        def q(l2: L2Node) -> dict[str, Any]:
            balance, nonce = l2.state.account(acct)
            stake = l2.state.stake(acct)
            return {
                "account": acct.hex(),
                "balance": balance,
                "nonce": nonce,
                "bond": l2.state.bond(acct),
                "stake": None if stake is None else _jsonable(list(stake)),
            }

        return JSONResponse(await read(q))

    async def submit(request: Request) -> JSONResponse:
        try:
            data = await read_json(request, 1 << 20)
        except JsonBodyError as exc:
            return _error(exc.status, exc.message)
        raw = data.get("hex") if isinstance(data, dict) else None
        if not isinstance(raw, str):
            return _error(400, 'expected {"hex": "<serialized L2 transaction>"}')
        rt = runtime()
        assert rt is not None
        try:
            tx = L2Tx.deserialize(bytes.fromhex(raw))
            if tx.kind is TxKind.INFERENCE:
                return _error(400, "inference requests go through /v1/chat/completions")
            await rt.aquery(lambda l2: l2.submit(tx))
        except ValueError as exc:
            return _error(400, f"malformed transaction: {exc}")
        except FunaiError as exc:
            return _error(400, f"rejected: {exc}")
        rt.gossip.flush()
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
