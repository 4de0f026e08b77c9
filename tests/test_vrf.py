"""ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381): vectors, malformed input, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from funai import vrf
from funai.cli import app
from funai.errors import FunaiError, MalformedInputError, VerificationError

# L, the order of the prime-order subgroup of edwards25519.
L = 2**252 + 27742317777372353535851937790883648493
# Encodings of the 8 points of small order (orders 1, 2, 4, 8).
SMALL_ORDER_POINTS = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]
# y = 2 is not the y coordinate of any curve point.
NOT_A_POINT = "02" + "00" * 31
# Non-canonical encodings: y = p + 1 (the identity again) and "negative zero" x.
NON_CANONICAL = ["ee" + "ff" * 30 + "7f", "01" + "00" * 30 + "80"]

runner = CliRunner()


def load_vectors(vectors_dir: Path) -> list[dict[str, bytes]]:
    data: dict[str, Any] = json.loads(
        (vectors_dir / "ecvrf-edwards25519-sha512-tai.json").read_text()
    )
    assert data["suite"] == "ECVRF-EDWARDS25519-SHA512-TAI"
    vectors = [{k: bytes.fromhex(v) for k, v in row.items()} for row in data["vectors"]]
    assert vectors
    return vectors


@pytest.fixture(scope="module")
def vectors(vectors_dir: Path) -> list[dict[str, bytes]]:
    return load_vectors(vectors_dir)


@pytest.fixture(scope="module")
def sample(vectors: list[dict[str, bytes]]) -> dict[str, bytes]:
    return vectors[1]


def test_rfc9381_vectors(vectors: list[dict[str, bytes]]) -> None:
    for v in vectors:
        assert vrf.public_key(v["sk"]) == v["pk"]
        assert vrf.prove(v["sk"], v["alpha"]) == v["pi"]
        assert vrf.proof_to_hash(v["pi"]) == v["beta"]
        assert vrf.verify(v["pk"], v["alpha"], v["pi"]) == v["beta"]


def test_keygen_roundtrip() -> None:
    sk, pk = vrf.keygen()
    assert len(sk) == vrf.SECRET_KEY_LEN
    assert len(pk) == vrf.PUBLIC_KEY_LEN
    assert vrf.public_key(sk) == pk
    proof = vrf.prove(sk, b"seed")
    assert len(proof) == vrf.PROOF_LEN
    beta = vrf.verify(pk, b"seed", proof)
    assert len(beta) == vrf.OUTPUT_LEN
    assert beta == vrf.proof_to_hash(proof)
    assert vrf.keygen()[0] != sk


@settings(max_examples=25, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), alpha=st.binary(max_size=300))
def test_prove_verify_roundtrip(seed: bytes, alpha: bytes) -> None:
    proof = vrf.prove(seed, alpha)
    assert proof == vrf.prove(seed, alpha)
    assert vrf.verify(vrf.public_key(seed), alpha, proof) == vrf.proof_to_hash(proof)


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_wrong_key_lengths(sample: dict[str, bytes], length: int) -> None:
    bad = bytes(length)
    with pytest.raises(MalformedInputError, match="public key must be 32 bytes"):
        vrf.verify(bad, sample["alpha"], sample["pi"])
    with pytest.raises(MalformedInputError, match="secret key must be 32 bytes"):
        vrf.prove(bad, sample["alpha"])
    with pytest.raises(MalformedInputError):
        vrf.public_key(bad)


@pytest.mark.parametrize("length", [0, 79, 81, 160])
def test_wrong_proof_lengths(sample: dict[str, bytes], length: int) -> None:
    proof = (sample["pi"] * 2)[:length]
    with pytest.raises(MalformedInputError, match="proof must be 80 bytes"):
        vrf.verify(sample["pk"], sample["alpha"], proof)
    with pytest.raises(MalformedInputError, match="proof must be 80 bytes"):
        vrf.proof_to_hash(proof)


def test_non_canonical_s(sample: dict[str, bytes]) -> None:
    pi = sample["pi"]
    s = int.from_bytes(pi[48:], "little")
    for bad_s in (s + L, L, 2**256 - 1):
        proof = pi[:48] + bad_s.to_bytes(32, "little")
        with pytest.raises(MalformedInputError, match="s is not canonical"):
            vrf.verify(sample["pk"], sample["alpha"], proof)
        with pytest.raises(MalformedInputError, match="s is not canonical"):
            vrf.proof_to_hash(proof)


@pytest.mark.parametrize("point", SMALL_ORDER_POINTS)
def test_small_order_public_key(sample: dict[str, bytes], point: str) -> None:
    with pytest.raises(MalformedInputError, match="public key is a small-order point"):
        vrf.verify(bytes.fromhex(point), sample["alpha"], sample["pi"])


@pytest.mark.parametrize("point", SMALL_ORDER_POINTS)
def test_small_order_gamma(sample: dict[str, bytes], point: str) -> None:
    proof = bytes.fromhex(point) + sample["pi"][32:]
    with pytest.raises(MalformedInputError, match="Gamma is a small-order point"):
        vrf.verify(sample["pk"], sample["alpha"], proof)


@pytest.mark.parametrize("point", [NOT_A_POINT, *NON_CANONICAL])
def test_invalid_point_encodings(sample: dict[str, bytes], point: str) -> None:
    encoded = bytes.fromhex(point)
    with pytest.raises(MalformedInputError, match="public key is not a valid"):
        vrf.verify(encoded, sample["alpha"], sample["pi"])
    proof = encoded + sample["pi"][32:]
    with pytest.raises(MalformedInputError, match="Gamma is not a valid"):
        vrf.verify(sample["pk"], sample["alpha"], proof)
    with pytest.raises(MalformedInputError, match="Gamma is not a valid"):
        vrf.proof_to_hash(proof)


@pytest.mark.parametrize("index", [32, 40, 47, 48, 60, 78])
def test_tampered_proof_byte(sample: dict[str, bytes], index: int) -> None:
    proof = bytearray(sample["pi"])
    proof[index] ^= 0x01
    with pytest.raises(VerificationError, match="does not verify"):
        vrf.verify(sample["pk"], sample["alpha"], bytes(proof))


def test_tampered_alpha_and_key(vectors: list[dict[str, bytes]]) -> None:
    v = vectors[1]
    with pytest.raises(VerificationError):
        vrf.verify(v["pk"], v["alpha"] + b"\x00", v["pi"])
    with pytest.raises(VerificationError):
        vrf.verify(vectors[0]["pk"], v["alpha"], v["pi"])
    # A Gamma that is a valid point of large order, but the wrong one.
    with pytest.raises(VerificationError):
        vrf.verify(v["pk"], v["alpha"], vectors[0]["pi"][:32] + v["pi"][32:])


def test_errors_are_funai_errors(sample: dict[str, bytes]) -> None:
    with pytest.raises(FunaiError):
        vrf.verify(b"", b"", b"")
    with pytest.raises(ValueError, match="proof must be 80 bytes"):  # also a ValueError
        vrf.proof_to_hash(b"")
    with pytest.raises(TypeError):
        vrf.verify("not bytes", b"", sample["pi"])  # type: ignore[arg-type]


# --- CLI ---------------------------------------------------------------------------------


def test_cli_prove_verify_match_vectors(vectors: list[dict[str, bytes]]) -> None:
    for v in vectors:
        alpha = v["alpha"].hex()  # the first vector's alpha is empty: --alpha ""
        result = runner.invoke(app, ["vrf", "prove", "--sk", v["sk"].hex(), "--alpha", alpha])
        assert result.exit_code == 0, result.output
        assert result.stdout == v["pi"].hex() + "\n"
        args = ["vrf", "verify", "--pk", v["pk"].hex(), "--alpha", alpha, "--proof", v["pi"].hex()]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert result.stdout == v["beta"].hex() + "\n"
        result = runner.invoke(app, ["vrf", "hash", "--proof", v["pi"].hex()])
        assert result.exit_code == 0, result.output
        assert result.stdout == v["beta"].hex() + "\n"


def test_cli_keygen() -> None:
    result = runner.invoke(app, ["vrf", "keygen", "--json"])
    assert result.exit_code == 0, result.output
    keys = json.loads(result.stdout)
    assert vrf.public_key(bytes.fromhex(keys["secret_key"])).hex() == keys["public_key"]
    result = runner.invoke(app, ["vrf", "keygen"])
    assert result.exit_code == 0
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "secret_key",
        "public_key",
    ]


def _one_line_error(result: Any, code: int) -> str:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return str(lines[0])


def test_cli_invalid_proof_exits_1(sample: dict[str, bytes]) -> None:
    proof = bytearray(sample["pi"])
    proof[40] ^= 1
    args = ["vrf", "verify", "--pk", sample["pk"].hex(), "--alpha", sample["alpha"].hex()]
    result = runner.invoke(app, [*args, "--proof", proof.hex()])
    assert "does not verify" in _one_line_error(result, 1)


@pytest.mark.parametrize(
    ("pk", "proof", "expected"),
    [
        ("00" * 31, None, "must be 32 bytes"),
        (SMALL_ORDER_POINTS[0], None, "small-order"),
        (None, "00" * 79, "must be 80 bytes"),
        (None, NOT_A_POINT + "00" * 48, "Gamma is not a valid"),
        ("zz", None, "not valid hex"),
        (None, "0x1", "not valid hex"),
    ],
)
def test_cli_malformed_exits_2(
    sample: dict[str, bytes], pk: str | None, proof: str | None, expected: str
) -> None:
    args = [
        "vrf",
        "verify",
        "--pk",
        pk if pk is not None else sample["pk"].hex(),
        "--alpha",
        sample["alpha"].hex(),
        "--proof",
        proof if proof is not None else sample["pi"].hex(),
    ]
    assert expected in _one_line_error(runner.invoke(app, args), 2)


def test_cli_prove_and_hash_malformed_exit_2() -> None:
    result = runner.invoke(app, ["vrf", "prove", "--sk", "00" * 31, "--alpha", ""])
    assert "must be 32 bytes" in _one_line_error(result, 2)
    result = runner.invoke(app, ["vrf", "hash", "--proof", "00" * 80])
    assert "small-order" in _one_line_error(result, 2)
