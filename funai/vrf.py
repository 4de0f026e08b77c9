"""ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381), implemented in Rust (``rust/vrf.rs``).

Keys are Ed25519 keys: a 32-byte secret seed and a 32-byte public key. A proof is 80 bytes
(``Gamma || c || s``); the output ``beta`` is 64 bytes. :func:`verify` validates the public
key (a small-order key is rejected) and returns ``beta``, raising
:class:`~funai.errors.VerificationError` for a proof that does not verify and
:class:`~funai.errors.MalformedInputError` for malformed input.
"""

from funai._core import vrf_keygen as keygen
from funai._core import vrf_proof_to_hash as proof_to_hash
from funai._core import vrf_prove as prove
from funai._core import vrf_public_key as public_key
from funai._core import vrf_verify as verify

SECRET_KEY_LEN = 32
PUBLIC_KEY_LEN = 32
PROOF_LEN = 80
OUTPUT_LEN = 64

__all__ = [
    "OUTPUT_LEN",
    "PROOF_LEN",
    "PUBLIC_KEY_LEN",
    "SECRET_KEY_LEN",
    "keygen",
    "proof_to_hash",
    "prove",
    "public_key",
    "verify",
]
