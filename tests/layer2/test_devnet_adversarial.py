"""Adversarial devnets of real node processes (each node its own ``funai node``, over loopback).

1. Dishonest executors and two dishonest verifiers in one network: ``verifier3`` accepts
   everything, ``verifier4`` rejects everything, ``inference-b`` answers garbage,
   ``inference-c`` serves a cheaper substitute (the model with one decoder layer dropped)
   under the genuine model's id and ``inference-d`` edits its answers after generating them
   (tests/layer2/rogue.py). The honest majority decides by replay (rule ``replay-token``):
   the honest answers, 50 of them sampled at temperature 1.0, are all accepted and paid and
   their executor is never penalized; every dishonest answer is rejected on every node, its
   executor loses ``bond_penalty`` of its bond to the user and earns no gas, and the user
   pays nothing for it.
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

import functools
from pathlib import Path
from typing import Any

import pytest

from funai import _core
from funai.devnet.launcher import l2_layout
from funai.inference import load_model
from funai.inference.convert import convert_gguf
from funai.inference.defaults import ensure_default_model, gguf_dir
from funai.inference.fetch import DEFAULT_SOURCE
from funai.layer2.judging import engine_judge
from funai.layer2.params import test_verifier_key as verifier_key
from funai.layer2.transactions import (
    InferenceContent,
    L2Tx,
    ModelProposePayload,
    ModelVotePayload,
    TxKind,
    account_of,
    sign_payload,
)
from funai.ledger.supply import l2_subsidy
from funai.ledger.tx import COIN
from funai.testing.devnet import Devnet, model_cache, running_devnet
from tests.layer2.rogue import EDIT, GARBAGE, launch_code

pytestmark = pytest.mark.slow

PROMPT = "What is the capital of France?"
MINE_INTERVAL = 1.5
PEG = COIN // 2  # each client account's peg-in
PRODUCER_BID = 1_000_000  # 0.01 FAI per L1 block from the producer's wallet
#: honest answers sampled at temperature 1.0, every one of them accepted
HONEST_SAMPLED = 50
ROGUES = ("inference-b", "inference-c", "inference-d")
QUESTIONS = [
    "Name a colour.",
    "Write one sentence about the sea.",
    "What is 7 times 6?",
    "Give me a name for a cat.",
    "Describe a tree in a few words.",
    "What do bees make?",
    "Say something kind.",
    "Name a planet.",
    "Which animal says moo?",
    "Suggest a breakfast.",
]


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


def _sampled(net: Devnet, node: str, model: str, i: int) -> dict[str, Any]:
    r = net.post_raw(
        node,
        "/chat/completions",
        {
            "model": model,
            "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}],
            "max_tokens": 16,
            "temperature": 1.0,
        },
    )
    assert r.status_code == 200, f"{node}: {r.status_code} {r.text}"
    answer: dict[str, Any] = r.json()
    return answer


def test_dishonest_executors_and_verifiers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = ensure_default_model(model_cache())
    # the cheaper substitute inference-c serves: the model without its decoder layer 15
    gguf = gguf_dir(model_cache()) / DEFAULT_SOURCE.gguf_name
    substitute = convert_gguf(gguf, tmp_path / "substitute", drop_layer=15).path
    monkeypatch.setenv("FUNAI_ROGUE_SUBSTITUTE", str(substitute))
    # the garbage rogue's answer is refused by the verifiers' replay
    judge = engine_judge(load_model(model), score=False)
    assert not judge(bytes(32), InferenceContent(PROMPT, GARBAGE), 0).accept

    specs = l2_layout(str(model), inference=4, mine_interval=MINE_INTERVAL)
    by_name = {s.name: s for s in specs}
    # verifier0 is the only block producer (so the executors' balances move only by gas)
    by_name["verifier0"].settings.update(inference=True, l2_bid=PRODUCER_BID)
    by_name["verifier3"].code = launch_code("accept-all")
    by_name["verifier4"].code = launch_code("reject-all")
    for e in ("inference-a", *ROGUES):
        by_name[e].settings.update(l2_bid=0)
    by_name["inference-b"].code = launch_code("garbage")
    by_name["inference-c"].code = launch_code("substitute")
    by_name["inference-d"].code = launch_code("edit")
    executors_all = ("inference-a", *ROGUES)

    with running_devnet(tmp_path, specs, timeout=1500.0) as net:
        p = net.params
        net.fund({"verifier0": 10 * COIN, **dict.fromkeys(executors_all, COIN)})
        clients = {e: net.wallet(e)["l2_account"] for e in executors_all}
        for account in clients.values():
            net.peg_in(account, PEG)
        _wait_ready(net, list(executors_all), clients)
        executors = {e: net.l2(e)["account"] for e in executors_all}
        assert set(executors.values()).isdisjoint(clients.values())
        observer = "verifier1"
        before = {a: net.account(observer, a) for a in [*clients.values(), *executors.values()]}
        for e in executors_all:
            assert before[clients[e]]["balance"] == PEG
        for e in ROGUES:
            assert before[executors[e]]["bond"] == p.min_bond

        answers: dict[str, dict[str, Any]] = {}
        for e in executors_all:
            r = net.chat(e, model.name, PROMPT)
            assert r.status_code == 200, f"{e}: {r.status_code} {r.text}"
            answers[e] = r.json()
        honest = answers["inference-a"]
        text = {e: a["choices"][0]["message"]["content"] for e, a in answers.items()}
        assert "Paris" in text["inference-a"]
        assert honest["choices"][0]["finish_reason"] == "stop"
        assert text["inference-b"] == GARBAGE
        assert text["inference-d"].endswith(EDIT)
        assert text["inference-c"] != text["inference-a"]  # the substitute answers otherwise
        # the honest executor samples at temperature 1.0, every answer on the record
        sampled = [_sampled(net, "inference-a", model.name, i) for i in range(HONEST_SAMPLED)]
        assert len({tuple(a["funai"]["tokens"]) for a in sampled}) > HONEST_SAMPLED // 2
        price = net.l2("inference-a")["price_per_token"]
        gas = {}
        for e, ans in answers.items():
            receipt = ans["funai"]["receipt"]
            assert receipt["kind"] == "executor"
            assert receipt["signer"] == net.l2(e)["key"]
            assert receipt["payer"] == clients[e]
            gas[e] = receipt["gas"]
            assert gas[e] == price * ans["usage"]["total_tokens"] > 0
        honest_gas = gas["inference-a"] + sum(a["funai"]["receipt"]["gas"] for a in sampled)

        txid = {e: ans["funai"]["inference_txid"] for e, ans in answers.items()}
        views = {e: net.tx_everywhere(txid[e], _finalized_with_all_votes(5)) for e in txid}
        for name in net.nodes:
            good = views["inference-a"][name]
            # the record keeps all five votes; the three honest ones decide
            assert (good["accepted"], good["votes"], good["votes_accept"]) == (True, 5, 4), name
            assert good["executor_key"] == net.l2("inference-a")["key"]
            for e in ROGUES:
                bad = views[e][name]
                assert (bad["accepted"], bad["votes"], bad["votes_accept"]) == (False, 5, 1), (
                    name,
                    e,
                )
                assert bad["executor_key"] == net.l2(e)["key"]
        last = 0
        for a in sampled:
            seen = net.tx_everywhere(a["funai"]["inference_txid"], _finalized_with_all_votes(5))
            for name, st in seen.items():
                assert (st["accepted"], st["votes_accept"]) == (True, 4), (name, a["funai"])
            last = max(last, *(st["l2_height"] for st in seen.values()))

        # block N's outcome settles when block N+1 (carrying N's QC) is applied; a node that
        # saw an L2 fork may hold a transaction in a higher block than another node does
        highest = (st["l2_height"] for v in views.values() for st in v.values())
        settled = max([last, *highest]) + 1
        net.heights_at_least(settled)
        ca, ea = clients["inference-a"], executors["inference-a"]
        # (and, should a node have moved to another fork since, until it settled them there)
        net.wait(
            "every request settled on every node",
            lambda: all(
                net.account(n, ea)["balance"] == before[ea]["balance"] + honest_gas
                and all(
                    net.account(n, clients[e])["balance"] == PEG + p.bond_penalty for e in ROGUES
                )
                for n in net.nodes
            ),
        )
        for name in net.nodes:
            acct = {a: net.account(name, a) for a in (*clients.values(), *executors.values())}
            # the honest requests: the user paid their gas, the executor earned it, no penalty
            assert acct[ca]["balance"] == PEG - honest_gas, name
            assert acct[ca]["nonce"] == before[ca]["nonce"] + 1 + HONEST_SAMPLED, name
            assert acct[ea]["balance"] == before[ea]["balance"] + honest_gas, name
            assert acct[ea]["bond"] == before[ea]["bond"], name
            for e in ROGUES:
                cb, eb = clients[e], executors[e]
                # the rejected one: gas back to the user, plus the executor's penalty
                assert acct[cb]["balance"] == PEG + p.bond_penalty, (name, e)
                assert acct[cb]["nonce"] == before[cb]["nonce"] + 1, (name, e)
                assert acct[eb]["balance"] == before[eb]["balance"], (name, e)
                assert acct[eb]["bond"] == p.min_bond - p.bond_penalty, (name, e)
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
        txs = [sign_payload(proposer, ModelProposePayload(bytes.fromhex(model_id), name), 0, nid)]
        for i in range(p.quorum):
            sk = verifier_key(i)
            acct = account_of(_core.schnorr_public_key(sk)).hex()
            nonce = net.account(node, acct)["nonce"]
            txs.append(sign_payload(sk, ModelVotePayload(bytes.fromhex(model_id)), nonce, nid))
        for k, tx in enumerate(txs):
            got = net.post(f"verifier{k % 3}", "/l2/tx", {"hex": tx.serialize().hex()})
            assert got["txid"] == tx.txid().hex()
        included = [
            net.wait(
                f"{TxKind(tx.kind).name} in a block",
                functools.partial(_in_block, net, node, tx),
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


def _in_block(net: Devnet, node: str, tx: L2Tx) -> Any:
    """The node's record of ``tx`` once it is in a block (else a false value)."""
    got = net.get(node, f"/l2/tx/{tx.txid().hex()}")
    return got if got["l2_height"] is not None else None
