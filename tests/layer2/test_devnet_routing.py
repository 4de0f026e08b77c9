"""Model routing on a devnet of real node processes (each its own ``funai node``, loopback).

``gateway`` is an inference-layer node without any model. It learns from the executors'
signed adverts (gossip ``l2ad``) that ``inference-a`` serves the default model, lists it in
``/v1/models`` as served by the network, and sends the requests it gets for it to
``inference-a``: a quote, then the user's request signed here (gas limit) and executed there.
The official ``openai`` client talks to the gateway only; the answers carry the executor's
receipt, the gateway's account pays the gas actually used, the executor earns it, and the
gateway never runs the model. A model nobody serves is refused.

A second devnet has a cheaper executor that answers with receipts that do not verify: the
gateway refuses its answer (502), and once that executor is gone it moves on to the next
one; the account's nonces stay in order, so every later request is recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openai import NotFoundError, OpenAI

from funai.api.openai_compat import verify_receipt
from funai.devnet.launcher import NodeSpec, l2_layout
from funai.inference.defaults import ensure_default_model
from funai.ledger.tx import COIN
from funai.testing.devnet import Devnet, model_cache, running_devnet, stream_chat
from tests.layer2.rogue import launch_code

pytestmark = pytest.mark.slow

PROMPT = "What is the capital of France?"
PEG = COIN // 2


def _metric(net: Devnet, name: str, line_start: str) -> float:
    text = net.client.get(net.nodes[name]["api"].removesuffix("/v1") + "/metrics").text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(line_start))


def test_gateway_routes_to_the_executor(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    specs = l2_layout(str(model), verifiers=3, inference=1, mine_interval=1.5)
    # the miner produces the L2 blocks (a producer without models), so the executor's
    # balance moves by gas only
    specs[0].settings.update(inference=True, l2_bid=1_000_000)
    specs[-1].settings.update(l2_bid=0)
    specs.append(NodeSpec("gateway", {}))
    with running_devnet(tmp_path, specs) as net:
        net.fund({"inference-a": 2 * COIN})
        payer = net.wallet("gateway")["l2_account"]
        net.peg_in(payer, PEG)
        executor = net.l2("inference-a")
        net.wait(
            "inference-a bonded and the gateway's peg-in credited, as the gateway sees it",
            lambda: (
                net.account("gateway", executor["account"])["bond"] >= net.params.min_bond
                and net.account("gateway", payer)["balance"] == PEG
            ),
        )
        listed = net.wait(
            "the gateway lists the model as served by the network",
            lambda: next(
                m
                for m in net.get("gateway", "/models")["data"]
                if m["id"] == model.name and m["funai"]["served_by"] == "network"
            ),
        )
        price = net.l2("inference-a")["price_per_token"]
        assert listed["funai"]["price_per_token"] == price
        assert listed["funai"]["executors"] == 1
        executor_before = net.account("gateway", executor["account"])["balance"]

        client = OpenAI(base_url=net.nodes["gateway"]["api"], api_key="unused-on-devnet")
        raw = client.chat.completions.with_raw_response.create(
            model=model.name,
            messages=[{"role": "user", "content": PROMPT}],
            max_tokens=12,
            temperature=0,
        )
        assert raw.headers["X-FunAI-Executor"] == executor["key"]
        answer = raw.parse()
        assert "Paris" in (answer.choices[0].message.content or "")
        assert answer.usage is not None
        ext = (answer.model_extra or {})["funai"]
        receipt = ext["receipt"]
        assert verify_receipt(receipt)
        assert receipt["signer"] == executor["key"]
        assert receipt["payer"] == payer
        assert receipt["gas"] == price * answer.usage.total_tokens  # charged per token used
        assert receipt["gas_limit"] >= receipt["gas"]

        text, s_ext, usage = stream_chat(client, model.name, PROMPT, max_tokens=12)
        assert "Paris" in text
        assert s_ext is not None
        assert usage is not None
        assert verify_receipt(s_ext["receipt"])
        assert s_ext["receipt"]["signer"] == executor["key"]
        assert s_ext["receipt"]["gas"] == price * usage.total_tokens

        # a model nobody serves is refused, and nothing is charged for it
        with pytest.raises(NotFoundError):
            client.chat.completions.create(
                model="no-such-model", messages=[{"role": "user", "content": "hi"}]
            )

        gas = receipt["gas"] + s_ext["receipt"]["gas"]
        txids = [ext["inference_txid"], s_ext["inference_txid"]]
        views = [net.tx_everywhere(t, lambda st: bool(st.get("finalized"))) for t in txids]
        for view in views:
            for who, st in view.items():
                assert st["executor_key"] == executor["key"], who
                assert st["accepted"], who
        net.heights_at_least(max(v["gateway"]["l2_height"] for v in views) + 1)
        for who in net.nodes:
            assert net.account(who, payer)["balance"] == PEG - gas, who
            assert net.account(who, payer)["nonce"] == 2, who
            assert net.account(who, executor["account"])["balance"] == executor_before + gas
        # the gateway forwarded both requests and generated nothing itself
        assert _metric(net, "gateway", "funai_inference_forwarded_total") == 2
        assert _metric(net, "gateway", "funai_inference_completion_tokens_total") == 0
        assert _metric(net, "inference-a", "funai_inference_completion_tokens_total") > 0
        net.same_state()


def test_gateway_refuses_a_bad_receipt_and_fails_over(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    specs = l2_layout(str(model), verifiers=3, inference=2, mine_interval=1.5)
    specs[0].settings.update(inference=True, l2_bid=1_000_000)  # the miner produces
    by_name = {s.name: s for s in specs}
    by_name["inference-a"].settings.update(l2_bid=0)
    by_name["inference-b"].settings.update(l2_bid=0, price_per_token=50)  # cheaper: first
    by_name["inference-b"].code = launch_code("bad-receipt")
    specs.append(NodeSpec("gateway", {}))
    with running_devnet(tmp_path, specs) as net:
        net.fund({"inference-a": 2 * COIN, "inference-b": 2 * COIN})
        payer = net.wallet("gateway")["l2_account"]
        net.peg_in(payer, PEG)
        honest, rogue = net.l2("inference-a"), net.l2("inference-b")
        net.wait(
            "both executors bonded and advertised, the gateway's peg-in credited",
            lambda: (
                all(
                    net.account("gateway", e["account"])["bond"] >= net.params.min_bond
                    for e in (honest, rogue)
                )
                and net.account("gateway", payer)["balance"] == PEG
                and next(
                    m
                    for m in net.get("gateway", "/models")["data"]
                    if m["id"] == model.name and m["funai"]["executors"] == 2
                )
            ),
        )
        body = {
            "model": model.name,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": 8,
            "temperature": 0,
        }
        bad = net.post_raw("gateway", "/chat/completions", body)
        assert bad.status_code == 502, bad.text
        assert bad.json()["error"]["code"] == "bad_executor_receipt"
        # the cheap executor goes away; its advert is still held, so the gateway tries it,
        # cannot reach it and moves on
        k = list(net.nodes).index("inference-b")
        net.procs[k].terminate()
        net.procs[k].wait(30)
        del net.procs[k]
        del net.nodes["inference-b"]
        good = net.post_raw("gateway", "/chat/completions", body)
        assert good.status_code == 200, good.text
        assert good.headers["X-FunAI-Executor"] == honest["key"]
        receipt = good.json()["funai"]["receipt"]
        assert verify_receipt(receipt)
        assert receipt["signer"] == honest["key"]
        st = net.tx_everywhere(good.json()["funai"]["inference_txid"], lambda s: s["finalized"])
        net.heights_at_least(st["gateway"]["l2_height"] + 1)
        for who in net.nodes:
            acct = net.account(who, payer)
            # the refused answer was recorded by its executor (its transaction is valid) and
            # the gateway filled its nonce: one of the two is on chain, then the second
            # request, in nonce order
            assert acct["nonce"] == 2, who
            assert acct["balance"] <= PEG - receipt["gas"], who
        net.same_state()
