//! Proof-of-work nonce search (in progress).
