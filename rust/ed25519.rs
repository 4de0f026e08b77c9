//! Ed25519 signatures (RFC 8032) on `ed25519-dalek`, for node keys.
//!
//! Secret keys are the 32-byte RFC 8032 seeds. [`verify`] uses `verify_strict`: besides the
//! RFC 8032 equation it rejects small-order public keys and `R` values and non-canonical
//! encodings, so a signature cannot be valid under one implementation and invalid under a
//! stricter one, nor made valid for several keys at once (weak keys). The ECVRF benchmark
//! compares against this same function: both verifiers then decode and validate their
//! points the same way.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore};

use crate::error::{fixed, Result};

/// Length of a secret key (the RFC 8032 seed).
pub const SECRET_KEY_LEN: usize = 32;
/// Length of a public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of a signature.
pub const SIGNATURE_LEN: usize = 64;

fn signing_key(sk: &[u8]) -> Result<SigningKey> {
    Ok(SigningKey::from_bytes(&fixed::<SECRET_KEY_LEN>(
        "Ed25519 secret key",
        sk,
    )?))
}

/// A fresh key pair `(secret seed, public key)` from the OS random number generator.
pub fn keygen() -> ([u8; SECRET_KEY_LEN], [u8; PUBLIC_KEY_LEN]) {
    let mut seed = [0u8; SECRET_KEY_LEN];
    OsRng.fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    (seed, key.verifying_key().to_bytes())
}

/// The public key of a secret seed.
pub fn public_key(sk: &[u8]) -> Result<[u8; PUBLIC_KEY_LEN]> {
    Ok(signing_key(sk)?.verifying_key().to_bytes())
}

/// The (deterministic) signature of `msg`.
pub fn sign(sk: &[u8], msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
    Ok(signing_key(sk)?.sign(msg).to_bytes())
}

/// Strict verification: `Ok(true)` for a valid signature, `Ok(false)` for any well-formed
/// but invalid one (including a public key that is not a valid point); wrong lengths are
/// [`crate::Error::Malformed`].
pub fn verify(pk: &[u8], msg: &[u8], sig: &[u8]) -> Result<bool> {
    let pk = fixed::<PUBLIC_KEY_LEN>("Ed25519 public key", pk)?;
    let sig = Signature::from_bytes(&fixed::<SIGNATURE_LEN>("Ed25519 signature", sig)?);
    let Ok(key) = VerifyingKey::from_bytes(&pk) else {
        return Ok(false);
    };
    Ok(key.verify_strict(msg, &sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use proptest::prelude::*;

    /// RFC 8032 §7.1, TEST 1-3.
    const RFC8032: [(&str, &str, &str, &str); 3] = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];

    #[test]
    fn rfc8032_vectors() {
        for (sk, pk, msg, sig) in RFC8032 {
            let (sk, pk, msg, sig) = (
                hex::decode(sk).unwrap(),
                hex::decode(pk).unwrap(),
                hex::decode(msg).unwrap(),
                hex::decode(sig).unwrap(),
            );
            assert_eq!(public_key(&sk).unwrap().to_vec(), pk);
            assert_eq!(sign(&sk, &msg).unwrap().to_vec(), sig);
            assert!(verify(&pk, &msg, &sig).unwrap());
            let mut bad = sig.clone();
            bad[0] ^= 1;
            assert!(!verify(&pk, &msg, &bad).unwrap());
        }
    }

    #[test]
    fn wrong_lengths_are_malformed() {
        let (sk, pk) = keygen();
        let sig = sign(&sk, b"m").unwrap();
        for len in [0, 31, 33] {
            let bad = vec![1u8; len];
            assert!(matches!(public_key(&bad), Err(Error::Malformed(_))));
            assert!(matches!(sign(&bad, b"m"), Err(Error::Malformed(_))));
            assert!(matches!(verify(&bad, b"m", &sig), Err(Error::Malformed(_))));
        }
        for len in [0, 63, 65] {
            assert!(matches!(
                verify(&pk, b"m", &vec![1u8; len]),
                Err(Error::Malformed(_))
            ));
        }
    }

    #[test]
    fn invalid_and_small_order_keys_do_not_verify() {
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        let mut identity = [0u8; 32];
        identity[0] = 1;
        // With the identity as key and R = identity, s = 0 passes the plain RFC 8032
        // equation for every message; verify_strict rejects it.
        let mut sig = [0u8; 64];
        sig[0] = 1;
        assert!(!verify(&not_a_point, b"m", &sig).unwrap());
        assert!(!verify(&identity, b"m", &sig).unwrap());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn sign_verify_roundtrip(
            sk in any::<[u8; 32]>(),
            msg in proptest::collection::vec(any::<u8>(), 0..200),
            flip in any::<usize>(),
        ) {
            let pk = public_key(&sk).unwrap();
            let sig = sign(&sk, &msg).unwrap();
            prop_assert!(verify(&pk, &msg, &sig).unwrap());
            let mut bad = sig;
            bad[flip % SIGNATURE_LEN] ^= 0x10;
            prop_assert!(!verify(&pk, &msg, &bad).unwrap());
        }
    }
}
