"""VRF sortition, one round per L1 block (DESIGN 4.3), integers only.

For L1 block ``B`` (height ``h``, parent ``P``) with the parent's seed ``seed(P)``:

1. Rule ``commit-registration``: a commitment refers to a registration mined in an earlier
   block of the same branch; rule ``commit-vrf``: its proof verifies under that
   registration's VRF key over ``alpha = seed(P)``; rule ``commit-even-split``: it pays
   every current verifier the same positive amount (the bid); rule ``commit-once``: one
   commitment per registration per block (the first counts); rule ``commit-one-per-tx``:
   one commitment per L1 transaction (the first in output order; the others are ignored, so
   one payment never weighs twice). Invalid commitments are
   ignored (they cannot make the block invalid: L1 does not know L2 rules).
2. Rule ``bid-damping`` (Stacks): weight = ``min(bid, median(bids of that registration in
   the last median_window blocks including B, 0 where it did not bid))``; the median of
   an even count is the floor of the mean of the two middle values. When every weight is 0
   (a new network), the raw bids are the weights.
3. Rule ``sortition-hash``: ``SH = SHA-256("FAI2/sortition" || seed(P) || hash(B))`` as a
   big-endian integer; ``point = SH * total_weight >> 256``; the winner is the commitment
   whose cumulative range ``[start, start + weight)`` (in block order) holds ``point``.
4. Rule ``seed-chain``: ``seed(B) = SHA-256("FAI2/seed" || beta_winner)`` with the winner's
   VRF output, or ``SHA-256("FAI2/seed-empty" || seed(P) || hash(B))`` without a winner.
   The seed before the first round is ``SHA-256("FAI2/seed0" || network_id)``.

Results are stored per L1 block hash, so an L1 reorg simply runs the new branch's blocks
(:meth:`Sortition.process_block`) from the fork point; the old branch's rounds stay keyed by
their own hashes and are no longer on the active chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from funai import _core
from funai.errors import FunaiError, MalformedInputError
from funai.hashing import sha256
from funai.layer2.commitment import Commitment, bid_from, find_commitments
from funai.layer2.registration import Registration, RegRef
from funai.ledger.tx import OutputKind, Transaction

__all__ = ["L1Scan", "PayoutsFor", "Round", "Sortition", "Winner", "median", "pick"]

#: L2 parent block hash -> the payout set commitments building on it must pay (or None).
PayoutsFor = Callable[[bytes], "Sequence[tuple[int, bytes]] | None"]


@dataclass(frozen=True, slots=True)
class Winner:
    """The elected inference node of one round."""

    reg: RegRef
    registration: Registration
    commitment: Commitment
    bid: int
    weight: int
    vrf_output: bytes


@dataclass
class Round:
    """What one L1 block decided."""

    l1_hash: bytes
    prev_hash: bytes
    height: int
    seed: bytes  # the seed after this block
    prev_seed: bytes
    winner: Winner | None
    bids: dict[RegRef, int] = field(default_factory=dict)
    registrations: dict[RegRef, Registration] = field(default_factory=dict)
    total_bids: int = 0
    weights: dict[RegRef, int] = field(default_factory=dict)
    missing_parents: set[bytes] = field(default_factory=set)
    scan: L1Scan | None = field(default=None, repr=False, compare=False)
    #: the L1 block's header time (rule ``block-time``: the time of the L2 block it elects)
    time: int = 0


@dataclass(frozen=True)
class L1Scan:
    """The sortition's view of one L1 block: its registrations (by where they were mined)
    and, per transaction holding a commitment, that commitment and what the transaction
    pays to each non-data output (``(kind, payload) -> value``)."""

    registrations: dict[RegRef, Registration]
    commitments: list[tuple[Commitment, dict[tuple[int, bytes], int]]]


def median(values: Sequence[int]) -> int:
    """Integer median (floor of the mean of the two middles for an even count)."""
    s = sorted(values)
    n = len(s)
    if n == 0:
        return 0
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) // 2


def pick(sh: bytes, weights: Sequence[int]) -> int | None:
    """Rule ``sortition-hash``: the index whose cumulative range holds the point."""
    total = sum(weights)
    if total <= 0:
        return None
    point = (int.from_bytes(sh, "big") * total) >> 256
    acc = 0
    for i, w in enumerate(weights):
        acc += w
        if point < acc:
            return i
    raise AssertionError("unreachable: point < total")


class Sortition:
    """Sortition rounds of the L1 block tree, keyed by L1 block hash."""

    def __init__(self, network_id: bytes, median_window: int = 6) -> None:
        self.seed0 = sha256(b"FAI2/seed0" + network_id)
        self.median_window = median_window
        self.rounds: dict[bytes, Round] = {}

    def seed_after(self, l1_hash: bytes) -> bytes:
        """The seed a commitment in a child of ``l1_hash`` must prove over."""
        r = self.rounds.get(l1_hash)
        return self.seed0 if r is None else r.seed

    def _ancestors(self, l1_hash: bytes, limit: int) -> list[Round]:
        out: list[Round] = []
        r = self.rounds.get(l1_hash)
        while r is not None and len(out) < limit:
            out.append(r)
            r = self.rounds.get(r.prev_hash)
        return out

    def _find_registration(self, prev_hash: bytes, ref: RegRef) -> Registration | None:
        r = self.rounds.get(prev_hash)
        while r is not None and r.height >= ref.l1_height:
            if r.height == ref.l1_height:
                return r.registrations.get(ref)
            r = self.rounds.get(r.prev_hash)
        return None

    @staticmethod
    def scan(height: int, txs: Sequence[Transaction]) -> L1Scan:
        """What one L1 block says to the sortition, kept so that its round can be re-run
        (rule ``commit-one-per-tx``: only the first commitment of a transaction counts, so
        one payment is never counted twice)."""
        regs: dict[RegRef, Registration] = {}
        commits: list[tuple[Commitment, dict[tuple[int, bytes], int]]] = []
        for ti, tx in enumerate(txs):
            for oi, out in enumerate(tx.outputs):
                if out.kind != OutputKind.DATA:
                    continue
                try:
                    reg = Registration.parse(out.payload)
                except MalformedInputError:
                    continue
                if reg is not None:
                    regs[RegRef(height, ti, oi)] = reg
            try:
                found = find_commitments(tx)
            except MalformedInputError:
                continue
            if found:
                paid: dict[tuple[int, bytes], int] = {}
                for out in tx.outputs:
                    if out.kind != OutputKind.DATA and out.value > 0:
                        paid[(out.kind, out.payload)] = paid.get((out.kind, out.payload), 0) + (
                            out.value
                        )
                commits.append((found[0], paid))
        return L1Scan(regs, commits)

    def process_block(
        self,
        l1_hash: bytes,
        prev_hash: bytes,
        height: int,
        txs: Sequence[Transaction] | L1Scan,
        payouts: Sequence[tuple[int, bytes]] | PayoutsFor,
        time: int = 0,
    ) -> Round:
        """Runs (or re-runs) the round of one L1 block; deterministic in its inputs.

        ``payouts`` is the verifier payout set, or (rule ``commit-payout-set``) a function
        from a commitment's L2 parent to the payout set of the verifiers who vote on that
        parent's child (None when this node does not have the parent yet: the commitment
        is skipped, the parent is listed in ``Round.missing_parents``, and the round and
        its descendants are re-run once the parent arrives: :meth:`rerun`)."""
        scan = txs if isinstance(txs, L1Scan) else self.scan(height, txs)
        prev_seed = self.seed_after(prev_hash)
        missing: set[bytes] = set()
        commits: list[tuple[RegRef, Registration, Commitment, int, bytes]] = []
        seen: set[RegRef] = set()
        for c, paid in scan.commitments:
            pay = payouts(c.parent) if callable(payouts) else payouts
            if pay is None:
                missing.add(c.parent)
                continue
            bid = bid_from(paid, pay)
            if bid <= 0 or c.reg in seen:
                continue  # rules commit-even-split, commit-once
            registration = self._find_registration(prev_hash, c.reg)
            if registration is None:
                continue  # rule commit-registration
            try:
                beta = _core.vrf_verify(registration.vrf_key, prev_seed, c.proof)
            except FunaiError:
                continue  # rule commit-vrf
            seen.add(c.reg)
            commits.append((c.reg, registration, c, bid, beta))
        history = self._ancestors(prev_hash, self.median_window - 1)
        weights = []
        for ref, _, _, bid, _ in commits:
            window = [bid] + [r.bids.get(ref, 0) for r in history]
            weights.append(min(bid, median(window)))
        if commits and sum(weights) == 0:
            weights = [c[3] for c in commits]
        sh = sha256(b"FAI2/sortition" + prev_seed + l1_hash)
        idx = pick(sh, weights)
        winner = None
        if idx is not None:
            ref, registration, c, bid, beta = commits[idx]
            winner = Winner(ref, registration, c, bid, weights[idx], beta)
            seed = sha256(b"FAI2/seed" + beta)
        else:
            seed = sha256(b"FAI2/seed-empty" + prev_seed + l1_hash)
        rnd = Round(
            l1_hash,
            prev_hash,
            height,
            seed,
            prev_seed,
            winner,
            {c[0]: c[3] for c in commits},
            dict(scan.registrations),
            sum(c[3] for c in commits),
            {c[0]: w for c, w in zip(commits, weights, strict=True)},
            missing,
            scan,
            time,
        )
        self.rounds[l1_hash] = rnd
        return rnd
