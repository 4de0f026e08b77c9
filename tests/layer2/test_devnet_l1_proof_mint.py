"""Paper section 9 on a devnet of real node processes: an L2 contract mints a token only
after an L1 payment to the shop's key is proven.

The miner's wallet pays the shop on L1 (naming the buyer's L2 principal in a data output);
``GET /v1/l1/tx/{txid}/proof`` gives the proof; the buyer's signed L2 transactions (over
``POST /v1/l2/tx``) deploy ``fai-l1-proofs`` and ``paid-token`` and claim with the proof.
After the network stops, every node's L2 state holds the minted balance, once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from funai import _core
from funai.clarity import ClarityVM
from funai.clarity.library import library_source
from funai.devnet.launcher import NodeSpec, l2_layout
from funai.inference.defaults import ensure_default_model
from funai.layer2.execution import _ClarityStore, principal
from funai.layer2.state import L2State
from funai.layer2.transactions import TxKind, account_of, sign_tx
from funai.ledger.tx import COIN, OutputKind
from funai.testing.devnet import Devnet, model_cache, running_devnet

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "l1-payment" / "paid-token.clar"
SHOP_KEY = bytes([1]) * 32
BUYER_SK = _core.sha256(b"devnet paid-token buyer")


def _submit(net: Devnet, sk: bytes, nonce: int, kind: TxKind, payload: list[Any]) -> str:
    tx = sign_tx(sk, kind, nonce, payload, net.params.network_id)
    r = net.post_raw("verifier0", "/l2/tx", {"hex": tx.serialize().hex()})
    assert r.status_code == 200, r.text
    txid: str = r.json()["txid"]
    net.wait(
        f"L2 {kind.name} {txid[:12]} in a block on every node",
        lambda: all(net.get(n, f"/l2/tx/{txid}")["status"] != "executed" for n in net.nodes),
    )
    return txid


def test_devnet_l2_token_minted_for_a_proven_l1_payment(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    specs = l2_layout(str(model), verifiers=3, inference=1, mine_interval=1.5)
    specs[-1].settings.update(l2_bid=1_000_000)  # inference-a produces the L2 blocks
    specs.append(NodeSpec("user", {}))
    sk = BUYER_SK
    buyer = account_of(_core.schnorr_public_key(sk))
    with running_devnet(tmp_path, specs, timeout=540.0) as net:
        net.fund({"inference-a": 2 * COIN})  # it registers and bids on L1 to produce
        outputs = [
            {"kind": int(OutputKind.PAY_TO_KEY), "value": COIN // 2, "payload": SHOP_KEY.hex()},
            {"kind": int(OutputKind.DATA), "value": 0, "payload": buyer.hex()},
        ]
        l1_txid = net._miner_pays(COIN // 2, "/wallet/pay", {"outputs": outputs})["txid"]
        _submit(net, sk, 0, TxKind.DEPLOY, ["fai-l1-proofs", library_source("fai-l1-proofs")])
        _submit(net, sk, 1, TxKind.DEPLOY, ["paid-token", EXAMPLE.read_text()])

        def proven() -> dict[str, Any] | None:
            got: dict[str, Any] = net.get("user", f"/l1/tx/{l1_txid}/proof")
            return got if got["confirmations"] >= 4 else None

        proof = net.wait("the L1 payment mined with 4 confirmations", proven)
        c = proof["clarity"]
        token = f"{principal(buyer)}.paid-token"
        args = [c["height"], c["header"], c["tx"], c["proof"], "u0", "u1"]
        _submit(net, sk, 2, TxKind.CALL, [token, "claim", args])
        _submit(net, sk, 3, TxKind.CALL, [token, "claim", args])  # the same output again
        net.same_state()
        dirs = {n: net.netdir(n) / "l2" / "l2.sqlite" for n in net.nodes}
    balances = set()
    for name, path in dirs.items():
        assert path.exists(), name
        conn = sqlite3.connect(path)
        try:
            vm = ClarityVM(_ClarityStore(L2State(conn, net.params)))
            res = vm.read_only(token, "get-balance", f"'{principal(buyer)}")
            balances.add((name, res.result))
        finally:
            conn.close()
    assert len(balances) == len(specs)  # every node, the miner and the user's included
    assert {r for _, r in balances} == {f"u{COIN // 2}"}, balances
