"""An L1 reorg across a peg-in. ``miner2`` (a plain node that mines only on request) is cut
off; on the other side the miner locks coins for a fresh L2 account and the L2 chain
credits them. The miner stops; ``miner2`` mines a branch with more work from the fork
point, without the peg-in, and the partition heals: every node reorganises L1 to that
branch, the L2 blocks elected on the orphaned L1 blocks are undone (rule ``l2-undo``) and
the credit disappears on every node: the undone nodes end on the same state root as
``miner2``, which never applied those blocks. The peg-in transaction goes back to the
miner's mempool; once it is mined again on the new branch it is credited again, once, on
every node.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from funai.devnet.launcher import NodeSpec, l2_layout
from funai.inference.defaults import ensure_default_model
from funai.ledger.tx import COIN
from funai.testing.devnet import Devnet, model_cache, running_devnet

pytestmark = pytest.mark.slow

MINE_INTERVAL = 1.5
PEG = COIN // 4


def _l1(net: Devnet, name: str) -> dict[str, Any]:
    got: dict[str, Any] = net.get(name, "/status")
    return got


def _work(net: Devnet, name: str) -> int:
    return int(str(_l1(net, name)["l1_chain_work"]), 16)


def test_l1_reorg_drops_and_recredits_pegin(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    specs = l2_layout(
        str(model), verifiers=3, inference=1, mine_interval=MINE_INTERVAL, extra={"discover": False}
    )
    specs.append(NodeSpec("miner2", {"discover": False}))
    with running_devnet(tmp_path, specs) as net:
        net.fund({"inference-a": 2 * COIN})
        net.heights_at_least(2)
        net.wait(
            "miner2 on the miner's L1 tip",
            lambda: _l1(net, "miner2")["l1_tip"] == _l1(net, "miner")["l1_tip"],
        )
        net.partition(["miner2"])
        fork = _l1(net, "miner2")
        side = [n for n in net.nodes if n != "miner2"]

        account = os.urandom(20).hex()
        txid = net.peg_in(account, PEG)
        net.wait(
            "the peg-in credited on L2",
            lambda: all(net.account(n, account)["balance"] == PEG for n in side),
        )
        credited = net.l2("verifier0")["tip"]  # elected on an L1 block of this branch
        net.post("miner", "/miner", {"enabled": False})
        net.wait(
            "one L1 tip on the miner's side",
            lambda: len({_l1(net, n)["l1_tip"] for n in side}) == 1,
        )
        assert txid not in net.get("miner", "/mempool")["txids"]  # mined on this branch

        # miner2's branch from the fork point: more work, no peg-in
        while _work(net, "miner2") <= _work(net, "miner"):
            net.post("miner2", "/generate", {"blocks": 3})
        assert _l1(net, "miner2")["l1_height"] > fork["l1_height"]
        net.heal(["miner2"])
        tip = _l1(net, "miner2")["l1_tip"]
        net.wait(
            "every node on miner2's L1 branch",
            lambda: all(_l1(net, n)["l1_tip"] == tip for n in net.nodes),
        )

        # the credit is undone everywhere, the same state as miner2's (never applied it)
        net.same_tip()
        for name in net.nodes:
            assert net.account(name, account)["balance"] == 0, name
            if name != "miner2":
                assert not net.get(name, f"/l2/blocks/{credited}")["canonical"], name
        assert txid in net.get("miner", "/mempool")["txids"]  # back in the mempool

        # mined again on the new branch: credited again, once
        net.post("miner", "/miner", {"enabled": True})
        net.wait(
            "the peg-in credited again on every node",
            lambda: all(net.account(n, account)["balance"] == PEG for n in net.nodes),
        )
        net.heights_at_least(net.l2("verifier0")["height"] + 2)
        net.same_tip()
        for name in net.nodes:
            assert net.account(name, account)["balance"] == PEG, name
