"""While ``funai devnet --l2`` runs, the miner tops up an inference node whose bids used up
its L1 coins (without it the L2 chain stopped after about 30 blocks: the executors' 5 FAI
were gone), at most once per ``TOP_UP_EVERY`` seconds per node, and never one that still
has enough."""

from __future__ import annotations

from typing import Any

import pytest

import funai.devnet.ready as ready
from funai.devnet.launcher import NodeSpec
from funai.devnet.ready import EXECUTOR_FUNDS, TOP_UP_BELOW, Keeper


def test_keeper_tops_up_only_the_spent_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("funai.devnet.ready.time.monotonic", lambda: clock[0])
    specs = [
        NodeSpec("miner", {"miner": True}),
        NodeSpec("verifier0", {"verifier": True}),
        NodeSpec("inference-a", {"inference": True}),
        NodeSpec("inference-b", {"inference": True}),
    ]
    endpoints = [
        {"name": s.name, "api": f"http://127.0.0.1:{k}/v1", "p2p": "", "datadir": "/nonexistent"}
        for k, s in enumerate(specs, start=1)
    ]
    keeper = Keeper(endpoints, specs, "devnet")
    spendable = {"inference-a": TOP_UP_BELOW - 1, "inference-b": TOP_UP_BELOW}
    sent: list[tuple[str, dict[str, Any]]] = []

    def get(name: str, path: str, *, auth: bool = False) -> Any:
        assert (path, auth) == ("/wallet", True)
        return {"balance": {"spendable": spendable[name]}, "addresses": [f"tfai1{name}"]}

    def post(name: str, path: str, body: dict[str, Any], *, auth: bool = False) -> Any:
        sent.append((name, body))
        return {}

    monkeypatch.setattr(keeper.net, "get", get)
    monkeypatch.setattr(keeper.net, "post", post)
    keeper.tick()
    assert sent == [("miner", {"to": "tfai1inference-a", "amount": EXECUTOR_FUNDS})]
    clock[0] += 10  # still low (the payment is unconfirmed): no second payment yet
    keeper.tick()
    assert len(sent) == 1
    clock[0] += ready.TOP_UP_EVERY
    keeper.tick()
    assert len(sent) == 2
    assert keeper.topped_up == 2
    keeper.close()
