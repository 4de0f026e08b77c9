"""A late joiner: a plain node (no roles) started after the devnet has produced L2 blocks,
given one running node as its only peer, catches up with L1 and L2 (``l2getblocks`` on
connect and after L1 blocks, blocks held until their electing L1 block arrives) and ends on
the same L2 tip and state root as the verifiers; then it keeps following the chain.

Without L2 sync the newcomer would only ever see the blocks gossiped after it joined, whose
parents it lacks: its L2 height would stay at -1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from funai.devnet.launcher import NodeSpec, l2_layout
from funai.inference.defaults import ensure_default_model
from funai.ledger.tx import COIN
from funai.testing.devnet import model_cache, running_devnet

pytestmark = pytest.mark.slow

MINE_INTERVAL = 1.5


def test_late_joiner_catches_up_and_follows(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    specs = l2_layout(str(model), verifiers=3, inference=1, mine_interval=MINE_INTERVAL)
    with running_devnet(tmp_path, specs) as net:
        net.fund({"inference-a": 2 * COIN})
        net.heights_at_least(6)
        before = net.l2("verifier0")

        assert not (tmp_path / "late").exists()  # it starts from nothing
        net.start_node(NodeSpec("late"), connect=["verifier1"])

        tip, root, height = net.same_tip()
        assert height >= before["height"]
        got = net.get("late", f"/l2/blocks/{before['tip']}")
        assert got["canonical"]
        assert got["height"] == before["height"]
        assert net.get("late", "/status")["l1_tip"] == net.get("miner", "/status")["l1_tip"]

        # it keeps following: new blocks reach it by gossip and are applied
        net.heights_at_least(height + 3)
        tip2, root2, height2 = net.same_tip()
        assert height2 >= height + 3
        assert (tip2, root2) != (tip, root)
        blocks = net.get("late", "/l2/blocks?limit=200")["blocks"]
        assert [b["height"] for b in blocks] == list(range(height2, -1, -1))
        assert all(b["canonical"] for b in blocks)
