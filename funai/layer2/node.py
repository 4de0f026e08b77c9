"""One node's inference layer, transport-agnostic: the producer, executor and verifier roles.

:class:`L2Node` owns the node's L2 state (``l2.sqlite``), block tree (:mod:`chain`),
content store (``content.sqlite``), sortition rounds, mempool (:mod:`mempool`), votes and
anchors. Its inputs are L1 blocks (:meth:`on_l1_block`), client requests (:meth:`execute`)
and gossip (:meth:`receive`, which admits each message by the named rules of
:mod:`admission` before anything is stored or relayed); its outputs are messages in
:attr:`outbox` (``funai.layer2.messages``) for the transport to announce, fetch wishes
(:attr:`sync_wanted`, :meth:`wanted_contents`) and L1 outputs to publish
(:meth:`registration_output`, :meth:`commitment_outputs`, :meth:`anchor_outputs`). The
network wiring (``p2p.py``) and the API sit on top of this class.

Parts: the block tree and fork choice (:class:`~funai.layer2.chain.L2Chain`, rules
``l2-fork-choice``, ``l2-undo``, ``l2-finality``), admission (:mod:`admission`), the mempool
(:class:`~funai.layer2.mempool.L2Mempool`), the producer
(:class:`~funai.layer2.producer.Producer`), the verifier
(:class:`~funai.layer2.verifier.Verifier`: judging outside the lock) and the state
(:class:`~funai.layer2.state.L2State`).

Roles:

* **executor** (``models`` non-empty, ``generate`` given): runs a request for a model it
  serves at once, returns the output with the signed transaction (the receipt), stores the
  content and gossips the completed transaction; a request for another model raises
  :class:`ModelNotServedError` (``model-not-served``) and never executes.
* **producer** (``vrf_sk`` given): registers, commits each round, and builds a block when
  elected.
* **verifier** (``verifier=True``, ``judge`` given): judges each inference of every block it
  votes on once all contents are here and votes once per block.

**L2 follows L1** (rule ``l1-follow``): the sortition of every active L1 block is re-run when
a commitment's parent arrives late (rule ``commit-payout-set``), and after an L1 reorg the
blocks elected by orphaned L1 blocks leave the canonical chain (their state undone) while
the new branch's are applied; peg-ins count confirmations at the block's electing L1 block
(rule ``pegin-as-of-election``), so every node decides a block's validity alike.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from funai import _core
from funai.errors import MalformedInputError
from funai.layer2.admission import (
    MAX_EARLY_VOTE_BLOCKS,
    MAX_EVIDENCE,
    MAX_PER_ELECTION,
    Admission,
    AdmissionError,
    BoundedBuffer,
)
from funai.layer2.anchoring import Anchor, AnchorTracker
from funai.layer2.block import BlockContents, L2Block
from funai.layer2.chain import GENESIS_PARENT, INVALID, L2Chain
from funai.layer2.consensus import check_block_shape
from funai.layer2.equivocation import check_equivocation
from funai.layer2.errors import L2Error
from funai.layer2.execution import BurnView, PegInView
from funai.layer2.mempool import L2Mempool
from funai.layer2.messages import (
    MAX_SYNC_BLOCKS,
    L2AdMsg,
    L2BlockMsg,
    L2PegSigMsg,
    L2TxMsg,
    L2VoteMsg,
)
from funai.layer2.models import is_active
from funai.layer2.params import L2Params
from funai.layer2.pegout import PegOuts
from funai.layer2.pegs import find_pegins
from funai.layer2.producer import Producer
from funai.layer2.reclamation import ContentStore
from funai.layer2.registration import RegRef
from funai.layer2.request_params import RequestParams, inference_seed
from funai.layer2.routing import ModelOffer, Route, RouteTable, ServiceAd
from funai.layer2.sortition import Round, Sortition
from funai.layer2.state import L2State
from funai.layer2.state import Verifier as SetMember
from funai.layer2.transactions import (
    EquivocationPayload,
    InferenceContent,
    InferencePayload,
    L2Tx,
    PegOutPayload,
    TxKind,
    account_of,
    receipt_message,
    request_hash,
    sign_payload,
    with_receipt,
)
from funai.layer2.verifier import Verifier
from funai.layer2.votes import (
    Elected,
    QuorumCertificate,
    Verdict,
    Vote,
    try_form_qc,
)
from funai.ledger.encoding import CborValue
from funai.ledger.tx import OutputKind, Transaction, TxOut
from funai.network.messages import Message
from funai.storage.sqlite import connect

__all__ = ["Generate", "Judge", "L1BlockFeed", "L2Node", "ModelNotServedError", "sign_request"]

log = logging.getLogger("funai.layer2")

#: An L1 block as a node is fed it: ``(hash, prev_hash, height, txs)``, with its header
#: time last when known (rule ``block-time``; 0 without it).
L1BlockFeed = (
    tuple[bytes, bytes, int, Sequence[Transaction]]
    | tuple[bytes, bytes, int, Sequence[Transaction], int]
)

#: ``(model_id, request, seed) -> the request answered``: ``request`` is the content's
#: request part (no output yet); the answer is drawn with ``seed`` (rule ``inference-seed``)
Generate = Callable[[bytes, InferenceContent, int], InferenceContent]
#: ``(model_id, content, seed) -> verdict``
Judge = Callable[[bytes, InferenceContent, int], Verdict]

#: Version of the layout of ``l2.sqlite``; an older one is wiped and re-synced (L2 sync).
SCHEMA_VERSION = 3
#: Rules only a forged or tampered transaction breaks (what an honest relay never sends).
_FORGERIES = frozenset({"tx-bad-signature", "inference-bad-receipt", "inference-content-mismatch"})
#: Adverts of executors not bonded yet, kept aside.
MAX_UNBONDED_ADS = 256
#: Most txids asked for in one content request, and answered.
MAX_CONTENT_REQUEST = 256


class ModelNotServedError(L2Error):
    """This node does not serve the requested model (it never executes it)."""

    def __init__(self, model_id: bytes) -> None:
        super().__init__("model-not-served", model_id.hex())


def sign_request(
    user_sk: bytes,
    nonce: int,
    model_id: bytes,
    gas: int,
    input_text: str,
    network_id: bytes,
    *,
    context: str = "",
    system_prompt: str = "",
    fee: int = 0,
    params: RequestParams | None = None,
) -> L2Tx:
    """A client's signed request with gas limit ``gas``: an inference transaction whose
    executor part is empty (the executor fills it in and says how much of ``gas`` it uses).
    ``params`` (default :class:`RequestParams`): how its answer is sampled, signed too."""
    rhash = request_hash(model_id, input_text, context, system_prompt, params)
    return sign_payload(
        user_sk, InferencePayload.request(model_id, rhash, gas), nonce, network_id, fee
    )


def _open_db(path: Path, synchronous: str) -> Any:
    """``l2.sqlite``; one of an older layout is emptied (blocks come back by L2 sync)."""
    conn = connect(path, synchronous=synchronous)
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    if version != SCHEMA_VERSION and tables:
        log.warning("l2.sqlite has an older layout: starting the inference layer afresh")
        for t in tables:
            conn.execute(f'DROP TABLE IF EXISTS "{t}"')
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return conn


class L2Node:
    """The inference layer of one node (see the module docstring)."""

    def __init__(
        self,
        datadir: Path,
        params: L2Params,
        sk: bytes,
        *,
        vrf_sk: bytes | None = None,
        verifier: bool = False,
        models: Iterable[bytes] = (),
        generate: Generate | None = None,
        judge: Judge | None = None,
        synchronous: str = "FULL",
        judge_inline: bool = True,
    ) -> None:
        datadir.mkdir(parents=True, exist_ok=True)
        self.params = params
        self.sk = sk
        self.key = _core.schnorr_public_key(sk)
        self.account = account_of(self.key)
        self.vrf_sk = vrf_sk
        self.verifier = verifier
        self.models = set(models)
        self.generate = generate
        self.judge = judge
        #: judge ready blocks at once, in the calling thread (in-process use); a running
        #: node judges outside its L2 lock instead (``funai.node.l2runtime``)
        self.judge_inline = judge_inline
        self.conn = _open_db(datadir / "l2.sqlite", synchronous)
        self.state = L2State(self.conn, params)
        self.chain = L2Chain(self.conn, self.state)
        self.content = ContentStore(datadir / "content.sqlite", synchronous=synchronous)
        self.sortition = Sortition(params.network_id, params.median_window)
        self.l1_tip = bytes(32)
        self.l1_height = 0
        self.l1_active: dict[int, bytes] = {}  # L1 height -> hash on the active chain
        self.reg_ref: RegRef | None = None
        self.mempool = L2Mempool()
        self.votes: dict[bytes, list[Vote]] = {}
        self.early_votes: dict[bytes, dict[bytes, Vote]] = {}
        #: L1 block hash -> blocks waiting for it (or for its round to change)
        self.early_blocks: BoundedBuffer[tuple[L2Block, BlockContents]] = BoundedBuffer()
        #: parent hash -> blocks waiting for it
        self.orphans: BoundedBuffer[tuple[L2Block, BlockContents]] = BoundedBuffer()
        self.evidence: list[EquivocationPayload] = []
        self.evidence_elections: set[bytes] = set()
        self.evidence_blocks: set[bytes] = set()  # second blocks of equivocating producers
        self.anchors = AnchorTracker(params.confirmations, lambda _h: True)
        self.outbox: list[Message] = []
        #: peers (the ``source`` of a message) to ask for the L2 blocks we lack (``l2-sync``)
        self.sync_wanted: set[object] = set()
        #: peg-ins seen on the active L1 chain: (txid, index) -> (amount, account, L1 height,
        #: output kind, output payload)
        self.pegins: dict[tuple[bytes, int], tuple[int, bytes, int, int, bytes]] = {}
        self.replaying = False
        #: seconds spent, by kind: ``consensus`` (block validation and state transition),
        #: ``storage`` (SQLite commits, content store writes and reclamation), ``judging``
        self.timings: dict[str, float] = {"consensus": 0.0, "storage": 0.0, "judging": 0.0}
        #: called with the seconds from a block's arrival to this verifier's vote on it
        self.on_vote: Callable[[float], None] | None = None
        #: txid -> hash of the canonical L2 block that holds it
        self.tx_block: dict[bytes, bytes] = {}
        for bh in self.chain.canonical:
            for t in self.chain.entries[bh].block.txs:
                self.tx_block[t.txid()] = bh
        #: the executors' model adverts (``routing.py``)
        self.routes = RouteTable(params.network_id)
        #: adverts of executors without a bond yet (rule ``ad-unbonded``), newest last
        self.unbonded_ads: OrderedDict[bytes, ServiceAd] = OrderedDict()
        self.reclaimed: set[bytes] = set()
        self.reclaimed_upto = -1
        self._rerun_at: int | None = None
        self._pending_admits: list[tuple[L2Block, BlockContents, object]] = []
        self._dirty = False  # a new QC may change the fork choice
        self._final_key: tuple[object, ...] = ()
        self._reruns = 0
        self._need_sets: set[bytes] = set()
        self._missing: dict[bytes, set[bytes]] = {}  # L2 parent -> L1 rounds that lacked it
        self.producer = Producer(self)
        self.verifying = Verifier(self)
        for vote in self.verifying.mine.values():
            self.votes.setdefault(vote.block_hash, []).append(vote)
        #: peg-out L1 transactions assembled from the quorum's signatures, for the node to
        #: put into its L1 mempool (``funai.node.l2runtime`` drains it)
        self.l1_outbox: list[Transaction] = []
        self.pegsigs_accepted: set[bytes] = set()  # ids of valid l2pegsig messages
        self.pegouts = PegOuts(
            self.conn,
            self.state,
            sk,
            blocks=_BlockMap(self.chain),
            finalized=self.chain.is_final,
            can_sign=lambda: self.verifier,
            emit_msg=lambda tx, key, sigs: self.outbox.append(L2PegSigMsg.make(tx, key, sigs)),
            emit_l1=lambda tx: self.l1_outbox.append(tx),
        )

    # --- compatibility views ----------------------------------------------------------------
    @property
    def blocks(self) -> Mapping[bytes, L2Block]:
        """Every stored, not invalid, block by hash (a live view)."""
        return _BlockMap(self.chain)

    @property
    def qcs(self) -> dict[bytes, QuorumCertificate]:
        return self.chain.qcs

    @property
    def by_election(self) -> dict[bytes, L2Block]:
        """The canonical block of each election that has one."""
        return {
            self.chain.entries[h].block.header.l1_block: self.chain.entries[h].block
            for h in self.chain.canonical
        }

    @property
    def payout_sets(self) -> dict[bytes, list[tuple[int, bytes]]]:
        out = {h: [(v.payout_kind, v.payout) for v in vs] for h, vs in self.chain.sets.items()}
        out[GENESIS_PARENT] = self._genesis_payouts()
        return out

    @property
    def voted(self) -> set[bytes]:
        return set(self.verifying.mine)

    @property
    def anchored(self) -> set[bytes]:
        return {h for h in self.anchors.anchored if h in self.chain.qcs}

    # --- persistence ---------------------------------------------------------------------------
    def replay_l1(self, blocks: Iterable[L1BlockFeed]) -> None:
        """Re-runs the rounds and anchors of the active L1 chain after a restart (no block
        production or votes while replaying); then the fork choice checks the stored chain
        against them."""
        self.replaying = True
        try:
            for block in blocks:
                self.on_l1_block(*block)
        finally:
            self.replaying = False
        self._update()
        for bh in self.chain.canonical[-3:]:  # blocks a crash may have left unjudged
            if bh not in self.chain.qcs:
                self.verifying.queue(bh, list(self.chain.entries[bh].block.txs))

    def close(self) -> None:
        self.content.close()
        self.conn.close()

    def _genesis_payouts(self) -> list[tuple[int, bytes]]:
        return [(1 if len(p) == 20 else 0, p) for _k, p in self.params.genesis_verifiers]

    def payouts_for(self, parent: bytes) -> list[tuple[int, bytes]] | None:
        """Rule ``commit-payout-set``: commitments building on ``parent`` pay the verifier
        set of the state after ``parent`` (None: that block has not been applied here)."""
        if parent == GENESIS_PARENT:
            return self._genesis_payouts()
        vs = self.chain.sets.get(parent) or self._derived_set(parent)
        return None if vs is None else [(v.payout_kind, v.payout) for v in vs]

    def _derived_set(self, h: bytes) -> list[SetMember] | None:
        """The verifier set after a stored block that was never applied here (a sibling of
        the canonical chain some commitment names): the set only changes at epoch
        boundaries, so it is the nearest applied ancestor's when no boundary lies between;
        across a boundary the block is applied once to learn it (``_need_sets``)."""
        cur = h
        while cur != GENESIS_PARENT:
            e = self.chain.entries.get(cur)
            if e is None or e.status == INVALID:
                return None
            if e.height % self.params.epoch_length == 0:
                if cur not in self.chain.sets:
                    self._need_sets.add(cur)
                return self.chain.sets.get(cur)
            cur = e.parent
            if cur in self.chain.sets:
                return self.chain.sets[cur]
        return [
            SetMember(k, kind, p, 0)
            for (k, _), (kind, p) in zip(
                self.params.genesis_verifiers, self._genesis_payouts(), strict=True
            )
        ]

    def wanted_blocks(self) -> list[bytes]:
        """Blocks some active round's commitments name that this node does not have: it asks
        its peers for them by hash (they serve any stored block), since ``l2getblocks``
        serves only the canonical chain (rule ``l2-sync``)."""
        return [h for h in self._missing if h not in self.chain.entries][:MAX_SYNC_BLOCKS]

    # --- L1 side ------------------------------------------------------------------------------
    def registration_output(self) -> TxOut:
        return self.producer.registration_output()

    def commitment_outputs(self, bid: int) -> list[TxOut]:
        """A bid of ``bid`` (split evenly) for the block after the commitment parent."""
        return self.producer.commitment_outputs(bid)

    def anchor_outputs(self) -> list[TxOut]:
        """Anchors for canonical blocks with a QC not anchored yet (whoever publishes them)."""
        out = []
        for h in self.chain.canonical:
            if h in self.chain.qcs and self.anchors.anchor_height(h) is None:
                out.append(Anchor(self.chain.entries[h].height, h).output())
        return out

    def on_l1_block(
        self,
        l1_hash: bytes,
        prev: bytes,
        height: int,
        txs: Sequence[Transaction],
        time: int = 0,
    ) -> Round:
        """An L1 block joined the active chain: sortition, anchors, peg-ins, the fork choice,
        reclamation and, when elected, block production. ``time``: its header's time (the
        time of the L2 block it elects, rule ``block-time``)."""
        if prev != self.l1_tip and height <= self.l1_height:
            # an L1 reorg: drop what the disconnected blocks said (rounds stay keyed by hash)
            for h in range(self.l1_height, height - 1, -1):
                self.anchors.disconnect(h)
                self.l1_active.pop(h, None)
            if self.reg_ref is not None and self.reg_ref.l1_height >= height:
                self.reg_ref = None
            self.pegins = {k: v for k, v in self.pegins.items() if v[2] < height}
            self.pegouts.disconnect_l1(height)
        rnd = self.sortition.process_block(l1_hash, prev, height, txs, self.payouts_for, time)
        self.l1_tip, self.l1_height = l1_hash, height
        self.l1_active[height] = l1_hash
        self.content.l1_height = height
        for parent in rnd.missing_parents:
            self._missing.setdefault(parent, set()).add(l1_hash)
        for tx in txs:
            for peg in find_pegins(tx):  # rule ``pegin-pool`` decides which count
                self.pegins[(peg.l1_txid, peg.index)] = (
                    peg.amount,
                    peg.l2_account,
                    height,
                    peg.kind,
                    peg.payload,
                )
        self.pegouts.connect_l1(l1_hash, height, list(txs))
        if self.vrf_sk is not None and self.reg_ref is None:
            mine = _core.vrf_public_key(self.vrf_sk)
            for ref, reg in rnd.registrations.items():
                if reg.vrf_key == mine and reg.l2_account == self.account:
                    self.reg_ref = ref
        self.anchors.connect(height, txs)
        for item, source in self.early_blocks.pop(l1_hash):
            self._admit_waiting(item[0], item[1], source)
        if self.replaying:
            return rnd
        self._update()
        self.pegouts.advance()
        self.pegouts.tick()
        self.producer.maybe_produce(rnd)
        self._update()
        self._housekeeping()
        self._judge_inline()
        return rnd

    def pegin_view_at(self, as_of: int) -> PegInView:
        """Rule ``pegin-as-of-election``: the peg-ins of the active L1 chain up to height
        ``as_of`` (a block's electing L1 block), with their confirmations there."""

        def view(txid: bytes, index: int) -> tuple[int, bytes, int, int, bytes] | None:
            seen = self.pegins.get((txid, index))
            if seen is None or seen[2] > as_of:
                return None
            return seen[0], seen[1], as_of - seen[2] + 1, seen[3], seen[4]

        return view

    def pegin_view(self, txid: bytes, index: int) -> tuple[int, bytes, int, int, bytes] | None:
        """A peg-in as of the L1 tip (for status pages)."""
        return self.pegin_view_at(self.l1_height)(txid, index)

    def burn_view_at(self, as_of: int) -> BurnView:
        """Rule ``clarity-burn-view``: the hash of the active L1 block at a height at or
        below ``as_of`` (a block's electing L1 block), for ``get-burn-block-info?``."""

        def view(height: int) -> bytes | None:
            if not 0 <= height <= as_of:
                return None
            return self.l1_active.get(height)

        return view

    def elected_view(self, as_of: int) -> Elected:
        """Rule ``equivocation-not-elected``: the winner of an election on the active L1
        chain at or below height ``as_of``."""

        def elected(l1_block: bytes) -> tuple[bytes, bytes] | None:
            rnd = self.sortition.rounds.get(l1_block)
            if rnd is None or rnd.height > as_of or self.l1_active.get(rnd.height) != l1_block:
                return None
            if rnd.winner is None:
                return None
            return rnd.winner.registration.l2_account, rnd.winner.commitment.proof

        return elected

    def known_pool(self, payload: bytes) -> bool:
        """Rule ``pegin-pool`` for the next block (block 0 records the genesis pool first)."""
        if self.state.pool(payload) is not None:
            return True
        return self.state.height < 0 and payload == self.state.current_pool()

    # --- the chain view (chain.ChainView) ------------------------------------------------------
    def election_holds(self, block: L2Block) -> bool:
        h = block.header
        rnd = self.sortition.rounds.get(h.l1_block)
        if rnd is None or self.l1_active.get(rnd.height) != h.l1_block or rnd.winner is None:
            return False
        w = rnd.winner
        return (
            w.commitment.parent == h.parent
            and w.commitment.proof == h.vrf_proof
            and account_of(h.producer_key) == w.registration.l2_account
        )

    def election_height(self, block: L2Block) -> int:
        rnd = self.sortition.rounds.get(block.header.l1_block)
        return -1 if rnd is None else rnd.height

    def context(self, block: L2Block) -> tuple[Round | None, PegInView, Elected]:
        rnd = self.sortition.rounds.get(block.header.l1_block)
        as_of = -1 if rnd is None else rnd.height
        return rnd, self.pegin_view_at(as_of), self.elected_view(as_of)

    def connected(self, block: L2Block, first: bool) -> None:
        bh = block.hash()
        rnd = self.sortition.rounds.get(block.header.l1_block)
        self.pegouts.note_block(block, -1 if rnd is None else rnd.height)
        self.mempool.remove([t.txid() for t in block.txs])
        inference = [t.txid() for t in block.txs if t.kind is TxKind.INFERENCE]
        for t in block.txs:
            self.tx_block[t.txid()] = bh
        self.content.assign(inference, bh)
        if self.unbonded_ads:
            self._promote_ads(int(time.time()))
        if first:
            self._schedule_rerun(bh)
        for vote in self.early_votes.pop(bh, {}).values():
            try:
                self._admit_vote(vote)
            except L2Error:
                continue
            self.outbox.append(L2VoteMsg.make(vote))
        self._try_qc(bh)
        if not self.replaying:
            if first:
                self.outbox.append(L2BlockMsg.make(block, self.producer.contents_of(block)))
            if bh not in self.chain.qcs:
                self.verifying.queue(bh, list(block.txs))
        for item, source in self.orphans.pop(bh):
            self._pending_admits.append((item[0], item[1], source))

    def disconnected(self, block: L2Block) -> None:
        bh = block.hash()
        self.content.unassign(bh)
        for t in block.txs:
            self.tx_block.pop(t.txid(), None)
            if t.kind is TxKind.PEG_IN:
                continue  # the producer's own, made again by the next producer
            if t.kind is TxKind.INFERENCE and not self.content.has(t.txid()):
                continue
            self.mempool.readd(t, self.l1_height)

    # --- fork choice driver ------------------------------------------------------------------
    def _update(self) -> None:
        """Fork choice (with the finality checkpoint), sortition re-runs for parents that
        arrived late, and the blocks that were waiting for them."""
        self._dirty = False
        for _ in range(100):
            # the checkpoint depends on the anchors, the L1 tip, the blocks and the QCs
            key = (self.l1_tip, len(self.anchors.anchored), self.chain.version, self._reruns)
            if key != self._final_key:
                anchors = sorted((at, h) for h, at in self.anchors.anchored.items())
                self.chain.update_final(anchors, self.l1_height, self)
                self._final_key = key
            t0 = time.perf_counter()
            changed = self.chain.activate(self)
            self.timings["consensus"] += time.perf_counter() - t0
            if changed:
                for t in self.mempool.revalidate(self.state, self.elected_view(self.l1_height)):
                    self._dropped(t)
            if self._need_sets:
                need, self._need_sets = self._need_sets, set()
                for h in need:  # applied once (then the choice goes back): its set is known
                    if h in self.chain.entries and h not in self.chain.sets:
                        self.chain.visit(h, self)
                    self._schedule_rerun(h)
                continue
            if self._rerun_at is not None:
                low, self._rerun_at = self._rerun_at, None
                self._rerun(low)
                continue
            if self._pending_admits:
                waiting, self._pending_admits = self._pending_admits, []
                for block, contents, source in waiting:
                    self._admit_waiting(block, contents, source)
                continue
            break

    def _rerun(self, low: int) -> None:
        """Re-runs the rounds of the active L1 chain from height ``low`` (a commitment's
        parent arrived: rule ``commit-payout-set``), then re-examines the blocks they
        elect."""
        log.info("re-running sortition rounds", extra={"fields": {"from": low}})
        self._reruns += 1
        for height in range(low, self.l1_height + 1):
            l1 = self.l1_active.get(height)
            if l1 is None:
                continue
            old = self.sortition.rounds.get(l1)
            if old is None or old.scan is None:
                continue
            rnd = self.sortition.process_block(
                l1, old.prev_hash, height, old.scan, self.payouts_for, old.time
            )
            for parent in rnd.missing_parents:
                self._missing.setdefault(parent, set()).add(l1)
            for item, source in self.early_blocks.pop(l1):
                self._pending_admits.append((item[0], item[1], source))

    def _housekeeping(self) -> None:
        """After each L1 block: reclaim final content, expire the mempool and loose
        content (rules ``reclamation``, ``tx-expiry``, ``content-expiry``)."""
        t = time.perf_counter()
        final = self.chain.final
        if final is not None and self.chain.on_canonical(final):
            top = self.chain.entries[final].height
            for height in range(self.reclaimed_upto + 1, top + 1):
                bh = self.chain.canonical[height]
                self.content.reclaim(bh)
                self.reclaimed.add(bh)
            self.reclaimed_upto = max(self.reclaimed_upto, top)
        for tx in self.mempool.expire(self.l1_height, self.params.tx_expiry):
            self._dropped(tx)
        keep = set(self.mempool) | set(self.verifying.wanted)
        for job in self.verifying.jobs.values():
            keep.update(t.txid() for t in job.txs)
        self.content.sweep(keep, self.l1_height - self.params.tx_expiry)
        self.timings["storage"] += time.perf_counter() - t

    def _dropped(self, tx: L2Tx) -> None:
        """A transaction left the mempool without a block: its content goes (unless a
        canonical block holds it)."""
        if tx.kind is TxKind.INFERENCE and tx.txid() not in self.tx_block:
            self.content.delete([tx.txid()])

    def evict(self, txids: list[bytes]) -> None:
        for tx in self.mempool.remove(txids):
            self._dropped(tx)

    def store_own_block(self, block: L2Block) -> None:
        """The producer's block: stored and chosen like any other."""
        self._store(block)
        self._update()

    def _store(self, block: L2Block) -> None:
        """Adds an admitted block to the tree; rounds that named it as a parent run again
        (rule ``commit-payout-set``)."""
        bh = block.hash()
        self.chain.add(block)
        self._schedule_rerun(bh)

    def _schedule_rerun(self, bh: bytes) -> None:
        if bh not in self._missing:
            return
        rounds = [self.sortition.rounds[r] for r in self._missing[bh]]
        active = [r.height for r in rounds if self.l1_active.get(r.height) == r.l1_hash]
        if self.payouts_for(bh) is None:
            return  # waits for the set (``_need_sets``, applied in ``_update``)
        del self._missing[bh]
        if active:
            low = min(active)
            self._rerun_at = low if self._rerun_at is None else min(self._rerun_at, low)

    # --- executor -----------------------------------------------------------------------------
    def execute(
        self,
        request: L2Tx,
        input_text: str,
        context: str = "",
        system_prompt: str = "",
        params: RequestParams | None = None,
    ) -> tuple[str, L2Tx]:
        """Immediate execution: the output and the completed, receipt-signed transaction
        (the answer drawn with the request's seed, rule ``inference-seed``)."""
        asked = InferenceContent(input_text, "", context, system_prompt, params or RequestParams())
        model_id = self.check_request(request, asked)
        assert self.generate is not None
        content = self.generate(model_id, asked, self.seed_of(request, asked))
        if content.request_only() != asked:
            raise L2Error("inference-bad-request", "the engine answered another request")
        return content.output, self.complete(request, content)

    def seed_of(self, request: L2Tx, content: InferenceContent) -> int:
        """Rule ``inference-seed`` for ``request`` (whose request part is ``content``'s)."""
        return inference_seed(self.params.network_id, request.user_txid(), content.params)

    def check_request(self, request: L2Tx, content: InferenceContent) -> bytes:
        """What an executor checks before running a request (returns its model id): the
        model is served here and active, the request hash matches ``content``'s request
        part (input, context, system prompt, sampling parameters), the user's signature
        verifies, the nonce is unused and the user can pay the gas."""
        if request.kind is not TxKind.INFERENCE:
            raise MalformedInputError("not an inference request")
        body = request.payload_as(InferencePayload)
        model_id, gas = body.model_id, body.gas_limit
        if model_id not in self.models:
            raise ModelNotServedError(model_id)
        if not is_active(self.state, model_id, self.state.height + 1):
            raise L2Error("inference-model-inactive", model_id.hex())
        if content.request_hash(model_id) != body.request_hash:
            raise L2Error("inference-bad-request", "request hash does not match the input")
        request.verify_signature(self.params.network_id)
        balance, nonce = self.state.account(request.sender)
        if request.nonce < nonce:
            raise L2Error("tx-bad-nonce", f"nonce {request.nonce} already used")
        if balance < request.fee + gas:  # the executor is paid only if the user can pay
            raise L2Error("tx-insufficient-funds", "the user cannot pay this request's gas")
        return model_id

    def complete(
        self, request: L2Tx, content: InferenceContent, gas_used: int | None = None
    ) -> L2Tx:
        """Signs the receipt over ``content`` (the output this node produced for a checked
        request) and ``gas_used`` (default: the request's whole gas limit), stores the
        content and queues the completed transaction for gossip."""
        body = request.payload_as(InferencePayload)
        model_id, gas_limit = body.model_id, body.gas_limit
        if model_id not in self.models:
            raise ModelNotServedError(model_id)
        used = gas_limit if gas_used is None else gas_used
        if not 0 < used <= gas_limit:
            raise L2Error("inference-gas-over-limit", f"charges {used}, the limit is {gas_limit}")
        tx = with_receipt(request, self.sk, content.hash(), used, self.params.network_id)
        self._accept_tx(tx, content)
        self.outbox.append(L2TxMsg.make(tx, content))
        return tx

    # --- model routing (routing.py) -----------------------------------------------------------
    def advertise(self, api_url: str, offers: Iterable[ModelOffer], now: int) -> ServiceAd:
        """Signs this executor's advert of ``offers`` (models it serves), keeps it in its own
        table and queues it for gossip."""
        served = tuple(o for o in offers if o.model_id in self.models)
        ad = ServiceAd(self.key, api_url, served, now).signed(self.sk, self.params.network_id)
        self.routes.offer(ad, now)
        self.outbox.append(L2AdMsg.make(ad))
        return ad

    def route(self, model: str | bytes, now: int) -> list[Route]:
        """Executors other than this node that advertise ``model`` and can be paid for it
        now: bonded (``min_bond``) and the model active at the next height."""
        height = self.state.height + 1
        self._promote_ads(now)

        def eligible(key: bytes, model_id: bytes) -> bool:
            bonded = self.state.bond(account_of(key)) >= self.params.min_bond
            return bonded and is_active(self.state, model_id, height)

        return self.routes.routes(model, now, eligible, exclude=self.key)

    def _promote_ads(self, now: int) -> None:
        """Adverts kept aside (``ad-unbonded``) whose executor is bonded now join the route
        table."""
        for key, ad in list(self.unbonded_ads.items()):
            if self.state.bond(account_of(key)) >= self.params.min_bond:
                del self.unbonded_ads[key]
                with contextlib.suppress(L2Error):
                    self.routes.offer(ad, now)

    def submit(self, tx: L2Tx) -> None:
        """A non-inference transaction from a local client (mempool rules apply)."""
        self._accept_tx(tx, None)
        self.outbox.append(L2TxMsg.make(tx, None))

    def _accept_tx(self, tx: L2Tx, content: InferenceContent | None) -> None:
        """Rule set ``l2tx``: the content and receipt of an inference, then the mempool's."""
        tx.verify_signature(self.params.network_id)
        if isinstance(body := tx.body, InferencePayload):
            if content is None or content.hash() != body.content_hash:
                raise L2Error("inference-content-mismatch", "content does not hash to the tx")
            msg = receipt_message(
                self.params.network_id, tx.user_txid(), content.hash(), body.gas_used
            )
            if not _core.schnorr_verify(body.executor_key, msg, body.executor_sig):
                raise L2Error("inference-bad-receipt", "executor signature does not verify")
        self.mempool.admit(
            tx, self.state, self.l1_height, verified=True, elected=self.elected_view(self.l1_height)
        )
        if content is not None:
            t = time.perf_counter()
            self.content.put(tx.txid(), content)
            self.timings["storage"] += time.perf_counter() - t

    # --- gossip (admission: admission.py) -----------------------------------------------------
    def receive(self, msg: Message, source: object = None) -> Admission:
        """Admits one gossip message by its rules (raises AdmissionError/L2Error/
        MalformedInputError when refused: nothing was stored, counted or relayed)."""
        try:
            if isinstance(msg, L2TxMsg):
                tx, content = msg.parse()
                if tx.txid() in self.mempool or tx.txid() in self.tx_block:
                    return Admission(True, False, "tx-known")
                try:
                    self._accept_tx(tx, content)
                except L2Error as exc:
                    # an honest peer checks these before relaying: a forgery costs the peer
                    score = 100 if exc.rule in _FORGERIES else 0
                    raise AdmissionError(exc.rule, str(exc), score=score) from None
                return Admission(True, True)
            if isinstance(msg, L2BlockMsg):
                block, contents = msg.parse()
                return self._try_admit(block, contents, source)
            if isinstance(msg, L2VoteMsg):
                return self._admit_vote(msg.parse())
            if isinstance(msg, L2PegSigMsg):
                try:
                    self.pegouts.receive(*msg.parse())
                except L2Error as exc:
                    bad = exc.rule == "pegsig-bad-signature"  # a member's key, a forged sig
                    raise AdmissionError(exc.rule, str(exc), score=100 if bad else 0) from None
                if len(self.pegsigs_accepted) > 100_000:
                    self.pegsigs_accepted.clear()
                self.pegsigs_accepted.add(msg.id())
                return Admission(True, True)
            if isinstance(msg, L2AdMsg):
                ad = msg.parse()
                if self.state.bond(account_of(ad.executor_key)) < self.params.min_bond:
                    # rule ad-unbonded: not in the route table, not relayed; kept aside
                    # (bounded, checked) in case the bond is on its way
                    ad.verify(self.params.network_id)
                    self.unbonded_ads[ad.executor_key] = ad
                    self.unbonded_ads.move_to_end(ad.executor_key)
                    while len(self.unbonded_ads) > MAX_UNBONDED_ADS:
                        self.unbonded_ads.popitem(last=False)
                    return Admission(True, False, "ad-unbonded")
                self.routes.offer(ad, int(time.time()))
                return Admission(True, True)
            raise AdmissionError("unknown-message", type(msg).__name__)
        finally:
            if self._dirty:
                self._update()
            self._judge_inline()

    def _admit_waiting(self, block: L2Block, contents: BlockContents, source: object) -> None:
        """A block that waited (for its L1 block, its round or its parent): admitted now, or
        dropped with its rule logged (its sender is gone by now)."""
        with contextlib.suppress(L2Error, MalformedInputError):
            self._try_admit(block, contents, source)

    def _try_admit(self, block: L2Block, contents: BlockContents, source: object) -> Admission:
        try:
            return self._admit_block(block, contents, source)
        except L2Error as exc:
            log.info("refused L2 block %s: %s", block.hash().hex()[:16], exc)
            raise

    def _take_contents(self, block: L2Block, contents: BlockContents) -> None:
        """Rule ``block-contents``: keeps each content that hashes to its transaction's
        content hash (a stripped or swapped copy is ignored, never judged)."""
        if not contents.items:
            return
        by_txid = {t.txid(): t for t in block.txs if t.kind is TxKind.INFERENCE}
        for txid, c in contents.items.items():
            tx = by_txid.get(txid)
            if (
                tx is not None
                and c.hash() == tx.payload_as(InferencePayload).content_hash
                and not self.content.has(txid)
            ):
                self.content.put(txid, c)

    def _admit_block(self, block: L2Block, contents: BlockContents, source: object) -> Admission:
        bh = block.hash()
        h = block.header
        if bh in self.chain.entries:
            if self.chain.entries[bh].status != INVALID:
                self._take_contents(block, contents)
            return Admission(True, False, "block-known")
        check_block_shape(self.params, block)
        rnd = self.sortition.rounds.get(h.l1_block)
        if rnd is None:
            self.early_blocks.add(h.l1_block, (block, contents), source)
            return Admission(False, False, "block-unknown-election")
        if self.l1_active.get(rnd.height) != h.l1_block:
            raise AdmissionError("block-stale-election", "its L1 block is not on the active chain")
        if not self.election_holds(block):
            if rnd.missing_parents:  # the round may change once the parent arrives
                self.early_blocks.add(h.l1_block, (block, contents), source)
                return Admission(False, False, "block-election")
            raise AdmissionError("block-election", "not the producer this election chose")
        try:
            h.verify_signature(self.params.network_id, block.signature)
        except L2Error as exc:
            raise AdmissionError("block-bad-signature", str(exc), score=100) from None
        same = self.chain.by_election.get(h.l1_block, [])
        evidence = False
        if same:
            if len(same) >= MAX_PER_ELECTION:
                raise AdmissionError("equivocation", "evidence for this election is kept")
            evidence = self._note_equivocation(self.chain.entries[same[0]].block, block, rnd.height)
        if h.parent != GENESIS_PARENT and h.parent not in self.chain.entries:
            self.orphans.add(h.parent, (block, contents), source)
            if source is not None:
                self.sync_wanted.add(source)
            return Admission(False, False, "block-orphan")
        want = 0 if h.parent == GENESIS_PARENT else self.chain.entries[h.parent].height + 1
        if h.height != want:
            raise AdmissionError("block-height", f"height {h.height}, its parent's child is {want}")
        self._take_contents(block, contents)
        self._store(block)
        self._update()
        status = self.chain.entries[bh].status
        return Admission(status != INVALID, evidence and status != INVALID, "accepted")

    def _note_equivocation(self, first: L2Block, second: L2Block, as_of: int) -> bool:
        """Rule ``equivocation`` evidence (checked: both signed by the elected producer);
        kept once per election."""
        evidence = EquivocationPayload(
            first.header.serialize(), first.signature, second.header.serialize(), second.signature
        )
        election = check_equivocation(self.params.network_id, evidence, self.elected_view(as_of))
        if election in self.evidence_elections or len(self.evidence) >= MAX_EVIDENCE:
            return False
        self.evidence_elections.add(election)
        self.evidence.append(evidence)
        self.evidence_blocks.add(second.hash())
        return True

    def _known_verifier(self, key: bytes) -> bool:
        """In the set of the canonical tip, of the genesis, or of any pool the chain had."""
        if any(v.key == key for v in self.state.verifiers()):
            return True
        if any(k == key for k, _ in self.params.genesis_verifiers):
            return True
        return any(key in [bytes(k) for k in v[1]] for _, v in self.state.scan("pool"))

    def _admit_vote(self, vote: Vote) -> Admission:
        """Rule set ``l2vote`` (admission.py)."""
        bh = vote.block_hash
        voters = self.chain.sets.get(bh)
        if voters is None:  # the block is not applied here yet
            if not self._known_verifier(vote.verifier_key):
                raise AdmissionError("vote-not-verifier", vote.verifier_key.hex())
            if not vote.verify(self.params.network_id):
                raise AdmissionError("vote-bad-signature", vote.verifier_key.hex(), score=100)
            waiting = self.early_votes.get(bh)
            if waiting is None:
                if len(self.early_votes) >= MAX_EARLY_VOTE_BLOCKS:
                    del self.early_votes[next(iter(self.early_votes))]
                waiting = self.early_votes[bh] = {}
            if vote.verifier_key not in waiting and len(waiting) < self.params.verifier_count * 4:
                waiting[vote.verifier_key] = vote
            return Admission(False, False, "vote-early")
        if vote.verifier_key not in [v.key for v in voters]:
            raise AdmissionError("vote-not-verifier", vote.verifier_key.hex(), score=10)
        held = self.votes.setdefault(bh, [])
        if vote in held:
            return Admission(True, False, "vote-duplicate")
        block = self.chain.entries[bh].block
        n = sum(1 for t in block.txs if t.kind is TxKind.INFERENCE)
        if len(vote.verdicts) != n:
            raise AdmissionError("vote-verdict-count", f"{len(vote.verdicts)} != {n}", score=10)
        if not vote.verify(self.params.network_id):
            raise AdmissionError("vote-bad-signature", vote.verifier_key.hex(), score=100)
        if any(v.verifier_key == vote.verifier_key for v in held):
            raise AdmissionError("vote-conflict", vote.verifier_key.hex())
        held.append(vote)  # kept after the QC too: the record of every verdict
        self._try_qc(bh)
        return Admission(True, True)

    def _try_qc(self, bh: bytes) -> None:
        voters = self.chain.sets.get(bh)
        if voters is None or bh in self.chain.qcs:
            return
        held = self.votes.get(bh, [])
        qc = try_form_qc(self.params.network_id, bh, [v.key for v in voters], held)
        if qc is not None and self.chain.save_qc(qc):
            self._dirty = True

    def emit_vote(self, vote: Vote) -> None:
        """This node's own vote (``verifier.py``): admitted here and gossiped."""
        try:
            self._admit_vote(vote)
        except L2Error as exc:
            log.warning("own vote refused: %s", exc)
            return
        self.outbox.append(L2VoteMsg.make(vote))

    def _judge_inline(self) -> None:
        if self.judge_inline and self.verifier and not self.replaying:
            self.verifying.run_inline()
            if self._dirty:
                self._update()

    # --- sync (rule l2-sync) -------------------------------------------------------------------
    def locator(self) -> list[bytes]:
        return self.chain.locator()

    def blocks_after(
        self, locator: Sequence[bytes], limit: int = 64
    ) -> tuple[list[L2Block], list[QuorumCertificate]]:
        """An ``l2blocks`` answer: canonical blocks after the locator and the QC of the last
        one (each block carries its parent's); with no block to send, the QC of the asker's
        tip (the first locator entry this node knows)."""
        blocks = self.chain.after(locator, limit, 3_000_000)
        # the QC of the last block sent, or when the asker has every block, of its tip (a
        # block it got before that block's QC existed or without it)
        last = (
            blocks[-1].hash()
            if blocks
            else next((h for h in locator if h in self.chain.entries), None)
        )
        qc = None if last is None else self.chain.qcs.get(last)
        return blocks, [] if qc is None else [qc]

    def receive_blocks(
        self, blocks: Sequence[L2Block], qcs: Sequence[QuorumCertificate], source: object
    ) -> int:
        """An ``l2blocks`` answer this node asked for: each block admitted in order, each
        QC checked against its block's verifier set; returns the blocks newly stored."""
        stored = 0
        for block in blocks:
            try:
                got = self._admit_block(block, BlockContents(), source)
            except AdmissionError as exc:
                if exc.score:
                    raise
                continue
            except L2Error:
                continue
            stored += got.accepted and got.rule == "accepted"
        for qc in qcs:
            self.receive_qc(qc)
        self._update()
        self._judge_inline()
        return stored

    def receive_qc(self, qc: QuorumCertificate) -> bool:
        """A QC from sync: kept when it verifies against its block's verifier set."""
        e = self.chain.entries.get(qc.block_hash)
        voters = self.chain.sets.get(qc.block_hash)
        if e is None or voters is None or qc.block_hash in self.chain.qcs:
            return False
        n = sum(1 for t in e.block.txs if t.kind is TxKind.INFERENCE)
        try:
            qc.verify(self.params.network_id, qc.block_hash, [v.key for v in voters], n)
        except L2Error as exc:
            raise AdmissionError(exc.rule, str(exc), score=100) from None
        self.chain.save_qc(qc)
        for v in qc.votes:
            held = self.votes.setdefault(qc.block_hash, [])
            if all(x.verifier_key != v.verifier_key for x in held):
                held.append(v)
        self._update()
        return True

    def wanted_contents(self) -> list[bytes]:
        """Txids whose content a verifier waits for (to ask peers: ``l2getcontent``)."""
        return list(self.verifying.wanted)[:MAX_CONTENT_REQUEST]

    def contents_for(self, txids: Sequence[bytes]) -> list[tuple[bytes, InferenceContent]]:
        """An ``l2content`` answer: the content this node still holds (not reclaimed)."""
        out = []
        for txid in list(txids)[:MAX_CONTENT_REQUEST]:
            c = self.content.get(txid)
            if c is not None:
                out.append((txid, c))
        return out

    def receive_contents(self, items: Sequence[tuple[bytes, InferenceContent]]) -> int:
        """Content this node asked for; rules ``content-unwanted``, ``content-mismatch``."""
        took = 0
        for txid, c in items:
            bh = self.verifying.wanted.get(txid)
            if bh is None:
                continue  # content-unwanted: answered twice, or too late
            e = self.chain.entries.get(bh)
            tx = None if e is None else next((t for t in e.block.txs if t.txid() == txid), None)
            if tx is None or c.hash() != tx.payload_as(InferencePayload).content_hash:
                raise AdmissionError("content-mismatch", txid.hex(), score=100)
            self.content.put(txid, c)
            took += 1
        self._judge_inline()
        return took

    # --- peg pool and peg-outs (pegout.py) ------------------------------------------------
    def pool_output(self) -> tuple[int, bytes]:
        """The L1 output ``(kind, payload)`` a peg-in pays now: the pay-to-quorum peg pool of
        the current verifier set (rule ``pegin-pool`` also credits earlier sets' pools)."""
        return int(OutputKind.PAY_TO_QUORUM), self.state.current_pool()

    def pool_status(self) -> dict[str, Any]:
        """The current pool for wallets (JSON-ready): kind, payload, m and keys, and the
        pool outputs this node sees on L1."""
        kind, payload = self.pool_output()
        keys = sorted(v.key for v in self.state.verifiers())
        coins = self.pegouts.pool_coins()
        return {
            "kind": kind,
            "payload": payload.hex(),
            "m": len(keys) // 2 + 1,
            "keys": [k.hex() for k in keys],
            "l1_outputs": len(coins),
            "l1_value": sum(c.out.value for _, c in coins),
        }

    def pegout_status(self, txid: bytes) -> dict[str, CborValue] | None:
        """A withdrawal (``PEG_OUT`` txid) in an applied block: its amount, payout and L1 fee,
        and where the ceremony is: ``requested``, ``signed`` (in a batch ``l1_txid``, with
        ``signers`` of ``needed``), ``broadcast`` (assembled and handed to L1), ``paid`` (on
        the active L1 chain at ``l1_height``). None if unknown or not a peg-out."""
        bh = self.tx_block.get(txid)
        if bh is None:
            return None
        block = self.blocks[bh]
        tx = next(t for t in block.txs if t.txid() == txid)
        if tx.kind is not TxKind.PEG_OUT:
            return None
        body = tx.payload_as(PegOutPayload)
        out: dict[str, CborValue] = {
            "txid": txid,
            "amount": body.amount,
            "fee": self.params.pegout_fee,
            "l1_value": body.amount - self.params.pegout_fee,
            "payout_kind": body.payout_kind,
            "payout": body.payout,
            "l2_block": bh,
            "l2_height": block.header.height,
            "finalized": bh in self.qcs,
        }
        out.update(self.pegouts.status(txid))
        return out

    # --- queries --------------------------------------------------------------------------
    def finalized(self, block_hash: bytes) -> bool:
        """The block has a quorum certificate (its verdicts are decided)."""
        return block_hash in self.chain.qcs

    def confirmed(self, block_hash: bytes) -> bool:
        """The block is final: at or below the L1-confirmed checkpoint (``l2-finality``)."""
        return self.chain.is_final(block_hash)

    def tx_status(self, txid: bytes) -> dict[str, CborValue] | None:
        """Where a transaction is in its lifecycle: ``executed`` (in the mempool), ``in_block``,
        ``finalized`` (QC), ``anchored``, ``confirmed`` and ``reclaimed`` (content deleted),
        with the block and, for an inference, the quorum's verdict. None if unknown."""
        bh = self.tx_block.get(txid)
        tx = self.mempool.get(txid)
        if bh is None:
            if tx is None:
                return None
            return {"status": "executed", "kind": tx.kind.name.lower(), "block": None}
        block = self.blocks[bh]
        tx = next(t for t in block.txs if t.txid() == txid)
        stage = "in_block"
        if bh in self.qcs:
            stage = "finalized"
        if bh in self.anchored:
            stage = "anchored"
        if self.confirmed(bh):
            stage = "confirmed"
        if bh in self.reclaimed:
            stage = "reclaimed"
        out: dict[str, CborValue] = {
            "status": stage,
            "kind": tx.kind.name.lower(),
            "block": bh,
            "l2_height": block.header.height,
            "finalized": bh in self.qcs,
            "anchored": bh in self.anchored,
            "anchor_l1_height": self.anchors.anchor_height(bh) if bh in self.anchored else None,
            "confirmed": self.confirmed(bh),
            "reclaimed": bh in self.reclaimed,
        }
        if tx.kind is TxKind.INFERENCE:
            index = [t.txid() for t in block.txs if t.kind is TxKind.INFERENCE].index(txid)
            votes = self.votes.get(bh, [])
            accepts = sum(1 for v in votes if index < len(v.verdicts) and v.verdicts[index].accept)
            out["votes"] = len(votes)
            out["votes_accept"] = accepts
            qc = self.qcs.get(bh)
            out["accepted"] = None if qc is None else qc.decision[index]
        return out


class _BlockMap(Mapping[bytes, L2Block]):
    """The stored, not invalid, blocks of a chain by hash (a live view)."""

    def __init__(self, chain: L2Chain) -> None:
        self.chain = chain

    def __getitem__(self, h: bytes) -> L2Block:
        e = self.chain.entries[h]
        if e.status == INVALID:
            raise KeyError(h)
        return e.block

    def __contains__(self, h: object) -> bool:
        e = self.chain.entries.get(h)  # type: ignore[call-overload]
        return e is not None and e.status != INVALID

    def __iter__(self) -> Iterator[bytes]:
        return (h for h, e in self.chain.entries.items() if e.status != INVALID)

    def __len__(self) -> int:
        return sum(1 for e in self.chain.entries.values() if e.status != INVALID)
