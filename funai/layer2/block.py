"""L2 blocks (DESIGN 4.4): header, body, producer signature; content travels beside them.

Header (deterministic CBOR array)::

    [version, height, parent, l1_block, vrf_proof, producer_key, tx_root, state_root, time,
     qc_hash]

``l1_block`` is the L1 block whose sortition elected the producer; ``vrf_proof`` is the
winning commitment's proof; ``producer_key`` is the x-only key whose HASH160 is the
registration's L2 account. ``block_hash = SHA-256d(encode(header))``; the producer signs
``tagged_hash("FAI2/block", network_id || block_hash)``. ``tx_root`` is
``merkle_root`` of the txids (32 zero bytes when empty); an inference transaction's txid
covers its content hash, so the header commits to every inference content and a copy of the
contents that was stripped or swapped on the way is detected (rule ``block-contents``: each
content is checked against its transaction's hash, and a missing or mismatching one is
fetched again, never judged). ``qc_hash`` is ``SHA-256(encode(parent_qc))`` (32 zero bytes
without one): the block hash covers the header, and so the whole block (rule
``block-qc-hash``); the BIP340 signature is not malleable.

Block: ``[header, signature, [tx, ...], parent_qc | null]``: ``parent_qc`` is the quorum
certificate of the parent block, which settles the parent's rewards (:mod:`rewards`).
Inference content is never in a block: :class:`BlockContents` carries it beside the block
to the verifiers (``txid -> InferenceContent``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from funai import _core
from funai.errors import MalformedInputError
from funai.hashing import merkle_root, sha256, sha256d
from funai.layer2.errors import L2Error
from funai.layer2.transactions import InferenceContent, L2Tx
from funai.layer2.votes import QuorumCertificate
from funai.ledger.encoding import CborValue, decode, encode
from funai.ledger.tx import tagged_hash

__all__ = ["BlockContents", "L2Block", "L2Header", "block_sig_message", "qc_hash", "tx_root"]

MAX_BLOCK_SIZE = 8_000_000


def tx_root(txs: tuple[L2Tx, ...] | list[L2Tx]) -> bytes:
    return merkle_root([t.txid() for t in txs]) if txs else bytes(32)


def block_sig_message(network_id: bytes, block_hash: bytes) -> bytes:
    return tagged_hash(b"FAI2/block", network_id + block_hash)


def qc_hash(qc: QuorumCertificate | None) -> bytes:
    """What a header's ``qc_hash`` must be for ``parent_qc`` (rule ``block-qc-hash``)."""
    return bytes(32) if qc is None else sha256(encode(qc.to_cbor()))


@dataclass(frozen=True)
class L2Header:
    height: int
    parent: bytes
    l1_block: bytes
    vrf_proof: bytes
    producer_key: bytes
    tx_root: bytes
    state_root: bytes
    time: int
    qc_hash: bytes = bytes(32)
    version: int = 1

    def to_cbor(self) -> list[CborValue]:
        return [
            self.version,
            self.height,
            self.parent,
            self.l1_block,
            self.vrf_proof,
            self.producer_key,
            self.tx_root,
            self.state_root,
            self.time,
            self.qc_hash,
        ]

    def serialize(self) -> bytes:
        return encode(self.to_cbor())

    def hash(self) -> bytes:
        return sha256d(self.serialize())

    @classmethod
    def from_cbor(cls, v: CborValue) -> L2Header:
        if not isinstance(v, list) or len(v) != 10:
            raise MalformedInputError("an L2 header has 10 fields")
        ver, height, parent, l1, proof, key, troot, sroot, time, qch = v
        sizes = (
            (parent, 32),
            (l1, 32),
            (proof, 80),
            (key, 32),
            (troot, 32),
            (sroot, 32),
            (qch, 32),
        )
        if not all(isinstance(b, bytes) and len(b) == n for b, n in sizes):
            raise MalformedInputError("L2 header field of the wrong size")
        if ver != 1 or not isinstance(height, int) or height < 0:
            raise MalformedInputError("bad L2 header version or height")
        if not isinstance(time, int) or not 0 <= time < 2**63 or height >= 2**63:
            raise MalformedInputError("bad L2 header time or height")
        return cls(height, parent, l1, proof, key, troot, sroot, time, qch, ver)

    @classmethod
    def deserialize(cls, data: bytes) -> L2Header:
        return cls.from_cbor(decode(data, max_size=1000))

    def verify_signature(self, network_id: bytes, sig: bytes) -> None:
        """Rule ``block-bad-signature``."""
        if len(sig) != 64 or not _core.schnorr_verify(
            self.producer_key, block_sig_message(network_id, self.hash()), sig
        ):
            raise L2Error("block-bad-signature", self.hash().hex())


@dataclass(frozen=True)
class L2Block:
    header: L2Header
    signature: bytes
    txs: tuple[L2Tx, ...]
    parent_qc: QuorumCertificate | None = None
    _cache: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def hash(self) -> bytes:
        if "hash" not in self._cache:
            self._cache["hash"] = self.header.hash()
        return self._cache["hash"]

    def to_cbor(self) -> list[CborValue]:
        return [
            self.header.to_cbor(),
            self.signature,
            [t.to_cbor() for t in self.txs],
            None if self.parent_qc is None else self.parent_qc.to_cbor(),
        ]

    def serialize(self) -> bytes:
        return encode(self.to_cbor())

    @classmethod
    def deserialize(cls, data: bytes) -> L2Block:
        v = decode(data, max_size=MAX_BLOCK_SIZE)
        if not isinstance(v, list) or len(v) != 4 or not isinstance(v[2], list):
            raise MalformedInputError("an L2 block is [header, signature, txs, parent_qc]")
        if not isinstance(v[1], bytes):
            raise MalformedInputError("block signature must be bytes")
        qc = None if v[3] is None else QuorumCertificate.from_cbor(v[3])
        return cls(L2Header.from_cbor(v[0]), v[1], tuple(L2Tx.from_cbor(t) for t in v[2]), qc)


@dataclass
class BlockContents:
    """The inference content beside a block: ``txid -> content``."""

    items: dict[bytes, InferenceContent] = field(default_factory=dict)

    def serialize(self) -> bytes:
        return encode([[k, c.to_cbor()] for k, c in sorted(self.items.items())])

    @classmethod
    def deserialize(cls, data: bytes) -> BlockContents:
        v = decode(data, max_size=MAX_BLOCK_SIZE)
        if not isinstance(v, list):
            raise MalformedInputError("block contents are [[txid, content], ...]")
        out: dict[bytes, InferenceContent] = {}
        for item in v:
            if not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], bytes):
                raise MalformedInputError("block contents are [[txid, content], ...]")
            out[item[0]] = InferenceContent.from_cbor(item[1])
        return cls(out)
