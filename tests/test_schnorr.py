"""BIP340 Schnorr signatures: every row of the BIP340 vectors, malformed input, the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from funai.cli import app
from funai.errors import MalformedInputError
from funai.keys import schnorr_keygen, schnorr_public_key, schnorr_sign, schnorr_verify

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# BIP340 rows 15-18 (added to the BIP in 2022-12, not in the shared csv): messages of
# 0, 1, 17 and 100 bytes.
_SK15 = "0340034003400340034003400340034003400340034003400340034003400340"
_PK15 = "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117"
VARIABLE_LENGTH_ROWS = [
    {
        "index": index,
        "secret key": _SK15,
        "public key": _PK15,
        "aux_rand": "00" * 32,
        "message": msg,
        "signature": sig,
        "verification result": "TRUE",
    }
    for index, msg, sig in [
        (
            "15",
            "",
            "71535DB165ECD9FBBC046E5FFAEA61186BB6AD436732FCCC25291A55895464CF"
            "6069CE26BF03466228F19A3A62DB8A649F2D560FAC652827D1AF0574E427AB63",
        ),
        (
            "16",
            "11",
            "08A20A0AFEF64124649232E0693C583AB1B9934AE63B4C3511F3AE1134C6A303"
            "EA3173BFEA6683BD101FA5AA5DBC1996FE7CACFC5A577D33EC14564CEC2BACBF",
        ),
        (
            "17",
            "0102030405060708090A0B0C0D0E0F1011",
            "5130F39A4059B43BC7CAC09A19ECE52B5D8699D1A71E3C52DA9AFDB6B50AC370"
            "C4A482B77BF960F8681540E25B6771ECE1E5A37FD80E5A51897C5566A97EA5A5",
        ),
        (
            "18",
            "99" * 100,
            "403B12B0D8555A344175EA7EC746566303321E5DBFA8BE6F091635163ECA79A8"
            "585ED3E3170807E7C03B720FC54C7B23897FCBA0E9D0B4A06894CFD249F22367",
        ),
    ]
]

runner = CliRunner()


def load_rows(vectors_dir: Path) -> list[dict[str, str]]:
    with (vectors_dir / "bip340-test-vectors.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 15
    return rows


def check_row(row: dict[str, str]) -> None:
    pk = bytes.fromhex(row["public key"])
    msg = bytes.fromhex(row["message"])
    sig = bytes.fromhex(row["signature"])
    expected = {"TRUE": True, "FALSE": False}[row["verification result"]]
    assert schnorr_verify(pk, msg, sig) is expected, row
    if row["secret key"]:
        sk = bytes.fromhex(row["secret key"])
        assert schnorr_public_key(sk) == pk, row
        assert schnorr_sign(sk, msg, bytes.fromhex(row["aux_rand"])) == sig, row


def test_bip340_csv_every_row(vectors_dir: Path) -> None:
    rows = load_rows(vectors_dir)
    for row in rows:
        check_row(row)
    assert any(row["verification result"] == "FALSE" for row in rows)
    assert any(row["secret key"] for row in rows)


@pytest.mark.parametrize("row", VARIABLE_LENGTH_ROWS, ids=lambda r: r["index"])
def test_bip340_variable_length_messages(row: dict[str, str]) -> None:
    check_row(row)


def test_keygen_and_fresh_aux_rand() -> None:
    sk, pk = schnorr_keygen()
    assert schnorr_public_key(sk) == pk
    a, b = schnorr_sign(sk, b"msg"), schnorr_sign(sk, b"msg")
    assert a != b  # fresh aux_rand each time
    assert schnorr_verify(pk, b"msg", a)
    assert schnorr_verify(pk, b"msg", b)
    assert not schnorr_verify(pk, b"msh", a)
    assert schnorr_keygen()[0] != sk


@settings(max_examples=25, deadline=None)
@given(
    sk=st.integers(min_value=1, max_value=N - 1),
    msg=st.binary(max_size=300),
    aux=st.binary(min_size=32, max_size=32),
    flip=st.integers(min_value=0, max_value=63),
)
def test_sign_verify_roundtrip(sk: int, msg: bytes, aux: bytes, flip: int) -> None:
    secret = sk.to_bytes(32, "big")
    pk = schnorr_public_key(secret)
    sig = schnorr_sign(secret, msg, aux)
    assert sig == schnorr_sign(secret, msg, aux)
    assert schnorr_verify(pk, msg, sig)
    bad = bytearray(sig)
    bad[flip] ^= 0x40
    assert not schnorr_verify(pk, msg, bytes(bad))


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_wrong_lengths(length: int) -> None:
    sk, _ = schnorr_keygen()
    sig = schnorr_sign(sk, b"m")
    bad = bytes([1]) * length
    with pytest.raises(MalformedInputError, match="public key must be 32 bytes"):
        schnorr_verify(bad, b"m", sig)
    with pytest.raises(MalformedInputError, match="secret key must be 32 bytes"):
        schnorr_sign(bad, b"m")
    with pytest.raises(MalformedInputError, match="secret key must be 32 bytes"):
        schnorr_public_key(bad)
    with pytest.raises(MalformedInputError, match="aux_rand must be 32 bytes"):
        schnorr_sign(sk, b"m", bad)


@pytest.mark.parametrize("length", [0, 32, 63, 65])
def test_wrong_signature_length(length: int) -> None:
    _, pk = schnorr_keygen()
    with pytest.raises(MalformedInputError, match="signature must be 64 bytes"):
        schnorr_verify(pk, b"m", bytes(length))


@pytest.mark.parametrize("value", [0, N, N + 1, 2**256 - 1])
def test_out_of_range_secret_key(value: int) -> None:
    sk = value.to_bytes(32, "big")
    with pytest.raises(MalformedInputError, match=r"\[1, n-1\]"):
        schnorr_public_key(sk)
    with pytest.raises(MalformedInputError, match=r"\[1, n-1\]"):
        schnorr_sign(sk, b"m")


# --- CLI ---------------------------------------------------------------------------------


def _one_line_error(result: Any, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return str(lines[0])


def test_cli_roundtrip_matches_vectors(vectors_dir: Path) -> None:
    row = load_rows(vectors_dir)[1]
    sk, pk = row["secret key"], row["public key"].lower()
    result = runner.invoke(app, ["keys", "pubkey", "--sk", sk])
    assert (result.exit_code, result.stdout) == (0, pk + "\n")
    args = ["keys", "sign", "--sk", sk, "--msg", row["message"], "--aux", row["aux_rand"]]
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout) == (0, row["signature"].lower() + "\n")
    args = ["keys", "verify", "--pk", pk, "--msg", row["message"], "--sig", row["signature"]]
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout) == (0, "valid\n")


def test_cli_new_sign_verify_empty_message() -> None:
    result = runner.invoke(app, ["keys", "new", "--json"])
    assert result.exit_code == 0, result.output
    keys = json.loads(result.stdout)
    result = runner.invoke(app, ["keys", "sign", "--sk", keys["secret_key"], "--msg", ""])
    assert result.exit_code == 0, result.output
    sig = result.stdout.strip()
    args = ["keys", "verify", "--pk", keys["public_key"], "--msg", "", "--sig", sig]
    assert runner.invoke(app, args).stdout == "valid\n"
    result = runner.invoke(app, ["keys", "new"])
    assert result.exit_code == 0
    assert result.stdout.startswith("secret_key: ")


def test_cli_invalid_signature_exits_1(vectors_dir: Path) -> None:
    row = next(r for r in load_rows(vectors_dir) if r["verification result"] == "FALSE")
    args = ["keys", "verify", "--pk", row["public key"], "--msg", row["message"]]
    result = runner.invoke(app, [*args, "--sig", row["signature"]])
    assert (result.exit_code, result.stdout) == (1, "invalid\n")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["keys", "verify", "--pk", "00" * 31, "--msg", "", "--sig", "00" * 64], "32 bytes"),
        (["keys", "verify", "--pk", "00" * 32, "--msg", "", "--sig", "00" * 63], "64 bytes"),
        (["keys", "verify", "--pk", "xy", "--msg", "", "--sig", "00" * 64], "not valid hex"),
        (["keys", "sign", "--sk", "00" * 32, "--msg", ""], "[1, n-1]"),
        (["keys", "sign", "--sk", "01" * 32, "--msg", "", "--aux", "00"], "aux_rand"),
        (["keys", "pubkey", "--sk", "0102"], "32 bytes"),
    ],
)
def test_cli_malformed_exits_2(command: list[str], expected: str) -> None:
    assert expected in _one_line_error(runner.invoke(app, command), 2)
