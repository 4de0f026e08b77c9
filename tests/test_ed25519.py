"""Ed25519 (RFC 8032) with strict verification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funai.errors import MalformedInputError
from funai.keys import ed25519_keygen, ed25519_public_key, ed25519_sign, ed25519_verify

# RFC 8032 section 7.1, TEST 1-3: (secret key, public key, message, signature).
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("sk", "pk", "msg", "sig"), RFC8032)
def test_rfc8032_vectors(sk: str, pk: str, msg: str, sig: str) -> None:
    secret, public = bytes.fromhex(sk), bytes.fromhex(pk)
    message, signature = bytes.fromhex(msg), bytes.fromhex(sig)
    assert ed25519_public_key(secret) == public
    assert ed25519_sign(secret, message) == signature
    assert ed25519_verify(public, message, signature)
    assert not ed25519_verify(public, message + b"\x00", signature)


def test_vrf_vector_keys_are_ed25519_keys(vectors_dir: Path) -> None:
    """The ECVRF vectors use the RFC 8032 seeds: both derive the same public keys."""
    data = json.loads((vectors_dir / "ecvrf-edwards25519-sha512-tai.json").read_text())
    for v in data["vectors"]:
        assert ed25519_public_key(bytes.fromhex(v["sk"])).hex() == v["pk"]


def test_keygen() -> None:
    sk, pk = ed25519_keygen()
    assert ed25519_public_key(sk) == pk
    assert ed25519_verify(pk, b"node", ed25519_sign(sk, b"node"))
    assert ed25519_keygen()[0] != sk


@settings(max_examples=25, deadline=None)
@given(
    sk=st.binary(min_size=32, max_size=32),
    msg=st.binary(max_size=300),
    flip=st.integers(min_value=0, max_value=63),
)
def test_sign_verify_roundtrip(sk: bytes, msg: bytes, flip: int) -> None:
    pk = ed25519_public_key(sk)
    sig = ed25519_sign(sk, msg)
    assert ed25519_verify(pk, msg, sig)
    bad = bytearray(sig)
    bad[flip] ^= 0x10
    assert not ed25519_verify(pk, msg, bytes(bad))


def test_small_order_and_invalid_keys_are_rejected() -> None:
    identity = bytes([1]) + bytes(31)
    forged = identity + bytes(32)  # R = identity, s = 0: valid for every message non-strictly
    assert not ed25519_verify(identity, b"anything", forged)
    not_a_point = bytes([2]) + bytes(31)
    assert not ed25519_verify(not_a_point, b"anything", forged)


@pytest.mark.parametrize("length", [0, 31, 33])
def test_wrong_lengths(length: int) -> None:
    sk, pk = ed25519_keygen()
    sig = ed25519_sign(sk, b"m")
    bad = bytes(length)
    with pytest.raises(MalformedInputError, match="public key must be 32 bytes"):
        ed25519_verify(bad, b"m", sig)
    with pytest.raises(MalformedInputError, match="secret key must be 32 bytes"):
        ed25519_sign(bad, b"m")
    with pytest.raises(MalformedInputError, match="secret key must be 32 bytes"):
        ed25519_public_key(bad)
    with pytest.raises(MalformedInputError, match="signature must be 64 bytes"):
        ed25519_verify(pk, b"m", sig[:length])
