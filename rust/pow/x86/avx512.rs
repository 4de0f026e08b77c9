//! The AVX-512 backend: the lane-generic kernel of [`super::super::sha`] on `__m512i`,
//! sixteen nonces per call. AVX-512F brings what makes SHA-256 cheap in SIMD: a lane rotate
//! (`vprord`) and three-input logic (`vpternlogd`: `Ch`, `Maj` and three-way xor in one
//! instruction each).
//!
//! Every intrinsic call here is `unsafe` because it needs AVX-512F. The [`Avx512`] lane
//! type is private to this module, and the module's only entry point, [`scan`], is a
//! `#[target_feature(enable = "avx512f")]` function that the dispatcher calls only after
//! `is_x86_feature_detected!("avx512f")`; the `#[inline(always)]` lane methods are therefore
//! only ever executed inside `scan`, on a CPU with AVX-512F.

use core::arch::x86_64::*;

use crate::pow::sha::{self, Lane, Midstate};

#[derive(Clone, Copy)]
struct Avx512(__m512i);

// `vpternlogd` truth tables, for operands (a, b, c).
const XOR3: i32 = 0x96;
const CHOOSE: i32 = 0xCA; // a ? b : c
const MAJORITY: i32 = 0xE8;

/// Reverses the bytes of each lane: rotations by 8 and 24 bits, merged under a byte mask.
#[inline(always)]
unsafe fn bswap(x: __m512i) -> __m512i {
    // SAFETY: the caller runs on a CPU with AVX-512F (only called from `Avx512` methods).
    unsafe {
        _mm512_ternarylogic_epi32::<CHOOSE>(
            _mm512_set1_epi32(0xFF00FF00u32 as i32),
            _mm512_ror_epi32::<8>(x),
            _mm512_ror_epi32::<24>(x),
        )
    }
}

impl Lane for Avx512 {
    const LANES: usize = 16;

    #[inline(always)]
    fn splat(x: u32) -> Self {
        // SAFETY: executed only inside `scan` (see the module docs), after AVX-512F was
        // detected.
        unsafe { Avx512(_mm512_set1_epi32(x as i32)) }
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        // SAFETY: as for `splat`.
        unsafe { Avx512(_mm512_add_epi32(self.0, other.0)) }
    }
    #[inline(always)]
    fn big_sigma0(self) -> Self {
        let x = self.0;
        // SAFETY: as for `splat`.
        unsafe {
            Avx512(_mm512_ternarylogic_epi32::<XOR3>(
                _mm512_ror_epi32::<2>(x),
                _mm512_ror_epi32::<13>(x),
                _mm512_ror_epi32::<22>(x),
            ))
        }
    }
    #[inline(always)]
    fn big_sigma1(self) -> Self {
        let x = self.0;
        // SAFETY: as for `splat`.
        unsafe {
            Avx512(_mm512_ternarylogic_epi32::<XOR3>(
                _mm512_ror_epi32::<6>(x),
                _mm512_ror_epi32::<11>(x),
                _mm512_ror_epi32::<25>(x),
            ))
        }
    }
    #[inline(always)]
    fn small_sigma0(self) -> Self {
        let x = self.0;
        // SAFETY: as for `splat`.
        unsafe {
            Avx512(_mm512_ternarylogic_epi32::<XOR3>(
                _mm512_ror_epi32::<7>(x),
                _mm512_ror_epi32::<18>(x),
                _mm512_srli_epi32::<3>(x),
            ))
        }
    }
    #[inline(always)]
    fn small_sigma1(self) -> Self {
        let x = self.0;
        // SAFETY: as for `splat`.
        unsafe {
            Avx512(_mm512_ternarylogic_epi32::<XOR3>(
                _mm512_ror_epi32::<17>(x),
                _mm512_ror_epi32::<19>(x),
                _mm512_srli_epi32::<10>(x),
            ))
        }
    }
    #[inline(always)]
    fn ch(e: Self, f: Self, g: Self) -> Self {
        // SAFETY: as for `splat`.
        unsafe { Avx512(_mm512_ternarylogic_epi32::<CHOOSE>(e.0, f.0, g.0)) }
    }
    #[inline(always)]
    fn maj(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: as for `splat`.
        unsafe { Avx512(_mm512_ternarylogic_epi32::<MAJORITY>(a.0, b.0, c.0)) }
    }
    #[inline(always)]
    fn nonce_words(base: u32) -> Self {
        // SAFETY: as for `splat`.
        unsafe {
            let n = _mm512_add_epi32(
                _mm512_set1_epi32(base as i32),
                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            );
            Avx512(bswap(n))
        }
    }
    #[inline(always)]
    fn candidates(h7: Self, target_top: u32) -> u32 {
        // SAFETY: as for `splat`.
        unsafe {
            u32::from(_mm512_cmple_epu32_mask(
                bswap(h7.0),
                _mm512_set1_epi32(target_top as i32),
            ))
        }
    }
}

/// Scans nonces `start..end` sixteen at a time; see [`sha::scan`].
#[target_feature(enable = "avx512f")]
pub(crate) fn scan(m: &Midstate, start: u64, end: u64) -> Option<u32> {
    sha::scan::<Avx512>(m, start, end)
}

/// `H7` of the sixteen nonces `base..base + 16` (wrapping), for the tests.
#[cfg(test)]
#[target_feature(enable = "avx512f")]
pub(crate) fn h7_batch(m: &Midstate, base: u32) -> [u32; 16] {
    let h7 = sha::sha256d_h7(m, Avx512::nonce_words(base));
    // SAFETY: `[u32; 16]` and `__m512i` have the same size, and every bit pattern is valid.
    unsafe { core::mem::transmute::<__m512i, [u32; 16]>(h7.0) }
}
