"""Adversarial devnets of real node processes (each node its own ``funai node``, over loopback).

1. A dishonest executor and two dishonest verifiers in one network: ``verifier3`` accepts
   everything, ``verifier4`` rejects everything and ``inference-b`` answers garbage
   (tests/layer2/rogue.py). The honest majority decides: the honest answer is accepted and
   paid, the garbage is rejected on every node, its executor loses ``bond_penalty`` of its
   bond to the user and earns no gas, and the user pays nothing for it.
2. Model governance: a model that is not active is refused by the API before it runs (409
   ``model_inactive``); a MODEL_PROPOSE and a quorum of verifier MODEL_VOTEs sent through
   ``POST /v1/l2/tx`` activate it ``model_activation_delay`` blocks later, then it is served,
   billed and its answers are judged and accepted.

3. An equivocating producer: ``inference-b`` signs and gossips a second block for the
   election it wins, then stops bidding. Every node detects it (the second block is relayed
   as evidence), the next producer (``inference-a``) includes the EQUIVOCATION evidence in
   the very next block, the election is forfeited on every node and its producer gets no
   subsidy for it (its L1 bid is already with the verifiers: lost); the chain goes on.
   (In-process: tests/layer2/test_lifecycle.py and test_consensus.py.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from devnetkit import Devnet, model_cache, running_devnet
from rogue import GARBAGE, launch_code

from funai import _core
from funai.inference import load_model
from funai.inference.defaults import ensure_default_model
from funai.layer2.judging import engine_judge
from funai.layer2.params import test_verifier_key as verifier_key
from funai.layer2.transactions import InferenceContent, TxKind, account_of, sign_tx
from funai.ledger.supply import l2_subsidy
from funai.ledger.tx import COIN
from funai.node.devnet import l2_layout

pytestmark = pytest.mark.slow

PROMPT = "What is the capital of France?"
MINE_INTERVAL = 1.5
PEG = COIN // 2  # each client account's peg-in
PRODUCER_BID = 1_000_000  # 0.01 FAI per L1 block from the producer's wallet


def _finalized_with_all_votes(voters: int) -> Any:
    return lambda st: st.get("finalized") and st.get("votes") == voters


def _wait_ready(net: Devnet, executors: list[str], clients: dict[str, str]) -> None:
    """Executors bonded, client accounts credited (as every node sees it), an L2 block
    finalized."""
    min_bond = net.params.min_bond
    net.wait(
        "the executors bonded and the clients' peg-ins credited on every node",
        lambda: all(
            net.account(n, net.l2(e)["account"])["bond"] >= min_bond
            and all(net.account(n, c)["balance"] > 0 for c in clients.values())
            for n in net.nodes
            for e in executors
        ),
    )


def test_dishonest_executor_and_verifiers(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    # the rogue's answer is garbage to the real judge
    judge = engine_judge(load_model(model))
    assert not judge(bytes(32), InferenceContent(PROMPT, GARBAGE)).accept

    specs = l2_layout(str(model), mine_interval=MINE_INTERVAL)
    by_name = {s.name: s for s in specs}
    # verifier0 is the only block producer (so the executors' balances move only by gas)
    by_name["verifier0"].settings.update(inference=True, l2_bid=PRODUCER_BID)
    by_name["verifier3"].code = launch_code("accept-all")
    by_name["verifier4"].code = launch_code("reject-all")
    by_name["inference-a"].settings.update(l2_bid=0)
    by_name["inference-b"].settings.update(l2_bid=0)
    by_name["inference-b"].code = launch_code("garbage")

    with running_devnet(tmp_path, specs) as net:
        p = net.params
        net.fund({"verifier0": 2 * COIN, "inference-a": COIN, "inference-b": COIN})
        clients = {e: net.wallet(e)["l2_account"] for e in ("inference-a", "inference-b")}
        for account in clients.values():
            net.peg_in(account, PEG)
        _wait_ready(net, ["inference-a", "inference-b"], clients)
        executors = {e: net.l2(e)["account"] for e in ("inference-a", "inference-b")}
        assert set(executors.values()).isdisjoint(clients.values())
        observer = "verifier1"
        before = {a: net.account(observer, a) for a in [*clients.values(), *executors.values()]}
        assert before[clients["inference-a"]]["balance"] == PEG
        assert before[clients["inference-b"]]["balance"] == PEG
        assert before[executors["inference-b"]]["bond"] == p.min_bond

        answers: dict[str, dict[str, Any]] = {}
        for e in ("inference-a", "inference-b"):
            r = net.chat(e, model.name, PROMPT)
            assert r.status_code == 200, f"{e}: {r.status_code} {r.text}"
            answers[e] = r.json()
        honest, rogue = answers["inference-a"], answers["inference-b"]
        assert "Paris" in honest["choices"][0]["message"]["content"]
        assert honest["choices"][0]["finish_reason"] == "stop"
        assert rogue["choices"][0]["message"]["content"] == GARBAGE
        price = net.l2("inference-a")["price_per_token"]
        gas = {}
        for e, ans in answers.items():
            receipt = ans["funai"]["receipt"]
            assert receipt["kind"] == "executor"
            assert receipt["signer"] == net.l2(e)["key"]
            assert receipt["payer"] == clients[e]
            gas[e] = receipt["gas"]
            assert gas[e] == price * ans["usage"]["total_tokens"] > 0

        txid = {e: ans["funai"]["inference_txid"] for e, ans in answers.items()}
        views = {e: net.tx_everywhere(txid[e], _finalized_with_all_votes(5)) for e in txid}
        for name in net.nodes:
            good, bad = views["inference-a"][name], views["inference-b"][name]
            # the record keeps all five votes; the three honest ones decide
            assert (good["accepted"], good["votes"], good["votes_accept"]) == (True, 5, 4), name
            assert (bad["accepted"], bad["votes"], bad["votes_accept"]) == (False, 5, 1), name
            assert good["executor_key"] == net.l2("inference-a")["key"]
            assert bad["executor_key"] == net.l2("inference-b")["key"]

        # block N's outcome settles when block N+1 (carrying N's QC) is applied
        settled = max(v["verifier0"]["l2_height"] for v in views.values()) + 1
        net.heights_at_least(settled)
        ca, cb = clients["inference-a"], clients["inference-b"]
        ea, eb = executors["inference-a"], executors["inference-b"]
        for name in net.nodes:
            acct = {a: net.account(name, a) for a in (ca, cb, ea, eb)}
            # the honest request: the user paid its gas, the executor earned it
            assert acct[ca]["balance"] == PEG - gas["inference-a"], name
            assert acct[ca]["nonce"] == before[ca]["nonce"] + 1, name
            assert acct[ea]["balance"] == before[ea]["balance"] + gas["inference-a"], name
            assert acct[ea]["bond"] == before[ea]["bond"], name
            # the rejected one: gas back to the user, plus the executor's penalty
            assert acct[cb]["balance"] == PEG + p.bond_penalty, name
            assert acct[cb]["nonce"] == before[cb]["nonce"] + 1, name
            assert acct[eb]["balance"] == before[eb]["balance"], name
            assert acct[eb]["bond"] == p.min_bond - p.bond_penalty, name
        net.same_state()


def test_model_governance(tmp_path: Path) -> None:
    fp32 = ensure_default_model(model_cache(), precision="fp32")
    # 3 of the 5 genesis verifiers run (a quorum); they judge with the new model only
    specs = l2_layout(str(fp32), verifiers=3, inference=1, mine_interval=MINE_INTERVAL)
    specs[-1].settings.update(l2_bid=PRODUCER_BID)  # inference-a also produces the blocks
    with running_devnet(tmp_path, specs) as net:
        p = net.params
        name = fp32.name
        node = "inference-a"
        net.fund({node: 2 * COIN})
        client = net.wallet(node)["l2_account"]
        net.peg_in(client, PEG)
        _wait_ready(net, [node], {node: client})
        served = net.wait(
            "the model loaded",
            lambda: next(
                m
                for m in net.get(node, "/models")["data"]
                if m["id"] == name and m["funai"]["status"] == "ready"
            ),
        )
        model_id = served["funai"]["model_id"]
        assert bytes.fromhex(model_id) not in p.genesis_models
        nonce0 = net.account(node, client)["nonce"]

        def refused() -> None:
            r = net.chat(node, name, PROMPT)
            assert r.status_code == 409, r.text
            assert r.json()["error"]["code"] == "model_inactive"
            # refused before it ran: nothing charged, no transaction
            acct = net.account(node, client)
            assert (acct["balance"], acct["nonce"]) == (PEG, nonce0)
            pool = net.get(node, "/l2/mempool")["txs"]
            assert not [t for t in pool if t["kind"] == "inference"]

        refused()  # not proposed yet

        # anyone proposes; a quorum (3 of 5) of the verifiers vote
        nid = p.network_id
        proposer = bytes.fromhex("11" * 32)
        txs = [sign_tx(proposer, TxKind.MODEL_PROPOSE, 0, [bytes.fromhex(model_id), name], nid)]
        for i in range(p.quorum):
            sk = verifier_key(i)
            acct = account_of(_core.schnorr_public_key(sk)).hex()
            nonce = net.account(node, acct)["nonce"]
            txs.append(sign_tx(sk, TxKind.MODEL_VOTE, nonce, [bytes.fromhex(model_id)], nid))
        for k, tx in enumerate(txs):
            got = net.post(f"verifier{k % 3}", "/l2/tx", {"hex": tx.serialize().hex()})
            assert got["txid"] == tx.txid().hex()
        included = [
            net.wait(
                f"{TxKind(tx.kind).name} in a block",
                lambda tx=tx: (
                    net.get(node, f"/l2/tx/{tx.txid().hex()}")["l2_height"] is not None
                    and net.get(node, f"/l2/tx/{tx.txid().hex()}")
                ),
            )
            for tx in txs
        ]
        assert included[0]["l2_height"] <= min(v["l2_height"] for v in included[1:])
        activation = max(v["l2_height"] for v in included[1:]) + p.model_activation_delay
        if net.l2(node)["height"] + 1 < activation:
            refused()  # approved, not active yet

        net.wait(
            f"L2 height {activation - 1} (activation at {activation})",
            lambda: net.l2(node)["height"] + 1 >= activation,
        )
        r = net.chat(node, name, PROMPT)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert "Paris" in answer["choices"][0]["message"]["content"]
        receipt = answer["funai"]["receipt"]
        assert receipt["model_id"] == model_id
        assert receipt["gas"] == net.l2(node)["price_per_token"] * answer["usage"]["total_tokens"]
        assert receipt["gas"] > 0
        txid = answer["funai"]["inference_txid"]
        views = net.tx_everywhere(txid, _finalized_with_all_votes(3))
        for who, st in views.items():
            assert st["model_id"] == model_id, who
            assert st["l2_height"] >= activation, who
            assert (st["accepted"], st["votes_accept"]) == (True, 3), who
        net.heights_at_least(views[node]["l2_height"] + 1)
        for who in net.nodes:
            assert net.account(who, client)["balance"] == PEG - receipt["gas"], who
        net.same_state()


def test_equivocating_producer_forfeits(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    specs = l2_layout(str(model), verifiers=3, inference=2, mine_interval=MINE_INTERVAL)
    by_name = {s.name: s for s in specs}
    by_name["inference-a"].settings.update(l2_bid=PRODUCER_BID)
    by_name["inference-b"].settings.update(l2_bid=20 * PRODUCER_BID)  # wins most rounds
    by_name["inference-b"].code = launch_code("equivocate")
    with running_devnet(tmp_path, specs) as net:
        net.fund({"inference-a": 2 * COIN, "inference-b": 2 * COIN})
        rogue = net.l2("inference-b")

        def equivocated() -> dict[str, Any] | None:
            for b in net.get("verifier0", "/l2/blocks?limit=200")["blocks"]:
                if b["producer_key"] == rogue["key"] and b["forfeited"]:
                    return dict(b)
            return None

        bad = net.wait("the rogue's equivocation caught and its election forfeited", equivocated)
        net.heights_at_least(bad["height"] + 2)
        honest = net.l2("inference-a")
        for name in net.nodes:
            if name != "inference-b":  # its own second block never comes back to the rogue
                assert net.l2(name)["evidence"] >= 1, name
            block = net.get(name, f"/l2/blocks/{bad['hash']}")
            assert block["forfeited"], name
            nxt = net.get(name, f"/l2/blocks/{bad['height'] + 1}")
            assert nxt["parent"] == bad["hash"], name
            assert nxt["producer_key"] == honest["key"], name
            kinds = [t["kind"] for t in nxt["transactions"]]
            assert "equivocation" in kinds, (name, kinds)
            # no subsidy for the forfeited block: the rogue holds only what it pegged in
            assert net.account(name, rogue["account"])["balance"] < l2_subsidy(bad["height"])
            assert net.account(name, honest["account"])["balance"] >= l2_subsidy(0), name
        net.same_state()
