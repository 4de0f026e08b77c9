"""Hash functions of the protocol (implemented in Rust, see ``rust/hashing.rs``).

* :func:`sha256`, :func:`sha256d`: the ledger layer's hashes, exactly as Bitcoin.
* :func:`blake3`: model ids and content addressing.
* :func:`merkle_root`: the transaction Merkle root. Unlike Bitcoin's it cannot be forged by
  repeating the last leaf (CVE-2012-2459): an odd last node is promoted, not duplicated, and
  leaves (tag ``0x00``) and inner nodes (tag ``0x01``) are hashed apart.
"""

from funai._core import blake3, merkle_root, sha256, sha256d

__all__ = ["blake3", "merkle_root", "sha256", "sha256d"]
