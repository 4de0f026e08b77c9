//! BIP340 Schnorr signatures (in progress).
