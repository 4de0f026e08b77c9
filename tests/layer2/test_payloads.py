"""Typed transaction payloads: the wire encoding and every id are unchanged (pinned from
the positional code before the typed classes), and each kind's ``decode`` rejects a
malformed payload (wrong arity, wrong type, value out of range)."""

from __future__ import annotations

import pytest

from funai.errors import MalformedInputError
from funai.layer2.transactions import (
    PAYLOAD_TYPES,
    BondPayload,
    CallPayload,
    DeployPayload,
    EquivocationPayload,
    InferencePayload,
    L2Tx,
    ModelProposePayload,
    ModelVotePayload,
    PegInPayload,
    PegOutPayload,
    StakePayload,
    TransferPayload,
    TxKind,
    TxPayload,
    UnbondPayload,
    UnstakePayload,
    decode_payload,
    receipt_message,
    sign_payload,
    sign_tx,
)
from funai.ledger.encoding import CborValue
from funai.ledger.tx import MAX_MONEY

KEY = bytes(range(1, 33))
SIG = bytes(range(100, 164))
NET = b"N" * 32


def _h(c: int) -> bytes:
    return bytes([c]) * 32


#: one payload of each kind in its wire form
SAMPLES: dict[TxKind, tuple[CborValue, ...]] = {
    TxKind.TRANSFER: (b"\x14" * 20, 5_000),
    TxKind.STAKE: (7 * 10**8, 0, _h(0x31)),
    TxKind.UNSTAKE: (123,),
    TxKind.BOND: (2**40,),
    TxKind.INFERENCE: (_h(0xA1), _h(0xA2), 900, _h(0xA3), _h(0xA4), b"\xa5" * 64, 640),
    TxKind.DEPLOY: ("counter", "(define-data-var n uint u0)"),
    TxKind.CALL: ("ST000.counter", "bump", ["u1", '"x"']),
    TxKind.MODEL_PROPOSE: (_h(0x77), "a small model"),
    TxKind.MODEL_VOTE: (_h(0x77),),
    TxKind.PEG_IN: (_h(0x99), 3, b"\x20" * 20, 10**8),
    TxKind.PEG_OUT: (5 * 10**7, 1, b"\x21" * 20),
    TxKind.EQUIVOCATION: (b"header a", b"\x01" * 64, b"header b", b"\x02" * 64),
    TxKind.UNBOND: (42,),
}

#: the same payloads as typed objects
TYPED: dict[TxKind, TxPayload] = {
    TxKind.TRANSFER: TransferPayload(b"\x14" * 20, 5_000),
    TxKind.STAKE: StakePayload(7 * 10**8, 0, _h(0x31)),
    TxKind.UNSTAKE: UnstakePayload(123),
    TxKind.BOND: BondPayload(2**40),
    TxKind.INFERENCE: InferencePayload(
        _h(0xA1), _h(0xA2), 900, _h(0xA3), _h(0xA4), b"\xa5" * 64, 640
    ),
    TxKind.DEPLOY: DeployPayload("counter", "(define-data-var n uint u0)"),
    TxKind.CALL: CallPayload("ST000.counter", "bump", ("u1", '"x"')),
    TxKind.MODEL_PROPOSE: ModelProposePayload(_h(0x77), "a small model"),
    TxKind.MODEL_VOTE: ModelVotePayload(_h(0x77)),
    TxKind.PEG_IN: PegInPayload(_h(0x99), 3, b"\x20" * 20, 10**8),
    TxKind.PEG_OUT: PegOutPayload(5 * 10**7, 1, b"\x21" * 20),
    TxKind.EQUIVOCATION: EquivocationPayload(b"header a", b"\x01" * 64, b"header b", b"\x02" * 64),
    TxKind.UNBOND: UnbondPayload(42),
}

#: ``L2Tx(kind, KEY, 9, 11, SAMPLES[kind], SIG)``: (serialized, txid, sighash(NET)) as the
#: positional code computed them
PINNED = {
    TxKind.TRANSFER: (
        "87010058200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b8254141414141414141414141414141414141414141419138858406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "3cb6ce4990bd4d5216f873b49a3261cefbae03724ebb1181bb955ca569e1e0f7",
        "1e5c3505d0fb840f70c8f3ad4c09627568060b36e3bc9a2324a9cec22c853269",
    ),
    TxKind.STAKE: (
        "87010158200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b831a29b92700005820313131313131313131313131313131313131313131313131313131313131313158406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "616ba9b14f96c0a0dbfc3005e3584c0c8f7bccda6018ca878be6bfe45b95eb11",
        "81e37a20d0ffe156fc50e350521e14bf88236d158f49de4df6d78efb178333af",
    ),
    TxKind.UNSTAKE: (
        "87010258200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b81187b58406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "9ac4c3dfb2e84297808c000552dbd0a5e9de401405b348f3269550ab80653f18",
        "4a4015da448611ebfb4a9ba0da061e4c80c27da89c0908948353bc55a665f351",
    ),
    TxKind.BOND: (
        "87010358200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b811b000001000000000058406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "6dc2f3e694500cc3daf184fbedd4f7d234b418274f690c5b6f34df72813f73f6",
        "9c752385b9fa24abee8404daf6c5397d9270c27010e38543fcff3f3cd50556ff",
    ),
    TxKind.INFERENCE: (
        "87010458200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b875820a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a15820a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a21903845820a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a35820a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a45840a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a519028058406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "47ca38a8b90b1d88eaa03aa856d7be1ec6c245516bc4aa123307191bf5552d55",
        "90dc4377a7e38912705831fd578a7c85dc6357495b046d995589ed1525e88919",
    ),
    TxKind.DEPLOY: (
        "87010558200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b8267636f756e746572781b28646566696e652d646174612d766172206e2075696e742075302958406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "58e63f31b96ea236efe2dd6db27fa74b20bf42f8f9655ca1dcb8f8d170256bdc",
        "c08a9b97fa871e2a527570f294741e36d8494aeda4d72efd82c8e71d34788b6f",
    ),
    TxKind.CALL: (
        "87010658200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b836d53543030302e636f756e7465726462756d70826275316322782258406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "a4304b73ce1fa133c8a3db68369cc12862123551e1ff4ad4c4412700a3397243",
        "3f1721301f601a00f33af412bf46c76ea0f0f8f5575efb29df4b32aa0e362ea0",
    ),
    TxKind.MODEL_PROPOSE: (
        "87010758200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b82582077777777777777777777777777777777777777777777777777777777777777776d6120736d616c6c206d6f64656c58406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "1bd152bf931f5a109fb051e4c7294cb04c528d53d16a33a1c7478e3d31f14a7b",
        "9fd355d4b457f18225f5b620b63abf06eef657869b16211b30b777454ec46a75",
    ),
    TxKind.MODEL_VOTE: (
        "87010858200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b815820777777777777777777777777777777777777777777777777777777777777777758406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "aa2c6c3389d1fed231c3967bac582138224099178bb160e0dae5cef2d77cd1be",
        "96bc460c9a97cf3d8f40631555569c297b27484f0ea1455c3baffa6ad6b577fc",
    ),
    TxKind.PEG_IN: (
        "87010958200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b8458209999999999999999999999999999999999999999999999999999999999999999035420202020202020202020202020202020202020201a05f5e10058406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "9c46c8164cce298a5916d28f8cdf83133fc3b191530fd975cce651692e2803f3",
        "0f48713c5a5337e46bcba73259b5c654c9a9e29d4f007de9bd1ded7a8e5e43f6",
    ),
    TxKind.PEG_OUT: (
        "87010a58200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b831a02faf0800154212121212121212121212121212121212121212158406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "656ff7eb0c3085deb951f17546b41784b385a0d8f8d7e5606a025b896185f88d",
        "671fabbc8e4ed3d57b735fa96f78f9c03ff60a8b7d0e222be6cd42200e0c4313",
    ),
    TxKind.EQUIVOCATION: (
        "87010b58200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b8448686561646572206158400101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010148686561646572206258400202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020258406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "59fd8c52fcf40812d319e776df249dab7d8914b1fb597edecbe5b4419bca5a1b",
        "beefefd404ba05b46132f696f93e84b3da97a55b0345cad81883735434b82ef5",
    ),
    TxKind.UNBOND: (
        "87010c58200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20090b81182a58406465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
        "a89ddfb8910d6c096cf5cd4fe1b737f4e6626bbbbe4df95d95107077b095130d",
        "4aa57d7b039e947a5696b3aebc44e817dd6a48a655033798f45a5f0bc0489fcd",
    ),
}


def test_every_kind_has_a_typed_payload() -> None:
    assert set(PAYLOAD_TYPES) == set(TxKind) == set(SAMPLES) == set(TYPED) == set(PINNED)
    for kind, cls in PAYLOAD_TYPES.items():
        assert cls.KIND is kind


@pytest.mark.parametrize("kind", list(TxKind), ids=lambda k: k.name)
def test_encodings_and_ids_are_unchanged(kind: TxKind) -> None:
    raw, txid, sighash = PINNED[kind]
    tx = L2Tx(kind, KEY, 9, 11, SAMPLES[kind], SIG)
    assert tx.serialize().hex() == raw
    assert tx.txid().hex() == txid
    assert tx.sighash(NET).hex() == sighash
    # the typed payload: decoded from the wire, encodes back to it, builds the same tx
    assert tx.body == TYPED[kind] == decode_payload(kind, SAMPLES[kind])
    assert TYPED[kind].encode() == list(SAMPLES[kind])
    assert type(tx.payload_as(type(TYPED[kind]))) is type(TYPED[kind])
    made = L2Tx.of(TYPED[kind], KEY, 9, 11, SIG)
    assert made == tx
    assert made.serialize().hex() == raw
    assert L2Tx.deserialize(bytes.fromhex(raw)) == tx


def test_inference_ids_are_unchanged() -> None:
    tx = L2Tx(TxKind.INFERENCE, KEY, 9, 11, SAMPLES[TxKind.INFERENCE], SIG)
    user_txid = "555b75900c2da628c4ce63d705a3beb865f484aa43c82f190979b8b734c3d0a9"
    assert tx.user_txid().hex() == user_txid
    assert (
        receipt_message(NET, tx.user_txid(), _h(0xA4), 640).hex()
        == "3b539dcc81b4157bba4cb7e5d8371e792c9b03df8cb9c9484b3b6638f4a4c828"
    )


def test_signed_encoding_is_unchanged() -> None:
    pinned = (
        "8701005820989c0b76cb563971fdc9bef31ec06c3560f3249d6ee9e5d83c57625596e05f6f0102825414"
        "14141414141414141414141414141414141414055840c23391183bda48a3551b581b39b0908e6be7b71e"
        "26e55115595d7bfa79d7ff8e9c54529e0931a984c1b1022a544213c2bfdf361bf4b6a01d5b8837593d94"
        "6204"
    )
    sk = bytes([7]) * 32
    assert sign_tx(sk, TxKind.TRANSFER, 1, [b"\x14" * 20, 5], NET, fee=2).serialize().hex() == (
        pinned
    )
    typed = sign_payload(sk, TransferPayload(b"\x14" * 20, 5), 1, NET, fee=2)
    assert typed.serialize().hex() == pinned


def test_payload_as_refuses_another_kind() -> None:
    tx = L2Tx(TxKind.BOND, KEY, 0, 0, SAMPLES[TxKind.BOND], SIG)
    assert tx.payload_as(BondPayload).amount == 2**40
    with pytest.raises(MalformedInputError, match="BOND transaction has no UnbondPayload"):
        tx.payload_as(UnbondPayload)
    with pytest.raises(MalformedInputError):
        tx.user_txid()  # only an inference has a request part


def _bad(kind: TxKind) -> list[tuple[str, list[CborValue]]]:
    """(what, payload) malformed variants of the sample of ``kind``: wrong arity, then one
    per field with a wrong type or out-of-range value."""
    good = list(SAMPLES[kind])
    out: list[tuple[str, list[CborValue]]] = [
        ("too few items", good[:-1]),
        ("too many items", [*good, 0]),
    ]

    def at(i: int, v: CborValue, what: str) -> None:
        p = list(good)
        p[i] = v
        out.append((what, p))

    amount_at = {
        TxKind.TRANSFER: [1],
        TxKind.STAKE: [0],
        TxKind.UNSTAKE: [0],
        TxKind.BOND: [0],
        TxKind.UNBOND: [0],
        TxKind.INFERENCE: [2, 6],
        TxKind.PEG_IN: [3],
        TxKind.PEG_OUT: [0],
    }.get(kind, [])
    for i in amount_at:
        at(i, 0, f"amount {i} zero")
        at(i, MAX_MONEY + 1, f"amount {i} over MAX_MONEY")
        at(i, -5, f"amount {i} negative")
        at(i, "5", f"amount {i} text")
        at(i, True, f"amount {i} a boolean")
    for i, v in enumerate(good):
        if isinstance(v, bytes):
            at(i, v + b"\x00" if len(v) in (20, 32, 64) else "text", f"item {i} wrong bytes")
            at(i, 7, f"item {i} an int")
        elif isinstance(v, str):
            at(i, v.encode(), f"item {i} bytes for text")
    if kind in (TxKind.STAKE, TxKind.PEG_OUT):
        at(1, 2, "payout kind 2")
        at(1, 0 if good[1] == 1 else 1, "payout kind of another size")
    if kind is TxKind.MODEL_PROPOSE:
        at(1, "x" * 257, "description too long")
    if kind is TxKind.PEG_IN:
        at(1, 2**32, "index out of range")
        at(1, -1, "index negative")
    if kind is TxKind.CALL:
        at(2, ("u1",), "arguments not a list")
        at(2, ["u1", 5], "an argument not text")
    return out


@pytest.mark.parametrize("kind", list(TxKind), ids=lambda k: k.name)
def test_decode_rejects_malformed_payloads(kind: TxKind) -> None:
    cases = _bad(kind)
    assert len(cases) >= 3
    for what, p in cases:
        try:
            decode_payload(kind, p)
        except MalformedInputError:
            pass
        else:
            pytest.fail(f"{kind.name}: accepted {what}")
        with pytest.raises(MalformedInputError):
            L2Tx(kind, KEY, 0, 0, tuple(p), SIG)


def test_typed_constructors_check_their_fields() -> None:
    with pytest.raises(MalformedInputError, match="TRANSFER: to must be 20 bytes"):
        TransferPayload(b"\x01" * 19, 5)
    with pytest.raises(MalformedInputError, match=r"amount must be in \(0, MAX_MONEY\]"):
        BondPayload(0)
    with pytest.raises(MalformedInputError, match="payout kind"):
        PegOutPayload(5, 3, b"\x00" * 20)
    with pytest.raises(MalformedInputError, match="PEG_IN: bad L1 output index"):
        PegInPayload(_h(1), 2**32, b"\x00" * 20, 5)


def test_deploy_carries_a_clarity_version_other_than_2() -> None:
    four = DeployPayload("v", "(define-read-only (f) current-contract)", 4)
    assert four.encode() == ["v", "(define-read-only (f) current-contract)", 4]
    assert DeployPayload.decode(four.encode()) == four
    two = DeployPayload("v", "(define-read-only (f) u1)")
    assert two.encode() == ["v", "(define-read-only (f) u1)"]  # the one encoding of Clarity 2
    with pytest.raises(MalformedInputError, match="Clarity 2 is written as"):
        DeployPayload.decode(["v", "x", 2])
    for bad in (5, 0, True, "4", None):
        with pytest.raises(MalformedInputError, match="Clarity version"):
            DeployPayload.decode(["v", "x", bad])
    with pytest.raises(MalformedInputError):
        DeployPayload.decode(["v", "x", 4, 4])
