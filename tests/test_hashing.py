"""Hashing and Merkle root: the Rust core against independent Python implementations."""

from __future__ import annotations

import hashlib

import blake3 as blake3_reference
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funai.errors import FunaiError, MalformedInputError
from funai.hashing import blake3, merkle_root, sha256, sha256d

leaf = st.binary(min_size=32, max_size=32)


def _sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def reference_merkle_root(leaves: list[bytes]) -> bytes:
    """The rule as documented: tagged leaves and nodes, odd last node promoted."""
    if not leaves:
        return bytes(32)
    level = [_sha256d(b"\x00" + x) for x in leaves]
    while len(level) > 1:
        nxt = [_sha256d(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


@given(st.binary(max_size=4096))
def test_sha256_matches_hashlib(data: bytes) -> None:
    assert sha256(data) == hashlib.sha256(data).digest()


@given(st.binary(max_size=4096))
def test_sha256d_matches_hashlib(data: bytes) -> None:
    assert sha256d(data) == _sha256d(data)


@given(st.binary(max_size=8192))
def test_blake3_matches_reference(data: bytes) -> None:
    assert blake3(data) == blake3_reference.blake3(data).digest()


def test_large_inputs() -> None:
    data = bytes(range(256)) * 40_000  # 10 MB: several BLAKE3 chunks, many SHA blocks
    assert sha256(data) == hashlib.sha256(data).digest()
    assert blake3(data) == blake3_reference.blake3(data).digest()


def test_accepts_bytes_like_only() -> None:
    with pytest.raises(TypeError):
        sha256("text")  # type: ignore[arg-type]


@given(st.lists(leaf, max_size=40))
def test_merkle_root_matches_reference(leaves: list[bytes]) -> None:
    assert merkle_root(leaves) == reference_merkle_root(leaves)


@given(st.lists(leaf, min_size=1, max_size=40))
def test_merkle_duplicating_last_leaf_changes_root(leaves: list[bytes]) -> None:
    """CVE-2012-2459: Bitcoin's tree gives [.., c] and [.., c, c] one root when odd."""
    assert merkle_root(leaves) != merkle_root([*leaves, leaves[-1]])


@settings(max_examples=300)
@given(st.lists(leaf, max_size=9), st.lists(leaf, max_size=9))
def test_merkle_distinct_lists_have_distinct_roots(a: list[bytes], b: list[bytes]) -> None:
    if a != b:
        assert merkle_root(a) != merkle_root(b)


def test_merkle_bitcoin_malleability_example() -> None:
    a, b, c = (bytes([i]) * 32 for i in (1, 2, 3))
    assert merkle_root([a, b, c]) != merkle_root([a, b, c, c])
    # an inner node handed in as a leaf does not reproduce the root
    ab = _sha256d(b"\x01" + _sha256d(b"\x00" + a) + _sha256d(b"\x00" + b))
    cc = _sha256d(b"\x01" + _sha256d(b"\x00" + c) + _sha256d(b"\x00" + c))
    assert merkle_root([ab, cc]) != merkle_root([a, b, c, c])


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_merkle_rejects_wrong_leaf_size(size: int) -> None:
    with pytest.raises(MalformedInputError, match="leaf 1 must be 32 bytes") as info:
        merkle_root([bytes(32), bytes(size)])
    assert isinstance(info.value, FunaiError)
    assert isinstance(info.value, ValueError)
