"""Principals: Clarity's c32check text form and its one-to-one map onto FAI addresses.

A FAI pay-to-key-hash address carries the 20-byte HASH160 of its owner's BIP340 x-only
public key; the same 20 bytes with version 22 (mainnet, ``SP…``) or 26 (test, devnet,
regtest, ``ST…``) form the owner's Clarity principal.
"""

from __future__ import annotations

from funai import _core

__all__ = [
    "VERSION_MAINNET",
    "VERSION_TESTNET",
    "contract_principal",
    "decode_principal",
    "principal_from_hash160",
    "version_for_network",
]

VERSION_MAINNET = 22
VERSION_TESTNET = 26


def version_for_network(network: str) -> int:
    """The principal version for a FAI network (``main``, ``test``, ``devnet``, ``regtest``)."""
    if network in ("main", "mainnet"):
        return VERSION_MAINNET
    if network in ("test", "testnet", "devnet", "regtest"):
        return VERSION_TESTNET
    raise ValueError(f"unknown network {network!r}")


def principal_from_hash160(hash160: bytes, network: str = "devnet") -> str:
    """The standard principal (``SP…``/``ST…``) of a FAI address's key hash."""
    return _core.clarity_principal_encode(version_for_network(network), hash160)


def contract_principal(deployer: str, name: str) -> str:
    """``deployer.name`` after checking both parts."""
    version, hash160, existing = _core.clarity_principal_decode(deployer)
    if existing is not None:
        raise ValueError("the deployer must be a standard principal")
    return _core.clarity_principal_encode(version, hash160, name)


def decode_principal(text: str) -> tuple[int, bytes, str | None]:
    """(version, hash160, contract name or None) of a principal (leading quote optional)."""
    return _core.clarity_principal_decode(text)
