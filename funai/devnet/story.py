"""The inference-layer lifecycle on a devnet of separate node processes (``funai demo``).

:func:`run_devnet_story` starts :func:`~funai.devnet.launcher.l2_layout` (one miner, the five
genesis test verifiers, two inference nodes; each its own ``funai node`` process and data
directory, talking over loopback TCP) and drives it only through the nodes' HTTP APIs, as a
user would: it funds the inference nodes' wallets from the miner, pegs FAI into the client's
L2 account, waits for the inference nodes to register, bond and win elections, asks
``inference-a`` a question through ``/v1/chat/completions``, and follows the inference
transaction on every node until its content is reclaimed. ``on_step(title, details)``
narrates; the result is a JSON-ready dict with at least ``response``, ``l2_height``,
``votes_accept``, ``finalized``, ``anchor_l1_height``, ``confirmed`` and ``reclaimed`` (each
as seen by every node).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funai.devnet.client import DevnetClient, StoryError
from funai.devnet.launcher import l2_layout, start_devnet, stop_devnet
from funai.layer2.params import L2Params, network_l2_params
from funai.layer2.pegs import pegin_output
from funai.ledger.params import get_params
from funai.ledger.tx import COIN

__all__ = ["L2Devnet", "open_l2_devnet", "run_devnet_story"]

Step = Callable[[str, dict[str, Any]], None]
STAGES = ("in_block", "finalized", "anchored", "confirmed", "reclaimed")


@dataclass
class L2Devnet:
    """A running inference-layer devnet, funded and ready for requests."""

    net: DevnetClient
    params: L2Params
    network: str
    executors: list[str]
    client_node: str
    account: str  # the client's L2 account (hex): the wallet of ``client_node`` pays
    accounts: dict[str, str]  # each inference node's paying L2 account (its own wallet)
    model_name: str
    started: float


@contextmanager
def open_l2_devnet(
    workdir: Path,
    model: str,
    *,
    network: str = "devnet",
    inference_nodes: int = 2,
    verifiers: int = 5,
    mine_interval: float = 2.0,
    timeout: float = 600.0,
    on_step: Step | None = None,
) -> Iterator[L2Devnet]:
    """Starts the devnet and brings it to "ready for requests": funding, peg-in,
    registration, an election, the executor's bond and the client's L2 balance. The nodes
    stop when the context exits."""
    say: Step = on_step or (lambda title, details: None)
    started = time.monotonic()
    params = network_l2_params(network)
    if params is None:
        raise StoryError(f"{network} has no inference layer parameters")
    specs = l2_layout(
        model, verifiers=verifiers, inference=inference_nodes, mine_interval=mine_interval
    )
    procs, endpoints = start_devnet(workdir, specs, network=network, timeout=timeout)
    net = DevnetClient(endpoints, network, started + timeout)
    try:
        say(
            "network",
            {
                "nodes": [e["name"] for e in endpoints],
                "what": "separate node processes on loopback: 1 miner, the 5 genesis test "
                f"verifiers, {inference_nodes} inference nodes",
            },
        )
        executors = [s.name for s in specs if s.settings.get("inference")]
        client_node = executors[0]
        net.wait(
            "a spendable coinbase for the miner",
            lambda: net.get("miner", "/wallet", auth=True)["balance"]["spendable"] >= 20 * COIN,
        )
        for name in executors:
            address = net.get(name, "/wallet", auth=True)["addresses"][0]
            net.post("miner", "/wallet/send", {"to": address, "amount": 5 * COIN}, auth=True)
        say(
            "funding",
            {
                "l1_height": net.get("miner", "/status")["l1_height"],
                "what": "the miner paid 5 FAI to each inference node's wallet",
            },
        )
        # each inference node's own wallet pays for the API requests it serves (open access)
        accounts = {n: net.get(n, "/wallet", auth=True)["l2_account"] for n in executors}
        account = accounts[client_node]
        pool_kind, pool = params.genesis_pool()
        for acct in accounts.values():
            peg = pegin_output(bytes.fromhex(acct))
            net.post(
                "miner",
                "/wallet/pay",
                {
                    "outputs": [
                        {"kind": pool_kind, "value": COIN // 2, "payload": pool.hex()},
                        {"kind": peg.kind, "value": 0, "payload": peg.payload.hex()},
                    ]
                },
                auth=True,
            )
        say(
            "peg-in",
            {
                "account": account,
                "amount_fai": 0.5,
                "what": "the miner locked 0.5 FAI on L1 for the L2 account of each inference "
                f"node's wallet (credited after {params.confirmations} confirmations), which "
                "pays for the API requests that node serves",
            },
        )
        regs = net.wait(
            "the inference nodes registered",
            lambda: (
                [
                    st["registered"]
                    for st in (net.get(n, "/l2/status") for n in executors)
                    if st["registered"] is not None
                ]
                if all(net.get(n, "/l2/status")["registered"] is not None for n in executors)
                else None
            ),
        )
        say(
            "registration",
            {
                "registered_at_l1": regs,
                "what": "each inference node published its VRF key in an L1 data output",
            },
        )
        elections = net.wait(
            "an election won and its L2 block finalized",
            lambda: [
                e
                for e in net.get("verifier0", "/l2/elections?limit=50")["elections"]
                if e["l2_block"] is not None
            ],
        )
        first = elections[-1]
        say(
            "election",
            {
                "l1_height": first["l1_height"],
                "commitments": first["commitments"],
                "winner_account": first["winner"]["account"],
                "l2_height": first["l2_height"],
                "what": "commitments paid the verifiers; the VRF sortition picked a producer",
            },
        )
        net.wait(
            "the inference nodes bonded and their client accounts credited",
            lambda: all(
                net.get(n, "/l2/status")["bond"] >= params.min_bond
                and net.get(n, f"/l2/accounts/{accounts[n]}")["balance"] > 0
                for n in executors
            ),
        )
        status = net.get(client_node, "/l2/status")
        say(
            "bond",
            {
                "executor_bond": status["bond"],
                "client_balance": net.get(client_node, f"/l2/accounts/{account}")["balance"],
                "l2_height": status["height"],
            },
        )
        yield L2Devnet(
            net,
            params,
            network,
            executors,
            client_node,
            account,
            accounts,
            model if "/" not in model else Path(model).name,
            started,
        )
    finally:
        net.client.close()
        stop_devnet(procs)


def run_devnet_story(
    workdir: Path,
    model: str,
    *,
    prompt: str = "What is the capital of France?",
    network: str = "devnet",
    inference_nodes: int = 2,
    mine_interval: float = 2.0,
    timeout: float = 600.0,
    on_step: Step | None = None,
) -> dict[str, Any]:
    """Runs the lifecycle; returns its summary (see the module docstring)."""
    say: Step = on_step or (lambda title, details: None)
    with open_l2_devnet(
        workdir,
        model,
        network=network,
        inference_nodes=inference_nodes,
        mine_interval=mine_interval,
        timeout=timeout,
        on_step=on_step,
    ) as dev:
        net, client_node, started = dev.net, dev.client_node, dev.started
        l1 = get_params(network)
        t0 = time.perf_counter()
        answer = net.post(
            client_node,
            "/chat/completions",
            {
                "model": dev.model_name,
                "messages": [{"role": "user", "content": prompt}],
                "max_tokens": 32,
                "temperature": 0,
            },
        )
        seconds = time.perf_counter() - t0
        response = answer["choices"][0]["message"]["content"]
        txid = answer["funai"]["inference_txid"]
        receipt = answer["funai"]["receipt"]
        say(
            "request",
            {
                "prompt": prompt,
                "response": response,
                "seconds": round(seconds, 3),
                "inference_txid": txid,
                "receipt": receipt["kind"],
                "gas": receipt.get("gas"),
                "what": f"{client_node} answered at once and signed the receipt",
            },
        )
        seen: dict[str, dict[str, Any]] = {}

        def stage_everywhere(stage: str) -> bool:
            views = {}
            for name in net.nodes:
                st = net.get(name, f"/l2/inference/{txid}")  # 404 until the node has it
                done = st.get("l2_height") is not None if stage == "in_block" else st.get(stage)
                if not done:
                    return False
                views[name] = st
            seen.update(views)
            return True

        net.wait(
            "the transaction in an L2 block on every node", lambda: stage_everywhere("in_block")
        )
        net.wait("the block finalized on every node", lambda: stage_everywhere("finalized"))
        v = seen["verifier0"]
        say(
            "l2 block and votes",
            {
                "l2_height": v["l2_height"],
                "block": v["block"],
                "votes": v["votes"],
                "votes_accept": v["votes_accept"],
                "finalized": v["finalized"],
            },
        )
        net.wait("the anchor on every node", lambda: stage_everywhere("anchored"))
        say(
            "anchor",
            {"l2_block": v["block"], "anchor_l1_height": seen["verifier0"]["anchor_l1_height"]},
        )
        net.wait("confirmation on every node", lambda: stage_everywhere("confirmed"))
        net.wait("reclamation on every node", lambda: stage_everywhere("reclaimed"))
        say(
            "confirmation and reclamation",
            {
                "confirmed": all(s["confirmed"] for s in seen.values()),
                "reclaimed": all(s["reclaimed"] for s in seen.values()),
                "nodes": len(seen),
            },
        )
        final = seen["verifier0"]

        def same_state() -> bool:
            return len({net.get(n, "/l2/status")["state_root"] for n in net.nodes}) == 1

        agree = bool(net.wait("every node on the same L2 state", same_state))
        return {
            "response": response,
            "inference_txid": txid,
            "l2_height": final["l2_height"],
            "votes_accept": final["votes_accept"],
            "accepted": final["accepted"],
            "finalized": all(s["finalized"] for s in seen.values()),
            "anchor_l1_height": final["anchor_l1_height"],
            "confirmed": all(s["confirmed"] for s in seen.values()),
            "reclaimed": all(s["reclaimed"] for s in seen.values()),
            "nodes": len(seen),
            "gas": receipt.get("gas"),
            "l1_height": net.get("miner", "/status")["l1_height"],
            "l2_tip_height": net.get("verifier0", "/l2/status")["height"],
            "state_roots_agree": agree,
            "network": l1.name,
            "seconds": round(time.monotonic() - started, 3),
        }
