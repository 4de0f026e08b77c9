"""A network partition that heals: ``verifier3`` is cut off from the rest (both ends close the
connection and forget the manual peer; the nodes run without address discovery, so nobody
dials around the cut). The majority side (the miner, the producer and 3 verifiers, a quorum
of the 5 genesis verifiers) goes on producing certified L2 blocks while the cut-off node
sees neither L1 nor L2 move. Once connected again it catches up with both (L1 headers-first
sync; L2 blocks by sync from its stale locator) and every node ends on the same L2 tip and
state root, then follows together; its votes count again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from funai.devnet.launcher import l2_layout
from funai.inference.defaults import ensure_default_model
from funai.ledger.tx import COIN
from funai.testing.devnet import model_cache, running_devnet

pytestmark = pytest.mark.slow

MINE_INTERVAL = 1.5


def test_partition_heals_to_one_l2_chain(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    specs = l2_layout(
        str(model),
        verifiers=4,
        inference=1,
        mine_interval=MINE_INTERVAL,
        extra={"discover": False},
    )
    side = ["verifier3"]
    with running_devnet(tmp_path, specs) as net:
        net.fund({"inference-a": 2 * COIN})
        net.heights_at_least(2)
        net.partition(side)
        cut = net.l2("verifier3")
        l1_cut = net.get("verifier3", "/status")["l1_height"]

        majority = [n for n in net.nodes if n not in side]
        net.wait(
            "the majority side 4 L2 blocks further",
            lambda: all(net.l2(n)["height"] >= cut["height"] + 4 for n in majority),
        )
        # the cut-off node saw nothing of it
        assert net.get("verifier3", "/status")["l1_height"] == l1_cut
        now = net.l2("verifier3")
        assert (now["height"], now["tip"], now["state_root"]) == (
            cut["height"],
            cut["tip"],
            cut["state_root"],
        )

        net.heal(side)
        _, root, height = net.same_tip()
        assert height >= cut["height"] + 4
        assert root != cut["state_root"]
        net.heights_at_least(height + 3)
        _, _, height = net.same_tip()
        # Certified, and with the healed verifier's vote too. A vote reaches verifier0 by
        # gossip, possibly after the block is finalized by the others' (a loaded machine):
        # wait for it rather than read the count once.
        recent = range(height - 2, height)

        def healed_votes_counted() -> bool:
            blocks = [net.get("verifier0", f"/l2/blocks/{h}") for h in recent]
            assert all(b["finalized"] for b in blocks), blocks
            assert all(b["votes"] <= 4 for b in blocks), blocks
            return all(b["votes"] == 4 for b in blocks)

        net.wait("the healed verifier's votes on the newest blocks", healed_votes_counted)
