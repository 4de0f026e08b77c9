"""L2 gossip messages, registered in the network's message registry (docs/protocol.md).

Each body carries deterministic-CBOR encodings of the L2 objects:

* ``l2tx`` ``{tx, content}``: a completed transaction and, for an inference transaction,
  its content (``[input, output, context, system_prompt]``; empty bytes otherwise).
* ``l2block`` ``{block, contents}``: an L2 block and its :class:`BlockContents`.
* ``l2vote`` ``{vote}``: a verifier's signed vote.
* ``l2ad`` ``{ad}``: an executor's signed advert of the models it serves
  (:class:`~funai.layer2.routing.ServiceAd`).

* ``l2pegsig`` ``{tx, key, sigs}``: a verifier's signatures over a peg-out L1 transaction
  (``tx``: its encoding without witnesses; ``sigs``: CBOR list of one 64-byte BIP340
  signature or empty bytes per input; :mod:`funai.layer2.pegout`), inventory kind
  ``l2pegsig``, id ``SHA-256(encode([txid, key, sigs]))``.

* ``l2getblocks`` ``{locator}`` / ``l2blocks`` ``{blocks, qcs}``: L2 sync by locator (rule
  ``l2-sync``); ``l2getcontent`` ``{txids}`` / ``l2content`` ``{items}``: inference content a
  verifier lacks, served until it is reclaimed.

Inventory kinds for relaying them are ``l2tx``, ``l2block``, ``l2vote`` and ``l2ad`` (ids: txid,
block hash, ``SHA-256(vote encoding)``, ``SHA-256(ad encoding)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funai.errors import MalformedInputError
from funai.hashing import sha256
from funai.layer2.block import BlockContents, L2Block
from funai.layer2.routing import ServiceAd
from funai.layer2.transactions import InferenceContent, L2Tx
from funai.layer2.votes import QuorumCertificate, Vote
from funai.ledger.encoding import decode, encode
from funai.ledger.tx import Transaction
from funai.network.messages import Message, register

__all__ = [
    "L2AdMsg",
    "L2BlockMsg",
    "L2BlocksMsg",
    "L2ContentMsg",
    "L2GetBlocksMsg",
    "L2GetContentMsg",
    "L2PegSigMsg",
    "L2TxMsg",
    "L2VoteMsg",
]

#: Most bytes of the inference content carried by one message.
MAX_CONTENT_BYTES = 3_000_000


@register
@dataclass
class L2TxMsg(Message):
    TYPE: ClassVar[str] = "l2tx"
    tx: bytes
    content: bytes

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> L2TxMsg:
        cls.check_fields(body, {"tx": bytes, "content": bytes})
        return cls(body["tx"], body["content"])

    @classmethod
    def make(cls, tx: L2Tx, content: InferenceContent | None) -> L2TxMsg:
        return cls(tx.serialize(), b"" if content is None else encode(content.to_cbor()))

    def parse(self) -> tuple[L2Tx, InferenceContent | None]:
        tx = L2Tx.deserialize(self.tx)
        content = (
            None
            if not self.content
            else InferenceContent.from_cbor(decode(self.content, max_size=MAX_CONTENT_BYTES))
        )
        return tx, content


@register
@dataclass
class L2BlockMsg(Message):
    TYPE: ClassVar[str] = "l2block"
    block: bytes
    contents: bytes

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> L2BlockMsg:
        cls.check_fields(body, {"block": bytes, "contents": bytes})
        return cls(body["block"], body["contents"])

    @classmethod
    def make(cls, block: L2Block, contents: BlockContents) -> L2BlockMsg:
        return cls(block.serialize(), contents.serialize())

    def parse(self) -> tuple[L2Block, BlockContents]:
        return L2Block.deserialize(self.block), BlockContents.deserialize(self.contents)


@register
@dataclass
class L2VoteMsg(Message):
    TYPE: ClassVar[str] = "l2vote"
    vote: bytes

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> L2VoteMsg:
        cls.check_fields(body, {"vote": bytes})
        return cls(body["vote"])

    @classmethod
    def make(cls, vote: Vote) -> L2VoteMsg:
        return cls(encode(vote.to_cbor()))

    def parse(self) -> Vote:
        return Vote.from_cbor(decode(self.vote, max_size=1_000_000))

    def id(self) -> bytes:
        return sha256(self.vote)


@register
@dataclass
class L2AdMsg(Message):
    TYPE: ClassVar[str] = "l2ad"
    ad: bytes

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> L2AdMsg:
        cls.check_fields(body, {"ad": bytes})
        return cls(body["ad"])

    @classmethod
    def make(cls, ad: ServiceAd) -> L2AdMsg:
        return cls(ad.serialize())

    def parse(self) -> ServiceAd:
        return ServiceAd.deserialize(self.ad)

    def id(self) -> bytes:
        return sha256(self.ad)


@register
@dataclass
class L2PegSigMsg(Message):
    TYPE: ClassVar[str] = "l2pegsig"
    tx: bytes
    key: bytes
    sigs: bytes

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> L2PegSigMsg:
        cls.check_fields(body, {"tx": bytes, "key": bytes, "sigs": bytes})
        return cls(body["tx"], body["key"], body["sigs"])

    @classmethod
    def make(cls, tx: Transaction, key: bytes, sigs: list[bytes]) -> L2PegSigMsg:
        return cls(tx.serialize(), key, encode(list(sigs)))

    def parse(self) -> tuple[Transaction, bytes, list[bytes]]:
        if len(self.key) != 32:
            raise MalformedInputError("l2pegsig: the key is 32 bytes")
        sigs = decode(self.sigs, max_size=100_000)
        if not isinstance(sigs, list) or not all(isinstance(s, bytes) for s in sigs):
            raise MalformedInputError("l2pegsig: sigs is a list of byte strings")
        return Transaction.deserialize(self.tx), self.key, [bytes(s) for s in sigs]

    def id(self) -> bytes:
        tx, key, sigs = self.parse()
        return sha256(encode([tx.txid(), key, list(sigs)]))


# --- L2 sync (rule l2-sync) ------------------------------------------------------------------
MAX_SYNC_LOCATOR = 64
MAX_SYNC_BLOCKS = 64
MAX_CONTENT_ITEMS = 256


def _blobs(value: Any, what: str, limit: int, size: int | None = None) -> list[bytes]:
    if not isinstance(value, list) or len(value) > limit:
        raise MalformedInputError(f"{what}: at most {limit} items")
    if not all(isinstance(v, bytes) and (size is None or len(v) == size) for v in value):
        raise MalformedInputError(f"{what}: items must be byte strings")
    return list(value)


@register
@dataclass
class L2GetBlocksMsg(Message):
    """``l2getblocks {locator}``: the canonical L2 blocks after the first locator hash on
    the receiver's chain (from genesis when none is)."""

    TYPE: ClassVar[str] = "l2getblocks"
    locator: list[bytes]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> L2GetBlocksMsg:
        cls.check_fields(body, {"locator": list})
        return cls(_blobs(body["locator"], "l2getblocks", MAX_SYNC_LOCATOR, 32))


@register
@dataclass
class L2BlocksMsg(Message):
    """``l2blocks {blocks, qcs}``: up to 64 consecutive L2 blocks (without contents) and the
    QC of the last one if the sender has it (the others' QCs are in their children)."""

    TYPE: ClassVar[str] = "l2blocks"
    blocks: list[bytes]
    qcs: list[bytes]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> L2BlocksMsg:
        cls.check_fields(body, {"blocks": list, "qcs": list})
        return cls(
            _blobs(body["blocks"], "l2blocks", MAX_SYNC_BLOCKS),
            _blobs(body["qcs"], "l2blocks qcs", MAX_SYNC_BLOCKS),
        )

    @classmethod
    def make(cls, blocks: list[L2Block], qcs: list[QuorumCertificate]) -> L2BlocksMsg:
        return cls([b.serialize() for b in blocks], [encode(q.to_cbor()) for q in qcs])

    def parse(self) -> tuple[list[L2Block], list[QuorumCertificate]]:
        blocks = [L2Block.deserialize(b) for b in self.blocks]
        qcs = [QuorumCertificate.from_cbor(decode(q, max_size=1_000_000)) for q in self.qcs]
        return blocks, qcs


@register
@dataclass
class L2GetContentMsg(Message):
    """``l2getcontent {txids}``: the inference contents the receiver still holds."""

    TYPE: ClassVar[str] = "l2getcontent"
    txids: list[bytes]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> L2GetContentMsg:
        cls.check_fields(body, {"txids": list})
        return cls(_blobs(body["txids"], "l2getcontent", MAX_CONTENT_ITEMS, 32))


@register
@dataclass
class L2ContentMsg(Message):
    """``l2content {items}``: ``[[txid, content], ...]`` (CBOR-encoded)."""

    TYPE: ClassVar[str] = "l2content"
    items: bytes

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> L2ContentMsg:
        cls.check_fields(body, {"items": bytes})
        return cls(body["items"])

    @classmethod
    def make(cls, items: list[tuple[bytes, InferenceContent]]) -> L2ContentMsg:
        return cls(encode([[t, c.to_cbor()] for t, c in items]))

    def parse(self) -> list[tuple[bytes, InferenceContent]]:
        v = decode(self.items, max_size=MAX_CONTENT_BYTES)
        if not isinstance(v, list) or len(v) > MAX_CONTENT_ITEMS:
            raise MalformedInputError("l2content: at most 256 [txid, content] items")
        out = []
        for item in v:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], bytes)):
                raise MalformedInputError("l2content items are [txid, content]")
            out.append((item[0], InferenceContent.from_cbor(item[1])))
        return out
