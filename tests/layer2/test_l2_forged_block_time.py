"""Attack: the elected producer chooses its block's time.

An L2 header's ``time`` is what contracts read as the block's time (``get-block-info?
time``, Clarity 4's ``stacks-block-time``: deadlines, vesting, auctions). Before the fix
nothing checked it: the producer wrote the election's L1 height there, and could have
written any time that suited it. Now (rule ``block-time``) it must be the header time of the
electing L1 block, which L1's proof-of-work rules bound; a block with another time is
refused, and the honest block of the same election is taken."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

from funai import _core
from funai.errors import FunaiError
from funai.layer2.block import L2Block, block_sig_message
from funai.layer2.chain import INVALID
from funai.layer2.messages import L2BlockMsg
from funai.testing.cluster import NETWORK_ID, skey
from tests.layer2.attackkit import started


def test_a_block_time_of_the_producers_choosing_is_refused(tmp_path: Path) -> None:
    w = started(tmp_path)
    good, v0 = w.nodes["good"], w.v0
    w.deliver = lambda sender, _to, msg: not (sender == "good" and isinstance(msg, L2BlockMsg))
    w.round()
    held = [m for s, _, m in w.held if s == "good" and isinstance(m, L2BlockMsg)]
    assert held, "the producer made a block"
    honest, contents = held[0].parse()
    assert honest.hash() == good.state.tip()
    # the same block with a time one day later, signed by the elected producer itself
    header = dataclasses.replace(honest.header, time=honest.header.time + 86_400)
    sig = _core.schnorr_sign(skey("good"), block_sig_message(NETWORK_ID, header.hash()), None)
    forged = L2Block(header, sig, honest.txs, honest.parent_qc)
    with contextlib.suppress(FunaiError):
        v0.receive(L2BlockMsg.make(forged, contents), "good")
    w.pump()
    assert v0.state.tip() != forged.hash()
    entry = v0.chain.entries.get(forged.hash())
    assert entry is None or entry.status == INVALID
    # the honest block of that election is taken everywhere, and the chain goes on
    w.deliver = None
    w.release()
    assert all(n.state.tip() == honest.hash() for n in w.nodes.values())
    w.round()
    assert v0.state.height == honest.header.height + 1
    w.same_everywhere()
