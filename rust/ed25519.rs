//! Ed25519 signatures (in progress).
