//! Rust core of the FUN AI node.
//!
//! Everything here is either CPU-hot or must be bit-exact across nodes: hashing and Merkle
//! roots ([`hashing`]), the proof-of-work nonce search ([`pow`]), the ECVRF used for
//! inference-layer sortition ([`vrf`]), BIP340 Schnorr signatures ([`schnorr`]) and Ed25519
//! signatures ([`ed25519`]), the Clarity smart-contract VM ([`clarity`]), and the ledger layer's batch header validation ([`ledger`]). The Python bindings (`funai._core`) live in [`py`] behind the
//! `python` feature, so `cargo test` runs without an interpreter.

pub mod allocator;
pub mod clarity;
pub mod ed25519;
pub mod error;
pub mod hashing;
pub mod ledger;
pub mod pow;
pub mod schnorr;
pub mod vrf;

#[cfg(feature = "python")]
mod py;

pub use error::{Error, Result};

/// The extension's allocator: mimalloc ([`allocator`]).
#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;
