"""Moving FAI between the layers on a devnet of real node processes, through the CLI.

``funai wallet peg-in`` locks coins from a node's L1 wallet in the verifier set's peg pool
(an L1 pay-to-quorum output) and the L2 account is credited after the confirmations;
``funai wallet peg-out`` burns L2 balance in a ``PEG_OUT``, the running verifiers sign the
L1 payout batch, a node assembles the quorum's signatures, the miner mines it and the L1
address receives the amount less the network's peg-out fee. Bad input is refused by the
CLI with a clear error and changes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from funai.devnet.launcher import NODE_CODE, NodeSpec, l2_layout
from funai.inference.defaults import ensure_default_model
from funai.ledger.tx import COIN
from funai.testing.devnet import Devnet, model_cache, running_devnet

pytestmark = pytest.mark.slow


def _cli(net: Devnet, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NODE_CODE, "--datadir", net.nodes[name]["datadir"], *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _cli_json(net: Devnet, name: str, *args: str) -> Any:
    done = _cli(net, name, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_peg_in_and_out_through_the_cli(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    specs = l2_layout(str(model), verifiers=3, inference=1, mine_interval=1.5)
    specs[-1].settings.update(l2_bid=1_000_000)  # inference-a produces the L2 blocks
    specs.append(NodeSpec("user", {}))
    with running_devnet(tmp_path, specs) as net:
        p = net.params
        net.fund({"inference-a": 2 * COIN, "user": 2 * COIN})
        net.wait("the user's coins confirmed", lambda: net.wallet("user")["balance"]["spendable"])
        account = net.wallet("user")["l2_account"]

        # refused before anything is sent: a bad amount, a bad account
        bad = _cli(net, "user", "wallet", "peg-in", "lots")
        assert bad.returncode == 2
        assert "amount" in bad.stderr.lower()
        bad = _cli(net, "user", "wallet", "peg-in", "0.1", "--account", "zz")
        assert bad.returncode == 2
        assert "account" in bad.stderr

        pegged = _cli_json(net, "user", "wallet", "peg-in", "0.6")
        assert pegged["account"] == account
        assert pegged["pool"] == {"kind": 3, "payload": net.l2("user")["pool"]["payload"]}
        net.wait(
            "the peg-in credited on every node",
            lambda: all(net.account(n, account)["balance"] == 60_000_000 for n in net.nodes),
        )

        # a peg-out to a fresh address of the user's wallet
        to = net.post("user", "/wallet/address", {}, auth=True)["address"]
        net.wait(
            "the peg-in's change confirmed",
            lambda: net.wallet("user")["balance"]["pending_out"] == 0,
        )
        l1_before = net.wallet("user")["balance"]["spendable"]
        too_small = _cli(net, "user", "wallet", "peg-out", "0.0001", "--to", to)
        assert too_small.returncode == 2, too_small.stderr  # not above the peg-out fee
        too_big = _cli(net, "user", "wallet", "peg-out", "5", "--to", to)
        assert too_big.returncode == 1
        assert "insufficient_funds" in too_big.stderr
        out = _cli_json(net, "user", "wallet", "peg-out", "0.25", "--to", to)
        assert out["pegout_fee"] == p.pegout_fee
        txid = out["txid"]
        paid = net.wait(
            "the peg-out paid on L1",
            lambda: (st := net.get("user", f"/l2/pegouts/{txid}"))["status"] == "paid" and st,
        )
        assert paid["amount"] == 25_000_000
        assert paid["l1_value"] == 25_000_000 - p.pegout_fee
        assert paid["signers"] >= paid["needed"] == p.quorum
        net.wait(
            "the payout in the user's L1 wallet",
            lambda: (
                net.wallet("user")["balance"]["spendable"] == l1_before + 25_000_000 - p.pegout_fee
            ),
        )
        # every node sees the account debited and the withdrawal paid
        for name in net.nodes:
            assert net.account(name, account)["balance"] == 60_000_000 - 25_000_000, name
            assert net.get(name, f"/l2/pegouts/{txid}")["status"] == "paid", name
        net.same_state()
