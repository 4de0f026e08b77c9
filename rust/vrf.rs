//! ECVRF-EDWARDS25519-SHA512-TAI: the verifiable random function of RFC 9381 (suite
//! string `0x03`), used for inference-layer sortition.
//!
//! Built directly on `curve25519-dalek`:
//!
//! * keys are RFC 8032 Ed25519 keys: a 32-byte secret seed, hashed with SHA-512; the low
//!   half, clamped, is the secret scalar `x`, the high half is the nonce prefix; the public
//!   key is the encoding of `Y = x·B`;
//! * `encode_to_curve` is try-and-increment (RFC 9381 §5.4.1.1) with the public key as salt;
//! * the nonce is RFC 8032 §5.1.6 style (RFC 9381 §5.4.2.2): `SHA-512(prefix ‖ H) mod L`;
//! * the challenge `c` is the first 16 bytes of `SHA-512(0x03 ‖ 0x02 ‖ Y ‖ H ‖ Γ ‖ U ‖ V ‖ 0x00)`;
//! * a proof is `Γ (32) ‖ c (16) ‖ s (32)` = 80 bytes, and the output is
//!   `β = SHA-512(0x03 ‖ 0x03 ‖ 8·Γ ‖ 0x00)` (64 bytes).
//!
//! Point decoding is the strict RFC 8032 §5.1.3 one: a `y` coordinate `≥ p` and the
//! "negative zero" `x` are rejected, so every accepted point has exactly one encoding.
//! Verification always runs `ECVRF_validate_key` (§5.4.5): a public key of small order is
//! rejected. A proof whose Γ is not a point, is of small order, or whose `s` is not reduced
//! mod `L` is [`Error::Malformed`]; a well-formed proof that does not check out is
//! [`Error::Verification`].
//!
//! Verification is variable time (it handles public data only): `U = s·B − c·Y` uses the
//! precomputed basepoint table (`vartime_double_scalar_mul_basepoint`), `V = s·H − c·Γ` a
//! two-point Straus multiscalar multiplication; `c` has only 128 bits, so it multiplies the
//! negated points rather than being negated itself (which would make it a full-size scalar).
//! Proving is constant time in the secret scalar and nonce.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::{clamp_integer, Scalar};
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha512};

use crate::error::{fixed, Error, Result};

/// The suite string of ECVRF-EDWARDS25519-SHA512-TAI.
pub const SUITE: u8 = 0x03;
/// Length of a secret key (the RFC 8032 seed).
pub const SECRET_KEY_LEN: usize = 32;
/// Length of an encoded public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of a proof `Γ ‖ c ‖ s`.
pub const PROOF_LEN: usize = 80;
/// Length of the VRF output β.
pub const OUTPUT_LEN: usize = 64;
/// Length of the challenge `c` (cLen).
const C_LEN: usize = 16;

/// A VRF secret key: the RFC 8032 seed and what is derived from it.
pub struct SecretKey {
    seed: [u8; 32],
    x: Scalar,
    nonce_prefix: [u8; 32],
    public: [u8; 32],
}

impl SecretKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut seed = [0u8; SECRET_KEY_LEN];
        OsRng.fill_bytes(&mut seed);
        let key = Self::from_seed(&seed);
        wipe(&mut seed);
        key
    }

    /// The key with the given 32-byte seed.
    pub fn from_bytes(seed: &[u8]) -> Result<Self> {
        Ok(Self::from_seed(&fixed::<SECRET_KEY_LEN>(
            "VRF secret key",
            seed,
        )?))
    }

    fn from_seed(seed: &[u8; 32]) -> Self {
        let digest = Sha512::digest(seed);
        let mut low = [0u8; 32];
        let mut nonce_prefix = [0u8; 32];
        low.copy_from_slice(&digest[..32]);
        nonce_prefix.copy_from_slice(&digest[32..]);
        let x = Scalar::from_bytes_mod_order(clamp_integer(low));
        wipe(&mut low);
        let public = EdwardsPoint::mul_base(&x).compress().to_bytes();
        Self {
            seed: *seed,
            x,
            nonce_prefix,
            public,
        }
    }

    /// The 32-byte seed.
    pub fn to_bytes(&self) -> [u8; SECRET_KEY_LEN] {
        self.seed
    }

    /// The encoded public key `Y = x·B`.
    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.public
    }

    /// `ECVRF_prove` (RFC 9381 §5.1): the 80-byte proof for `alpha`.
    pub fn prove(&self, alpha: &[u8]) -> Result<[u8; PROOF_LEN]> {
        let h = encode_to_curve(&self.public, alpha)?;
        let h_bytes = h.compress().to_bytes();
        let k = nonce(&self.nonce_prefix, &h_bytes);
        let [gamma, k_b, k_h] =
            compress_all([&(h * self.x), &EdwardsPoint::mul_base(&k), &(h * k)]);
        let c = challenge(&self.public, &h_bytes, &gamma, &k_b, &k_h);
        let s = k + challenge_scalar(&c) * self.x;

        let mut proof = [0u8; PROOF_LEN];
        proof[..32].copy_from_slice(&gamma);
        proof[32..48].copy_from_slice(&c);
        proof[48..].copy_from_slice(s.as_bytes());
        Ok(proof)
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        wipe(&mut self.seed);
        wipe(&mut self.nonce_prefix);
        // SAFETY: `self.x` is a valid, aligned, exclusively borrowed `Scalar`.
        unsafe { std::ptr::write_volatile(&mut self.x, Scalar::ZERO) };
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("public", &hex::encode(self.public))
            .finish_non_exhaustive()
    }
}

/// A validated VRF public key (a canonical encoding of a point that is not of small order).
#[derive(Clone, Copy, Debug)]
pub struct PublicKey {
    bytes: [u8; PUBLIC_KEY_LEN],
    /// `−Y`: verification computes `s·B + c·(−Y)`.
    neg_point: EdwardsPoint,
}

impl PublicKey {
    /// Decodes and validates a public key (`ECVRF_validate_key`, RFC 9381 §5.4.5).
    pub fn from_bytes(pk: &[u8]) -> Result<Self> {
        let bytes = fixed::<PUBLIC_KEY_LEN>("VRF public key", pk)?;
        let point = string_to_point(&bytes).ok_or_else(|| {
            Error::malformed("VRF public key is not a valid (canonical) curve point encoding")
        })?;
        if point.is_small_order() {
            return Err(Error::malformed("VRF public key is a small-order point"));
        }
        Ok(Self {
            bytes,
            neg_point: -point,
        })
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.bytes
    }

    /// `ECVRF_verify` (RFC 9381 §5.3): the output β if `proof` is a valid proof for `alpha`.
    pub fn verify(&self, alpha: &[u8], proof: &[u8]) -> Result<[u8; OUTPUT_LEN]> {
        let proof = Proof::decode(proof)?;
        let h = encode_to_curve(&self.bytes, alpha)?;
        let c = challenge_scalar(&proof.c);
        // U = s·B − c·Y and V = s·H − c·Γ, with the (128-bit) c on the negated points.
        let u = EdwardsPoint::vartime_double_scalar_mul_basepoint(&c, &self.neg_point, &proof.s);
        let v = EdwardsPoint::vartime_multiscalar_mul([&proof.s, &c], [&h, &-proof.gamma]);
        let [h_bytes, u_bytes, v_bytes, gamma8_bytes] = compress_all([&h, &u, &v, &proof.gamma8]);
        let expected = challenge(
            &self.bytes,
            &h_bytes,
            &proof.gamma_bytes,
            &u_bytes,
            &v_bytes,
        );
        if expected != proof.c {
            return Err(Error::verification("VRF proof does not verify"));
        }
        Ok(output_hash(&gamma8_bytes))
    }
}

/// A decoded proof (`ECVRF_decode_proof`, RFC 9381 §5.4.4).
struct Proof {
    gamma: EdwardsPoint,
    /// `8·Γ`: computed for the small-order check, then hashed into β.
    gamma8: EdwardsPoint,
    gamma_bytes: [u8; 32],
    c: [u8; C_LEN],
    s: Scalar,
}

impl Proof {
    fn decode(proof: &[u8]) -> Result<Self> {
        let proof = fixed::<PROOF_LEN>("VRF proof", proof)?;
        let mut gamma_bytes = [0u8; 32];
        let mut c = [0u8; C_LEN];
        let mut s_bytes = [0u8; 32];
        gamma_bytes.copy_from_slice(&proof[..32]);
        c.copy_from_slice(&proof[32..48]);
        s_bytes.copy_from_slice(&proof[48..]);

        let gamma = string_to_point(&gamma_bytes).ok_or_else(|| {
            Error::malformed("VRF proof: Gamma is not a valid (canonical) curve point encoding")
        })?;
        let gamma8 = gamma.mul_by_cofactor();
        if gamma8.is_identity() {
            return Err(Error::malformed("VRF proof: Gamma is a small-order point"));
        }
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)).ok_or_else(|| {
            Error::malformed("VRF proof: s is not canonical (not reduced modulo the group order L)")
        })?;
        Ok(Self {
            gamma,
            gamma8,
            gamma_bytes,
            c,
            s,
        })
    }
}

/// A fresh key pair `(secret seed, public key)` from the OS random number generator.
pub fn keygen() -> ([u8; SECRET_KEY_LEN], [u8; PUBLIC_KEY_LEN]) {
    let key = SecretKey::generate();
    (key.to_bytes(), key.public_key())
}

/// The public key of a 32-byte secret seed.
pub fn public_key(sk: &[u8]) -> Result<[u8; PUBLIC_KEY_LEN]> {
    Ok(SecretKey::from_bytes(sk)?.public_key())
}

/// `ECVRF_prove`: the 80-byte proof of `alpha` under the secret seed `sk`.
pub fn prove(sk: &[u8], alpha: &[u8]) -> Result<[u8; PROOF_LEN]> {
    SecretKey::from_bytes(sk)?.prove(alpha)
}

/// `ECVRF_verify` with key validation: β if `proof` proves `alpha` under `pk`.
pub fn verify(pk: &[u8], alpha: &[u8], proof: &[u8]) -> Result<[u8; OUTPUT_LEN]> {
    PublicKey::from_bytes(pk)?.verify(alpha, proof)
}

/// `ECVRF_proof_to_hash` (RFC 9381 §5.2): β of a proof. It does not verify the proof; use
/// it only on proofs already verified (or use [`verify`], which returns β).
pub fn proof_to_hash(proof: &[u8]) -> Result<[u8; OUTPUT_LEN]> {
    Ok(output_hash(
        Proof::decode(proof)?.gamma8.compress().as_bytes(),
    ))
}

/// β = SHA-512(suite ‖ 0x03 ‖ point_to_string(8·Γ) ‖ 0x00) (RFC 9381 §5.2).
fn output_hash(gamma8: &[u8; 32]) -> [u8; OUTPUT_LEN] {
    let digest = Sha512::new()
        .chain_update([SUITE, 0x03])
        .chain_update(gamma8)
        .chain_update([0x00])
        .finalize();
    let mut beta = [0u8; OUTPUT_LEN];
    beta.copy_from_slice(&digest);
    beta
}

/// Encodes several points. Each `compress` costs a field inversion; this is the one place
/// to switch to `EdwardsPoint::compress_batch` (curve25519-dalek 5: one inversion for all,
/// about 10 µs off a verification).
fn compress_all<const N: usize>(points: [&EdwardsPoint; N]) -> [[u8; 32]; N] {
    // One shared field inversion for all N encodings instead of one each.
    let owned = points.map(|p| *p);
    let compressed = EdwardsPoint::compress_batch(&owned);
    std::array::from_fn(|i| compressed[i].to_bytes())
}

/// `ECVRF_encode_to_curve_try_and_increment` (RFC 9381 §5.4.1.1) with salt = the public key:
/// the first counter whose hash decodes to a point that is not of small order, times the
/// cofactor.
fn encode_to_curve(pk: &[u8; 32], alpha: &[u8]) -> Result<EdwardsPoint> {
    let prefix = Sha512::new()
        .chain_update([SUITE, 0x01])
        .chain_update(pk)
        .chain_update(alpha);
    for ctr in 0..=u8::MAX {
        let digest = prefix.clone().chain_update([ctr, 0x00]).finalize();
        let mut candidate = [0u8; 32];
        candidate.copy_from_slice(&digest[..32]);
        if let Some(point) = string_to_point(&candidate) {
            let h = point.mul_by_cofactor();
            if !h.is_identity() {
                return Ok(h);
            }
        }
    }
    // Each try succeeds with probability about 1/2: this is never reached in practice.
    Err(Error::malformed(
        "VRF encode_to_curve found no curve point in 256 tries",
    ))
}

/// RFC 9381 §5.4.2.2 (RFC 8032 §5.1.6 step 2): k = SHA-512(prefix ‖ H) mod L.
fn nonce(prefix: &[u8; 32], h_bytes: &[u8; 32]) -> Scalar {
    let digest = Sha512::new()
        .chain_update(prefix)
        .chain_update(h_bytes)
        .finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&digest);
    let k = Scalar::from_bytes_mod_order_wide(&wide);
    wipe(&mut wide);
    k
}

/// `ECVRF_challenge_generation` (RFC 9381 §5.4.3): the first 16 bytes of
/// SHA-512(suite ‖ 0x02 ‖ P1 ‖ … ‖ P5 ‖ 0x00).
fn challenge(
    y: &[u8; 32],
    h: &[u8; 32],
    gamma: &[u8; 32],
    u: &[u8; 32],
    v: &[u8; 32],
) -> [u8; C_LEN] {
    let digest = Sha512::new()
        .chain_update([SUITE, 0x02])
        .chain_update(y)
        .chain_update(h)
        .chain_update(gamma)
        .chain_update(u)
        .chain_update(v)
        .chain_update([0x00])
        .finalize();
    let mut c = [0u8; C_LEN];
    c.copy_from_slice(&digest[..C_LEN]);
    c
}

/// The 16-byte little-endian challenge as a scalar (it is below 2^128 < L).
fn challenge_scalar(c: &[u8; C_LEN]) -> Scalar {
    let mut bytes = [0u8; 32];
    bytes[..C_LEN].copy_from_slice(c);
    Scalar::from_bytes_mod_order(bytes)
}

/// `ECVRF_string_to_point`: strict RFC 8032 §5.1.3 decoding. Rejects a `y` coordinate
/// `≥ p` and the sign bit set on `x = 0` (which dalek's `decompress` would both accept), so
/// that a point has exactly one accepted encoding.
fn string_to_point(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    // y ≥ p = 2^255 − 19 ⇔ bits 0..255 are ff..ff with the low byte ≥ 0xed.
    let y_high_all_ones = bytes[1..31].iter().all(|&b| b == 0xff) && bytes[31] & 0x7f == 0x7f;
    if y_high_all_ones && bytes[0] >= 0xed {
        return None;
    }
    // x = 0 only for y = ±1 (y = 1: 01 00..00; y = −1: ec ff..ff 7f); its sign bit must be 0.
    if bytes[31] & 0x80 != 0 {
        let y_is_one =
            bytes[0] == 0x01 && bytes[1..31].iter().all(|&b| b == 0) && bytes[31] == 0x80;
        let y_is_minus_one = bytes[0] == 0xec && y_high_all_ones;
        if y_is_one || y_is_minus_one {
            return None;
        }
    }
    CompressedEdwardsY(*bytes).decompress()
}

/// Overwrites secret bytes in a way the optimiser keeps.
fn wipe<const N: usize>(bytes: &mut [u8; N]) {
    // SAFETY: `bytes` is a valid, aligned, exclusively borrowed array.
    unsafe { std::ptr::write_volatile(bytes, [0u8; N]) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct Vector {
        sk: Vec<u8>,
        pk: Vec<u8>,
        alpha: Vec<u8>,
        pi: Vec<u8>,
        beta: Vec<u8>,
    }

    fn vectors() -> Vec<Vector> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/vectors/ecvrf-edwards25519-sha512-tai.json"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("missing ECVRF test vectors at {path}: {e}"));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["suite"], "ECVRF-EDWARDS25519-SHA512-TAI");
        let field = |v: &serde_json::Value, k: &str| hex::decode(v[k].as_str().unwrap()).unwrap();
        let vectors: Vec<Vector> = json["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| Vector {
                sk: field(v, "sk"),
                pk: field(v, "pk"),
                alpha: field(v, "alpha"),
                pi: field(v, "pi"),
                beta: field(v, "beta"),
            })
            .collect();
        assert!(!vectors.is_empty());
        vectors
    }

    fn sample() -> Vector {
        vectors().swap_remove(1)
    }

    fn malformed(result: Result<[u8; OUTPUT_LEN]>) -> String {
        match result {
            Err(Error::Malformed(msg)) => msg,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    /// The 8 points of order dividing 8, built from one point of order 8.
    fn torsion_points() -> Vec<EdwardsPoint> {
        let t8 = hex::decode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
            .unwrap();
        let t8 = CompressedEdwardsY::from_slice(&t8)
            .unwrap()
            .decompress()
            .unwrap();
        let mut points = vec![EdwardsPoint::default()];
        for i in 1..8 {
            points.push(points[i - 1] + t8);
        }
        points
    }

    #[test]
    fn rfc9381_vectors() {
        for v in vectors() {
            let key = SecretKey::from_bytes(&v.sk).unwrap();
            assert_eq!(key.public_key().to_vec(), v.pk);
            assert_eq!(public_key(&v.sk).unwrap().to_vec(), v.pk);
            assert_eq!(prove(&v.sk, &v.alpha).unwrap().to_vec(), v.pi);
            assert_eq!(proof_to_hash(&v.pi).unwrap().to_vec(), v.beta);
            assert_eq!(verify(&v.pk, &v.alpha, &v.pi).unwrap().to_vec(), v.beta);
        }
    }

    #[test]
    fn wrong_lengths_are_malformed() {
        let v = sample();
        for len in [0, 31, 33, 64] {
            let bad = vec![7u8; len];
            assert!(malformed(verify(&bad, &v.alpha, &v.pi)).contains("public key must be 32"));
            assert!(malformed(prove(&bad, &v.alpha).map(|_| [0; 64])).contains("secret key"));
            assert!(matches!(public_key(&bad), Err(Error::Malformed(_))));
        }
        for len in [0, 79, 81, 160] {
            let mut pi = v.pi.clone();
            pi.resize(len, 0);
            assert!(malformed(verify(&v.pk, &v.alpha, &pi)).contains("proof must be 80"));
            assert!(malformed(proof_to_hash(&pi)).contains("proof must be 80"));
        }
    }

    #[test]
    fn non_canonical_s_is_malformed() {
        let v = sample();
        let s = Scalar::from_canonical_bytes(v.pi[48..].try_into().unwrap()).unwrap();
        // L = 2^252 + 27742317777372353535851937790883648493, little endian.
        let l = hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .unwrap();
        // s + L as a 256-bit little-endian integer (fits: s + L < 2^254).
        let (mut sum, mut carry) = ([0u8; 32], 0u16);
        for (i, out) in sum.iter_mut().enumerate() {
            let t = u16::from(s.as_bytes()[i]) + u16::from(l[i]) + carry;
            *out = t as u8;
            carry = t >> 8;
        }
        assert_eq!(carry, 0);
        let mut pi = v.pi.clone();
        pi[48..].copy_from_slice(&sum);
        assert!(malformed(verify(&v.pk, &v.alpha, &pi)).contains("s is not canonical"));
        assert!(malformed(proof_to_hash(&pi)).contains("s is not canonical"));
        pi[48..].copy_from_slice(&[0xff; 32]);
        assert!(malformed(verify(&v.pk, &v.alpha, &pi)).contains("s is not canonical"));
    }

    #[test]
    fn small_order_public_keys_are_malformed() {
        let v = sample();
        let points = torsion_points();
        let mut encodings: Vec<[u8; 32]> = points.iter().map(|p| p.compress().to_bytes()).collect();
        encodings.sort();
        encodings.dedup();
        assert_eq!(encodings.len(), 8);
        assert!(points.iter().all(EdwardsPoint::is_small_order));
        // The identity is 01 00..00 and the point of order 2 is ec ff..ff 7f.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(encodings.contains(&identity));
        for pk in encodings {
            let msg = malformed(verify(&pk, &v.alpha, &v.pi));
            assert!(msg.contains("public key is a small-order point"), "{msg}");
        }
    }

    #[test]
    fn non_canonical_encodings_are_malformed() {
        let v = sample();
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        let mut p_plus_one = minus_one; // y = p + 1 ≡ 1: a non-canonical identity
        p_plus_one[0] = 0xee;
        let mut p_itself = minus_one; // y = p ≡ 0
        p_itself[0] = 0xed;
        let mut neg_zero_identity = [0u8; 32];
        neg_zero_identity[0] = 1;
        neg_zero_identity[31] = 0x80;
        let mut neg_zero_minus_one = minus_one;
        neg_zero_minus_one[31] = 0xff;
        let mut cases = vec![p_plus_one, p_itself, neg_zero_identity, neg_zero_minus_one];
        // y + p for the small y (< 19) of points of large order: non-canonical encodings.
        for y in 2u8..19 {
            let mut canonical = [0u8; 32];
            canonical[0] = y;
            if let Some(point) = CompressedEdwardsY(canonical).decompress() {
                if !point.is_small_order() {
                    let mut bad = minus_one;
                    bad[0] = 0xed + y;
                    cases.push(bad);
                }
            }
        }
        assert!(cases.len() > 4);
        for bad in cases {
            assert!(CompressedEdwardsY(bad).decompress().is_some());
            assert!(string_to_point(&bad).is_none());
            let msg = malformed(verify(&bad, &v.alpha, &v.pi));
            assert!(msg.contains("public key is not a valid"), "{msg}");
            let mut pi = v.pi.clone();
            pi[..32].copy_from_slice(&bad);
            let msg = malformed(verify(&v.pk, &v.alpha, &pi));
            assert!(msg.contains("Gamma is not a valid"), "{msg}");
        }
    }

    #[test]
    fn gamma_not_a_point_or_small_order_is_malformed() {
        let v = sample();
        // y = 2 is not the y coordinate of a curve point.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert!(CompressedEdwardsY(not_a_point).decompress().is_none());
        let mut pi = v.pi.clone();
        pi[..32].copy_from_slice(&not_a_point);
        let msg = malformed(verify(&v.pk, &v.alpha, &pi));
        assert!(msg.contains("Gamma is not a valid"), "{msg}");
        assert!(malformed(proof_to_hash(&pi)).contains("Gamma is not a valid"));
        let msg = malformed(verify(&not_a_point, &v.alpha, &v.pi));
        assert!(msg.contains("public key is not a valid"), "{msg}");

        for t in torsion_points() {
            pi[..32].copy_from_slice(t.compress().as_bytes());
            let msg = malformed(verify(&v.pk, &v.alpha, &pi));
            assert!(msg.contains("Gamma is a small-order point"), "{msg}");
        }
    }

    #[test]
    fn tampering_fails_verification() {
        let v = sample();
        let check = |pk: &[u8], alpha: &[u8], pi: &[u8]| match verify(pk, alpha, pi) {
            Err(Error::Verification(msg)) => assert_eq!(msg, "VRF proof does not verify"),
            Ok(_) => panic!("tampered proof verified"),
            Err(e) => panic!("expected Verification, got {e:?}"),
        };
        // Every byte of c, and the low bytes of s (flipping them keeps s canonical).
        for i in 32..79 {
            let mut pi = v.pi.clone();
            pi[i] ^= 0x01;
            check(&v.pk, &v.alpha, &pi);
        }
        // Γ replaced by another valid point (the basepoint).
        let mut pi = v.pi.clone();
        pi[..32]
            .copy_from_slice(curve25519_dalek::constants::ED25519_BASEPOINT_COMPRESSED.as_bytes());
        check(&v.pk, &v.alpha, &pi);
        // Another alpha, another (valid) key.
        check(&v.pk, b"other alpha", &v.pi);
        let mut alpha = v.alpha.clone();
        alpha.push(0);
        check(&v.pk, &alpha, &v.pi);
        let other = vectors().swap_remove(0);
        check(&other.pk, &v.alpha, &v.pi);
    }

    #[test]
    fn generated_keys_roundtrip() {
        let (sk, pk) = keygen();
        assert_eq!(public_key(&sk).unwrap(), pk);
        let pi = prove(&sk, b"sortition round 7").unwrap();
        assert_eq!(
            verify(&pk, b"sortition round 7", &pi).unwrap(),
            proof_to_hash(&pi).unwrap()
        );
        let key = SecretKey::from_bytes(&sk).unwrap();
        assert!(!format!("{key:?}").contains(&hex::encode(sk)));
        assert_ne!(keygen().0, sk);
    }

    /// Not a test: `cargo test --release --lib -- --ignored --nocapture vrf_timing` prints
    /// VRF verify against Ed25519 verify, both from bytes as the bindings call them, over 64
    /// messages (encode_to_curve needs a varying number of tries), interleaved rounds.
    #[test]
    #[ignore = "timing report, run on demand in release mode"]
    fn vrf_timing() {
        use std::hint::black_box;
        use std::time::Instant;
        let (sk, pk) = keygen();
        let (esk, epk) = crate::ed25519::keygen();
        let alphas: Vec<Vec<u8>> = (0u32..64).map(|i| i.to_le_bytes().to_vec()).collect();
        let proofs: Vec<_> = alphas.iter().map(|a| prove(&sk, a).unwrap()).collect();
        let sigs: Vec<_> = alphas
            .iter()
            .map(|a| crate::ed25519::sign(&esk, a).unwrap())
            .collect();
        let plain = |i: usize| {
            let key = ed25519_dalek::VerifyingKey::from_bytes(&epk).unwrap();
            let sig = ed25519_dalek::Signature::from_bytes(&sigs[i]);
            ed25519_dalek::Verifier::verify(&key, &alphas[i], &sig).unwrap();
        };
        let cases: [(&str, &dyn Fn(usize)); 4] = [
            ("vrf verify", &|i| {
                black_box(verify(&pk, &alphas[i], &proofs[i]).unwrap());
            }),
            ("ed25519 verify_strict", &|i| {
                assert!(crate::ed25519::verify(&epk, &alphas[i], &sigs[i]).unwrap());
            }),
            ("ed25519 verify", &plain),
            ("vrf prove", &|i| {
                black_box(prove(&sk, &alphas[i]).unwrap());
            }),
        ];
        // CPU time of this thread (Linux), so that time spent preempted on a busy machine
        // does not count; falls back to wall time elsewhere.
        let cpu_ns = || -> Option<u64> {
            let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
            stat.split_whitespace().next()?.parse().ok()
        };
        let mut best = [f64::MAX; 4];
        for _ in 0..15 {
            for (j, (_, f)) in cases.iter().enumerate() {
                let (cpu0, wall0) = (cpu_ns(), Instant::now());
                for _ in 0..10 {
                    (0..alphas.len()).for_each(f);
                }
                let ns = match (cpu0, cpu_ns()) {
                    (Some(a), Some(b)) => (b - a) as f64,
                    _ => wall0.elapsed().as_secs_f64() * 1e9,
                };
                best[j] = best[j].min(ns / 1e3 / (10.0 * alphas.len() as f64));
            }
        }
        for ((name, _), t) in cases.iter().zip(best) {
            println!("{name:<24} {t:8.2} µs");
        }
        println!(
            "ratio vrf verify / ed25519 verify_strict = {:.2}, / ed25519 verify = {:.2}",
            best[0] / best[1],
            best[0] / best[2]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn prove_verify_roundtrip(seed in any::<[u8; 32]>(), alpha in proptest::collection::vec(any::<u8>(), 0..200)) {
            let key = SecretKey::from_bytes(&seed).unwrap();
            let pi = key.prove(&alpha).unwrap();
            let pk = PublicKey::from_bytes(&key.public_key()).unwrap();
            let beta = pk.verify(&alpha, &pi).unwrap();
            prop_assert_eq!(beta, proof_to_hash(&pi).unwrap());
            // Deterministic: the same key and alpha give the same proof.
            prop_assert_eq!(pi, key.prove(&alpha).unwrap());
        }
    }
}
