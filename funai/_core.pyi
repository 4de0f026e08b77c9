"""Typed stubs of the Rust extension ``funai._core`` (checked by ``mypy.stubtest``)."""

__version__: str

# --- hashing (rust/py/hashing.rs) -------------------------------------------------------

def sha256(data: bytes) -> bytes:
    """SHA-256 of ``data``."""

def sha256d(data: bytes) -> bytes:
    """SHA-256 applied twice (Bitcoin's block and transaction hash)."""

def blake3(data: bytes) -> bytes:
    """BLAKE3 (32 bytes) of ``data``."""

def merkle_root(leaves: list[bytes]) -> bytes:
    """Merkle root of 32-byte leaves; raises MalformedInputError for a leaf of another size."""

# --- proof of work (rust/py/pow.rs) -----------------------------------------------------

# --- ECVRF, Schnorr, Ed25519 (rust/py/crypto.rs) ----------------------------------------

# --- Clarity VM (rust/py/clarity.rs) -----------------------------------------------------

# --- ledger (rust/py/ledger.rs) ------------------------------------------------------------
