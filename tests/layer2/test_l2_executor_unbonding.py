"""Executor unbonding (``UNBOND``): the bond goes to unbonding and comes back to the balance
``unbonding_delay`` L2 blocks later, as UNSTAKE's coins do (docs/layer2.md, "Transactions")."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import trio
from starlette.applications import Starlette
from typer.testing import CliRunner

from funai.api.wallet_routes import read_cookie, wallet_routes
from funai.cli import app as cli_app
from funai.errors import MalformedInputError
from funai.layer2.errors import L2Error
from funai.layer2.execution import BlockContext, apply_tx
from funai.layer2.node import L2Node
from funai.layer2.transactions import (
    BondPayload,
    InferenceContent,
    L2Tx,
    TxKind,
    TxPayload,
    UnbondPayload,
    make_inference,
    sign_payload,
)
from funai.ledger.encoding import encode
from funai.ledger.tx import COIN, MAX_MONEY
from funai.testing.cluster import MODEL, VERIFIER_NAMES, Net, acct, make_params, skey


@pytest.fixture
def net(tmp_path: Path) -> Net:
    n = Net(tmp_path / "unbond.sqlite")
    n.fund("user", 100 * COIN)
    n.fund("exec", 100 * COIN)
    return n


def ctx(height: int = 1) -> BlockContext:
    return BlockContext(height, acct("prod"))


def t(net: Net, name: str, body: TxPayload, nonce: int) -> L2Tx:
    return sign_payload(skey(name), body, nonce, net.params.network_id)


def supply_holds(net: Net) -> bool:
    return net.state.total_held() == net.state.total_issued()


def test_unbond_payload_and_encoding() -> None:
    tx = sign_payload(skey("exec"), UnbondPayload(5 * COIN), 0, b"n" * 32)
    assert int(tx.kind) == 12
    again = L2Tx.deserialize(tx.serialize())
    assert again == tx
    again.verify_signature(b"n" * 32)
    key = tx.sender_key
    for payload in ([0], [MAX_MONEY + 1], [-1], ["1"], [], [1, 2]):
        with pytest.raises(MalformedInputError):
            L2Tx.deserialize(encode([1, 12, key, 0, 0, payload, bytes(64)]))
    L2Tx.deserialize(encode([1, 12, key, 0, 0, [MAX_MONEY], bytes(64)]))  # the top is fine


def test_unbond_moves_the_bond_to_unbonding_released_after_the_delay(net: Net) -> None:
    apply_tx(net.state, t(net, "exec", BondPayload(30 * COIN), 0), ctx(1))
    assert net.state.bond(acct("exec")) == 30 * COIN
    assert net.state.balance(acct("exec")) == 70 * COIN
    apply_tx(net.state, t(net, "exec", UnbondPayload(12 * COIN), 1), ctx(4))
    assert net.state.bond(acct("exec")) == 18 * COIN
    assert net.state.balance(acct("exec")) == 70 * COIN  # not yet: it is unbonding
    assert net.state.account(acct("exec"))[1] == 2
    delay = net.params.unbonding_delay
    key = (4 + delay).to_bytes(8, "big") + acct("exec")
    assert net.state.get("unbond", key) == [12 * COIN]
    assert supply_holds(net)
    with net.state.atomic():
        assert net.state.release_unbonded(4 + delay - 1) == 0  # one block early: nothing
    assert net.state.balance(acct("exec")) == 70 * COIN
    with net.state.atomic():
        assert net.state.release_unbonded(4 + delay) == 12 * COIN
    assert net.state.balance(acct("exec")) == 82 * COIN
    assert net.state.get("unbond", key) is None
    assert net.state.bond(acct("exec")) == 18 * COIN
    assert supply_holds(net)
    # the whole rest of the bond: the bond row goes
    apply_tx(net.state, t(net, "exec", UnbondPayload(18 * COIN), 2), ctx(20))
    assert net.state.bond(acct("exec")) == 0
    assert net.state.get("bond", acct("exec")) is None
    assert supply_holds(net)


def test_unbond_through_blocks_releases_exactly_at_the_delay(net: Net) -> None:
    """The release by the consensus itself (rule ``unbonding-release`` at the end of each
    block), counted in L2 blocks."""
    net.register("prod")
    block = net.produce(net.elect({"prod": 5 * COIN}), [t(net, "exec", BondPayload(30 * COIN), 0)])
    assert net.state.height == 0

    def next_block(txs: list[L2Tx]) -> None:
        nonlocal block
        qc = net.vote_all(block, {n: [] for n in VERIFIER_NAMES})
        block = net.produce(net.elect({"prod": 5 * COIN}), txs, qc)

    next_block([t(net, "exec", UnbondPayload(10 * COIN), 1)])
    unbond_height = net.state.height
    assert unbond_height == 1
    assert net.state.bond(acct("exec")) == 20 * COIN
    after_unbond = net.state.balance(acct("exec"))
    assert after_unbond == 70 * COIN
    assert supply_holds(net)
    delay = net.params.unbonding_delay
    while net.state.height < unbond_height + delay - 1:
        next_block([])
        assert net.state.balance(acct("exec")) == after_unbond  # not earlier
        assert supply_holds(net)
    next_block([])
    assert net.state.height == unbond_height + delay
    assert net.state.balance(acct("exec")) == after_unbond + 10 * COIN
    assert net.state.bond(acct("exec")) == 20 * COIN
    assert supply_holds(net)


def test_unbond_exceeding_the_bond_is_refused_and_changes_nothing(net: Net) -> None:
    apply_tx(net.state, t(net, "exec", BondPayload(10 * COIN), 0), ctx(1))
    for name, nonce, amount in (("exec", 1, 10 * COIN + 1), ("user", 0, COIN)):
        root = net.state.state_root()
        with pytest.raises(L2Error, match="unbond-exceeds-bond"):
            apply_tx(net.state, t(net, name, UnbondPayload(amount), nonce), ctx(2))
        assert net.state.state_root() == root
    assert net.state.bond(acct("exec")) == 10 * COIN
    assert net.state.account(acct("exec")) == (90 * COIN, 1)
    assert net.state.scan("unbond") == []
    assert supply_holds(net)


def test_unbonded_executor_cannot_execute(net: Net) -> None:
    nid = net.params.network_id
    content = InferenceContent("hi", "hello")

    def inference(nonce: int) -> L2Tx:
        return make_inference(skey("user"), skey("exec"), nonce, MODEL, content, COIN, nid)

    min_bond = net.params.min_bond
    apply_tx(net.state, t(net, "exec", BondPayload(min_bond + COIN), 0), ctx(1))
    apply_tx(net.state, inference(0), ctx(1))  # bonded: valid
    apply_tx(net.state, t(net, "exec", UnbondPayload(COIN), 1), ctx(2))
    assert net.state.bond(acct("exec")) == min_bond
    apply_tx(net.state, inference(1), ctx(2))  # exactly min_bond still counts
    apply_tx(net.state, t(net, "exec", UnbondPayload(1), 2), ctx(3))
    root = net.state.state_root()
    with pytest.raises(L2Error, match="inference-executor-unbonded"):
        apply_tx(net.state, inference(2), ctx(3))
    assert net.state.state_root() == root
    assert supply_holds(net)


# --- the operator's route: POST /v1/l2/unbond (funai/api/wallet_routes.py) ---------------


class _Gossip:
    """What the route uses of ``L2Gossip``: ``call`` under the L2 lock, ``flush``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.flushed = 0

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        assert not trio.lowlevel.in_trio_run()  # never on the Trio thread
        with self.lock:
            return fn(*args)

    def flush(self) -> None:
        self.flushed += 1


def _node(tmp: Path, *, inference: bool, bond: int, bond_target: int) -> SimpleNamespace:
    """A stand-in for ``funai.node.node.Node`` with a real ``L2Node`` (key ``exec``) whose
    state holds ``bond``."""
    params = make_params()
    l2 = L2Node(tmp / "l2", params, skey("exec"), synchronous="NORMAL")
    with l2.state.atomic():
        l2.state.credit(acct("exec"), 100 * COIN)
        l2.state.add_meta("pegged_in", 100 * COIN)
    apply_tx(l2.state, sign_payload(skey("exec"), BondPayload(bond), 0, params.network_id), ctx(0))
    runtime = SimpleNamespace(l2=l2, gossip=_Gossip(), bond_target=bond_target, params=params)
    return SimpleNamespace(
        netdir=tmp,
        config=SimpleNamespace(inference=inference),
        l2=runtime,
        service=SimpleNamespace(wallet_lock=trio.Lock()),
    )


def _post(node: SimpleNamespace, body: Any, *, cookie: bool = True) -> httpx.Response:
    app = Starlette(routes=wallet_routes(node))  # type: ignore[arg-type]
    headers = {"authorization": f"Bearer {read_cookie(node.netdir)}"} if cookie else {}

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            return await client.post("/v1/l2/unbond", json=body, headers=headers)

    return trio.run(go)


def test_unbond_route_signs_with_the_node_key_and_submits(tmp_path: Path) -> None:
    node = _node(tmp_path, inference=False, bond=30 * COIN, bond_target=10 * COIN)
    l2: L2Node = node.l2.l2
    assert _post(node, {"amount": COIN}, cookie=False).status_code == 401
    r = _post(node, {"amount": 12 * COIN})
    assert r.status_code == 200, r.text
    data = r.json()
    delay = l2.params.unbonding_delay
    assert data["amount"] == 12 * COIN
    assert data["bond"] == 18 * COIN
    assert data["release_height"] == l2.state.height + 1 + delay
    tx = l2.mempool.get(bytes.fromhex(data["txid"]))
    assert tx is not None
    assert (tx.kind, tx.sender, tx.nonce, tx.payload) == (
        TxKind.UNBOND,
        acct("exec"),
        1,
        (12 * COIN,),
    )
    assert node.l2.gossip.flushed == 1
    # a pending unbond counts: only 18 FAI are left to unbond
    r = _post(node, {"amount": 18 * COIN + 1})
    assert (r.status_code, r.json()["code"]) == (400, "exceeds_bond")
    r = _post(node, {"amount": 18 * COIN})
    assert r.status_code == 200, r.text
    second = l2.mempool.get(bytes.fromhex(r.json()["txid"]))
    assert second is not None
    assert second.nonce == 2  # after the pending one
    assert r.json()["bond"] == 0
    # both are valid in a block: the bond is gone, the coins unbonding
    apply_tx(l2.state, tx, ctx(3))
    apply_tx(l2.state, second, ctx(3))
    assert l2.state.bond(acct("exec")) == 0
    assert l2.state.total_held() == l2.state.total_issued()


def test_unbond_route_refusals(tmp_path: Path) -> None:
    node = _node(tmp_path, inference=True, bond=30 * COIN, bond_target=10 * COIN)
    l2: L2Node = node.l2.l2
    for body in ({}, {"amount": 0}, {"amount": "1"}, {"amount": MAX_MONEY + 1}):
        assert _post(node, body).json()["code"] == "bad_amount", body
    assert _post(node, {"amount": 1, "force": "yes"}).json()["code"] == "bad_request"
    assert _post(node, {"amount": 1, "to": "x"}).status_code == 400  # unknown field
    # an executor keeps l2.bond posted: going below it needs "force"
    r = _post(node, {"amount": 20 * COIN + 1})
    assert (r.status_code, r.json()["code"]) == (409, "bond_target")
    assert len(l2.mempool) == 0
    assert _post(node, {"amount": 20 * COIN}).status_code == 200  # down to l2.bond: fine
    r = _post(node, {"amount": 10 * COIN, "force": True})
    assert r.status_code == 200, r.text
    assert r.json()["bond"] == 0
    assert _post(node, {"amount": 1, "force": True}).json()["code"] == "exceeds_bond"
    node.l2 = None
    r = _post(node, {"amount": COIN})
    assert (r.status_code, r.json()["code"]) == (409, "no_inference_layer")


def test_cli_unbond_calls_the_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``funai wallet unbond`` POSTs to ``/v1/l2/unbond`` with the node's cookie; a refusal
    is exit 1 (``exceeds_bond``, ``bond_target``), a malformed amount exit 2."""
    (tmp_path / "devnet").mkdir()
    (tmp_path / "devnet" / "api.cookie").write_text("secret\n")
    sent: list[tuple[str, Any, dict[str, str]]] = []
    answers: list[httpx.Response] = []

    def post(url: str, *, json: Any, headers: dict[str, str], timeout: float) -> httpx.Response:
        sent.append((url, json, headers))
        return answers.pop(0)

    monkeypatch.setattr(httpx, "post", post)
    ok = {"txid": "ab" * 32, "amount": 150_000_000, "bond": 850_000_000, "release_height": 27}
    answers.append(httpx.Response(200, json=ok))
    base = ["--datadir", str(tmp_path), "wallet", "unbond"]
    r = CliRunner().invoke(cli_app, [*base, "1.5", "--node", "http://n/v1", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == ok
    assert sent[-1] == (
        "http://n/v1/l2/unbond",
        {"amount": 150_000_000},
        {"Authorization": "Bearer secret"},
    )
    for status, code in ((400, "exceeds_bond"), (409, "bond_target")):
        answers.append(httpx.Response(status, json={"error": "no", "code": code}))
        r = CliRunner().invoke(cli_app, [*base, "2", "--force", "--node", "http://n/v1"])
        assert r.exit_code == 1, r.output
        assert sent[-1][1] == {"amount": 200_000_000, "force": True}
    r = CliRunner().invoke(cli_app, [*base, "lots", "--node", "http://n/v1"])
    assert r.exit_code == 2
