"""L2 gossip messages, registered in the network's message registry (docs/protocol.md).

Each body carries deterministic-CBOR encodings of the L2 objects:

* ``l2tx`` ``{tx, content}``: a completed transaction and, for an inference transaction,
  its content (``[input, output, context, system_prompt]``; empty bytes otherwise).
* ``l2block`` ``{block, contents}``: an L2 block and its :class:`BlockContents`.
* ``l2vote`` ``{vote}``: a verifier's signed vote.

Inventory kinds for relaying them are ``l2tx``, ``l2block`` and ``l2vote`` (ids: txid,
block hash, ``SHA-256(vote encoding)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funai.hashing import sha256
from funai.layer2.block import BlockContents, L2Block
from funai.layer2.transactions import InferenceContent, L2Tx
from funai.layer2.votes import Vote
from funai.ledger.encoding import decode, encode
from funai.network.messages import Message, register

__all__ = ["L2BlockMsg", "L2TxMsg", "L2VoteMsg"]


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
