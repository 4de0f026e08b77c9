//! BIP340 Schnorr signatures over secp256k1, on `k256`'s `schnorr` module.
//!
//! Keys are 32-byte big-endian secret scalars (`1 ≤ d < n`) and 32-byte x-only public keys;
//! signatures are 64 bytes `r ‖ s`. Messages may have any length: BIP340 signs the raw
//! message (no pre-hashing), and `k256`'s `sign_raw` / `verify_raw` take any byte string,
//! so the same code covers the usual 32-byte digests and the variable-length vectors.
//!
//! [`verify`] returns `Ok(false)` for every well-formed input that is not a valid signature
//! (a public key that is not an x coordinate on the curve, `r ≥ p`, `s ≥ n`, a wrong
//! equation); only wrong lengths are [`Error::Malformed`].
//!
//! Two corners where `k256` departs from the BIP340 text, each reachable with probability
//! about 2^-128 and never by an honest signer: `sign` errs (rather than reducing) when the
//! nonce hash is `≥ n`, and `verify` rejects `s = 0`.

use k256::schnorr::{Signature, SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore};

use crate::error::{fixed, Error, Result};

/// Length of a secret key.
pub const SECRET_KEY_LEN: usize = 32;
/// Length of an x-only public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of a signature.
pub const SIGNATURE_LEN: usize = 64;
/// Length of the auxiliary randomness.
pub const AUX_RAND_LEN: usize = 32;

fn signing_key(sk: &[u8]) -> Result<SigningKey> {
    let sk = fixed::<SECRET_KEY_LEN>("Schnorr secret key", sk)?;
    SigningKey::from_bytes(&sk).map_err(|_| {
        Error::malformed("Schnorr secret key must be an integer in [1, n-1] (secp256k1 order n)")
    })
}

/// A fresh key pair `(secret key, x-only public key)` from the OS random number generator.
pub fn keygen() -> ([u8; SECRET_KEY_LEN], [u8; PUBLIC_KEY_LEN]) {
    let key = SigningKey::random(&mut OsRng);
    (key.to_bytes().into(), key.verifying_key().to_bytes().into())
}

/// The x-only public key of a secret key.
pub fn public_key(sk: &[u8]) -> Result<[u8; PUBLIC_KEY_LEN]> {
    Ok(signing_key(sk)?.verifying_key().to_bytes().into())
}

/// Signs `msg` (any length). `aux_rand` is BIP340's auxiliary randomness (32 bytes); when
/// it is `None`, 32 fresh bytes from the OS random number generator are used, as BIP340
/// recommends. With a given `aux_rand` the signature is deterministic.
pub fn sign(sk: &[u8], msg: &[u8], aux_rand: Option<&[u8]>) -> Result<[u8; SIGNATURE_LEN]> {
    let key = signing_key(sk)?;
    let aux = match aux_rand {
        Some(aux) => fixed::<AUX_RAND_LEN>("Schnorr aux_rand", aux)?,
        None => {
            let mut aux = [0u8; AUX_RAND_LEN];
            OsRng.fill_bytes(&mut aux);
            aux
        }
    };
    let sig = key.sign_raw(msg, &aux).map_err(|_| {
        Error::malformed("Schnorr signing failed (degenerate nonce); use another aux_rand")
    })?;
    Ok(sig.to_bytes())
}

/// BIP340 verification: `Ok(true)` for a valid signature, `Ok(false)` for any well-formed
/// but invalid one, [`Error::Malformed`] only for wrong lengths.
pub fn verify(pk: &[u8], msg: &[u8], sig: &[u8]) -> Result<bool> {
    let pk = fixed::<PUBLIC_KEY_LEN>("Schnorr public key", pk)?;
    let sig = fixed::<SIGNATURE_LEN>("Schnorr signature", sig)?;
    // lift_x fails (x ≥ p or not on the curve): invalid.
    let Ok(key) = VerifyingKey::from_bytes(&pk) else {
        return Ok(false);
    };
    // r ≥ p, s ≥ n (or r = 0, s = 0): invalid.
    let Ok(sig) = Signature::try_from(&sig[..]) else {
        return Ok(false);
    };
    Ok(key.verify_raw(msg, &sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct Row {
        index: String,
        sk: Option<Vec<u8>>,
        pk: Vec<u8>,
        aux: Option<Vec<u8>>,
        msg: Vec<u8>,
        sig: Vec<u8>,
        valid: bool,
    }

    fn opt_hex(s: &str) -> Option<Vec<u8>> {
        (!s.is_empty()).then(|| hex::decode(s).unwrap())
    }

    fn rows() -> Vec<Row> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/vectors/bip340-test-vectors.csv"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("missing BIP340 test vectors at {path}: {e}"));
        let mut lines = text.lines();
        assert!(lines
            .next()
            .unwrap()
            .starts_with("index,secret key,public key"));
        let rows: Vec<Row> = lines
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let f: Vec<&str> = line.splitn(8, ',').collect();
                assert!(f.len() >= 7, "bad csv row {line}");
                Row {
                    index: f[0].to_string(),
                    sk: opt_hex(f[1]),
                    pk: hex::decode(f[2]).unwrap(),
                    aux: opt_hex(f[3]),
                    msg: hex::decode(f[4]).unwrap(),
                    sig: hex::decode(f[5]).unwrap(),
                    valid: match f[6] {
                        "TRUE" => true,
                        "FALSE" => false,
                        other => panic!("bad verification result {other}"),
                    },
                }
            })
            .collect();
        assert!(rows.len() >= 15);
        rows
    }

    fn check_row(row: &Row) {
        let index = &row.index;
        assert_eq!(
            verify(&row.pk, &row.msg, &row.sig).unwrap(),
            row.valid,
            "row {index}"
        );
        if let Some(sk) = &row.sk {
            assert_eq!(public_key(sk).unwrap().to_vec(), row.pk, "row {index}");
            let aux = row.aux.as_deref().expect("signing rows have aux_rand");
            assert_eq!(
                sign(sk, &row.msg, Some(aux)).unwrap().to_vec(),
                row.sig,
                "row {index}"
            );
        }
    }

    #[test]
    fn bip340_csv_every_row() {
        let rows = rows();
        for row in &rows {
            check_row(row);
        }
        assert!(rows.iter().any(|r| !r.valid));
        assert!(rows.iter().any(|r| r.sk.is_some()));
    }

    /// BIP340 rows 15-18 (variable-length messages, added to the BIP in 2022-12; not in the
    /// shared csv): `k256`'s raw API signs and verifies messages of any length.
    #[test]
    fn bip340_variable_length_messages() {
        let sk = "0340034003400340034003400340034003400340034003400340034003400340";
        let pk = "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117";
        let cases = [
            ("15", "".to_string(), "71535DB165ECD9FBBC046E5FFAEA61186BB6AD436732FCCC25291A55895464CF6069CE26BF03466228F19A3A62DB8A649F2D560FAC652827D1AF0574E427AB63"),
            ("16", "11".to_string(), "08A20A0AFEF64124649232E0693C583AB1B9934AE63B4C3511F3AE1134C6A303EA3173BFEA6683BD101FA5AA5DBC1996FE7CACFC5A577D33EC14564CEC2BACBF"),
            ("17", "0102030405060708090A0B0C0D0E0F1011".to_string(), "5130F39A4059B43BC7CAC09A19ECE52B5D8699D1A71E3C52DA9AFDB6B50AC370C4A482B77BF960F8681540E25B6771ECE1E5A37FD80E5A51897C5566A97EA5A5"),
            ("18", "99".repeat(100), "403B12B0D8555A344175EA7EC746566303321E5DBFA8BE6F091635163ECA79A8585ED3E3170807E7C03B720FC54C7B23897FCBA0E9D0B4A06894CFD249F22367"),
        ];
        for (index, msg, sig) in cases {
            check_row(&Row {
                index: index.to_string(),
                sk: opt_hex(sk),
                pk: hex::decode(pk).unwrap(),
                aux: Some(vec![0; 32]),
                msg: hex::decode(msg).unwrap(),
                sig: hex::decode(sig).unwrap(),
                valid: true,
            });
        }
    }

    #[test]
    fn wrong_lengths_are_malformed() {
        let (sk, pk) = keygen();
        let sig = sign(&sk, b"m", None).unwrap();
        let is_malformed = |r: Result<bool>| matches!(r, Err(Error::Malformed(_)));
        for len in [0, 31, 33, 64] {
            let bad = vec![1u8; len];
            assert!(is_malformed(verify(&bad, b"m", &sig)));
            assert!(matches!(public_key(&bad), Err(Error::Malformed(_))));
            assert!(matches!(sign(&bad, b"m", None), Err(Error::Malformed(_))));
            assert!(matches!(
                sign(&sk, b"m", Some(&bad)),
                Err(Error::Malformed(_))
            ));
        }
        for len in [0, 32, 63, 65] {
            assert!(is_malformed(verify(&pk, b"m", &vec![1u8; len])));
        }
    }

    #[test]
    fn out_of_range_secret_keys_are_malformed() {
        let n = hex::decode("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141")
            .unwrap();
        let mut n_plus_one = n.clone();
        n_plus_one[31] += 1;
        for sk in [vec![0u8; 32], n, n_plus_one, vec![0xff; 32]] {
            let Err(Error::Malformed(msg)) = public_key(&sk) else {
                panic!("accepted secret key {}", hex::encode(&sk));
            };
            assert!(msg.contains("[1, n-1]"), "{msg}");
            assert!(matches!(sign(&sk, b"m", None), Err(Error::Malformed(_))));
        }
        let mut n_minus_one =
            hex::decode("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141")
                .unwrap();
        n_minus_one[31] -= 1;
        let pk = public_key(&n_minus_one).unwrap();
        assert!(verify(&pk, b"m", &sign(&n_minus_one, b"m", None).unwrap()).unwrap());
    }

    #[test]
    fn fresh_aux_rand_gives_fresh_valid_signatures() {
        let (sk, pk) = keygen();
        let a = sign(&sk, b"hello", None).unwrap();
        let b = sign(&sk, b"hello", None).unwrap();
        assert_ne!(a, b);
        assert!(verify(&pk, b"hello", &a).unwrap());
        assert!(verify(&pk, b"hello", &b).unwrap());
        assert!(!verify(&pk, b"hellp", &a).unwrap());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn sign_verify_roundtrip(
            sk in any::<[u8; 32]>(),
            aux in any::<[u8; 32]>(),
            msg in proptest::collection::vec(any::<u8>(), 0..200),
            flip in any::<usize>(),
        ) {
            // Almost every 32-byte string is a valid key; skip the rare others.
            prop_assume!(public_key(&sk).is_ok());
            let pk = public_key(&sk).unwrap();
            let sig = sign(&sk, &msg, Some(&aux)).unwrap();
            prop_assert_eq!(sig, sign(&sk, &msg, Some(&aux)).unwrap());
            prop_assert!(verify(&pk, &msg, &sig).unwrap());
            let mut bad = sig;
            bad[flip % SIGNATURE_LEN] ^= 0x40;
            prop_assert!(!verify(&pk, &msg, &bad).unwrap());
        }
    }
}
