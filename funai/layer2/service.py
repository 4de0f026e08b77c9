"""One node's inference layer, transport-agnostic: the producer, executor and verifier roles.

:class:`L2Node` owns the node's L2 state (``l2.sqlite``), content store
(``content.sqlite``), sortition rounds, mempool, votes and anchors. Its inputs are L1 blocks
(:meth:`on_l1_block`), client requests (:meth:`execute`) and gossip (:meth:`receive`); its
outputs are messages in :attr:`outbox` (``funai.layer2.messages``) for the transport to
broadcast, and L1 outputs to publish (:meth:`registration_output`,
:meth:`commitment_outputs`, :meth:`anchor_outputs`). The network wiring (PeerManager
handlers) and the API sit on top of this class.

Roles:

* **executor** (``models`` non-empty, ``generate`` given): runs a request for a model it
  serves at once, returns the output with the signed transaction (the receipt), stores the
  content and gossips the completed transaction; a request for another model raises
  :class:`ModelNotServedError` (``model-not-served``) and never executes.
* **producer** (``vrf_sk`` given): registers, commits each round, and builds a block when
  elected (on the current tip, with the tip's QC).
* **verifier** (``verifier=True``, ``judge`` given): applies each block, judges each of its
  inference transactions (missing or mismatching content is a rejection) and votes once per
  election.

Every node applies blocks, forms QCs from votes, tracks anchors and reclaims the content of
confirmed blocks (rule ``reclamation``), and takes part in the peg-out ceremony
(:mod:`funai.layer2.pegout`: a verifier signs, any node assembles into :attr:`l1_outbox`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from funai import _core
from funai.errors import FunaiError, MalformedInputError
from funai.layer2 import rewards
from funai.layer2.anchoring import Anchor, AnchorTracker
from funai.layer2.block import BlockContents, L2Block
from funai.layer2.commitment import Commitment
from funai.layer2.consensus import apply_block, build_block
from funai.layer2.errors import L2Error
from funai.layer2.messages import L2AdMsg, L2BlockMsg, L2PegSigMsg, L2TxMsg, L2VoteMsg
from funai.layer2.models import is_active
from funai.layer2.params import L2Params
from funai.layer2.pegout import PegOuts
from funai.layer2.pegs import find_pegins
from funai.layer2.reclamation import ContentStore
from funai.layer2.registration import Registration, RegRef
from funai.layer2.routing import ModelOffer, Route, RouteTable, ServiceAd
from funai.layer2.sortition import Round, Sortition
from funai.layer2.state import L2State
from funai.layer2.transactions import (
    InferenceContent,
    L2Tx,
    TxKind,
    account_of,
    receipt_message,
    request_hash,
    sign_tx,
    with_receipt,
)
from funai.layer2.votes import (
    QuorumCertificate,
    Verdict,
    Vote,
    check_equivocation,
    make_vote,
    try_form_qc,
)
from funai.ledger.encoding import CborValue, decode, encode
from funai.ledger.tx import OutputKind, Transaction, TxOut
from funai.network.messages import Message
from funai.storage.sqlite import connect

__all__ = ["Generate", "Judge", "L2Node", "ModelNotServedError", "sign_request"]

log = logging.getLogger("funai.layer2")

#: ``(model_id, input, context, system_prompt) -> output``
Generate = Callable[[bytes, str, str, str], str]
#: ``(model_id, content) -> verdict``
Judge = Callable[[bytes, InferenceContent], Verdict]

GENESIS_PARENT = bytes(32)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS l2_blocks (hash BLOB PRIMARY KEY, height INTEGER, data BLOB)",
    "CREATE TABLE IF NOT EXISTS l2_qcs (hash BLOB PRIMARY KEY, data BLOB)",
    "CREATE TABLE IF NOT EXISTS l2_payouts (hash BLOB PRIMARY KEY, data BLOB)",
)


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
) -> L2Tx:
    """A client's signed request with gas limit ``gas``: an inference transaction whose
    executor part is empty (the executor fills it in and says how much of ``gas`` it uses)."""
    rhash = request_hash(model_id, input_text, context, system_prompt)
    draft = L2Tx(
        TxKind.INFERENCE,
        _core.schnorr_public_key(user_sk),
        nonce,
        fee,
        (model_id, rhash, gas, bytes(32), bytes(32), bytes(64), gas),
    )
    sig = _core.schnorr_sign(user_sk, draft.sighash(network_id), bytes(32))
    return L2Tx(draft.kind, draft.sender_key, nonce, fee, draft.payload, sig)


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
        self.conn = connect(datadir / "l2.sqlite", synchronous=synchronous)
        self.state = L2State(self.conn, params)
        self.content = ContentStore(datadir / "content.sqlite", synchronous=synchronous)
        self.sortition = Sortition(params.network_id, params.median_window)
        self.l1_tip = bytes(32)
        self.l1_height = 0
        self.reg_ref: RegRef | None = None
        self.payout_sets: dict[bytes, list[tuple[int, bytes]]] = {}
        self.mempool: dict[bytes, L2Tx] = {}
        self.blocks: dict[bytes, L2Block] = {}
        self.by_election: dict[bytes, L2Block] = {}
        self.votes: dict[bytes, list[Vote]] = {}
        self.qcs: dict[bytes, QuorumCertificate] = {}
        self.voted: set[bytes] = set()
        self.anchored: set[bytes] = set()
        self.reclaimed: set[bytes] = set()
        self.evidence: list[list[bytes]] = []
        self.evidence_blocks: set[bytes] = set()  # second blocks of equivocating producers
        self.anchors = AnchorTracker(params.confirmations, self.qcs.__contains__)
        self.outbox: list[Message] = []
        self.early: dict[bytes, list[tuple[L2Block, BlockContents]]] = {}
        #: peg-ins seen on the active L1 chain: (txid, index) -> (amount, account, L1 height,
        #: output kind, output payload)
        self.pegins: dict[tuple[bytes, int], tuple[int, bytes, int, int, bytes]] = {}
        self.replaying = False
        #: seconds spent, by kind: ``consensus`` (block validation and state transition),
        #: ``storage`` (SQLite commits, content store writes and reclamation), ``judging``
        self.timings: dict[str, float] = {"consensus": 0.0, "storage": 0.0, "judging": 0.0}
        #: called with the seconds from a block's arrival to this verifier's vote on it
        self.on_vote: Callable[[float], None] | None = None
        #: txid -> hash of the applied L2 block that holds it
        self.tx_block: dict[bytes, bytes] = {}
        #: the executors' model adverts (``routing.py``)
        self.routes = RouteTable(params.network_id)
        self._load()
        if GENESIS_PARENT not in self.payout_sets and self.state.height < 0:
            self._save_payouts(GENESIS_PARENT)
        #: peg-out L1 transactions assembled from the quorum's signatures, for the node to
        #: put into its L1 mempool (``funai.node.l2runtime`` drains it)
        self.l1_outbox: list[Transaction] = []
        self.pegsigs_accepted: set[bytes] = set()  # ids of valid l2pegsig messages
        self.pegouts = PegOuts(
            self.conn,
            self.state,
            sk,
            blocks=self.blocks,
            finalized=self.qcs.__contains__,
            can_sign=lambda: self.verifier,
            emit_msg=lambda tx, key, sigs: self.outbox.append(L2PegSigMsg.make(tx, key, sigs)),
            emit_l1=lambda tx: self.l1_outbox.append(tx),
        )

    # --- persistence (non-consensus tables beside the state) ---------------------------------
    def _load(self) -> None:
        """Blocks, QCs and payout sets survive a restart; sortition rounds and anchors are
        rebuilt by replaying the active L1 chain (:meth:`replay_l1`)."""
        for ddl in _SCHEMA:
            self.conn.execute(ddl)
        for (data,) in self.conn.execute("SELECT data FROM l2_blocks ORDER BY height"):
            block = L2Block.deserialize(bytes(data))
            self.blocks[block.hash()] = block
            self.by_election[block.header.l1_block] = block
            for t in block.txs:
                self.tx_block[t.txid()] = block.hash()
        for h, data in self.conn.execute("SELECT hash, data FROM l2_qcs"):
            self.qcs[bytes(h)] = QuorumCertificate.from_cbor(decode(bytes(data)))
        for h, data in self.conn.execute("SELECT hash, data FROM l2_payouts"):
            self.payout_sets[bytes(h)] = [(int(k), bytes(p)) for k, p in decode(bytes(data))]
        self.voted.update(self.blocks)  # never vote twice for one block, even after a restart

    def _save_payouts(self, block_hash: bytes) -> None:
        payouts = self._payouts()
        self.payout_sets[block_hash] = payouts
        self.conn.execute(
            "INSERT OR REPLACE INTO l2_payouts (hash, data) VALUES (?, ?)",
            (block_hash, encode([[k, p] for k, p in payouts])),
        )

    def _save_qc(self, qc: QuorumCertificate) -> None:
        self.qcs[qc.block_hash] = qc
        self.conn.execute(
            "INSERT OR REPLACE INTO l2_qcs (hash, data) VALUES (?, ?)",
            (qc.block_hash, encode(qc.to_cbor())),
        )
        if not self.replaying:
            self.pegouts.advance()  # a finalized block: its withdrawals (peg-out ceremony)

    def replay_l1(self, blocks: Iterable[tuple[bytes, bytes, int, Sequence[Transaction]]]) -> None:
        """Re-runs the rounds and anchors of the active L1 chain after a restart (no block
        production while replaying)."""
        self.replaying = True
        try:
            for l1_hash, prev, height, txs in blocks:
                self.on_l1_block(l1_hash, prev, height, txs)
        finally:
            self.replaying = False

    def close(self) -> None:
        self.content.close()
        self.conn.close()

    def _payouts(self) -> list[tuple[int, bytes]]:
        return [(v.payout_kind, v.payout) for v in self.state.verifiers()]

    def _payouts_for(self, parent: bytes) -> list[tuple[int, bytes]] | None:
        """Rule ``commit-payout-set``: commitments building on ``parent`` pay the verifier
        set of the state after ``parent``."""
        return self.payout_sets.get(parent)

    # --- L1 side ------------------------------------------------------------------------
    def registration_output(self) -> TxOut:
        if self.vrf_sk is None:
            raise L2Error("not-a-producer", "this node has no VRF key")
        reg = Registration(_core.vrf_public_key(self.vrf_sk), self.account)
        return TxOut(int(OutputKind.DATA), 0, reg.encode())

    def commitment_outputs(self, bid: int) -> list[TxOut]:
        """A bid of ``bid`` (split evenly) for the block after the current tip."""
        if self.vrf_sk is None or self.reg_ref is None:
            raise L2Error("not-registered", "no confirmed registration yet")
        payouts = self._payouts()
        each = bid // len(payouts)
        if each <= 0:
            raise L2Error("commit-even-split", "bid too small for the verifier set")
        proof = _core.vrf_prove(self.vrf_sk, self.sortition.seed_after(self.l1_tip))
        commit = Commitment(self.state.tip(), self.reg_ref, proof)
        return [TxOut(k, each, p) for k, p in payouts] + commit.outputs()

    def anchor_outputs(self) -> list[TxOut]:
        """Anchors for finalized blocks not anchored yet (whoever publishes them on L1)."""
        out = []
        for h in self.qcs:
            if h not in self.anchored and h in self.blocks:
                out.append(Anchor(self.blocks[h].header.height, h).output())
        return out

    def on_l1_block(
        self, l1_hash: bytes, prev: bytes, height: int, txs: Sequence[Transaction]
    ) -> Round:
        """An L1 block joined the active chain: sortition, anchors, reclamation, election."""
        if prev != self.l1_tip and height <= self.l1_height:
            # an L1 reorg: drop what the disconnected blocks said (rounds stay keyed by hash)
            for h in range(self.l1_height, height - 1, -1):
                self.anchors.disconnect(h)
            self.anchored.intersection_update(self.anchors.anchored)
            if self.reg_ref is not None and self.reg_ref.l1_height >= height:
                self.reg_ref = None
            self.pegins = {k: v for k, v in self.pegins.items() if v[2] < height}
            self.pegouts.disconnect_l1(height)
        rnd = self.sortition.process_block(l1_hash, prev, height, txs, self._payouts_for)
        self.l1_tip, self.l1_height = l1_hash, height
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
        for l2_hash in self.anchors.connect(height, txs):
            self.anchored.add(l2_hash)
        self.anchored.update(self.anchors.anchored)
        for l2_hash in list(self.anchors.anchored):
            if self.anchors.confirmed(l2_hash) and l2_hash not in self.reclaimed:
                t = time.perf_counter()
                self.content.reclaim(l2_hash)
                self.timings["storage"] += time.perf_counter() - t
                self.reclaimed.add(l2_hash)
        for block, contents in self.early.pop(l1_hash, []):
            self._on_block(block, contents)
        w = rnd.winner
        if self.replaying:
            return rnd
        self.pegouts.advance()
        self.pegouts.tick()
        if w is not None and self.reg_ref == w.reg and w.commitment.parent == self.state.tip():
            self._produce(rnd)
        return rnd

    def pegin_view(self, txid: bytes, index: int) -> tuple[int, bytes, int, int, bytes] | None:
        """Rule ``peg-in`` as this node's L1 view sees it: (amount, account, confirmations,
        output kind, output payload)."""
        seen = self.pegins.get((txid, index))
        if seen is None:
            return None
        return seen[0], seen[1], self.l1_height - seen[2] + 1, seen[3], seen[4]

    def _known_pool(self, payload: bytes) -> bool:
        """Rule ``pegin-pool`` for the next block (block 0 records the genesis pool first)."""
        if self.state.pool(payload) is not None:
            return True
        return self.state.height < 0 and payload == self.state.current_pool()

    def _producer_txs(self) -> list[L2Tx]:
        """What a producer puts first in its block, signed with its own key: a ``PEG_IN``
        for each confirmed, not yet credited peg-in, then an ``EQUIVOCATION`` for each
        election whose producer this node caught signing two blocks and that is not
        forfeited yet (in the block right after the equivocated one, it also forfeits that
        block's subsidy)."""
        out = self._pegin_txs(self.state.account(self.account)[1])
        nonce = self.state.account(self.account)[1] + len(out)
        forfeited: set[bytes] = set()
        for evidence in self.evidence:
            try:
                election = check_equivocation(self.params.network_id, evidence)
            except L2Error:
                continue
            if election in forfeited or self.state.get("forfeit", election) is not None:
                continue
            forfeited.add(election)
            tx = sign_tx(self.sk, TxKind.EQUIVOCATION, nonce, evidence, self.params.network_id)
            out.append(tx)
            nonce += 1
        return out

    def _pegin_txs(self, nonce: int) -> list[L2Tx]:
        """The producer's PEG_IN transactions for confirmed, not yet credited peg-ins."""
        out: list[L2Tx] = []
        for (txid, index), (amount, account, height, kind, pool) in sorted(self.pegins.items()):
            outpoint = txid + index.to_bytes(4, "big")
            if self.l1_height - height + 1 < self.params.confirmations:
                continue
            if self.state.get("pegin", outpoint) is not None:
                continue
            if kind != OutputKind.PAY_TO_QUORUM or not self._known_pool(pool):
                continue  # rule ``pegin-pool``: not a known set's pool
            payload: list[CborValue] = [txid, index, account, amount]
            out.append(sign_tx(self.sk, TxKind.PEG_IN, nonce, payload, self.params.network_id))
            nonce += 1
        return out

    # --- executor -----------------------------------------------------------------------
    def execute(
        self, request: L2Tx, input_text: str, context: str = "", system_prompt: str = ""
    ) -> tuple[str, L2Tx]:
        """Immediate execution: the output and the completed, receipt-signed transaction."""
        model_id = self.check_request(request, input_text, context, system_prompt)
        assert self.generate is not None
        output = self.generate(model_id, input_text, context, system_prompt)
        return output, self.complete(
            request, InferenceContent(input_text, output, context, system_prompt)
        )

    def check_request(
        self, request: L2Tx, input_text: str, context: str = "", system_prompt: str = ""
    ) -> bytes:
        """What an executor checks before running a request (returns its model id): the
        model is served here and active, the request hash matches the input, the user's
        signature verifies, the nonce is unused and the user can pay the gas."""
        if request.kind is not TxKind.INFERENCE:
            raise MalformedInputError("not an inference request")
        model_id, rhash, gas = bytes(request.payload[0]), request.payload[1], request.payload[2]
        if model_id not in self.models:
            raise ModelNotServedError(model_id)
        if not is_active(self.state, model_id, self.state.height + 1):
            raise L2Error("inference-model-inactive", model_id.hex())
        if request_hash(model_id, input_text, context, system_prompt) != rhash:
            raise L2Error("inference-bad-request", "request hash does not match the input")
        request.verify_signature(self.params.network_id)
        balance, nonce = self.state.account(request.sender)
        if request.nonce < nonce:
            raise L2Error("tx-bad-nonce", f"nonce {request.nonce} already used")
        if balance < request.fee + int(gas):  # the executor is paid only if the user can pay
            raise L2Error("tx-insufficient-funds", "the user cannot pay this request's gas")
        return model_id

    def complete(
        self, request: L2Tx, content: InferenceContent, gas_used: int | None = None
    ) -> L2Tx:
        """Signs the receipt over ``content`` (the output this node produced for a checked
        request) and ``gas_used`` (default: the request's whole gas limit), stores the
        content and queues the completed transaction for gossip."""
        model_id, gas_limit = bytes(request.payload[0]), int(request.payload[2])
        if model_id not in self.models:
            raise ModelNotServedError(model_id)
        used = gas_limit if gas_used is None else gas_used
        if not 0 < used <= gas_limit:
            raise L2Error("inference-gas-over-limit", f"charges {used}, the limit is {gas_limit}")
        tx = with_receipt(request, self.sk, content.hash(), used, self.params.network_id)
        self._accept_tx(tx, content)
        self.outbox.append(L2TxMsg.make(tx, content))
        return tx

    # --- model routing (routing.py) ----------------------------------------------------------
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

        def eligible(key: bytes, model_id: bytes) -> bool:
            bonded = self.state.bond(account_of(key)) >= self.params.min_bond
            return bonded and is_active(self.state, model_id, height)

        return self.routes.routes(model, now, eligible, exclude=self.key)

    def submit(self, tx: L2Tx) -> None:
        """A non-inference transaction from a local client."""
        self._accept_tx(tx, None)
        self.outbox.append(L2TxMsg.make(tx, None))

    def _accept_tx(self, tx: L2Tx, content: InferenceContent | None) -> None:
        tx.verify_signature(self.params.network_id)
        if tx.kind is TxKind.INFERENCE:
            if content is None or content.hash() != tx.payload[4]:
                raise L2Error("inference-content-mismatch", "content does not hash to the tx")
            msg = receipt_message(
                self.params.network_id, tx.user_txid(), content.hash(), int(tx.payload[6])
            )
            if not _core.schnorr_verify(bytes(tx.payload[3]), msg, bytes(tx.payload[5])):
                raise L2Error("inference-bad-receipt", "executor signature does not verify")
            t = time.perf_counter()
            self.content.put(tx.txid(), content)
            self.timings["storage"] += time.perf_counter() - t
        self.mempool[tx.txid()] = tx

    # --- producer -----------------------------------------------------------------------
    def _produce(self, rnd: Round) -> None:
        qc = None
        if rewards.pending(self.state) is not None:
            qc = self.qcs.get(self.state.tip())
            if qc is None:
                log.info("elected but the tip has no QC yet; skipping this round")
                return
        pegs = self._producer_txs()  # first; the producer's own txs wait a block (nonces)
        candidates = pegs + sorted(
            (t for t in self.mempool.values() if not pegs or t.sender != self.account),
            key=lambda t: (t.sender, t.nonce),
        )
        block = build_block(
            self.state, self.sk, rnd, candidates, qc, rnd.height, pegins=self.pegin_view
        )
        contents = BlockContents(
            {t.txid(): c for t in block.txs if (c := self.content.get(t.txid())) is not None}
        )
        self.outbox.append(L2BlockMsg.make(block, contents))
        self._on_block(block, contents)

    # --- gossip -------------------------------------------------------------------------
    def receive(self, msg: Message) -> None:
        """Handles one gossip message; invalid ones are dropped (logged), never fatal."""
        try:
            if isinstance(msg, L2TxMsg):
                tx, content = msg.parse()
                if tx.txid() not in self.mempool:
                    self._accept_tx(tx, content)
            elif isinstance(msg, L2BlockMsg):
                block, contents = msg.parse()
                self._on_block(block, contents)
            elif isinstance(msg, L2VoteMsg):
                self._on_vote(msg.parse())
            elif isinstance(msg, L2PegSigMsg):
                self.pegouts.receive(*msg.parse())
                if len(self.pegsigs_accepted) > 100_000:
                    self.pegsigs_accepted.clear()
                self.pegsigs_accepted.add(msg.id())
            elif isinstance(msg, L2AdMsg):
                self.routes.offer(msg.parse(), int(time.time()))
        except FunaiError as exc:
            log.info("dropped %s: %s", type(msg).__name__, exc)

    def _on_block(self, block: L2Block, contents: BlockContents) -> None:
        arrived = time.perf_counter()
        bh = block.hash()
        if bh in self.blocks:
            return
        other = self.by_election.get(block.header.l1_block)
        if other is not None and other.header.producer_key == block.header.producer_key:
            # rule equivocation: keep the evidence for an EQUIVOCATION transaction (and
            # relay the second block, so that every producer can include the evidence)
            self.evidence_blocks.add(bh)
            self.evidence.append(
                [
                    other.header.serialize(),
                    other.signature,
                    block.header.serialize(),
                    block.signature,
                ]
            )
            return
        rnd = self.sortition.rounds.get(block.header.l1_block)
        if rnd is None:  # the L1 block has not reached us yet: keep the block until it does
            self.early.setdefault(block.header.l1_block, []).append((block, contents))
            return
        t0 = time.perf_counter()
        with self.state.atomic():  # the block, its state and its record commit together
            apply_block(self.state, block, rnd, pegins=self.pegin_view)
            t1 = time.perf_counter()
            self.conn.execute(
                "INSERT INTO l2_blocks (hash, height, data) VALUES (?, ?, ?)",
                (bh, block.header.height, block.serialize()),
            )
            self._save_payouts(bh)
            self.pegouts.note_block(block, rnd.height)
        t2 = time.perf_counter()
        self.timings["consensus"] += t1 - t0
        self.timings["storage"] += t2 - t1
        self.blocks[bh] = block
        self.by_election[block.header.l1_block] = block
        if block.parent_qc is not None and block.parent_qc.block_hash not in self.qcs:
            self._save_qc(block.parent_qc)  # verified by apply_block: the parent is final
        inference = [t for t in block.txs if t.kind is TxKind.INFERENCE]
        for t in block.txs:
            self.mempool.pop(t.txid(), None)
            self.tx_block[t.txid()] = bh
        t3 = time.perf_counter()
        for t in inference:
            c = contents.items.get(t.txid())
            if c is not None and self.verifier and self.content.get(t.txid()) is None:
                self.content.put(t.txid(), c, bh)
        self.content.assign([t.txid() for t in inference], bh)
        self.timings["storage"] += time.perf_counter() - t3
        stored = self.votes.get(bh, [])
        if stored:
            qc = try_form_qc(self.params.network_id, bh, self._voters(), stored)
            if qc is not None:
                self._save_qc(qc)
        if self.verifier and self.key in self._voters() and bh not in self.voted:
            self.voted.add(bh)
            t4 = time.perf_counter()
            verdicts = [self._judge(t, contents.items.get(t.txid())) for t in inference]
            self.timings["judging"] += time.perf_counter() - t4
            vote = make_vote(self.sk, self.params.network_id, bh, verdicts)
            if self.on_vote is not None:
                self.on_vote(time.perf_counter() - arrived)
            self.outbox.append(L2VoteMsg.make(vote))
            self._on_vote(vote)

    def _voters(self) -> list[bytes]:
        pend = rewards.pending(self.state)
        return [] if pend is None else pend[3]

    def _judge(self, tx: L2Tx, content: InferenceContent | None) -> Verdict:
        if content is None or content.hash() != tx.payload[4]:
            return Verdict(False)
        rhash = request_hash(
            bytes(tx.payload[0]), content.input, content.context, content.system_prompt
        )
        if rhash != tx.payload[1] or self.judge is None:
            return Verdict(False)
        return self.judge(bytes(tx.payload[0]), content)

    def _on_vote(self, vote: Vote) -> None:
        bh = vote.block_hash
        votes = self.votes.setdefault(bh, [])
        if len(votes) >= 4 * self.params.verifier_count:
            return  # bounded: a block has at most verifier_count honest voters
        if any(v.verifier_key == vote.verifier_key for v in votes):
            return
        if not vote.verify(self.params.network_id):
            raise L2Error("vote-bad-signature", vote.verifier_key.hex())
        votes.append(vote)  # kept after the QC too: the record of every verdict
        if bh == self.state.tip() and bh not in self.qcs:
            qc = try_form_qc(self.params.network_id, bh, self._voters(), votes)
            if qc is not None:
                self._save_qc(qc)

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
        amount, kind, payout = int(tx.payload[0]), int(tx.payload[1]), bytes(tx.payload[2])
        out: dict[str, CborValue] = {
            "txid": txid,
            "amount": amount,
            "fee": self.params.pegout_fee,
            "l1_value": amount - self.params.pegout_fee,
            "payout_kind": kind,
            "payout": payout,
            "l2_block": bh,
            "l2_height": block.header.height,
            "finalized": bh in self.qcs,
        }
        out.update(self.pegouts.status(txid))
        return out

    # --- queries --------------------------------------------------------------------------
    def finalized(self, block_hash: bytes) -> bool:
        return block_hash in self.qcs

    def confirmed(self, block_hash: bytes) -> bool:
        return self.anchors.confirmed(block_hash)

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
