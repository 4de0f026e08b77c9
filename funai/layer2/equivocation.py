"""Rule ``equivocation``: evidence that an elected producer signed two blocks of one
election (DESIGN 4.5), checked before the producer's election is forfeited.

Kept apart from :mod:`funai.layer2.votes` because it reads L2 headers
(:mod:`funai.layer2.block`), which themselves carry a vote's quorum certificate.
"""

from __future__ import annotations

from funai import _core
from funai.errors import MalformedInputError
from funai.layer2.block import L2Header
from funai.layer2.errors import L2Error
from funai.layer2.transactions import EquivocationPayload
from funai.layer2.votes import Elected

__all__ = ["check_equivocation"]


def check_equivocation(
    network_id: bytes, evidence: EquivocationPayload, elected: Elected | None = None
) -> bytes:
    """Rule ``equivocation``: validates evidence, returns the forfeited election (L1 hash).

    Two headers of one election, signed by one key, with different hashes; rule
    ``equivocation-not-elected``: that key is the producer the election chose (its account is
    the winning registration's and both headers carry the winning VRF proof), so that no key
    can forfeit an honest producer's election by signing headers in its name. ``elected``
    is required for the check (None only for a malformed-evidence pre-check).
    """
    try:
        a = L2Header.deserialize(evidence.header_a)
        b = L2Header.deserialize(evidence.header_b)
    except MalformedInputError as exc:
        raise L2Error("equivocation-malformed", str(exc)) from None
    if a.hash() == b.hash():
        raise L2Error("equivocation-same-block", "the two headers are one block")
    if a.l1_block != b.l1_block or a.producer_key != b.producer_key:
        raise L2Error("equivocation-unrelated", "not one producer in one election")
    if elected is not None:
        winner = elected(a.l1_block)
        if (
            winner is None
            or _core.hash160(a.producer_key) != winner[0]
            or a.vrf_proof != winner[1]
            or b.vrf_proof != winner[1]
        ):
            raise L2Error("equivocation-not-elected", "the key is not the elected producer")
    a.verify_signature(network_id, evidence.sig_a)
    b.verify_signature(network_id, evidence.sig_b)
    return a.l1_block
