"""Deterministic CBOR, transaction ids, sighash domain separation, bech32m addresses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funai import _core
from funai.errors import MalformedInputError
from funai.ledger.address import (
    clarity_version,
    decode_address,
    encode_address,
    hash160,
)
from funai.ledger.block import Block
from funai.ledger.encoding import decode, encode
from funai.ledger.genesis import genesis_block, genesis_hash
from funai.ledger.params import MAIN, NETWORKS, REGTEST
from funai.ledger.tx import OutPoint, Transaction, TxIn, sighash, tagged_hash
from tests.ledger.ledger_kit import SK_A, pkh_out

# RFC 8949 appendix A examples (the subset consensus values use).
RFC_EXAMPLES = [
    (0, "00"),
    (1, "01"),
    (10, "0a"),
    (23, "17"),
    (24, "1818"),
    (25, "1819"),
    (100, "1864"),
    (1000, "1903e8"),
    (1000000, "1a000f4240"),
    (1000000000000, "1b000000e8d4a51000"),
    (18446744073709551615, "1bffffffffffffffff"),
    (-1, "20"),
    (-10, "29"),
    (-100, "3863"),
    (-1000, "3903e7"),
    (b"", "40"),
    (b"\x01\x02\x03\x04", "4401020304"),
    ("", "60"),
    ("a", "6161"),
    ("IETF", "6449455446"),
    ([], "80"),
    ([1, 2, 3], "83010203"),
    ([1, [2, 3], [4, 5]], "8301820203820405"),
    (None, "f6"),
    (list(range(1, 26)), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
]


@pytest.mark.parametrize(("value", "hexstr"), RFC_EXAMPLES)
def test_cbor_matches_rfc8949(value: object, hexstr: str) -> None:
    assert encode(value) == bytes.fromhex(hexstr)
    assert decode(bytes.fromhex(hexstr)) == value


@pytest.mark.parametrize(
    "bad",
    [
        "1817",  # 23 in two bytes (non-shortest)
        "190017",  # 23 in three bytes
        "1a000000ff",
        "5f4101ff",  # indefinite-length byte string
        "9f01ff",  # indefinite-length array
        "0000",  # trailing bytes
        "f5",  # true
        "f93c00",  # float 1.0
        "a10102",  # map
        "c24101",  # tag (bignum)
        "1b",  # truncated
    ],
)
def test_cbor_rejects_non_canonical(bad: str) -> None:
    with pytest.raises(MalformedInputError):
        decode(bytes.fromhex(bad))


values = st.recursive(
    st.none() | st.integers(-(2**64), 2**64 - 1) | st.binary(max_size=40) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(values)
def test_cbor_round_trip(value: object) -> None:
    data = encode(value)
    assert decode(data) == value
    assert encode(decode(data)) == data


def _tx() -> Transaction:
    return Transaction(
        1,
        (TxIn(OutPoint(b"\x01" * 32, 3)),),
        (pkh_out(SK_A, 5),),
        0,
        None,
        ((b"\x02" * 32, b"\x03" * 64),),
    )


def test_txid_excludes_witnesses() -> None:
    tx = _tx()
    other = tx.with_witnesses(((b"\x04" * 32, b"\x05" * 64),))
    assert tx.txid() == other.txid()
    assert tx.wtxid() != other.wtxid()
    parsed = Transaction.deserialize(tx.serialize())
    assert parsed.serialize() == tx.serialize()
    assert parsed.txid() == tx.txid()


def test_transaction_rejects_bad_shapes() -> None:
    raw = tx_value = _tx().to_cbor()
    for broken in (tx_value[:5], [*tx_value[:1], [[b"\x01" * 31, 0]], *tx_value[2:]]):
        with pytest.raises(MalformedInputError):
            Transaction.deserialize(encode(broken))
    assert raw


def test_block_round_trip() -> None:
    g = genesis_block(REGTEST)
    assert Block.deserialize(g.serialize()).hash() == g.hash()


def test_sighash_is_tagged_and_network_bound() -> None:
    tx = _tx()
    spent = [pkh_out(SK_A, 7)]
    a = sighash(tx, 0, spent, genesis_hash(MAIN))
    b = sighash(tx, 0, spent, genesis_hash(REGTEST))
    assert a != b
    assert sighash(tx, 0, [pkh_out(SK_A, 8)], genesis_hash(MAIN)) != a  # commits to amounts
    assert tagged_hash(b"x", b"") != tagged_hash(b"y", b"")


def test_hash160() -> None:
    assert hash160(b"").hex() == "b472a266d0bd89c13706a4132ccfb16f7c3b9fcb"


def test_address_round_trip_and_networks() -> None:
    h = hash160(_core.schnorr_public_key(SK_A))
    main = encode_address("fai", 0, h)
    test = encode_address("tfai", 0, h)
    assert main.startswith("fai1")
    assert test.startswith("tfai1")
    assert decode_address(main).payload == h
    assert decode_address(test, "tfai").payload == h
    assert decode_address(main.upper()).payload == h
    assert clarity_version("fai") == 22
    assert clarity_version("tfai") == 26
    with pytest.raises(MalformedInputError):
        decode_address(main, "tfai")  # wrong network
    pk = encode_address("tfai", 1, _core.schnorr_public_key(SK_A))
    assert decode_address(pk).version == 1
    assert {p.hrp for p in NETWORKS.values()} == {"fai", "tfai"}


@pytest.mark.parametrize("mutate", ["checksum", "mixed", "version", "length", "hrp"])
def test_address_rejects(mutate: str) -> None:
    h = hash160(b"k")
    good = encode_address("fai", 0, h)
    if mutate == "checksum":
        bad = good[:-1] + ("q" if good[-1] != "q" else "p")
    elif mutate == "mixed":
        bad = good[:6] + good[6:].upper()
    elif mutate == "version":
        with pytest.raises(MalformedInputError):
            encode_address("fai", 2, h)
        return
    elif mutate == "length":
        with pytest.raises(MalformedInputError):
            encode_address("fai", 0, h[:19])
        return
    else:
        bad = encode_address("fai", 0, h).replace("fai1", "btc1", 1)
    with pytest.raises(MalformedInputError):
        decode_address(bad)
