"""SIGKILL and restart: a verifier killed while L2 blocks are being produced, started again
on the same data directory, catches up (L1 re-feed, L2 sync of the blocks it missed), ends
on the same L2 tip and state root as the others and votes again.

The devnet runs 4 of the 5 genesis verifiers: the other 3 are a quorum, so the chain goes on
while ``verifier3`` is down, and the restarted node has blocks to catch up with; after its
return it votes again (a block holds 4 votes).
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pytest

from funai.devnet.launcher import l2_layout
from funai.inference.defaults import ensure_default_model
from funai.ledger.tx import COIN
from funai.testing.devnet import Devnet, model_cache, running_devnet

pytestmark = pytest.mark.slow

MINE_INTERVAL = 1.5


def test_killed_verifier_restarts_and_votes(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    specs = l2_layout(str(model), verifiers=4, inference=1, mine_interval=MINE_INTERVAL)
    victim = next(s for s in specs if s.name == "verifier3")
    with running_devnet(tmp_path, specs) as net:
        net.fund({"inference-a": 2 * COIN})
        net.heights_at_least(3)
        net.kill("verifier3")  # mid-production: an L2 block every L1 block
        killed_at = net.l2("verifier0")["height"]
        net.heights_at_least(killed_at + 3)  # the quorum goes on without it
        missed = net.l2("verifier0")["height"]

        net.start_node(victim, connect=list(net.nodes))
        _, _, height = net.same_tip()
        assert height >= missed
        net.heights_at_least(height + 3)
        _, _, height = net.same_tip()
        for h in range(height - 2, height):
            block = net.get("verifier0", f"/l2/blocks/{h}")
            assert block["finalized"], (h, block)
        # it votes again: a block after its return holds its vote (4 votes). Not every block:
        # a verifier does not judge a block whose QC formed before it applied the block (the
        # other three votes came first), which is a race, not a fault
        net.wait(
            "a block after verifier3's return holding its vote",
            functools.partial(_a_block_with_votes, net, missed + 1, 4),
        )


def _a_block_with_votes(net: Devnet, first: int, votes: int) -> bool:
    """Some block from height ``first`` on (as verifier0 sees it) holds ``votes`` votes."""
    top = int(net.l2("verifier0")["height"])
    return any(
        int(net.get("verifier0", f"/l2/blocks/{h}")["votes"]) >= votes
        for h in range(first, top + 1)
    )


def test_killed_producer_restarts_and_produces(tmp_path: Path) -> None:
    """The only block producer killed mid-production: the chain waits for it; started again
    on its data directory it re-reads L1 and its stored blocks, produces again (never a
    second block for an election it already built for: no equivocation evidence anywhere)
    and every node ends on the same tip and state root."""
    model = ensure_default_model(model_cache())
    specs = l2_layout(str(model), verifiers=3, inference=1, mine_interval=MINE_INTERVAL)
    victim = next(s for s in specs if s.name == "inference-a")
    with running_devnet(tmp_path, specs) as net:
        net.fund({"inference-a": 2 * COIN})
        net.heights_at_least(3)
        net.kill("inference-a")
        l1_at = net.get("miner", "/status")["l1_height"]
        net.wait("3 L1 blocks", lambda: net.get("miner", "/status")["l1_height"] >= l1_at + 3)
        _, _, stalled = net.same_tip()

        net.start_node(victim, connect=list(net.nodes))
        net.heights_at_least(stalled + 3)
        _, _, height = net.same_tip()
        assert height >= stalled + 3
        for name in net.nodes:
            assert net.l2(name)["evidence"] == 0, name
            blocks = net.get(name, "/l2/blocks?limit=200")["blocks"]
            assert not [b for b in blocks if b["forfeited"]], name


def test_killed_verifier_of_an_exact_quorum_rejoins(tmp_path: Path) -> None:
    """3 of the 5 genesis verifiers, a quorum of exactly 3: while ``verifier2`` is down no
    block gets a QC, and each L1 block elects a new sibling of the uncertified tip (rule
    ``commit-parent``). Once it is back, the chain grows again only if the restarted
    verifier votes, which needs it to agree on those rounds."""
    model = ensure_default_model(model_cache())
    specs = l2_layout(str(model), verifiers=3, inference=1, mine_interval=MINE_INTERVAL)
    victim = next(s for s in specs if s.name == "verifier2")
    with running_devnet(tmp_path, specs) as net:
        net.fund({"inference-a": 2 * COIN})
        net.heights_at_least(3)
        net.kill("verifier2")
        killed_at = net.l2("verifier0")["height"]
        l1_at = net.get("miner", "/status")["l1_height"]
        net.wait("4 L1 blocks", lambda: net.get("miner", "/status")["l1_height"] >= l1_at + 4)
        stalled = net.l2("verifier0")["height"]
        assert stalled <= killed_at + 1, "a block was certified without the third verifier"

        net.start_node(victim, connect=list(net.nodes))
        net.deadline = time.monotonic() + 60  # about 10 s when it works
        net.heights_at_least(stalled + 3)
        _, _, height = net.same_tip()
        for h in range(stalled + 1, height):  # certified: verifier2 voted
            block = net.get("verifier0", f"/l2/blocks/{h}")
            assert block["finalized"], (h, block)
            assert block["votes"] == 3, (h, block)
