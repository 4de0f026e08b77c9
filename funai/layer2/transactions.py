"""L2 transactions: formats, ids, signatures and the inference content hash (DESIGN section 5).

Encoding (deterministic CBOR, :mod:`funai.ledger.encoding`)::

    tx = [version, kind, sender_key, nonce, fee, payload, signature]

* ``sender_key``: the sender's 32-byte BIP340 x-only key; its account is
  ``HASH160(sender_key)`` (20 bytes, the payload of an L1 version-0 address).
* ``txid = SHA-256d(encode(tx without signature))``; the signature is BIP340 over the
  tagged hash ``"FAI2/tx"`` of ``[network_id, txid]``.
* ``payload`` per kind (see :class:`TxKind`): one frozen class each (:data:`PAYLOAD_TYPES`,
  read as :attr:`L2Tx.body` or :meth:`L2Tx.payload_as`); inference transactions carry only
  hashes: the content (input, output, context, system prompt) travels beside the block.

Rule ``content-hash``: ``SHA-256(lp(input) || lp(output) || lp(context) || lp(system_prompt)
|| lp(encode(params)) || lp(encode(tokens)) || lp(finish))`` where ``lp(x) = len(x) as 8
bytes big-endian || x`` (text in UTF-8), so two different contents can never share a hash
(the paper's plain concatenation could). ``params`` is the request's sampling part
(:class:`~funai.layer2.request_params.RequestParams`), ``tokens`` the answer's token ids and
``finish`` how it ended (``eos``, ``stop`` or ``length``): what a verifier needs to replay it.

Rule ``request-hash``: ``SHA-256(lp(model_id) || lp(input) || lp(context) ||
lp(system_prompt) || lp(encode(params)))``: what the user signs before any output exists.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Self, TypeVar

from funai import _core
from funai.errors import MalformedInputError
from funai.hashing import sha256, sha256d
from funai.layer2.errors import L2Error
from funai.layer2.request_params import RequestParams
from funai.ledger.encoding import CborValue, decode, encode
from funai.ledger.tx import MAX_MONEY, tagged_hash

__all__ = [
    "PAYLOAD_TYPES",
    "BondPayload",
    "CallPayload",
    "DeployPayload",
    "EquivocationPayload",
    "InferenceContent",
    "InferencePayload",
    "L2Tx",
    "ModelProposePayload",
    "ModelVotePayload",
    "PegInPayload",
    "PegOutPayload",
    "StakePayload",
    "TransferPayload",
    "TxKind",
    "TxPayload",
    "UnbondPayload",
    "UnstakePayload",
    "account_of",
    "content_hash",
    "decode_payload",
    "receipt_message",
    "sign_payload",
    "sign_tx",
    "with_receipt",
]

MAX_TX_SIZE = 100_000


class TxKind(enum.IntEnum):
    """Transaction kinds and their payloads."""

    TRANSFER = 0  # [to (20), amount]
    STAKE = 1  # [amount, payout_kind (0 key / 1 key hash), payout_payload]
    UNSTAKE = 2  # [amount]
    BOND = 3  # [amount]
    # [model_id, request_hash, gas_limit, executor_key, content_hash, executor_sig, gas_used]
    INFERENCE = 4
    DEPLOY = 5  # [name, source]
    CALL = 6  # [contract_id, function, [args...]]
    MODEL_PROPOSE = 7  # [model_id, description]
    MODEL_VOTE = 8  # [model_id]
    PEG_IN = 9  # [l1_txid, l1_index, to (20), amount]   (sender: the producer)
    PEG_OUT = 10  # [amount, payout_kind, payout_payload]
    EQUIVOCATION = 11  # [header_a, sig_a, header_b, sig_b]
    UNBOND = 12  # [amount]   (executor bond -> unbonding, released after unbonding_delay)


def account_of(key: bytes) -> bytes:
    """The 20-byte account of an x-only key: HASH160(key)."""
    return _core.hash160(key)


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


#: The length prefix of every hash here (8-byte big-endian length, then the bytes); the API's
#: provisional receipt uses it too.
length_prefixed = _lp


FINISHES = ("eos", "stop", "length")
#: The most token ids an answer's content may list.
MAX_CONTENT_TOKENS = 1 << 16


def _text(s: str) -> bytes:
    """UTF-8 of ``s``; a lone surrogate cannot be hashed or sent (MalformedInputError)."""
    try:
        return s.encode()
    except UnicodeEncodeError:
        raise MalformedInputError("text is not valid Unicode (a lone surrogate)") from None


def content_hash(
    input_text: str,
    output_text: str,
    context: str,
    system_prompt: str,
    params: RequestParams | None = None,
    tokens: tuple[int, ...] = (),
    finish: str = "eos",
) -> bytes:
    """Rule ``content-hash`` (length-prefixed, unambiguous)."""
    texts = b"".join(_lp(_text(s)) for s in (input_text, output_text, context, system_prompt))
    rest = (
        encode((params or RequestParams()).to_cbor()),
        encode(list(tokens)),
        finish.encode(),
    )
    return sha256(texts + b"".join(_lp(x) for x in rest))


@dataclass(frozen=True)
class InferenceContent:
    """What an inference transaction's hash commits to; lives in the content store only.

    The request part (input, context, system prompt, ``params``) is what the user signed
    (its hash is the transaction's ``request_hash``); ``output``, ``tokens`` (the answer's
    token ids, end-of-sequence not included; empty: the output's own tokenization) and
    ``finish`` are the executor's answer."""

    input: str
    output: str
    context: str = ""
    system_prompt: str = ""
    params: RequestParams = field(default_factory=RequestParams)
    tokens: tuple[int, ...] = ()
    finish: str = "eos"

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(self.tokens))
        if self.finish not in FINISHES:
            raise MalformedInputError(f"content finish must be one of {FINISHES}")
        if len(self.tokens) > MAX_CONTENT_TOKENS or not all(
            isinstance(t, int) and not isinstance(t, bool) and 0 <= t < 2**32 for t in self.tokens
        ):
            raise MalformedInputError("content tokens are at most 65536 ids in [0, 2**32)")

    def hash(self) -> bytes:
        return content_hash(
            self.input,
            self.output,
            self.context,
            self.system_prompt,
            self.params,
            self.tokens,
            self.finish,
        )

    def request_hash(self, model_id: bytes) -> bytes:
        """Rule ``request-hash`` of this content's request part."""
        return request_hash(model_id, self.input, self.context, self.system_prompt, self.params)

    def request_only(self) -> InferenceContent:
        """The request part alone (no answer yet)."""
        return InferenceContent(self.input, "", self.context, self.system_prompt, self.params)

    def answered(self, output: str, tokens: tuple[int, ...], finish: str) -> InferenceContent:
        """This request with an answer."""
        return InferenceContent(
            self.input, output, self.context, self.system_prompt, self.params, tokens, finish
        )

    def to_cbor(self) -> list[CborValue]:
        return [
            self.input,
            self.output,
            self.context,
            self.system_prompt,
            self.params.to_cbor(),
            list(self.tokens),
            self.finish,
        ]

    @classmethod
    def from_cbor(cls, v: CborValue) -> InferenceContent:
        if (
            not isinstance(v, list)
            or len(v) != 7
            or not all(isinstance(s, str) for s in (*v[:4], v[6]))
            or not isinstance(v[5], list)
        ):
            raise MalformedInputError(
                "inference content is [input, output, context, prompt, params, tokens, finish]"
            )
        return cls(v[0], v[1], v[2], v[3], RequestParams.from_cbor(v[4]), tuple(v[5]), v[6])


def request_hash(
    model_id: bytes,
    input_text: str,
    context: str,
    system_prompt: str,
    params: RequestParams | None = None,
) -> bytes:
    """Rule ``request-hash``: what the user signs before any output exists."""
    texts = b"".join(_lp(_text(s)) for s in (input_text, context, system_prompt))
    return sha256(_lp(model_id) + texts + _lp(encode((params or RequestParams()).to_cbor())))


def receipt_message(network_id: bytes, user_txid: bytes, chash: bytes, gas_used: int) -> bytes:
    """What the executor signs: its receipt for the request ``user_txid``, the content and
    the gas it charges (at most the gas limit the user signed)."""
    return tagged_hash(
        b"FAI2/receipt", network_id + user_txid + chash + gas_used.to_bytes(8, "big")
    )


def _int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _need(kind: TxKind, p: Sequence[CborValue], n: int) -> None:
    if len(p) != n:
        raise MalformedInputError(f"{kind.name} payload needs {n} items")


def _amount(kind: TxKind, v: object) -> None:
    if not (isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_MONEY):
        raise MalformedInputError(f"{kind.name}: amount must be in (0, MAX_MONEY]")


def _blob(kind: TxKind, v: object, size: int, what: str) -> None:
    if not isinstance(v, bytes) or len(v) != size:
        raise MalformedInputError(f"{kind.name}: {what} must be {size} bytes")


def _payout(kind: TxKind, payout_kind: object, payout: object) -> None:
    if not _int(payout_kind) or payout_kind not in (0, 1):
        raise MalformedInputError("payout kind must be 0 (key) or 1 (key hash)")
    _blob(kind, payout, 32 if payout_kind == 0 else 20, "payout")


# --- typed payloads: one frozen class per kind (its fields, its encoding, its checks) ------
#
# ``encode()`` is the payload's CBOR array (the ``payload`` field of the transaction's
# encoding); ``decode()`` checks the arity and builds the class, whose ``__post_init__``
# checks every field's type and range (MalformedInputError), so a payload object is valid
# however it was made. ``debit`` is what the payload moves out of the sender's balance
# besides the fee.


@dataclass(frozen=True, slots=True)
class TransferPayload:
    """``TRANSFER``: ``[to (20), amount]``."""

    KIND: ClassVar[TxKind] = TxKind.TRANSFER
    to: bytes
    amount: int

    def __post_init__(self) -> None:
        _blob(self.KIND, self.to, 20, "to")
        _amount(self.KIND, self.amount)

    @property
    def debit(self) -> int:
        return self.amount

    def encode(self) -> list[CborValue]:
        return [self.to, self.amount]

    @classmethod
    def decode(cls, p: Sequence[CborValue]) -> TransferPayload:
        _need(cls.KIND, p, 2)
        return cls(p[0], p[1])


@dataclass(frozen=True, slots=True)
class _PayoutPayload:
    """``[amount, payout_kind (0 key / 1 key hash), payout (32 / 20 bytes)]``."""

    KIND: ClassVar[TxKind]
    amount: int
    payout_kind: int
    payout: bytes

    def __post_init__(self) -> None:
        _amount(self.KIND, self.amount)
        _payout(self.KIND, self.payout_kind, self.payout)

    @property
    def debit(self) -> int:
        return self.amount

    def encode(self) -> list[CborValue]:
        return [self.amount, self.payout_kind, self.payout]

    @classmethod
    def decode(cls, p: Sequence[CborValue]) -> Self:
        _need(cls.KIND, p, 3)
        return cls(p[0], p[1], p[2])


@dataclass(frozen=True, slots=True)
class StakePayload(_PayoutPayload):
    """``STAKE``: ``[amount, payout_kind, payout]`` (the L1 address verifier rewards go to)."""

    KIND: ClassVar[TxKind] = TxKind.STAKE


@dataclass(frozen=True, slots=True)
class PegOutPayload(_PayoutPayload):
    """``PEG_OUT``: ``[amount, payout_kind, payout]`` (the L1 address paid)."""

    KIND: ClassVar[TxKind] = TxKind.PEG_OUT


@dataclass(frozen=True, slots=True)
class _AmountPayload:
    """``[amount]``."""

    KIND: ClassVar[TxKind]
    amount: int

    def __post_init__(self) -> None:
        _amount(self.KIND, self.amount)

    @property
    def debit(self) -> int:
        return 0

    def encode(self) -> list[CborValue]:
        return [self.amount]

    @classmethod
    def decode(cls, p: Sequence[CborValue]) -> Self:
        _need(cls.KIND, p, 1)
        return cls(p[0])


@dataclass(frozen=True, slots=True)
class UnstakePayload(_AmountPayload):
    """``UNSTAKE``: ``[amount]`` (stake -> unbonding)."""

    KIND: ClassVar[TxKind] = TxKind.UNSTAKE


@dataclass(frozen=True, slots=True)
class BondPayload(_AmountPayload):
    """``BOND``: ``[amount]`` (balance -> executor bond)."""

    KIND: ClassVar[TxKind] = TxKind.BOND

    @property
    def debit(self) -> int:
        return self.amount


@dataclass(frozen=True, slots=True)
class UnbondPayload(_AmountPayload):
    """``UNBOND``: ``[amount]`` (executor bond -> unbonding, released after
    ``unbonding_delay``)."""

    KIND: ClassVar[TxKind] = TxKind.UNBOND


@dataclass(frozen=True, slots=True)
class InferencePayload:
    """``INFERENCE``: ``[model_id, request_hash, gas_limit, executor_key, content_hash,
    executor_sig, gas_used]``. The first three are the user's request part (what
    :meth:`L2Tx.user_txid` covers); the rest is the executor's receipt (all zero in a
    request not yet answered)."""

    KIND: ClassVar[TxKind] = TxKind.INFERENCE
    model_id: bytes
    request_hash: bytes
    gas_limit: int
    executor_key: bytes
    content_hash: bytes
    executor_sig: bytes
    gas_used: int

    def __post_init__(self) -> None:
        _blob(self.KIND, self.model_id, 32, "model id")
        _blob(self.KIND, self.request_hash, 32, "request hash")
        _amount(self.KIND, self.gas_limit)
        _blob(self.KIND, self.executor_key, 32, "executor key")
        _blob(self.KIND, self.content_hash, 32, "content hash")
        _blob(self.KIND, self.executor_sig, 64, "executor signature")
        _amount(self.KIND, self.gas_used)

    @classmethod
    def request(cls, model_id: bytes, request_hash: bytes, gas_limit: int) -> InferencePayload:
        """A request not yet answered: the executor part zero, ``gas_used`` the limit."""
        return cls(model_id, request_hash, gas_limit, bytes(32), bytes(32), bytes(64), gas_limit)

    def with_receipt(
        self, executor_key: bytes, content_hash: bytes, executor_sig: bytes, gas_used: int
    ) -> InferencePayload:
        """This request answered: the executor's key, content hash, signature and gas."""
        return InferencePayload(
            self.model_id,
            self.request_hash,
            self.gas_limit,
            executor_key,
            content_hash,
            executor_sig,
            gas_used,
        )

    @property
    def debit(self) -> int:
        return self.gas_used  # the limit only bounds it

    def request_part(self) -> list[CborValue]:
        """What the user signed: ``[model_id, request_hash, gas_limit]``."""
        return [self.model_id, self.request_hash, self.gas_limit]

    def encode(self) -> list[CborValue]:
        return [
            *self.request_part(),
            self.executor_key,
            self.content_hash,
            self.executor_sig,
            self.gas_used,
        ]

    @classmethod
    def decode(cls, p: Sequence[CborValue]) -> InferencePayload:
        _need(cls.KIND, p, 7)
        return cls(p[0], p[1], p[2], p[3], p[4], p[5], p[6])


@dataclass(frozen=True, slots=True)
class DeployPayload:
    """``DEPLOY``: ``[name, source]`` (a Clarity 2 contract) or ``[name, source, version]``
    (Clarity 1, 3 or 4; 2 is never written out, so a payload has one encoding)."""

    KIND: ClassVar[TxKind] = TxKind.DEPLOY
    name: str
    source: str
    clarity_version: int = 2

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not isinstance(self.source, str):
            raise MalformedInputError("DEPLOY payload is [name, source] or [name, source, version]")
        v = self.clarity_version
        if isinstance(v, bool) or v not in (1, 2, 3, 4):
            raise MalformedInputError("DEPLOY: the Clarity version is 1, 2, 3 or 4")

    @property
    def debit(self) -> int:
        return 0

    def encode(self) -> list[CborValue]:
        if self.clarity_version == 2:
            return [self.name, self.source]
        return [self.name, self.source, self.clarity_version]

    @classmethod
    def decode(cls, p: Sequence[CborValue]) -> DeployPayload:
        if len(p) == 3:
            if p[2] == 2:
                raise MalformedInputError("DEPLOY: Clarity 2 is written as [name, source]")
            if not isinstance(p[2], int):
                raise MalformedInputError("DEPLOY: the Clarity version is 1, 2, 3 or 4")
            return cls(p[0], p[1], p[2])
        _need(cls.KIND, p, 2)
        return cls(p[0], p[1])


@dataclass(frozen=True, slots=True)
class CallPayload:
    """``CALL``: ``[contract_id, function, [args...]]`` (arguments are Clarity literals)."""

    KIND: ClassVar[TxKind] = TxKind.CALL
    contract_id: str
    function: str
    args: tuple[str, ...]

    def __post_init__(self) -> None:
        if not (
            isinstance(self.contract_id, str)
            and isinstance(self.function, str)
            and isinstance(self.args, tuple)
        ):
            raise MalformedInputError("CALL payload is [contract_id, function, [args]]")
        if not all(isinstance(a, str) for a in self.args):
            raise MalformedInputError("CALL arguments are Clarity literals (text)")

    @property
    def debit(self) -> int:
        return 0

    def encode(self) -> list[CborValue]:
        return [self.contract_id, self.function, list(self.args)]

    @classmethod
    def decode(cls, p: Sequence[CborValue]) -> CallPayload:
        _need(cls.KIND, p, 3)
        if not isinstance(p[2], list):
            raise MalformedInputError("CALL payload is [contract_id, function, [args]]")
        return cls(p[0], p[1], tuple(p[2]))


@dataclass(frozen=True, slots=True)
class ModelProposePayload:
    """``MODEL_PROPOSE``: ``[model_id, description]`` (at most 256 characters)."""

    KIND: ClassVar[TxKind] = TxKind.MODEL_PROPOSE
    model_id: bytes
    description: str

    def __post_init__(self) -> None:
        _blob(self.KIND, self.model_id, 32, "model id")
        if not isinstance(self.description, str) or len(self.description) > 256:
            raise MalformedInputError("model description must be text of <= 256 chars")

    @property
    def debit(self) -> int:
        return 0

    def encode(self) -> list[CborValue]:
        return [self.model_id, self.description]

    @classmethod
    def decode(cls, p: Sequence[CborValue]) -> ModelProposePayload:
        _need(cls.KIND, p, 2)
        return cls(p[0], p[1])


@dataclass(frozen=True, slots=True)
class ModelVotePayload:
    """``MODEL_VOTE``: ``[model_id]``."""

    KIND: ClassVar[TxKind] = TxKind.MODEL_VOTE
    model_id: bytes

    def __post_init__(self) -> None:
        _blob(self.KIND, self.model_id, 32, "model id")

    @property
    def debit(self) -> int:
        return 0

    def encode(self) -> list[CborValue]:
        return [self.model_id]

    @classmethod
    def decode(cls, p: Sequence[CborValue]) -> ModelVotePayload:
        _need(cls.KIND, p, 1)
        return cls(p[0])


@dataclass(frozen=True, slots=True)
class PegInPayload:
    """``PEG_IN``: ``[l1_txid, l1_index, to (20), amount]`` (sender: the block producer)."""

    KIND: ClassVar[TxKind] = TxKind.PEG_IN
    l1_txid: bytes
    l1_index: int
    to: bytes
    amount: int

    def __post_init__(self) -> None:
        _blob(self.KIND, self.l1_txid, 32, "L1 txid")
        if not _int(self.l1_index) or not 0 <= self.l1_index < 2**32:
            raise MalformedInputError("PEG_IN: bad L1 output index")
        _blob(self.KIND, self.to, 20, "to")
        _amount(self.KIND, self.amount)

    @property
    def debit(self) -> int:
        return 0

    def encode(self) -> list[CborValue]:
        return [self.l1_txid, self.l1_index, self.to, self.amount]

    @classmethod
    def decode(cls, p: Sequence[CborValue]) -> PegInPayload:
        _need(cls.KIND, p, 4)
        return cls(p[0], p[1], p[2], p[3])


@dataclass(frozen=True, slots=True)
class EquivocationPayload:
    """``EQUIVOCATION``: ``[header_a, sig_a, header_b, sig_b]``: two encoded L2 headers of
    one election and their producer's signatures (rule ``equivocation``)."""

    KIND: ClassVar[TxKind] = TxKind.EQUIVOCATION
    header_a: bytes
    sig_a: bytes
    header_b: bytes
    sig_b: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.header_a, bytes) or not isinstance(self.header_b, bytes):
            raise MalformedInputError("EQUIVOCATION carries two encoded headers")
        _blob(self.KIND, self.sig_a, 64, "signature")
        _blob(self.KIND, self.sig_b, 64, "signature")

    @property
    def debit(self) -> int:
        return 0

    def encode(self) -> list[CborValue]:
        return [self.header_a, self.sig_a, self.header_b, self.sig_b]

    @classmethod
    def decode(cls, p: Sequence[CborValue]) -> EquivocationPayload:
        _need(cls.KIND, p, 4)
        return cls(p[0], p[1], p[2], p[3])


#: A transaction's payload, typed by its kind.
TxPayload = (
    TransferPayload
    | StakePayload
    | UnstakePayload
    | BondPayload
    | InferencePayload
    | DeployPayload
    | CallPayload
    | ModelProposePayload
    | ModelVotePayload
    | PegInPayload
    | PegOutPayload
    | EquivocationPayload
    | UnbondPayload
)

P = TypeVar("P", bound=TxPayload)

#: The payload class of each kind.
PAYLOAD_TYPES: dict[TxKind, type[TxPayload]] = {
    cls.KIND: cls
    for cls in (
        TransferPayload,
        StakePayload,
        UnstakePayload,
        BondPayload,
        InferencePayload,
        DeployPayload,
        CallPayload,
        ModelProposePayload,
        ModelVotePayload,
        PegInPayload,
        PegOutPayload,
        EquivocationPayload,
        UnbondPayload,
    )
}


def decode_payload(kind: TxKind, payload: Sequence[CborValue]) -> TxPayload:
    """The typed payload of a ``kind`` transaction (MalformedInputError if malformed)."""
    return PAYLOAD_TYPES[kind].decode(payload)


@dataclass(frozen=True)
class L2Tx:
    """An L2 transaction (immutable)."""

    kind: TxKind
    sender_key: bytes
    nonce: int
    fee: int
    payload: tuple[CborValue, ...]  # the wire form; read it through :meth:`body`
    signature: bytes = bytes(64)
    version: int = 1
    _cache: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    _body: TxPayload = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.version != 1:
            raise MalformedInputError("unknown L2 transaction version")
        if len(self.sender_key) != 32 or len(self.signature) != 64:
            raise MalformedInputError("sender key is 32 bytes, signature 64")
        if not 0 <= self.nonce < 2**63 or not 0 <= self.fee <= MAX_MONEY:
            raise MalformedInputError("nonce or fee out of range")
        object.__setattr__(self, "_body", decode_payload(self.kind, self.payload))

    @classmethod
    def of(
        cls,
        body: TxPayload,
        sender_key: bytes,
        nonce: int,
        fee: int = 0,
        signature: bytes = bytes(64),
    ) -> L2Tx:
        """The transaction of kind ``body.KIND`` carrying ``body``."""
        return cls(body.KIND, sender_key, nonce, fee, tuple(body.encode()), signature)

    @property
    def body(self) -> TxPayload:
        """The typed payload (its class is the kind's, :data:`PAYLOAD_TYPES`)."""
        return self._body

    def payload_as(self, cls: type[P]) -> P:
        """The typed payload, which must be a ``cls`` (MalformedInputError otherwise)."""
        if not isinstance(self._body, cls):
            raise MalformedInputError(f"a {self.kind.name} transaction has no {cls.__name__}")
        return self._body

    @property
    def sender(self) -> bytes:
        return account_of(self.sender_key)

    def _unsigned(self) -> list[CborValue]:
        return [
            self.version,
            int(self.kind),
            self.sender_key,
            self.nonce,
            self.fee,
            list(self.payload),
        ]

    def txid(self) -> bytes:
        if "txid" not in self._cache:
            self._cache["txid"] = sha256d(encode(self._unsigned()))
        return self._cache["txid"]

    def sighash(self, network_id: bytes) -> bytes:
        """What the sender signs; for an inference tx, only the request part (the user signs
        before the output exists; the executor's receipt covers the rest)."""
        ident = self.user_txid() if self.kind is TxKind.INFERENCE else self.txid()
        return tagged_hash(b"FAI2/tx", encode([network_id, ident]))

    def to_cbor(self) -> list[CborValue]:
        return [*self._unsigned(), self.signature]

    def serialize(self) -> bytes:
        return encode(self.to_cbor())

    @classmethod
    def from_cbor(cls, v: CborValue) -> L2Tx:
        if not isinstance(v, list) or len(v) != 7:
            raise MalformedInputError("an L2 transaction has 7 fields")
        version, kind, key, nonce, fee, payload, sig = v
        if not isinstance(kind, int) or kind not in TxKind._value2member_map_:
            raise MalformedInputError(f"unknown L2 transaction kind {kind!r}")
        if not (
            isinstance(version, int)
            and isinstance(key, bytes)
            and isinstance(nonce, int)
            and isinstance(fee, int)
            and isinstance(payload, list)
            and isinstance(sig, bytes)
        ):
            raise MalformedInputError("malformed L2 transaction fields")
        return cls(TxKind(kind), key, nonce, fee, tuple(payload), sig, version)

    @classmethod
    def deserialize(cls, data: bytes) -> L2Tx:
        return cls.from_cbor(decode(data, max_size=MAX_TX_SIZE))

    def verify_signature(self, network_id: bytes) -> None:
        """Rule ``tx-bad-signature``."""
        if not _core.schnorr_verify(self.sender_key, self.sighash(network_id), self.signature):
            raise L2Error("tx-bad-signature", self.txid().hex())

    # --- inference accessors ---------------------------------------------------------
    def user_txid(self) -> bytes:
        """For an inference tx: the id of the user's request part (what the receipt signs):
        model, request hash and the gas limit, not what the executor adds."""
        part = self.payload_as(InferencePayload).request_part()
        return sha256d(encode([int(self.kind), self.sender_key, self.nonce, self.fee, part]))


def sign_payload(sk: bytes, body: TxPayload, nonce: int, network_id: bytes, fee: int = 0) -> L2Tx:
    """A signed transaction carrying ``body`` from secret key ``sk``."""
    unsigned = L2Tx.of(body, _core.schnorr_public_key(sk), nonce, fee)
    sig = _core.schnorr_sign(sk, unsigned.sighash(network_id), bytes(32))
    return L2Tx.of(body, unsigned.sender_key, nonce, fee, sig)


def sign_tx(
    sk: bytes,
    kind: TxKind,
    nonce: int,
    payload: Sequence[CborValue],
    network_id: bytes,
    fee: int = 0,
) -> L2Tx:
    """A signed transaction from secret key ``sk`` with a payload in its wire form
    (:func:`sign_payload` takes a typed one)."""
    return sign_payload(sk, decode_payload(kind, payload), nonce, network_id, fee)


def with_receipt(
    request: L2Tx, executor_sk: bytes, chash: bytes, gas_used: int, network_id: bytes
) -> L2Tx:
    """The completed inference transaction of a signed ``request``: the executor's key,
    the content hash, the gas it charges and its receipt signature over them."""
    rsig = _core.schnorr_sign(
        executor_sk, receipt_message(network_id, request.user_txid(), chash, gas_used), None
    )
    body = request.payload_as(InferencePayload).with_receipt(
        _core.schnorr_public_key(executor_sk), chash, rsig, gas_used
    )
    return L2Tx.of(body, request.sender_key, request.nonce, request.fee, request.signature)


def make_inference(
    user_sk: bytes,
    executor_sk: bytes,
    nonce: int,
    model_id: bytes,
    content: InferenceContent,
    gas: int,
    network_id: bytes,
    fee: int = 0,
    *,
    gas_used: int | None = None,
) -> L2Tx:
    """A completed inference transaction: the user's request (gas limit ``gas``) plus the
    executor's receipt charging ``gas_used`` (default: the whole limit).

    (In the node the user signs the request part first; the executor adds the receipt.)
    """
    rhash = content.request_hash(model_id)
    request = sign_payload(
        user_sk, InferencePayload.request(model_id, rhash, gas), nonce, network_id, fee
    )
    used = gas if gas_used is None else gas_used
    return with_receipt(request, executor_sk, content.hash(), used, network_id)
