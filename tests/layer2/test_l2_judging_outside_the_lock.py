"""Fault: judging under the L2 lock, no per-block cap, and the API blocking the event loop.

Before the fix a verifier judged every inference of a block while holding the L2 lock (the
whole inference layer stopped for the duration), with no cap on a block's inferences, and
the API took the L2 threading lock on the Trio thread (a 2 s stall of the whole event loop
was observed). Now judging runs outside the lock (``verifier.py``), rule
``block-too-many-inferences`` bounds a block's judging work, and the Trio thread reaches the
node only through a worker thread behind a one-slot limiter (``L2Gossip.run``)."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest
import trio

from funai import _core
from funai.layer2.block import BlockContents, L2Block, block_sig_message, tx_root
from funai.layer2.errors import L2Error
from funai.layer2.messages import L2BlockMsg
from funai.layer2.transactions import InferenceContent, make_inference
from funai.layer2.votes import Verdict
from funai.ledger.tx import COIN
from funai.node.l2runtime import L2Runtime
from funai.testing.cluster import MODEL, NETWORK_ID, good_text, skey
from tests.layer2.attackkit import gossip_for, started


def test_judging_runs_without_the_l2_lock(tmp_path: Path) -> None:
    w = started(tmp_path)
    v0 = w.v0
    v0.judge_inline = False  # as in a running node: funai.node.l2runtime judges
    gossip, _net = gossip_for(v0)
    w.request()
    w.round()
    bh = v0.state.tip()
    assert not v0.verifying.voted(bh)
    jobs = gossip.call(v0.verifying.ready)  # type: ignore[attr-defined]
    assert [j.block_hash for j in jobs] == [bh]
    started_judging, finish = threading.Event(), threading.Event()

    def slow_judge(model: bytes, content: InferenceContent, seed: int) -> Verdict:
        started_judging.set()
        assert finish.wait(10)
        return Verdict(content.output == good_text(model, content.input))

    verdicts: list[Verdict] = []
    judge = threading.Thread(
        target=lambda: verdicts.extend(v0.verifying.judge(jobs[0], slow_judge))
    )
    judge.start()
    assert started_judging.wait(10)
    t = time.monotonic()
    assert gossip.call(v0.locator)  # type: ignore[attr-defined]  # the node answers meanwhile
    assert time.monotonic() - t < 1.0
    finish.set()
    judge.join()
    gossip.call(v0.verifying.cast, jobs[0], verdicts)  # type: ignore[attr-defined]
    assert v0.verifying.voted(bh)
    assert v0.votes[bh][0].decision == (True,)


def test_a_block_over_the_inference_cap_is_refused(tmp_path: Path) -> None:
    w = started(tmp_path, max_block_inferences=2)
    v0 = w.v0
    for i in range(3):
        w.request(f"q{i}")
    w.round()  # the producer includes at most 2
    block = v0.blocks[v0.state.tip()]
    assert len(block.txs) == 2
    # a producer that ignores the cap: its block is refused by every node
    over = [
        make_inference(
            skey("user"),
            skey("good"),
            10 + i,
            MODEL,
            InferenceContent(f"x{i}", "y"),
            COIN,
            NETWORK_ID,
        )
        for i in range(3)
    ]
    header = dataclasses.replace(block.header, tx_root=tx_root(over), time=99)
    sig = _core.schnorr_sign(skey("good"), block_sig_message(NETWORK_ID, header.hash()), None)
    with pytest.raises(L2Error, match="block-too-many-inferences"):
        w.nodes["v1"].receive(
            L2BlockMsg.make(L2Block(header, sig, tuple(over), block.parent_qc), BlockContents()),
            "good",
        )


def test_the_api_never_waits_on_the_l2_lock_on_the_event_loop(tmp_path: Path) -> None:
    w = started(tmp_path)
    gossip, _net = gossip_for(w.v0)
    rt = L2Runtime.__new__(L2Runtime)  # the parts reserve_gas uses, without a whole node
    rt.l2, rt.gossip, rt.reserved, rt.price_per_token = w.v0, gossip, {}, 1  # type: ignore[assignment]
    rt._books = threading.Lock()
    ticks: list[float] = []
    holder_ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gossip.lock:  # type: ignore[attr-defined]  # e.g. a long L2 call
            holder_ready.set()
            release.wait(10)

    threading.Thread(target=hold).start()
    assert holder_ready.wait(10)

    async def main() -> None:
        async def ticker() -> None:
            for _ in range(10):
                ticks.append(time.monotonic())
                await trio.sleep(0.02)
            release.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ticker)
            r = await rt.reserve_gas(skey("user"), COIN)
            assert r.max_gas == COIN

    trio.run(main)
    assert len(ticks) == 10  # the loop kept running while the lock was held
