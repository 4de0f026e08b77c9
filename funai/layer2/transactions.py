"""L2 transactions: formats, ids, signatures and the inference content hash (DESIGN section 5).

Encoding (deterministic CBOR, :mod:`funai.ledger.encoding`)::

    tx = [version, kind, sender_key, nonce, fee, payload, signature]

* ``sender_key``: the sender's 32-byte BIP340 x-only key; its account is
  ``HASH160(sender_key)`` (20 bytes, the payload of an L1 version-0 address).
* ``txid = SHA-256d(encode(tx without signature))``; the signature is BIP340 over the
  tagged hash ``"FAI2/tx"`` of ``[network_id, txid]``.
* ``payload`` per kind (see :class:`TxKind`); inference transactions carry only hashes: the
  content (input, output, context, system prompt) travels beside the block.

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
from dataclasses import dataclass, field

from funai import _core
from funai.errors import MalformedInputError
from funai.hashing import sha256, sha256d
from funai.layer2.errors import L2Error
from funai.layer2.request_params import RequestParams
from funai.ledger.encoding import CborValue, decode, encode
from funai.ledger.tx import MAX_MONEY, tagged_hash

__all__ = [
    "InferenceContent",
    "L2Tx",
    "TxKind",
    "account_of",
    "content_hash",
    "receipt_message",
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


def _check_payload(kind: TxKind, p: list[CborValue]) -> None:
    def need(n: int) -> None:
        if len(p) != n:
            raise MalformedInputError(f"{kind.name} payload needs {n} items")

    def amount(i: int) -> None:
        if not isinstance(p[i], int) or not 0 < p[i] <= MAX_MONEY:
            raise MalformedInputError(f"{kind.name}: amount must be in (0, MAX_MONEY]")

    def blob(i: int, size: int) -> None:
        if not isinstance(p[i], bytes) or len(p[i]) != size:
            raise MalformedInputError(f"{kind.name}: item {i} must be {size} bytes")

    def payout(i: int) -> None:
        if p[i] not in (0, 1):
            raise MalformedInputError("payout kind must be 0 (key) or 1 (key hash)")
        blob(i + 1, 32 if p[i] == 0 else 20)

    if kind is TxKind.TRANSFER:
        need(2)
        blob(0, 20)
        amount(1)
    elif kind is TxKind.STAKE:
        need(3)
        amount(0)
        payout(1)
    elif kind in (TxKind.UNSTAKE, TxKind.BOND, TxKind.UNBOND):
        need(1)
        amount(0)
    elif kind is TxKind.INFERENCE:
        need(7)
        blob(0, 32)
        blob(1, 32)
        amount(2)
        blob(3, 32)
        blob(4, 32)
        blob(5, 64)
        amount(6)
    elif kind is TxKind.DEPLOY:
        need(2)
        if not isinstance(p[0], str) or not isinstance(p[1], str):
            raise MalformedInputError("DEPLOY payload is [name, source]")
    elif kind is TxKind.CALL:
        need(3)
        if not (isinstance(p[0], str) and isinstance(p[1], str) and isinstance(p[2], list)):
            raise MalformedInputError("CALL payload is [contract_id, function, [args]]")
        if not all(isinstance(a, str) for a in p[2]):
            raise MalformedInputError("CALL arguments are Clarity literals (text)")
    elif kind is TxKind.MODEL_PROPOSE:
        need(2)
        blob(0, 32)
        if not isinstance(p[1], str) or len(p[1]) > 256:
            raise MalformedInputError("model description must be text of <= 256 chars")
    elif kind is TxKind.MODEL_VOTE:
        need(1)
        blob(0, 32)
    elif kind is TxKind.PEG_IN:
        need(4)
        blob(0, 32)
        if not isinstance(p[1], int) or not 0 <= p[1] < 2**32:
            raise MalformedInputError("PEG_IN: bad L1 output index")
        blob(2, 20)
        amount(3)
    elif kind is TxKind.PEG_OUT:
        need(3)
        amount(0)
        payout(1)
    elif kind is TxKind.EQUIVOCATION:
        need(4)
        for i in (0, 2):
            if not isinstance(p[i], bytes):
                raise MalformedInputError("EQUIVOCATION carries two encoded headers")
        blob(1, 64)
        blob(3, 64)


@dataclass(frozen=True)
class L2Tx:
    """An L2 transaction (immutable)."""

    kind: TxKind
    sender_key: bytes
    nonce: int
    fee: int
    payload: tuple[CborValue, ...]
    signature: bytes = bytes(64)
    version: int = 1
    _cache: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.version != 1:
            raise MalformedInputError("unknown L2 transaction version")
        if len(self.sender_key) != 32 or len(self.signature) != 64:
            raise MalformedInputError("sender key is 32 bytes, signature 64")
        if not 0 <= self.nonce < 2**63 or not 0 <= self.fee <= MAX_MONEY:
            raise MalformedInputError("nonce or fee out of range")
        _check_payload(self.kind, list(self.payload))

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
        p = self.payload
        return sha256d(
            encode([int(self.kind), self.sender_key, self.nonce, self.fee, [p[0], p[1], p[2]]])
        )


def sign_tx(
    sk: bytes,
    kind: TxKind,
    nonce: int,
    payload: list[CborValue],
    network_id: bytes,
    fee: int = 0,
) -> L2Tx:
    """A signed transaction from secret key ``sk``."""
    unsigned = L2Tx(kind, _core.schnorr_public_key(sk), nonce, fee, tuple(payload))
    sig = _core.schnorr_sign(sk, unsigned.sighash(network_id), bytes(32))
    return L2Tx(kind, unsigned.sender_key, nonce, fee, tuple(payload), sig)


def with_receipt(
    request: L2Tx, executor_sk: bytes, chash: bytes, gas_used: int, network_id: bytes
) -> L2Tx:
    """The completed inference transaction of a signed ``request``: the executor's key,
    the content hash, the gas it charges and its receipt signature over them."""
    model_id, rhash, gas_limit = request.payload[0], request.payload[1], request.payload[2]
    rsig = _core.schnorr_sign(
        executor_sk, receipt_message(network_id, request.user_txid(), chash, gas_used), None
    )
    return L2Tx(
        TxKind.INFERENCE,
        request.sender_key,
        request.nonce,
        request.fee,
        (
            model_id,
            rhash,
            gas_limit,
            _core.schnorr_public_key(executor_sk),
            chash,
            rsig,
            gas_used,
        ),
        request.signature,
    )


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
    draft = L2Tx(
        TxKind.INFERENCE,
        _core.schnorr_public_key(user_sk),
        nonce,
        fee,
        (model_id, rhash, gas, bytes(32), bytes(32), bytes(64), gas),
    )
    usig = _core.schnorr_sign(user_sk, draft.sighash(network_id), bytes(32))
    request = L2Tx(draft.kind, draft.sender_key, nonce, fee, draft.payload, usig)
    used = gas if gas_used is None else gas_used
    return with_receipt(request, executor_sk, content.hash(), used, network_id)
