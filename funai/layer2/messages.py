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
from funai.layer2.votes import Vote
from funai.ledger.encoding import decode, encode
from funai.ledger.tx import Transaction
from funai.network.messages import Message, register

__all__ = ["L2AdMsg", "L2BlockMsg", "L2PegSigMsg", "L2TxMsg", "L2VoteMsg"]


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
        content = None if not self.content else InferenceContent.from_cbor(decode(self.content))
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
