"""Addresses: bech32m (BIP350) strings ``fai1...`` (main) and ``tfai1...`` (other networks).

The data part is one version symbol then the payload in 5-bit groups, as segwit addresses:

* version 0: pay-to-key-hash, payload = the 20-byte HASH160 of a BIP340 x-only key. This is
  the address users share; the Clarity VM maps it one-to-one to a standard principal
  (version 22 on main, 26 on the other networks, the same 20 bytes).
* version 1: pay-to-key, payload = the 32-byte x-only key itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from funai import _core
from funai.errors import MalformedInputError
from funai.ledger.tx import OutputKind, TxOut

__all__ = [
    "Address",
    "clarity_version",
    "decode_address",
    "encode_address",
    "hash160",
    "hrp_for",
]

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32M_CONST = 0x2BC830A3
_VERSIONS = {0: (OutputKind.PAY_TO_KEY_HASH, 20), 1: (OutputKind.PAY_TO_KEY, 32)}


def hash160(data: bytes) -> bytes:
    """RIPEMD-160(SHA-256(data)) (from the Rust core: OpenSSL may lack RIPEMD-160)."""
    return _core.hash160(data)


def hrp_for(network: str) -> str:
    """``fai`` on main, ``tfai`` elsewhere."""
    return "fai" if network == "main" else "tfai"


def clarity_version(hrp: str) -> int:
    """The Clarity principal version byte of an address's network (22 main, 26 test)."""
    return 22 if hrp == "fai" else 26


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convertbits(data: bytes | list[int], frombits: int, tobits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        raise MalformedInputError("invalid padding in address")
    return out


@dataclass(frozen=True, slots=True)
class Address:
    """A decoded address."""

    hrp: str
    version: int
    payload: bytes

    def output(self, value: int) -> TxOut:
        """An output paying ``value`` to this address."""
        return TxOut(int(_VERSIONS[self.version][0]), value, self.payload)

    def __str__(self) -> str:
        return encode_address(self.hrp, self.version, self.payload)


def encode_address(hrp: str, version: int, payload: bytes) -> str:
    """Encodes an address."""
    if version not in _VERSIONS or len(payload) != _VERSIONS[version][1]:
        raise MalformedInputError(f"bad address version {version} / payload length {len(payload)}")
    data = [version, *_convertbits(payload, 8, 5, True)]
    values = _hrp_expand(hrp) + data
    polymod = _polymod([*values, 0, 0, 0, 0, 0, 0]) ^ _BECH32M_CONST
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in data + checksum)


def decode_address(text: str, expected_hrp: str | None = None) -> Address:
    """Decodes and checks an address (checksum, case, version, length, network)."""
    if text.lower() != text and text.upper() != text:
        raise MalformedInputError("mixed-case address")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or len(text) > 90:
        raise MalformedInputError("not a bech32m address")
    hrp, rest = text[:pos], text[pos + 1 :]
    if any(c not in _CHARSET for c in rest) or any(not 33 <= ord(c) <= 126 for c in hrp):
        raise MalformedInputError("invalid character in address")
    data = [_CHARSET.find(c) for c in rest]
    if _polymod(_hrp_expand(hrp) + data) != _BECH32M_CONST:
        raise MalformedInputError("bad address checksum")
    if hrp not in ("fai", "tfai"):
        raise MalformedInputError(f"unknown address prefix {hrp!r}")
    if expected_hrp is not None and hrp != expected_hrp:
        raise MalformedInputError(f"address is for {hrp!r}, expected {expected_hrp!r}")
    version = data[0]
    payload = bytes(_convertbits(data[1:-6], 5, 8, False))
    if version not in _VERSIONS or len(payload) != _VERSIONS[version][1]:
        raise MalformedInputError("unknown address version or payload length")
    return Address(hrp, version, payload)


def address_of_output(out: TxOut, hrp: str) -> str | None:
    """The address an output pays to, or ``None`` for a data output."""
    for version, (kind, _) in _VERSIONS.items():
        if out.kind == kind:
            return encode_address(hrp, version, out.payload)
    return None
