"""Applying and building L2 blocks (DESIGN 4.4): every block rule by name.

Rule order for block ``N`` (one SQLite transaction; any failure changes nothing):

1. ``block-parent``/``block-height``: builds on the current tip at height tip + 1.
2. ``block-election``: the sortition round of ``l1_block`` has a winner whose commitment
   names this parent, whose proof is the header's ``vrf_proof`` and whose registration's L2
   account is ``HASH160(producer_key)``; ``block-forfeit``: the election was not forfeited.
3. ``block-bad-signature``; ``block-too-many-txs``; ``block-too-many-inferences``
   (``max_block_inferences``: the judging work of one block is bounded); ``block-tx-root``;
   ``block-qc-hash`` (the header commits to the parent QC it carries).
4. every transaction (:func:`execution.apply_tx`); a failing one makes the block invalid
   (``block-bad-tx``, the detail names the transaction's rule).
5. settle the parent (:func:`rewards.settle` with ``parent_qc``), after the transactions so
   that equivocation evidence in this block forfeits the parent's subsidy.
6. ``verifier-set`` at epoch boundaries (``height % epoch_length == 0``) and its peg pool
   (rule ``pool``, also recorded for the genesis set before block 0's transactions), then
   ``unbonding-release``.
7. record the block as pending settlement; ``block-state-root`` must match.
"""

from __future__ import annotations

from collections.abc import Sequence

from funai import _core
from funai.layer2 import rewards
from funai.layer2.block import L2Block, L2Header, block_sig_message, qc_hash, tx_root
from funai.layer2.errors import L2Error
from funai.layer2.execution import BlockContext, BurnView, PegInView, apply_tx
from funai.layer2.params import L2Params
from funai.layer2.sortition import Round
from funai.layer2.state import L2State
from funai.layer2.transactions import L2Tx, TxKind, account_of
from funai.layer2.votes import Elected, QuorumCertificate

__all__ = ["apply_block", "build_block", "check_block_shape"]


class _RollbackError(Exception):
    pass


def _check_election(state: L2State, header: L2Header, rnd: Round | None) -> None:
    if rnd is None or rnd.l1_hash != header.l1_block or rnd.winner is None:
        raise L2Error("block-election", "no winner in the electing L1 block")
    w = rnd.winner
    if w.commitment.parent != header.parent:
        raise L2Error("block-election", "the winning commitment names another parent")
    if w.commitment.proof != header.vrf_proof:
        raise L2Error("block-election", "vrf_proof is not the winning commitment's")
    if account_of(header.producer_key) != w.registration.l2_account:
        raise L2Error("block-election", "producer is not the elected registration")
    if header.time != rnd.time:
        raise L2Error("block-time", f"time {header.time} is not its election's {rnd.time}")
    if state.get("forfeit", header.l1_block) is not None:
        raise L2Error("block-forfeit", "this election was forfeited by equivocation")


def _run(
    state: L2State,
    header: L2Header,
    txs: Sequence[L2Tx],
    parent_qc: QuorumCertificate | None,
    pegins: PegInView | None,
    skip_bad: bool,
    elected: Elected | None = None,
    burn: BurnView | None = None,
    burn_height: int = 0,
) -> list[L2Tx]:
    ctx = BlockContext(
        header.height,
        account_of(header.producer_key),
        burn_height=burn_height,
        time=header.time,
        pegins=pegins,
        elected=elected,
        burn=burn,
    )
    if header.height == 0:
        state.record_pool(0)  # rule ``pool``: the genesis set's peg pool
    applied: list[L2Tx] = []
    inferences = 0
    for tx in txs:
        if tx.kind is TxKind.INFERENCE:
            if skip_bad and inferences >= state.params.max_block_inferences:
                continue
            inferences += 1
        try:
            apply_tx(state, tx, ctx)
        except L2Error as exc:
            if skip_bad:
                continue
            raise L2Error("block-bad-tx", f"{tx.txid().hex()}: {exc}") from None
        applied.append(tx)
    rewards.settle(state, parent_qc)
    if header.height % state.params.epoch_length == 0:
        state.recompute_verifier_set()
        state.record_pool(header.height)
    state.release_unbonded(header.height)
    rewards.record_pending(
        state,
        header.height,
        ctx.producer,
        header.l1_block,
        [t.txid() for t in applied if t.kind is TxKind.INFERENCE],
    )
    return applied


def check_block_shape(params: L2Params, block: L2Block) -> None:
    """The rules that need no state: ``block-too-many-txs``,
    ``block-too-many-inferences``, ``block-tx-root``, ``block-qc-hash``."""
    h = block.header
    if len(block.txs) > params.max_block_txs:
        raise L2Error("block-too-many-txs", str(len(block.txs)))
    if sum(1 for t in block.txs if t.kind is TxKind.INFERENCE) > params.max_block_inferences:
        raise L2Error("block-too-many-inferences", f"more than {params.max_block_inferences}")
    if tx_root(block.txs) != h.tx_root:
        raise L2Error("block-tx-root", "tx_root does not match the transactions")
    if qc_hash(block.parent_qc) != h.qc_hash:
        raise L2Error("block-qc-hash", "qc_hash does not match the parent QC")


def apply_block(
    state: L2State,
    block: L2Block,
    rnd: Round | None,
    pegins: PegInView | None = None,
    elected: Elected | None = None,
    burn: BurnView | None = None,
) -> None:
    """Validates and applies ``block``, or raises L2Error with nothing changed. ``pegins``
    sees L1 as of the block's electing L1 block (rule ``pegin-as-of-election``);
    ``elected`` names the producers of elections on its chain (rule
    ``equivocation-not-elected``); ``burn`` is the L1 chain its contracts read (rule
    ``clarity-burn-view``)."""
    h = block.header
    if h.parent != state.tip() or h.height != state.height + 1:
        raise L2Error("block-parent", f"expected height {state.height + 1} on {state.tip().hex()}")
    _check_election(state, h, rnd)
    h.verify_signature(state.params.network_id, block.signature)
    check_block_shape(state.params, block)
    with state.atomic():
        _run(
            state,
            h,
            block.txs,
            block.parent_qc,
            pegins,
            False,
            elected,
            burn,
            -1 if rnd is None else rnd.height,
        )
        root = state.state_root()
        if root != h.state_root:
            raise L2Error("block-state-root", f"{root.hex()} != {h.state_root.hex()}")
        block_hash = block.hash()
        state.set_tip(h.height, block_hash)
        state.record_header(h.height, block_hash, -1 if rnd is None else rnd.height, h.serialize())


def build_block(
    state: L2State,
    producer_sk: bytes,
    rnd: Round,
    candidates: Sequence[L2Tx],
    parent_qc: QuorumCertificate | None,
    pegins: PegInView | None = None,
    elected: Elected | None = None,
    burn: BurnView | None = None,
) -> L2Block:
    """The elected producer's block: valid candidates in order, state root computed by a
    dry run that is rolled back (the state changes when the block is applied); its time is
    its election's L1 block time (rule ``block-time``)."""
    if rnd.winner is None:
        raise L2Error("block-election", "this round has no winner")
    key = _core.schnorr_public_key(producer_sk)
    draft = L2Header(
        state.height + 1,
        state.tip(),
        rnd.l1_hash,
        rnd.winner.commitment.proof,
        key,
        bytes(32),
        bytes(32),
        rnd.time,
        qc_hash(parent_qc),
    )
    applied: list[L2Tx] = []
    root = bytes(32)
    try:
        with state.atomic():
            applied = _run(
                state,
                draft,
                candidates[: state.params.max_block_txs],
                parent_qc,
                pegins,
                True,
                elected,
                burn,
                rnd.height,
            )
            root = state.state_root()
            raise _RollbackError
    except _RollbackError:
        pass
    header = _finish(draft, applied, root)
    sig = _core.schnorr_sign(
        producer_sk, block_sig_message(state.params.network_id, header.hash()), bytes(32)
    )
    return L2Block(header, sig, tuple(applied), parent_qc)


def _finish(draft: L2Header, txs: list[L2Tx], root: bytes) -> L2Header:
    return L2Header(
        draft.height,
        draft.parent,
        draft.l1_block,
        draft.vrf_proof,
        draft.producer_key,
        tx_root(txs),
        root,
        draft.time,
        draft.qc_hash,
    )
