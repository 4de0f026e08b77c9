"""Units of funai/api/openai/receipts.py: the ``funai`` extension and its provisional
receipt, and the ``X-FunAI-Receipt`` header encoding."""

from __future__ import annotations

import base64
import json
from typing import Any

from funai import _core
from funai.api.openai.receipts import (
    answer_extension,
    encode_receipt,
    provisional_receipt_message,
    receipt_headers,
    verify_receipt,
)
from funai.layer2.transactions import InferenceContent

CONTENT = InferenceContent("in", "out", "", "sys", tokens=(1, 2), finish="eos")
MODEL_ID = "ab" * 32


def test_provisional_extension_is_signed_by_the_node_key() -> None:
    sk, pk = _core.ed25519_keygen()
    ext = answer_extension(MODEL_ID, CONTENT, 5, "cmpl-1", node_key=(sk, pk))
    assert ext["inference_txid"] is None
    assert (ext["seed"], ext["tokens"], ext["finish"]) == (5, [1, 2], "eos")
    receipt = ext["receipt"]
    assert receipt["kind"] == "provisional"
    assert receipt["signer"] == pk.hex()
    assert receipt["content_hash"] == CONTENT.hash().hex()
    assert verify_receipt(receipt)
    msg = provisional_receipt_message(bytes.fromhex(MODEL_ID), CONTENT.hash(), "cmpl-1")
    assert _core.ed25519_verify(pk, msg, bytes.fromhex(receipt["signature"]))
    assert not verify_receipt({**receipt, "request_id": "cmpl-2"})
    # a transaction without the network it is on is no executor receipt
    assert answer_extension(MODEL_ID, CONTENT, 5, "r")["receipt"]["kind"] == "provisional"


def test_unsigned_without_a_node_key() -> None:
    receipt = answer_extension("", CONTENT, 1, "r")["receipt"]
    assert "signature" not in receipt
    assert not verify_receipt(receipt)


def test_header_encoding() -> None:
    ext: dict[str, Any] = {"request_id": "r", "receipt": {"b": 1, "a": [1, 2]}}
    headers = receipt_headers(ext)
    assert headers["X-FunAI-Request-Id"] == "r"
    raw = headers["X-FunAI-Receipt"]
    assert raw == encode_receipt(ext["receipt"])
    assert "=" not in raw
    decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    assert decoded == b'{"a":[1,2],"b":1}'
    assert json.loads(decoded) == ext["receipt"]
