"""The verifier's side of a node (DESIGN 4.5): judging the inferences of each applied block
and voting, outside the L2 lock.

When a block it votes on joins the canonical chain for the first time, a verifier queues a
judging job for it. A job is ready once the content of every inference transaction of the
block is in the content store (content travels with transactions and blocks, and missing
content is fetched from peers by txid: rule ``block-contents``, never judged as missing or
as a mismatching copy, so a relay that strips or swaps contents cannot get an honest
executor fined). The judge runs without the L2 lock (:meth:`Verifier.ready` then
:meth:`Verifier.cast`), at most ``max_block_inferences`` inferences per block (a
consensus rule). Rule ``vote-once``: a verifier's vote is recorded in ``l2_my_votes`` before
it leaves the node, and after a restart the same vote is sent again, never another.

A verdict depends only on the transaction (which commits to its content, hence to the seed)
and the model, so each inference is judged once: when a producer replaces a block that
found no quorum in time, the next block's inferences that were already judged reuse their
verdicts (:data:`VERDICT_CACHE` most recent), so the judging of a busy chain converges.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from funai.layer2.request_params import inference_seed
from funai.layer2.transactions import InferenceContent, InferencePayload, L2Tx, TxKind
from funai.layer2.votes import Verdict, Vote, make_vote
from funai.ledger.encoding import decode, encode

if TYPE_CHECKING:
    from funai.layer2.node import L2Node

__all__ = ["JudgeJob", "Verifier"]

log = logging.getLogger("funai.layer2")

_SCHEMA = "CREATE TABLE IF NOT EXISTS l2_my_votes (hash BLOB PRIMARY KEY, data BLOB)"
#: Verdicts kept by transaction id (a block holds at most ``max_block_inferences``).
VERDICT_CACHE = 4096


@dataclass
class JudgeJob:
    """One block to judge: its inference transactions (block order) and their content."""

    block_hash: bytes
    txs: list[L2Tx]
    arrived: float = field(default_factory=time.perf_counter)
    contents: list[InferenceContent] = field(default_factory=list)


class Verifier:
    """Judging jobs and this node's own votes (``L2Node.verifying``)."""

    def __init__(self, node: L2Node) -> None:
        self.node = node
        node.conn.execute(_SCHEMA)
        self.jobs: dict[bytes, JudgeJob] = {}
        self.mine: dict[bytes, Vote] = {}
        for h, data in node.conn.execute("SELECT hash, data FROM l2_my_votes"):
            self.mine[bytes(h)] = Vote.from_cbor(decode(bytes(data)))
        #: txid -> the block whose judging waits for its content (fetched from peers)
        self.wanted: dict[bytes, bytes] = {}
        #: txid -> its verdict (see the module docstring), oldest first
        self.verdicts: OrderedDict[bytes, Verdict] = OrderedDict()

    def voted(self, block_hash: bytes) -> bool:
        return block_hash in self.mine

    def queue(self, block_hash: bytes, txs: list[L2Tx]) -> None:
        """A block this node votes on was applied: judge it (once)."""
        node = self.node
        if block_hash in self.mine or block_hash in self.jobs or not node.verifier:
            return
        voters = node.chain.sets.get(block_hash, [])
        if node.key not in [v.key for v in voters]:
            return
        self.jobs[block_hash] = JudgeJob(block_hash, [t for t in txs if t.kind is TxKind.INFERENCE])

    def ready(self) -> list[JudgeJob]:
        """Jobs whose contents are all here (they leave the queue); the txids still missing
        go to :attr:`wanted` for the transport to fetch."""
        node = self.node
        out: list[JudgeJob] = []
        for bh, job in list(self.jobs.items()):
            if bh not in node.chain.entries or node.chain.entries[bh].status == 2:
                del self.jobs[bh]
                continue
            contents: list[InferenceContent] = []
            missing = False
            for t in job.txs:
                c = node.content.get(t.txid())
                if c is None or c.hash() != t.payload_as(InferencePayload).content_hash:
                    self.wanted[t.txid()] = bh
                    missing = True
                else:
                    contents.append(c)
            if missing:
                continue
            for t in job.txs:
                self.wanted.pop(t.txid(), None)
            job.contents = contents
            out.append(job)
            del self.jobs[bh]
        return out

    def judge(
        self, job: JudgeJob, judge: Callable[[bytes, InferenceContent, int], Verdict]
    ) -> list[Verdict]:
        """The verdicts of one job (runs without the L2 lock): a content whose request part
        does not hash to the transaction's ``request_hash`` answered another request (rule
        ``inference-bad-request``: refused); otherwise the judge replays it with the seed of
        rule ``inference-seed``."""
        out = []
        network_id = self.node.params.network_id
        for tx, content in zip(job.txs, job.contents, strict=True):
            txid = tx.txid()
            known = self.verdicts.get(txid)
            if known is not None:
                out.append(known)
                continue
            body = tx.payload_as(InferencePayload)
            model_id = body.model_id
            if content.request_hash(model_id) != body.request_hash:
                verdict = Verdict(False)
            else:
                seed = inference_seed(network_id, tx.user_txid(), content.params)
                verdict = judge(model_id, content, seed)
            out.append(verdict)
            self.verdicts[txid] = verdict
            while len(self.verdicts) > VERDICT_CACHE:
                self.verdicts.popitem(last=False)
        return out

    def cast(self, job: JudgeJob, verdicts: list[Verdict]) -> Vote | None:
        """Signs and records this node's vote (rule ``vote-once``) and admits it."""
        node = self.node
        bh = job.block_hash
        if bh in self.mine or bh not in node.chain.entries:
            return None
        vote = make_vote(node.sk, node.params.network_id, bh, verdicts)
        with node.state.atomic():
            node.conn.execute(
                "INSERT OR IGNORE INTO l2_my_votes (hash, data) VALUES (?, ?)",
                (bh, encode(vote.to_cbor())),
            )
        self.mine[bh] = vote
        if node.on_vote is not None:
            node.on_vote(time.perf_counter() - job.arrived)
        node.emit_vote(vote)
        return vote

    def run_inline(self) -> None:
        """Judges every ready job now (in-process use: the caller holds no lock)."""
        judge = self.node.judge
        if judge is None:
            return
        for job in self.ready():
            t = time.perf_counter()
            verdicts = self.judge(job, judge)
            self.node.timings["judging"] += time.perf_counter() - t
            self.cast(job, verdicts)
