"""Rule ``commitment``: a bid for the next L2 block (DESIGN 4.2).

An 80-byte data output cannot hold the header, the parent and the 80-byte VRF proof, so a
commitment is **two consecutive data outputs** of one L1 transaction:

* A (76 bytes): ``"FAI2" || "C" || l2_parent (32) || RegRef (7) || Gamma (32)``
* B (53 bytes): ``"FAI2" || "c" || c (16) || s (32)``

(``Gamma || c || s`` is the RFC 9381 proof over the current sortition seed.) The bid is the
sum of the transaction's outputs paying the current verifiers' L1 payout addresses; rule
``commit-even-split``: every verifier must receive the same, positive amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from funai.errors import MalformedInputError
from funai.layer2.params import MAGIC
from funai.layer2.registration import RegRef
from funai.ledger.tx import OutputKind, Transaction, TxOut

__all__ = ["Commitment", "bid_from", "bid_of", "find_commitments"]

TAG_A = b"C"
TAG_B = b"c"


@dataclass(frozen=True, slots=True)
class Commitment:
    """One bid: what the two data outputs say."""

    parent: bytes  # L2 block the winner builds on
    reg: RegRef
    proof: bytes  # 80-byte ECVRF proof over the current seed

    def outputs(self) -> list[TxOut]:
        if len(self.parent) != 32 or len(self.proof) != 80:
            raise MalformedInputError("commitment needs a 32-byte parent and 80-byte proof")
        a = MAGIC + TAG_A + self.parent + self.reg.encode() + self.proof[:32]
        b = MAGIC + TAG_B + self.proof[32:]
        return [TxOut(int(OutputKind.DATA), 0, a), TxOut(int(OutputKind.DATA), 0, b)]


def find_commitments(tx: Transaction) -> list[Commitment]:
    """Every well-formed commitment in ``tx`` (malformed ones raise MalformedInputError)."""
    found: list[Commitment] = []
    outs = tx.outputs
    for i, out in enumerate(outs):
        a = out.payload  # an L1 output's bytes
        if out.kind != OutputKind.DATA or a[:5] != MAGIC + TAG_A:
            continue
        if len(a) != 76:
            raise MalformedInputError("commitment part A must be 76 bytes")
        if i + 1 >= len(outs) or outs[i + 1].kind != OutputKind.DATA:
            raise MalformedInputError("commitment part B must follow part A")
        b = outs[i + 1].payload
        if b[:5] != MAGIC + TAG_B or len(b) != 53:
            raise MalformedInputError("malformed commitment part B")
        found.append(Commitment(a[5:37], RegRef.decode(a[37:44]), a[44:76] + b[5:53]))
    return found


def bid_of(tx: Transaction, payouts: Sequence[tuple[int, bytes]]) -> int:
    """Rule ``commit-even-split``: the bid, or 0 when the split is not even or incomplete."""
    paid: dict[tuple[int, bytes], int] = {}
    for out in tx.outputs:
        key = (out.kind, out.payload)
        paid[key] = paid.get(key, 0) + out.value
    return bid_from(paid, payouts)


def bid_from(paid: dict[tuple[int, bytes], int], payouts: Sequence[tuple[int, bytes]]) -> int:
    """:func:`bid_of` from what a transaction pays each output (``(kind, payload) ->
    value``): every payout gets the same positive amount, and the bid is their sum."""
    targets = set(payouts)
    if not targets:
        return 0
    amounts = {paid.get(p, 0) for p in targets}
    if len(amounts) != 1 or 0 in amounts:
        return 0
    return sum(paid.get(p, 0) for p in targets)
