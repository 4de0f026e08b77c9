"""Votes, quorum certificates and equivocation evidence (funai/layer2/votes.py)."""

from __future__ import annotations

import dataclasses

import pytest

from funai import _core
from funai.errors import MalformedInputError
from funai.hashing import sha256
from funai.layer2.block import L2Header, block_sig_message
from funai.layer2.errors import L2Error
from funai.layer2.votes import (
    QuorumCertificate,
    Verdict,
    Vote,
    check_equivocation,
    make_vote,
    try_form_qc,
    vote_message,
)
from funai.ledger.encoding import decode, encode
from funai.ledger.tx import tagged_hash
from funai.testing.cluster import NETWORK_ID, VERIFIER_NAMES, skey

BH = sha256(b"block under vote")
OTHER_BH = sha256(b"another block")
KEYS = [_core.schnorr_public_key(skey(n)) for n in VERIFIER_NAMES]
ACCEPT = [Verdict(True, 900_000, -1_000)]
REJECT = [Verdict(False, 10_000, -9_000)]


def vote(name: str, verdicts: list[Verdict] = ACCEPT, bh: bytes = BH) -> Vote:
    return make_vote(skey(name), NETWORK_ID, bh, verdicts)


# --- encoding and signing -------------------------------------------------------------


def test_vote_message_is_the_tagged_hash_of_network_block_and_verdicts() -> None:
    verdicts = [Verdict(True, 950_000, -1_500), Verdict(False, 20_000, -9_000)]
    expect = tagged_hash(
        b"FAI2/vote", encode([NETWORK_ID, BH, [[1, 950_000, -1_500], [0, 20_000, -9_000]]])
    )
    assert vote_message(NETWORK_ID, BH, verdicts) == expect


def test_vote_roundtrip_and_signature() -> None:
    v = make_vote(skey("verifier0"), NETWORK_ID, BH, [Verdict(True, 1, -2), Verdict(False)])
    assert v.verifier_key == KEYS[0]
    assert v.decision == (True, False)
    again = Vote.from_cbor(decode(encode(v.to_cbor())))
    assert again == v
    assert again.verify(NETWORK_ID) is True
    assert again.verify(sha256(b"another network")) is False
    # any field changed after signing breaks the signature
    assert dataclasses.replace(v, block_hash=OTHER_BH).verify(NETWORK_ID) is False
    assert dataclasses.replace(v, verdicts=(Verdict(True, 1, -2),) * 2).verify(NETWORK_ID) is False
    assert (
        dataclasses.replace(v, verdicts=(Verdict(True, 2, -2), v.verdicts[1])).verify(NETWORK_ID)
        is False
    )
    assert dataclasses.replace(v, verifier_key=KEYS[1]).verify(NETWORK_ID) is False
    assert dataclasses.replace(v, signature=v.signature[:63]).verify(NETWORK_ID) is False


@pytest.mark.parametrize(
    "raw",
    [
        [2, 0, 0],  # accept not 0/1
        [1, -1, 0],  # p_yes below 0
        [1, 1_000_001, 0],  # p_yes above 1
        [1, 0],  # short
        [1, 0, "x"],  # loglik not an int
        "verdict",
    ],
)
def test_verdict_decoding_rejects(raw: object) -> None:
    with pytest.raises(MalformedInputError):
        Verdict.from_cbor(raw)  # type: ignore[arg-type]


def test_verdict_bounds_accepted() -> None:
    assert Verdict.from_cbor([0, 1_000_000, -(2**40)]) == Verdict(False, 1_000_000, -(2**40))
    assert Verdict.from_cbor([1, 0, 0]) == Verdict(True)


@pytest.mark.parametrize(("field", "bad"), [(0, bytes(31)), (1, bytes(33)), (3, bytes(63)), (2, 5)])
def test_vote_decoding_rejects_bad_fields(field: int, bad: object) -> None:
    raw = vote("verifier0").to_cbor()
    raw[field] = bad  # type: ignore[call-overload]
    with pytest.raises(MalformedInputError):
        Vote.from_cbor(raw)
    with pytest.raises(MalformedInputError):
        Vote.from_cbor(raw[:3])


# --- forming a quorum certificate -----------------------------------------------------


def test_qc_forms_at_exactly_the_quorum_not_one_below() -> None:
    votes = [vote(n) for n in VERIFIER_NAMES]
    assert try_form_qc(NETWORK_ID, BH, KEYS, votes[:2]) is None
    qc = try_form_qc(NETWORK_ID, BH, KEYS, votes[:3])
    assert qc is not None
    assert qc.block_hash == BH
    assert qc.decision == (True,)
    assert len(qc.votes) == 3  # stops at the quorum; votes sorted by key
    assert [v.verifier_key for v in qc.votes] == sorted(KEYS[:3])
    qc.verify(NETWORK_ID, BH, KEYS, 1)
    # the quorum is a majority of the set: 2 of 3, 2 of 2, 1 of 1
    assert try_form_qc(NETWORK_ID, BH, KEYS[:3], votes[:1]) is None
    assert try_form_qc(NETWORK_ID, BH, KEYS[:3], votes[:2]) is not None
    assert try_form_qc(NETWORK_ID, BH, KEYS[:2], votes[:1]) is None
    assert try_form_qc(NETWORK_ID, BH, KEYS[:1], votes[:1]) is not None


def _two_good_plus(extra: Vote) -> QuorumCertificate | None:
    return try_form_qc(NETWORK_ID, BH, KEYS, [vote("verifier0"), vote("verifier1"), extra])


def test_qc_ignores_a_vote_with_a_bad_signature() -> None:
    v = vote("verifier2")
    bad = dataclasses.replace(v, signature=bytes([v.signature[0] ^ 1]) + v.signature[1:])
    assert _two_good_plus(bad) is None
    assert _two_good_plus(v) is not None


def test_qc_ignores_a_vote_from_outside_the_set() -> None:
    assert _two_good_plus(vote("outsider")) is None


def test_qc_ignores_a_duplicate_vote_by_one_key() -> None:
    assert _two_good_plus(vote("verifier1")) is None
    # nor can one key vote for two decisions: its first vote counts, the second is ignored
    votes = [vote("verifier0", REJECT), vote("verifier0"), vote("verifier1"), vote("verifier2")]
    assert try_form_qc(NETWORK_ID, BH, KEYS, votes) is None
    votes.append(vote("verifier3"))
    qc = try_form_qc(NETWORK_ID, BH, KEYS, votes)
    assert qc is not None
    assert KEYS[0] not in {v.verifier_key for v in qc.votes}


def test_qc_ignores_votes_for_another_block() -> None:
    assert _two_good_plus(vote("verifier2", bh=OTHER_BH)) is None
    # even a full set of them
    assert try_form_qc(NETWORK_ID, BH, KEYS, [vote(n, bh=OTHER_BH) for n in VERIFIER_NAMES]) is None


def test_qc_ignores_votes_signed_for_another_network() -> None:
    other = make_vote(skey("verifier2"), sha256(b"another network"), BH, ACCEPT)
    assert _two_good_plus(other) is None


def test_split_votes_need_a_quorum_on_one_decision() -> None:
    votes = [
        vote("verifier0"),
        vote("verifier1"),
        vote("verifier2", REJECT),
        vote("verifier3", REJECT),
    ]
    assert try_form_qc(NETWORK_ID, BH, KEYS, votes) is None
    qc = try_form_qc(NETWORK_ID, BH, KEYS, [*votes, vote("verifier4", REJECT)])
    assert qc is not None
    assert qc.decision == (False,)
    assert {v.verifier_key for v in qc.votes} == set(KEYS[2:])


# --- verifying a quorum certificate (rule quorum-certificate) --------------------------


def good_qc() -> QuorumCertificate:
    qc = try_form_qc(NETWORK_ID, BH, KEYS, [vote(n) for n in VERIFIER_NAMES[:3]])
    assert qc is not None
    return qc


def test_qc_roundtrip() -> None:
    qc = good_qc()
    again = QuorumCertificate.from_cbor(decode(encode(qc.to_cbor())))
    assert again == qc
    again.verify(NETWORK_ID, BH, KEYS, 1)


@pytest.mark.parametrize(
    "raw",
    [
        [BH, [1]],  # short
        [BH, 1, []],  # decision not a list
        [BH, [2], []],  # decision bit not 0/1
        ["x", [1], []],  # block hash not bytes
        [BH, [1], [[BH]]],  # malformed vote
    ],
)
def test_qc_decoding_rejects(raw: object) -> None:
    with pytest.raises(MalformedInputError):
        QuorumCertificate.from_cbor(raw)  # type: ignore[arg-type]


def test_qc_verify_rejects_a_tampered_signature() -> None:
    qc = good_qc()
    v = qc.votes[1]
    bad = dataclasses.replace(v, signature=v.signature[:-1] + bytes([v.signature[-1] ^ 0x80]))
    tampered = dataclasses.replace(qc, votes=(qc.votes[0], bad, qc.votes[2]))
    with pytest.raises(L2Error, match="qc-bad-signature") as err:
        tampered.verify(NETWORK_ID, BH, KEYS, 1)
    assert err.value.rule == "qc-bad-signature"


def test_qc_verify_rejects_another_network() -> None:
    with pytest.raises(L2Error, match="qc-bad-signature"):
        good_qc().verify(sha256(b"another network"), BH, KEYS, 1)


def test_qc_verify_rejects_a_repeated_signer() -> None:
    qc = good_qc()
    repeated = dataclasses.replace(qc, votes=(qc.votes[0], qc.votes[1], qc.votes[1]))
    with pytest.raises(L2Error, match="qc-duplicate-vote"):
        repeated.verify(NETWORK_ID, BH, KEYS, 1)


def test_qc_verify_rejects_a_signer_outside_the_set() -> None:
    qc = good_qc()
    outsider = dataclasses.replace(qc, votes=(*qc.votes[:2], vote("outsider")))
    with pytest.raises(L2Error, match="qc-not-verifier"):
        outsider.verify(NETWORK_ID, BH, KEYS, 1)
    # the same votes are fine for a (5-member) set that has the outsider
    key = _core.schnorr_public_key(skey("outsider"))
    outsider.verify(NETWORK_ID, BH, [*KEYS[:4], key], 1)


def test_qc_verify_rejects_a_wrong_decision_mix() -> None:
    qc = good_qc()
    mixed = dataclasses.replace(qc, votes=(*qc.votes[:2], vote("verifier3", REJECT)))
    with pytest.raises(L2Error, match="qc-mismatched-vote"):
        mixed.verify(NETWORK_ID, BH, KEYS, 1)
    flipped = dataclasses.replace(qc, decision=(False,))
    with pytest.raises(L2Error, match="qc-mismatched-vote"):
        flipped.verify(NETWORK_ID, BH, KEYS, 1)
    foreign = dataclasses.replace(qc, votes=(*qc.votes[:2], vote("verifier3", bh=OTHER_BH)))
    with pytest.raises(L2Error, match="qc-mismatched-vote"):
        foreign.verify(NETWORK_ID, BH, KEYS, 1)


def test_qc_verify_rejects_wrong_block_and_decision_length() -> None:
    qc = good_qc()
    with pytest.raises(L2Error, match="qc-wrong-block"):
        qc.verify(NETWORK_ID, OTHER_BH, KEYS, 1)
    with pytest.raises(L2Error, match="qc-bad-decision"):
        qc.verify(NETWORK_ID, BH, KEYS, 2)
    with pytest.raises(L2Error, match="qc-bad-decision"):
        qc.verify(NETWORK_ID, BH, KEYS, 0)


def test_qc_verify_rejects_one_below_the_quorum() -> None:
    qc = good_qc()
    with pytest.raises(L2Error, match="qc-no-quorum"):
        dataclasses.replace(qc, votes=qc.votes[:2]).verify(NETWORK_ID, BH, KEYS, 1)
    with pytest.raises(L2Error, match="qc-no-quorum"):
        dataclasses.replace(qc, votes=()).verify(NETWORK_ID, BH, KEYS, 1)
    # 3 of a 6-member set is not a majority (needs 4)
    six = [*KEYS, _core.schnorr_public_key(skey("sixth"))]
    with pytest.raises(L2Error, match="qc-no-quorum"):
        qc.verify(NETWORK_ID, BH, six, 1)


def test_empty_block_qc_has_an_empty_decision() -> None:
    qc = try_form_qc(NETWORK_ID, BH, KEYS, [vote(n, []) for n in VERIFIER_NAMES[:3]])
    assert qc is not None
    assert qc.decision == ()
    qc.verify(NETWORK_ID, BH, KEYS, 0)


# --- equivocation evidence ------------------------------------------------------------

PROOF = bytes(range(80))
L1_BLOCK = sha256(b"l1 election")
PRODUCER = "producer"


def header(name: str = PRODUCER, **kw: object) -> L2Header:
    fields: dict[str, object] = {
        "height": 3,
        "parent": sha256(b"parent"),
        "l1_block": L1_BLOCK,
        "vrf_proof": PROOF,
        "producer_key": _core.schnorr_public_key(skey(name)),
        "tx_root": bytes(32),
        "state_root": sha256(b"state"),
        "time": 1_700_000_000,
    }
    fields.update(kw)
    return L2Header(**fields)  # type: ignore[arg-type]


def sign(h: L2Header, name: str = PRODUCER) -> bytes:
    return _core.schnorr_sign(skey(name), block_sig_message(NETWORK_ID, h.hash()), bytes(32))


def evidence(a: L2Header, b: L2Header, signer: str = PRODUCER) -> list[object]:
    return [a.serialize(), sign(a, signer), b.serialize(), sign(b, signer)]


def elected(l1_block: bytes) -> tuple[bytes, bytes] | None:
    """The producer won election ``L1_BLOCK`` with ``PROOF``; no other election exists."""
    if l1_block != L1_BLOCK:
        return None
    return _core.hash160(_core.schnorr_public_key(skey(PRODUCER))), PROOF


A = header()
B = header(time=1_700_000_001)


def test_equivocation_real_evidence_returns_the_election() -> None:
    assert check_equivocation(NETWORK_ID, evidence(A, B), elected) == L1_BLOCK
    # differing in contents rather than time, either order
    c = header(tx_root=sha256(b"txs"), height=4)
    assert check_equivocation(NETWORK_ID, evidence(c, A), elected) == L1_BLOCK
    # the pre-check without an election view validates the rest
    assert check_equivocation(NETWORK_ID, evidence(A, B), None) == L1_BLOCK


def test_equivocation_same_block() -> None:
    with pytest.raises(L2Error, match="equivocation-same-block"):
        check_equivocation(NETWORK_ID, evidence(A, A), elected)


@pytest.mark.parametrize(
    "b",
    [
        header(l1_block=sha256(b"another election")),
        header("someone else"),
    ],
    ids=["another-election", "another-producer"],
)
def test_equivocation_unrelated(b: L2Header) -> None:
    signer_b = "someone else" if b.producer_key != A.producer_key else PRODUCER
    payload = [A.serialize(), sign(A), b.serialize(), sign(b, signer_b)]
    with pytest.raises(L2Error, match="equivocation-unrelated"):
        check_equivocation(NETWORK_ID, payload, elected)


def test_equivocation_not_elected() -> None:
    # a key that nobody elected signs two headers "of" the producer's election
    a, b = header("mallory"), header("mallory", time=5)
    with pytest.raises(L2Error, match="equivocation-not-elected"):
        check_equivocation(NETWORK_ID, evidence(a, b, "mallory"), elected)
    # the elected key, but a proof the election did not choose (on one or both headers)
    other_proof = bytes(80)
    for pair in [
        (header(vrf_proof=other_proof), header(vrf_proof=other_proof, time=5)),
        (A, header(vrf_proof=other_proof)),
    ]:
        with pytest.raises(L2Error, match="equivocation-not-elected"):
            check_equivocation(NETWORK_ID, evidence(*pair), elected)
    # an election that never happened
    a2 = header(l1_block=sha256(b"no such election"))
    b2 = header(l1_block=sha256(b"no such election"), time=5)
    with pytest.raises(L2Error, match="equivocation-not-elected"):
        check_equivocation(NETWORK_ID, evidence(a2, b2), elected)
    # an empty election view refuses everything (what BlockContext without one passes)
    with pytest.raises(L2Error, match="equivocation-not-elected"):
        check_equivocation(NETWORK_ID, evidence(A, B), lambda _l1: None)


def test_equivocation_bad_signature() -> None:
    payload = evidence(A, B)
    payload[3] = sign(A)  # the signature of the other header
    with pytest.raises(L2Error, match="block-bad-signature"):
        check_equivocation(NETWORK_ID, payload, elected)
    other_net = sha256(b"another network")
    with pytest.raises(L2Error, match="block-bad-signature"):
        check_equivocation(other_net, evidence(A, B), elected)


@pytest.mark.parametrize(
    ("which", "raw"),
    [
        (0, b"\x00"),
        (2, b""),
        (0, encode([1, 2, 3])),
        (2, encode([*A.to_cbor()[:9], bytes(31)])),  # qc_hash of 31 bytes
        (0, A.serialize() + b"\x00"),  # trailing byte
    ],
)
def test_equivocation_malformed(which: int, raw: bytes) -> None:
    payload = evidence(A, B)
    payload[which] = raw
    with pytest.raises(L2Error, match="equivocation-malformed"):
        check_equivocation(NETWORK_ID, payload, elected)
