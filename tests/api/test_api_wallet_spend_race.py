"""Fault: the wallet API and the node's own L1 transactions spend from one wallet.

Before the fix the wallet routes serialized their own requests with a lock of their own,
while the inference layer's duties (bond, peg-in, commitments, anchors) chose coins and
handed the spend to the mempool without it: between one spender's coin choice and the
mempool's admission the other could choose the same coin, and a user's `wallet send` was
refused with 422 `txn-mempool-conflict` on a busy miner. Both now hold the chain service's
`wallet_lock` from the coin choice until the mempool has admitted the spend.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import trio
from starlette.requests import Request
from starlette.routing import Route

from funai.api.wallet_routes import read_cookie, wallet_routes
from funai.ledger.params import REGTEST
from funai.node.l2runtime import L2Runtime


def test_duties_choose_and_admit_under_the_wallet_lock() -> None:
    lock = trio.Lock()
    seen: list[tuple[str, bool]] = []
    tx = SimpleNamespace(txid=lambda: bytes(32))

    class Service:
        wallet_lock = lock

        async def run(self, fn: Any) -> Any:
            seen.append(("choose coins", lock.locked()))
            return fn()

        async def accept_tx(self, t: Any) -> None:
            seen.append(("admit", lock.locked()))

    runtime = SimpleNamespace(
        node=SimpleNamespace(service=Service()),
        gossip=SimpleNamespace(flush=lambda: None),
        _build_duties=lambda: tx,
        last_duty="published bond",
    )
    trio.run(L2Runtime.duties, runtime)  # type: ignore[arg-type]  # a stand-in runtime
    assert seen == [("choose coins", True), ("admit", True)]
    assert not lock.locked()


def test_wallet_requests_wait_for_the_nodes_own_spend(tmp_path: Path) -> None:
    service = SimpleNamespace(wallet_lock=trio.Lock())
    node = SimpleNamespace(
        netdir=tmp_path, datadir=tmp_path, params=REGTEST, service=service, l2=None
    )
    routes = wallet_routes(node)  # type: ignore[arg-type]
    info = next(r for r in routes if isinstance(r, Route) and r.path == "/v1/wallet")
    cookie = read_cookie(tmp_path)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/wallet",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {cookie}".encode())],
    }
    answered: list[int] = []

    async def request() -> None:
        response = await info.endpoint(Request(scope))
        answered.append(response.status_code)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await service.wallet_lock.acquire()  # the node is building its own spend
            nursery.start_soon(request)
            # long enough for the request to finish if it did not wait (it reads the wallet
            # file in a worker thread)
            await trio.sleep(1.0)
            assert answered == []  # the request waits for it
            service.wallet_lock.release()
        assert answered == [404]  # then runs (this node has no wallet file)

    trio.run(main)
