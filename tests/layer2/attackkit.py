"""A running in-process L2 network for the attack and fault tests (tests/layer2/test_l2_*.py):
five honest verifiers, an honest executor and producer ``good``, a funded user, and helpers
to send a request and produce a block. Each attack test adds its hostile part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from funai.layer2.service import Judge, L2Node, sign_request
from funai.layer2.transactions import L2Tx, TxKind, sign_tx
from funai.ledger.tx import COIN
from funai.testing.cluster import (
    MODEL,
    NETWORK_ID,
    VERIFIERS,
    Cluster,
    acct,
    fake_judge,
    good_answer,
    skey,
)

__all__ = ["BID", "World", "started"]

BID = 5 * COIN


class World(Cluster):
    """v0..v4 verify, ``good`` executes and produces; ``user`` is funded."""

    def __init__(self, tmp: Path, **overrides: Any) -> None:
        judges: dict[str, Judge] = dict.fromkeys(VERIFIERS, fake_judge)
        super().__init__(tmp, judges, {"good": good_answer}, **overrides)
        self.good: L2Node = self.nodes["good"]
        self.v0: L2Node = self.nodes["v0"]
        self.user_nonce = 0

    def round(self, bids: dict[str, int] | None = None) -> None:
        super().round({"good": BID} if bids is None else bids)

    def request(self, text: str = "capital of France?", gas: int = COIN) -> L2Tx:
        """The user's request, executed at once by ``good`` (returns the completed tx)."""
        req = sign_request(skey("user"), self.user_nonce, MODEL, gas, text, NETWORK_ID)
        self.user_nonce += 1
        _out, tx = self.good.execute(req, text)
        return tx

    def same_everywhere(self) -> None:
        """Every node on one tip and one state root."""
        tips = {n: (node.state.tip(), node.state.state_root()) for n, node in self.nodes.items()}
        assert len(set(tips.values())) == 1, tips


def started(tmp: Path, **overrides: object) -> World:
    """``good`` registered, bonded 20 FAI, the user funded 100 FAI; L2 block 0 has a QC."""
    w = World(tmp, **overrides)
    w.mine([[w.good.registration_output()]])
    w.fund("user", 100 * COIN)
    w.fund("good", 50 * COIN)
    w.good.submit(sign_tx(skey("good"), TxKind.BOND, 0, [20 * COIN], NETWORK_ID))
    w.pump()
    w.round()
    assert w.v0.state.height == 0
    assert all(n.finalized(n.state.tip()) for n in w.nodes.values())
    assert w.v0.state.bond(acct("good")) == 20 * COIN
    return w


class FakePeer:
    """What :class:`~funai.layer2.p2p.L2Gossip` reads of a peer."""

    def __init__(self, pid: int) -> None:
        self.id = pid
        self.known: set[bytes] = set()
        self.closed = False

    def remember(self, item_id: bytes) -> None:
        self.known.add(item_id)


class FakeNet:
    """The PeerManager surface L2Gossip uses: it records what would be sent and punished."""

    def __init__(self, peers: int = 2) -> None:
        self.handlers: dict[str, object] = {}
        self.inv_kinds: dict[str, object] = {}
        self.peer_listeners: list[object] = []
        self.peers = [FakePeer(i) for i in range(peers)]
        self.sent: list[tuple[int, object]] = []
        self.punished: list[tuple[int, int, str]] = []

    def add_handler(self, kind: str, handler: object) -> None:
        self.handlers[kind] = handler

    def add_inv_kind(self, kind: str, inv: object) -> None:
        self.inv_kinds[kind] = inv

    def ready_peers(self) -> list[FakePeer]:
        return list(self.peers)

    def send(self, peer: FakePeer, msg: object) -> None:
        self.sent.append((peer.id, msg))

    def punish(self, peer: FakePeer, score: int, reason: str) -> None:
        self.punished.append((peer.id, score, reason))


class FakeService:
    """The ChainService surface L2Gossip uses (no L1 here: the test feeds L1 itself)."""

    def __init__(self) -> None:
        self.tip_listeners: list[object] = []
        self.chain = None


def gossip_for(node: L2Node) -> tuple[object, FakeNet]:
    """An :class:`~funai.layer2.p2p.L2Gossip` around ``node`` on a fake network."""
    from funai.layer2.p2p import L2Gossip

    net = FakeNet()
    return L2Gossip(net, FakeService(), node), net  # type: ignore[arg-type]
