"""Verifier votes and quorum certificates (DESIGN 4.5); the ``Elected`` view that
equivocation evidence is checked against (the check is :mod:`funai.layer2.equivocation`).

Vote: ``[block_hash, verifier_key, verdicts, signature]``; one verdict per inference
transaction of the block, in block order: ``[accept (0/1), p_yes_ppm, loglik_milli]``
(the judge's yes-probability in millionths and teacher-forced log-likelihood in
thousandths, integers). The verifier signs
``tagged_hash("FAI2/vote", encode([network_id, block_hash, verdicts]))``.

Rule ``quorum-certificate``: a QC is ``[block_hash, decision, [vote, ...]]`` where
``decision`` is the accept bits; it is valid when at least ``quorum`` (a majority of the
block's verifier set: 3 of 5) votes from distinct members carry valid signatures and
exactly the decision's accept bits ("matching" votes). With at most 2 of 5 dishonest
verifiers no other decision can reach 3 matching votes.

Rule ``equivocation``: two headers signed by the same producer for the same election
(``l1_block``) with different hashes prove equivocation (``equivocation-not-elected``: the
signer must be the producer that election chose); the evidence transaction forfeits
that election: no block of it settles and the producer gets no subsidy (its L1 bid, already
paid to the verifiers, is lost).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from funai import _core
from funai.errors import MalformedInputError
from funai.layer2.errors import L2Error
from funai.ledger.encoding import CborValue, encode
from funai.ledger.tx import tagged_hash

__all__ = [
    "Elected",
    "QuorumCertificate",
    "Verdict",
    "Vote",
    "make_vote",
    "try_form_qc",
]


@dataclass(frozen=True, slots=True)
class Verdict:
    accept: bool
    p_yes_ppm: int = 0
    loglik_milli: int = 0

    def to_cbor(self) -> list[CborValue]:
        return [1 if self.accept else 0, self.p_yes_ppm, self.loglik_milli]

    @classmethod
    def from_cbor(cls, v: CborValue) -> Verdict:
        if (
            not isinstance(v, list)
            or len(v) != 3
            or v[0] not in (0, 1)
            or not isinstance(v[1], int)
            or not 0 <= v[1] <= 1_000_000
            or not isinstance(v[2], int)
        ):
            raise MalformedInputError("a verdict is [accept, p_yes_ppm, loglik_milli]")
        return cls(v[0] == 1, v[1], v[2])


def vote_message(network_id: bytes, block_hash: bytes, verdicts: Sequence[Verdict]) -> bytes:
    return tagged_hash(
        b"FAI2/vote", encode([network_id, block_hash, [v.to_cbor() for v in verdicts]])
    )


@dataclass(frozen=True)
class Vote:
    block_hash: bytes
    verifier_key: bytes
    verdicts: tuple[Verdict, ...]
    signature: bytes

    @property
    def decision(self) -> tuple[bool, ...]:
        return tuple(v.accept for v in self.verdicts)

    def verify(self, network_id: bytes) -> bool:
        return len(self.signature) == 64 and _core.schnorr_verify(
            self.verifier_key,
            vote_message(network_id, self.block_hash, self.verdicts),
            self.signature,
        )

    def to_cbor(self) -> list[CborValue]:
        return [
            self.block_hash,
            self.verifier_key,
            [v.to_cbor() for v in self.verdicts],
            self.signature,
        ]

    @classmethod
    def from_cbor(cls, v: CborValue) -> Vote:
        if not isinstance(v, list) or len(v) != 4 or not isinstance(v[2], list):
            raise MalformedInputError("a vote is [block_hash, key, verdicts, signature]")
        bh, key, verdicts, sig = v
        if not (
            isinstance(bh, bytes)
            and len(bh) == 32
            and isinstance(key, bytes)
            and len(key) == 32
            and isinstance(sig, bytes)
            and len(sig) == 64
        ):
            raise MalformedInputError("malformed vote fields")
        return cls(bh, key, tuple(Verdict.from_cbor(x) for x in verdicts), sig)


def make_vote(sk: bytes, network_id: bytes, block_hash: bytes, verdicts: Sequence[Verdict]) -> Vote:
    sig = _core.schnorr_sign(sk, vote_message(network_id, block_hash, verdicts), bytes(32))
    return Vote(block_hash, _core.schnorr_public_key(sk), tuple(verdicts), sig)


@dataclass(frozen=True)
class QuorumCertificate:
    block_hash: bytes
    decision: tuple[bool, ...]
    votes: tuple[Vote, ...]

    def to_cbor(self) -> list[CborValue]:
        return [
            self.block_hash,
            [1 if d else 0 for d in self.decision],
            [v.to_cbor() for v in self.votes],
        ]

    @classmethod
    def from_cbor(cls, v: CborValue) -> QuorumCertificate:
        if (
            not isinstance(v, list)
            or len(v) != 3
            or not isinstance(v[1], list)
            or not (isinstance(v[2], list) and isinstance(v[0], bytes))
        ):
            raise MalformedInputError("a QC is [block_hash, decision, votes]")
        if any(d not in (0, 1) for d in v[1]):
            raise MalformedInputError("QC decision bits are 0/1")
        return cls(v[0], tuple(d == 1 for d in v[1]), tuple(Vote.from_cbor(x) for x in v[2]))

    def verify(
        self, network_id: bytes, block_hash: bytes, verifier_keys: Sequence[bytes], n_inference: int
    ) -> None:
        """Rule ``quorum-certificate``; raises L2Error naming the failed check."""
        if self.block_hash != block_hash:
            raise L2Error("qc-wrong-block", "QC certifies another block")
        if len(self.decision) != n_inference:
            raise L2Error("qc-bad-decision", "one decision bit per inference transaction")
        members = set(verifier_keys)
        signers: set[bytes] = set()
        for vote in self.votes:
            if vote.verifier_key not in members:
                raise L2Error("qc-not-verifier", vote.verifier_key.hex())
            if vote.verifier_key in signers:
                raise L2Error("qc-duplicate-vote", vote.verifier_key.hex())
            if vote.block_hash != block_hash or vote.decision != self.decision:
                raise L2Error("qc-mismatched-vote", "votes must match the decision")
            if not vote.verify(network_id):
                raise L2Error("qc-bad-signature", vote.verifier_key.hex())
            signers.add(vote.verifier_key)
        if len(signers) < len(members) // 2 + 1:
            raise L2Error("qc-no-quorum", f"{len(signers)} of {len(members)} votes")


def try_form_qc(
    network_id: bytes, block_hash: bytes, verifier_keys: Sequence[bytes], votes: Sequence[Vote]
) -> QuorumCertificate | None:
    """A QC from the first decision that gathers a quorum of valid, distinct votes."""
    members = set(verifier_keys)
    need = len(members) // 2 + 1
    groups: dict[tuple[bool, ...], dict[bytes, Vote]] = {}
    voted: set[bytes] = set()
    for vote in votes:
        if (
            vote.block_hash != block_hash
            or vote.verifier_key not in members
            or vote.verifier_key in voted
            or not vote.verify(network_id)
        ):
            continue
        voted.add(vote.verifier_key)
        group = groups.setdefault(vote.decision, {})
        group[vote.verifier_key] = vote
        if len(group) >= need:
            chosen = tuple(group[k] for k in sorted(group))
            return QuorumCertificate(block_hash, vote.decision, chosen)
    return None


#: ``l1_block -> (producer account, vrf_proof)`` of the elected producer of that election on
#: the chain being validated, or None when there was no such election
Elected = Callable[[bytes], "tuple[bytes, bytes] | None"]
