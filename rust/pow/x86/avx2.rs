//! The AVX2 backend: the lane-generic kernel of [`super::super::sha`] on `__m256i`, eight
//! nonces per call, one per 32-bit lane.
//!
//! Every intrinsic call here is `unsafe` because it needs AVX2. The [`Avx2`] lane type is
//! private to this module, and the module's only entry point, [`scan`], is a
//! `#[target_feature(enable = "avx2")]` function that the dispatcher calls only after
//! `is_x86_feature_detected!("avx2")`; the `#[inline(always)]` lane methods are therefore
//! only ever executed inside `scan`, on a CPU with AVX2.

use core::arch::x86_64::*;

use crate::pow::sha::{self, Lane, Midstate};

#[derive(Clone, Copy)]
struct Avx2(__m256i);

/// `x` rotated right by `n` bits in each lane (AVX2 has no rotate: two shifts and an or).
macro_rules! ror {
    ($x:expr, $n:literal) => {
        _mm256_or_si256(
            _mm256_srli_epi32::<$n>($x),
            _mm256_slli_epi32::<{ 32 - $n }>($x),
        )
    };
}

macro_rules! xor3 {
    ($a:expr, $b:expr, $c:expr) => {
        _mm256_xor_si256(_mm256_xor_si256($a, $b), $c)
    };
}

impl Lane for Avx2 {
    const LANES: usize = 8;

    #[inline(always)]
    fn splat(x: u32) -> Self {
        // SAFETY: executed only inside `scan` (see the module docs), after AVX2 was detected.
        unsafe { Avx2(_mm256_set1_epi32(x as i32)) }
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        // SAFETY: executed only inside `scan` (see the module docs), after AVX2 was detected.
        unsafe { Avx2(_mm256_add_epi32(self.0, other.0)) }
    }
    #[inline(always)]
    fn big_sigma0(self) -> Self {
        let x = self.0;
        // SAFETY: executed only inside `scan` (see the module docs), after AVX2 was detected.
        unsafe { Avx2(xor3!(ror!(x, 2), ror!(x, 13), ror!(x, 22))) }
    }
    #[inline(always)]
    fn big_sigma1(self) -> Self {
        let x = self.0;
        // SAFETY: executed only inside `scan` (see the module docs), after AVX2 was detected.
        unsafe { Avx2(xor3!(ror!(x, 6), ror!(x, 11), ror!(x, 25))) }
    }
    #[inline(always)]
    fn small_sigma0(self) -> Self {
        let x = self.0;
        // SAFETY: executed only inside `scan` (see the module docs), after AVX2 was detected.
        unsafe { Avx2(xor3!(ror!(x, 7), ror!(x, 18), _mm256_srli_epi32::<3>(x))) }
    }
    #[inline(always)]
    fn small_sigma1(self) -> Self {
        let x = self.0;
        // SAFETY: executed only inside `scan` (see the module docs), after AVX2 was detected.
        unsafe { Avx2(xor3!(ror!(x, 17), ror!(x, 19), _mm256_srli_epi32::<10>(x))) }
    }
    #[inline(always)]
    fn ch(e: Self, f: Self, g: Self) -> Self {
        // ((f ^ g) & e) ^ g
        // SAFETY: executed only inside `scan` (see the module docs), after AVX2 was detected.
        unsafe {
            Avx2(_mm256_xor_si256(
                _mm256_and_si256(_mm256_xor_si256(f.0, g.0), e.0),
                g.0,
            ))
        }
    }
    #[inline(always)]
    fn maj(a: Self, b: Self, c: Self) -> Self {
        // ((a ^ b) & (b ^ c)) ^ b; this round's `b ^ c` is the previous round's `a ^ b`,
        // which the compiler reuses.
        // SAFETY: executed only inside `scan` (see the module docs), after AVX2 was detected.
        unsafe {
            Avx2(_mm256_xor_si256(
                _mm256_and_si256(_mm256_xor_si256(a.0, b.0), _mm256_xor_si256(b.0, c.0)),
                b.0,
            ))
        }
    }
    #[inline(always)]
    fn nonce_words(base: u32) -> Self {
        // SAFETY: executed only inside `scan` (see the module docs), after AVX2 was detected.
        unsafe {
            let n = _mm256_add_epi32(
                _mm256_set1_epi32(base as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            );
            Avx2(_mm256_shuffle_epi8(n, bswap_mask()))
        }
    }
    #[inline(always)]
    fn candidates(h7: Self, target_top: u32) -> u32 {
        // SAFETY: executed only inside `scan` (see the module docs), after AVX2 was detected.
        unsafe {
            let top = _mm256_shuffle_epi8(h7.0, bswap_mask());
            let t = _mm256_set1_epi32(target_top as i32);
            // Unsigned `top <= t` is `max(top, t) == t`.
            let le = _mm256_cmpeq_epi32(_mm256_max_epu32(top, t), t);
            _mm256_movemask_ps(_mm256_castsi256_ps(le)) as u32
        }
    }
}

/// `_mm256_shuffle_epi8` mask reversing the bytes of each 32-bit lane.
#[inline(always)]
unsafe fn bswap_mask() -> __m256i {
    // SAFETY: the caller runs on a CPU with AVX2 (this is only called from `Avx2` methods).
    unsafe {
        _mm256_setr_epi8(
            3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10,
            9, 8, 15, 14, 13, 12,
        )
    }
}

/// Scans nonces `start..end` eight at a time; see [`sha::scan`].
#[target_feature(enable = "avx2")]
pub(crate) fn scan(m: &Midstate, start: u64, end: u64) -> Option<u32> {
    sha::scan::<Avx2>(m, start, end)
}

/// `H7` of the eight nonces `base..base + 8` (wrapping), for the tests.
#[cfg(test)]
#[target_feature(enable = "avx2")]
pub(crate) fn h7_batch(m: &Midstate, base: u32) -> [u32; 8] {
    let h7 = sha::sha256d_h7(m, Avx2::nonce_words(base));
    // SAFETY: `[u32; 8]` and `__m256i` have the same size, and every bit pattern is valid.
    unsafe { core::mem::transmute::<__m256i, [u32; 8]>(h7.0) }
}
