"""Signature keys, implemented in Rust (``rust/schnorr.rs``, ``rust/ed25519.rs``).

* ``schnorr_*``: BIP340 Schnorr over secp256k1, the signatures of L2 messages: 32-byte
  secret keys, 32-byte x-only public keys, 64-byte signatures over messages of any length.
* ``ed25519_*``: RFC 8032 Ed25519 with strict verification, for node keys.

Verification returns ``False`` for a well-formed signature that is not valid and raises
:class:`~funai.errors.MalformedInputError` only for input of the wrong length.
"""

from funai._core import (
    ed25519_keygen,
    ed25519_public_key,
    ed25519_sign,
    ed25519_verify,
    schnorr_keygen,
    schnorr_public_key,
    schnorr_sign,
    schnorr_verify,
)

__all__ = [
    "ed25519_keygen",
    "ed25519_public_key",
    "ed25519_sign",
    "ed25519_verify",
    "schnorr_keygen",
    "schnorr_public_key",
    "schnorr_sign",
    "schnorr_verify",
]
