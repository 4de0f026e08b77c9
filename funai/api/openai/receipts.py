"""The receipts of the OpenAI-compatible API and the ``funai`` extension object they ride in.

With the inference layer, an answer carries the executor's BIP340 receipt over its L2
inference transaction (``kind: "executor"``); without it, a *provisional* receipt signed with
the node's Ed25519 key (``kind: "provisional"``, ``inference_txid`` null). Non-streaming
answers also carry the receipt in the ``X-FunAI-Receipt`` header (:func:`encode_receipt`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from funai import _core
from funai.errors import FunaiError
from funai.layer2.transactions import InferenceContent, InferencePayload, L2Tx, length_prefixed
from funai.layer2.transactions import receipt_message as l2_receipt_message
from funai.ledger.tx import tagged_hash

__all__ = [
    "RECEIPT_TAG",
    "answer_extension",
    "encode_receipt",
    "provisional_receipt_message",
    "receipt_headers",
    "verify_receipt",
]

RECEIPT_TAG = b"FunAI/api-receipt-v0"


def provisional_receipt_message(model_id: bytes, chash: bytes, request_id: str) -> bytes:
    """What the provisional receipt signs: ``tagged_hash("FunAI/api-receipt-v0", model_id ||
    content_hash || lp(request_id))``."""
    return tagged_hash(RECEIPT_TAG, model_id + chash + length_prefixed(request_id.encode()))


def verify_receipt(receipt: Mapping[str, Any]) -> bool:
    """Checks a receipt's signature.

    * ``kind: "executor"`` (inference layer running): the executor's BIP340 signature
      (``signer``, an x-only key) over ``receipt_message(network_id, user_txid,
      content_hash, gas)`` of :mod:`funai.layer2.transactions`, the same bytes the verifiers check
      on chain;
    * ``kind: "provisional"`` (no inference layer): Ed25519 by the node key (``GET
      /v1/status``) over :func:`provisional_receipt_message`.
    """
    try:
        if receipt.get("kind") == "executor":
            msg = l2_receipt_message(
                bytes.fromhex(receipt["network_id"]),
                bytes.fromhex(receipt["user_txid"]),
                bytes.fromhex(receipt["content_hash"]),
                int(receipt["gas"]),
            )
            return bool(
                _core.schnorr_verify(
                    bytes.fromhex(receipt["signer"]), msg, bytes.fromhex(receipt["signature"])
                )
            )
        msg = provisional_receipt_message(
            bytes.fromhex(receipt["model_id"]),
            bytes.fromhex(receipt["content_hash"]),
            str(receipt["request_id"]),
        )
        return bool(
            _core.ed25519_verify(
                bytes.fromhex(receipt["signer"]), msg, bytes.fromhex(receipt["signature"])
            )
        )
    except (KeyError, ValueError, TypeError, FunaiError):
        return False


def encode_receipt(receipt: Mapping[str, Any]) -> str:
    """A receipt as the ``X-FunAI-Receipt`` header carries it: base64url (unpadded) of its
    compact JSON with sorted keys."""
    raw = json.dumps(receipt, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def receipt_headers(ext: Mapping[str, Any]) -> dict[str, str]:
    """The headers of a non-streamed answer with the extension ``ext``."""
    return {
        "X-FunAI-Receipt": encode_receipt(ext["receipt"]),
        "X-FunAI-Request-Id": ext["request_id"],
    }


def answer_extension(
    model_id: str,
    content: InferenceContent,
    seed: int,
    rid: str,
    *,
    tx: L2Tx | None = None,
    network_id: bytes | None = None,
    node_key: tuple[bytes, bytes] | None = None,
) -> dict[str, Any]:
    """The ``funai`` extension of an answer: the request's signed sampling parameters, the
    seed it was drawn with, its token ids and finish, and its receipt: the executor's, from
    the inference transaction ``tx`` on the network ``network_id``, or else a provisional one
    signed with ``node_key`` (secret, public; unsigned without it)."""
    chash = content.hash()
    answer = {
        "seed": seed,
        "params": content.params.to_json(),
        "tokens": list(content.tokens),
        "finish": content.finish,
    }
    if tx is not None and network_id is not None:
        txid, body = tx.txid().hex(), tx.payload_as(InferencePayload)
        executor: dict[str, Any] = {
            "version": 1,
            "kind": "executor",
            "scheme": "bip340",
            "request_id": rid,
            "model_id": model_id,
            "content_hash": chash.hex(),
            "inference_txid": txid,
            "user_txid": tx.user_txid().hex(),
            "network_id": network_id.hex(),
            "payer": tx.sender.hex(),
            "gas": body.gas_used,
            "gas_limit": body.gas_limit,
            "seed": seed,
            "signer": body.executor_key.hex(),
            "signature": body.executor_sig.hex(),
        }
        return {
            "request_id": rid,
            "model_id": model_id,
            "inference_txid": txid,
            **answer,
            "receipt": executor,
        }
    receipt: dict[str, Any] = {
        "version": 0,
        "kind": "provisional",
        "request_id": rid,
        "model_id": model_id,
        "content_hash": chash.hex(),
        "inference_txid": None,
        "seed": seed,
        "status": "no inference layer on this node: no inference transaction",
    }
    if node_key is not None:
        sk, pk = node_key
        mid = bytes.fromhex(model_id) if model_id else b""
        receipt["scheme"] = "ed25519"
        receipt["signer"] = pk.hex()
        receipt["signature"] = _core.ed25519_sign(
            sk, provisional_receipt_message(mid, chash, rid)
        ).hex()
    return {
        "request_id": rid,
        "model_id": model_id,
        "inference_txid": None,
        **answer,
        "receipt": receipt,
    }
