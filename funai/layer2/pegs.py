"""Moving FAI between the layers (DESIGN 4.8).

Rule ``peg-in``: an L1 transaction that pays an output to a peg pool (an L1 pay-to-quorum
output, kind 3, of a verifier set's keys: :meth:`L2Params.genesis_pool`, the ``pool`` of
the L2 status) and carries the data output ``"FAI2" || "I" || l2_account (20)`` (25 bytes)
locks that output's value; once it has ``confirmations`` L1 confirmations the block
producer includes a ``PEG_IN`` transaction that credits the L2 account (once per L1
outpoint; rule ``pegin-pool``: only an output paying the pool of a set the L2 state knows).
Rule ``peg-out``: a ``PEG_OUT`` L2 transaction burns L2 balance and records ``[amount,
payout]``; the verifier quorum then signs the L1 payment from the pool
(:mod:`funai.layer2.pegout`).
"""

from __future__ import annotations

from dataclasses import dataclass

from funai.errors import MalformedInputError
from funai.layer2.params import MAGIC
from funai.ledger.tx import OutputKind, Transaction, TxOut

__all__ = ["PegIn", "find_pegins", "pegin_output"]

TAG = b"I"


@dataclass(frozen=True, slots=True)
class PegIn:
    l1_txid: bytes
    index: int
    amount: int
    l2_account: bytes
    kind: int = int(OutputKind.PAY_TO_QUORUM)  # the L1 output it locks (the pool's)
    payload: bytes = b""


def pegin_output(l2_account: bytes) -> TxOut:
    if len(l2_account) != 20:
        raise MalformedInputError("an L2 account is 20 bytes")
    return TxOut(int(OutputKind.DATA), 0, MAGIC + TAG + l2_account)


def find_pegins(tx: Transaction, pool: tuple[int, bytes] | None = None) -> list[PegIn]:
    """The outputs of ``tx`` that a peg-in data output credits to its account: those paying
    ``pool`` (kind, payload), or with ``pool`` None every pay-to-quorum output (which pool
    it pays is checked by rule ``pegin-pool``)."""
    account = None
    for o in tx.outputs:
        data = o.payload  # an L1 output's bytes
        if o.kind == OutputKind.DATA and data[:5] == MAGIC + TAG and len(data) == 25:
            account = data[5:]
            break
    if account is None:
        return []
    return [
        PegIn(tx.txid(), i, o.value, account, o.kind, o.payload)
        for i, o in enumerate(tx.outputs)
        if o.value > 0
        and (
            (o.kind, o.payload) == pool if pool is not None else o.kind == OutputKind.PAY_TO_QUORUM
        )
    ]
