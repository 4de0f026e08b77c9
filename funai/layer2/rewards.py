"""Rewards and penalties (DESIGN 4.5-4.6), applied when a block's quorum certificate settles.

A block's rewards cannot be in its own state root (the votes come after it), so block
``N``'s outcome is settled at the start of block ``N+1``, which carries ``N``'s QC:

* Rule ``producer-subsidy``: the producer of ``N`` receives ``l2_subsidy(N)`` (3.5 FAI,
  halving every ``halving_interval`` blocks), minted; not when its election was forfeited
  (rule ``equivocation``).
* Rule ``executor-gas``: for each accepted inference transaction the escrowed gas goes to
  its executor.
* Rule ``executor-penalty``: for each rejected one the gas returns to the user and
  ``min(bond, bond_penalty)`` moves from the executor's bond to the user.
* The L1 bids were paid to the verifiers on L1 by the commitments themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from funai.layer2.errors import L2Error
from funai.layer2.state import L2State
from funai.layer2.votes import QuorumCertificate
from funai.ledger.supply import l2_subsidy

__all__ = ["Pending", "pending", "record_pending", "settle"]


def record_pending(
    state: L2State,
    height: int,
    producer: bytes,
    l1_block: bytes,
    inference_txids: list[bytes],
) -> None:
    """Remembers what block ``height`` (the new tip) settles later, with the verifier set
    that votes on it. (The block's own hash is not in the record, its state root covers the
    record; the QC is checked against the tip hash when it settles.)"""
    keys = [v.key for v in state.verifiers()]
    state.put("pending", b"", [height, producer, l1_block, keys, inference_txids])


@dataclass(frozen=True, slots=True)
class Pending:
    """The block awaiting settlement (what :func:`record_pending` kept)."""

    height: int
    producer: bytes  # the producer's account
    l1_block: bytes  # the L1 block of its election
    verifier_keys: tuple[bytes, ...]  # the set that votes on it
    inference_txids: tuple[bytes, ...]  # its inference transactions, in block order


def pending(state: L2State) -> Pending | None:
    """The block awaiting settlement, or None."""
    v = state.get("pending", b"")
    if v is None:
        return None
    return Pending(
        int(v[0]),
        bytes(v[1]),
        bytes(v[2]),
        tuple(bytes(k) for k in v[3]),
        tuple(bytes(t) for t in v[4]),
    )


def settle(state: L2State, qc: QuorumCertificate | None) -> dict[str, int]:
    """Settles the pending block with its QC; returns totals (subsidy, gas, penalties)."""
    pend = pending(state)
    if pend is None:
        if qc is not None:
            raise L2Error("block-unexpected-qc", "nothing to settle")
        return {}
    block_hash = state.tip()
    if qc is None:
        raise L2Error("block-missing-parent-qc", "the parent's quorum certificate is required")
    txids = pend.inference_txids
    qc.verify(state.params.network_id, block_hash, pend.verifier_keys, len(txids))
    out = {"subsidy": 0, "gas": 0, "penalty": 0, "accepted": 0, "rejected": 0}
    if state.get("forfeit", pend.l1_block) is None:
        amount = l2_subsidy(pend.height, state.params.halving_interval)
        state.credit(pend.producer, amount)
        state.add_meta("minted", amount)
        out["subsidy"] = amount
    for txid, accept in zip(txids, qc.decision, strict=True):
        user, executor, gas = state.get("escrow", txid)
        state.put("escrow", txid, None)
        if accept:
            state.credit(bytes(executor), int(gas))
            out["gas"] += int(gas)
            out["accepted"] += 1
        else:
            state.credit(bytes(user), int(gas))
            bond = state.bond(bytes(executor))
            penalty = min(bond, state.params.bond_penalty)
            state.set_bond(bytes(executor), bond - penalty)
            state.credit(bytes(user), penalty)
            out["penalty"] += penalty
            out["rejected"] += 1
    state.put("pending", b"", None)
    return out
