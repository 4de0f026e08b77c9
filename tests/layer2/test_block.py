"""L2 headers, blocks, their commitments and signatures (funai/layer2/block.py)."""

from __future__ import annotations

import dataclasses

import cbor2
import pytest

from funai import _core
from funai.errors import MalformedInputError
from funai.hashing import merkle_root, sha256, sha256d
from funai.layer2.block import (
    BlockContents,
    L2Block,
    L2Header,
    block_sig_message,
    qc_hash,
    tx_root,
)
from funai.layer2.errors import L2Error
from funai.layer2.transactions import InferenceContent, TxKind, make_inference, sign_tx
from funai.layer2.votes import QuorumCertificate, Verdict, make_vote, try_form_qc
from funai.ledger.encoding import encode
from funai.ledger.tx import tagged_hash
from funai.testing.cluster import MODEL, NETWORK_ID, VERIFIER_NAMES, acct, skey

#: the hash of :func:`header` (pinned when this test was written)
GOLDEN_HEADER_HASH = "307ebf4bca374dc7ca615e1a05965eb5c66621fdbaad15dfc34b1f5394b11661"
PRODUCER_KEY = _core.schnorr_public_key(skey("prod"))


def cbor(v: object) -> bytes:
    """Canonical CBOR of anything, including what consensus encoding refuses (maps)."""
    return cbor2.dumps(v, canonical=True)


def header(**kw: object) -> L2Header:
    fields: dict[str, object] = {
        "height": 7,
        "parent": sha256(b"parent"),
        "l1_block": sha256(b"l1"),
        "vrf_proof": bytes(range(80)),
        "producer_key": PRODUCER_KEY,
        "tx_root": sha256(b"txs"),
        "state_root": sha256(b"state"),
        "time": 1_700_000_000,
        "qc_hash": sha256(b"qc"),
    }
    fields.update(kw)
    return L2Header(**fields)  # type: ignore[arg-type]


def sign(h: L2Header, name: str = "prod", nid: bytes = NETWORK_ID) -> bytes:
    return _core.schnorr_sign(skey(name), block_sig_message(nid, h.hash()), bytes(32))


def transfer(nonce: int, amount: int = 5) -> object:
    return sign_tx(skey("user"), TxKind.TRANSFER, nonce, [acct("bob"), amount], NETWORK_ID)


def inference(output: str = "Paris.") -> object:
    content = InferenceContent("Capital of France?", output)
    return make_inference(skey("user"), skey("exec"), 0, MODEL, content, 1000, NETWORK_ID)


def a_qc() -> QuorumCertificate:
    bh = sha256(b"parent")
    keys = [_core.schnorr_public_key(skey(n)) for n in VERIFIER_NAMES]
    votes = [make_vote(skey(n), NETWORK_ID, bh, [Verdict(True, 5, -3)]) for n in VERIFIER_NAMES]
    qc = try_form_qc(NETWORK_ID, bh, keys, votes)
    assert qc is not None
    return qc


# --- header encoding and hash ---------------------------------------------------------


def test_header_roundtrip_and_field_order() -> None:
    h = header()
    raw = h.serialize()
    assert raw == encode(
        [
            1,
            7,
            sha256(b"parent"),
            sha256(b"l1"),
            bytes(range(80)),
            PRODUCER_KEY,
            sha256(b"txs"),
            sha256(b"state"),
            1_700_000_000,
            sha256(b"qc"),
        ]
    )
    again = L2Header.deserialize(raw)
    assert again == h
    assert again.hash() == h.hash() == sha256d(raw)


def test_header_hash_is_stable() -> None:
    # a pinned value: any change of the encoding or the hash breaks every chain
    assert header().hash().hex() == GOLDEN_HEADER_HASH


@pytest.mark.parametrize(
    "field",
    [
        "height",
        "parent",
        "l1_block",
        "vrf_proof",
        "producer_key",
        "tx_root",
        "state_root",
        "time",
        "qc_hash",
    ],
)
def test_every_header_field_changes_the_hash(field: str) -> None:
    h = header()
    v = getattr(h, field)
    changed = v + 1 if isinstance(v, int) else bytes([v[0] ^ 1]) + v[1:]
    assert dataclasses.replace(h, **{field: changed}).hash() != h.hash()


def test_header_deserialize_rejects_truncated_and_extra_bytes() -> None:
    raw = header().serialize()
    for cut in (0, 1, len(raw) // 2, len(raw) - 1):
        with pytest.raises(MalformedInputError):
            L2Header.deserialize(raw[:cut])
    with pytest.raises(MalformedInputError):
        L2Header.deserialize(raw + b"\x00")
    with pytest.raises(MalformedInputError):
        L2Header.deserialize(bytes(1001))  # over the header size limit


def _fields(**changes: object) -> list[object]:
    f = header().to_cbor()
    names = [
        "version",
        "height",
        "parent",
        "l1_block",
        "vrf_proof",
        "producer_key",
        "tx_root",
        "state_root",
        "time",
        "qc_hash",
    ]
    for k, v in changes.items():
        f[names.index(k)] = v  # type: ignore[call-overload]
    return f


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_fields(version=2), id="version-2"),
        pytest.param(_fields(version=0), id="version-0"),
        pytest.param(_fields(version=True), id="version-true"),  # a bool is not 1
        pytest.param(_fields(height=False), id="height-false"),
        pytest.param(_fields(height=-1), id="negative-height"),
        pytest.param(_fields(height=2**63), id="huge-height"),
        pytest.param(_fields(height="7"), id="height-text"),
        pytest.param(_fields(time=-1), id="negative-time"),
        pytest.param(_fields(time=2**63), id="huge-time"),
        pytest.param(_fields(time=b"t"), id="time-bytes"),
        pytest.param(_fields(parent=bytes(31)), id="short-parent"),
        pytest.param(_fields(l1_block=bytes(33)), id="long-l1-block"),
        pytest.param(_fields(vrf_proof=bytes(79)), id="short-proof"),
        pytest.param(_fields(producer_key="k" * 32), id="key-text"),
        pytest.param(_fields(tx_root=None), id="tx-root-null"),
        pytest.param(_fields(state_root=bytes(0)), id="empty-state-root"),
        pytest.param(_fields(qc_hash=bytes(64)), id="long-qc-hash"),
        pytest.param(_fields()[:9], id="nine-fields"),
        pytest.param([*_fields(), 0], id="eleven-fields"),
        pytest.param({"height": 7}, id="map"),
    ],
)
def test_header_deserialize_rejects_wrong_types(raw: object) -> None:
    with pytest.raises(MalformedInputError):
        L2Header.deserialize(cbor(raw))  # type: ignore[arg-type]


def test_header_bounds_accepted() -> None:
    edge = header(height=2**63 - 1, time=2**63 - 1)
    assert L2Header.deserialize(edge.serialize()) == edge
    zero = header(height=0, time=0)
    assert L2Header.deserialize(zero.serialize()) == zero


# --- signature (rule block-bad-signature) ----------------------------------------------


def test_block_sig_message() -> None:
    h = header()
    assert block_sig_message(NETWORK_ID, h.hash()) == tagged_hash(
        b"FAI2/block", NETWORK_ID + h.hash()
    )


def test_header_signature_verifies() -> None:
    h = header()
    h.verify_signature(NETWORK_ID, sign(h))  # no exception: and the negatives below fail


def test_header_signature_rejects_another_network() -> None:
    h = header()
    other = sha256(b"another network")
    with pytest.raises(L2Error, match="block-bad-signature"):
        h.verify_signature(other, sign(h))
    with pytest.raises(L2Error, match="block-bad-signature"):
        h.verify_signature(NETWORK_ID, sign(h, nid=other))


@pytest.mark.parametrize("bit", [0, 7, 255, 511])
def test_header_signature_rejects_a_flipped_signature_bit(bit: int) -> None:
    h = header()
    sig = bytearray(sign(h))
    sig[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(L2Error, match="block-bad-signature"):
        h.verify_signature(NETWORK_ID, bytes(sig))


def test_header_signature_rejects_a_changed_header_or_signer() -> None:
    h = header()
    sig = sign(h)
    with pytest.raises(L2Error, match="block-bad-signature"):
        dataclasses.replace(h, time=h.time + 1).verify_signature(NETWORK_ID, sig)
    with pytest.raises(L2Error, match="block-bad-signature"):
        h.verify_signature(NETWORK_ID, sign(h, "someone else"))
    for bad in (b"", sig[:63], sig + b"\x00", bytes(64)):
        with pytest.raises(L2Error, match="block-bad-signature"):
            h.verify_signature(NETWORK_ID, bad)


# --- tx_root and contents commitments ------------------------------------------------


def test_tx_root() -> None:
    txs = [transfer(0), transfer(1), inference()]
    assert tx_root([]) == tx_root(()) == bytes(32)
    assert tx_root(txs) == merkle_root([t.txid() for t in txs])  # type: ignore[attr-defined]
    assert tx_root(tuple(txs)) == tx_root(txs)
    assert tx_root(txs) != tx_root(txs[:2])
    assert tx_root(txs) != tx_root([txs[1], txs[0], txs[2]])  # order matters
    assert tx_root([transfer(0)]) != tx_root([transfer(0, amount=6)])  # one tx changed


def test_tx_root_commits_to_inference_content() -> None:
    # the content travels beside the block; its hash is in the txid, so in tx_root
    paris, lyon = inference("Paris."), inference("Lyon.")
    assert paris.payload[4] == InferenceContent("Capital of France?", "Paris.").hash()  # type: ignore[attr-defined]
    assert tx_root([transfer(0), paris]) != tx_root([transfer(0), lyon])


def test_block_contents_roundtrip_and_canonical_order() -> None:
    a = InferenceContent("q1", "a1")
    b = InferenceContent("q2", "a2", tokens=(1, 2), finish="length")
    k1, k2 = sha256(b"1"), sha256(b"2")
    c = BlockContents({k2: b, k1: a})
    raw = c.serialize()
    assert raw == encode([[k1, a.to_cbor()], [k2, b.to_cbor()]])  # sorted by txid
    assert raw == BlockContents({k1: a, k2: b}).serialize()
    assert BlockContents.deserialize(raw).items == {k1: a, k2: b}
    assert BlockContents().serialize() == encode([])
    changed = BlockContents({k1: a, k2: InferenceContent("q2", "a3")})
    assert changed.serialize() != raw


@pytest.mark.parametrize(
    "raw",
    [
        cbor({"a": 1}),
        encode([["txid"]]),
        encode([[b"t", [1, 2]]]),  # malformed content
        encode([[5, InferenceContent("q", "a").to_cbor()]]),  # txid not bytes
    ],
)
def test_block_contents_deserialize_rejects(raw: bytes) -> None:
    with pytest.raises(MalformedInputError):
        BlockContents.deserialize(raw)


# --- qc_hash (rule block-qc-hash) -------------------------------------------------------


def test_qc_hash() -> None:
    assert qc_hash(None) == bytes(32)
    qc = a_qc()
    assert qc_hash(qc) == sha256(encode(qc.to_cbor()))
    assert qc_hash(qc) != bytes(32)
    # any change of the certificate changes the commitment
    assert qc_hash(dataclasses.replace(qc, votes=qc.votes[:2])) != qc_hash(qc)
    assert qc_hash(dataclasses.replace(qc, decision=(False,))) != qc_hash(qc)
    assert qc_hash(QuorumCertificate(qc.block_hash, (), ())) != qc_hash(qc)


# --- the block ----------------------------------------------------------------------


def block(qc: QuorumCertificate | None = None) -> L2Block:
    txs = (transfer(0), inference())
    h = header(tx_root=tx_root(txs), qc_hash=qc_hash(qc))  # type: ignore[arg-type]
    return L2Block(h, sign(h), txs, qc)  # type: ignore[arg-type]


@pytest.mark.parametrize("with_qc", [False, True])
def test_block_roundtrip(with_qc: bool) -> None:
    b = block(a_qc() if with_qc else None)
    raw = b.serialize()
    again = L2Block.deserialize(raw)
    assert again == b
    assert again.serialize() == raw
    assert again.hash() == b.hash() == b.header.hash()
    assert again.parent_qc == b.parent_qc
    assert [t.txid() for t in again.txs] == [t.txid() for t in b.txs]


def test_block_hash_is_the_header_hash() -> None:
    b = block()
    # the signature, the body and the QC are not hashed: the header commits to them
    other = L2Block(b.header, bytes(64), (), a_qc())
    assert other.hash() == b.hash()


def test_block_deserialize_rejects_truncated_and_extra_bytes() -> None:
    raw = block(a_qc()).serialize()
    for cut in (0, 1, len(raw) // 3, len(raw) - 1):
        with pytest.raises(MalformedInputError):
            L2Block.deserialize(raw[:cut])
    with pytest.raises(MalformedInputError):
        L2Block.deserialize(raw + b"\x00")


def _block_fields(**changes: object) -> list[object]:
    f = block().to_cbor()
    for i, v in changes.items():
        f[int(i[1:])] = v  # type: ignore[call-overload]
    return f


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_block_fields(f1="sig"), id="signature-text"),
        pytest.param(_block_fields(f1=None), id="signature-null"),
        pytest.param(_block_fields(f2=b"txs"), id="txs-bytes"),
        pytest.param(_block_fields(f2=[[1, 2]]), id="malformed-tx"),
        pytest.param(_block_fields(f3=b"qc"), id="qc-bytes"),
        pytest.param(_block_fields(f3=[b"x", [2], []]), id="qc-bad-bit"),
        pytest.param(_block_fields(f0=[1, 2]), id="short-header"),
        pytest.param(_block_fields()[:3], id="three-fields"),
        pytest.param([*_block_fields(), None], id="five-fields"),
    ],
)
def test_block_deserialize_rejects_wrong_types(raw: list[object]) -> None:
    with pytest.raises(MalformedInputError):
        L2Block.deserialize(cbor(raw))  # type: ignore[arg-type]
