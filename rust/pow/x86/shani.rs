//! The SHA-NI backend: the x86 SHA extensions (`sha256rnds2`, `sha256msg1`, `sha256msg2`),
//! with `N` nonces interleaved per core.
//!
//! `sha256rnds2` does two rounds but has a latency of several cycles, and each nonce's
//! rounds form one dependency chain; interleaving `N` independent nonces (every step below
//! is a loop over the `N` lanes, fully unrolled) keeps the SHA unit busy.
//!
//! The state lives in two registers in the layout the instructions use, `ABEF` (lanes 3..0:
//! a, b, e, f) and `CDGH`. Per nonce this does 61 `sha256rnds2` instead of 64:
//!
//! * block 2 of the first hash starts from the precomputed state after round 3 (rounds
//!   0..=2 are constant, round 3 adds the nonce word to `a` and `e`: one vector add), so
//!   it needs rounds 4..=63, 30 instructions;
//! * the second hash stops after rounds 60 and 61: the `f` lane of `ABEF` is then `e60`,
//!   and `H7 = IV7 + e60`; rounds 62 and 63 are skipped: 31 instructions;
//! * the message words and `K + W` sums that do not depend on the nonce are precomputed
//!   once per scan.
//!
//! Two builds of the same code: [`scan`] for any CPU with SHA-NI, and [`scan_vl`] for CPUs
//! that also have AVX-512VL, where the compiler can park values in `xmm16..xmm31` instead
//! of spilling them (about 18% faster on AMD Zen 4: 37 against 31 M nonces/s per core).
//!
//! Soundness: every intrinsic here needs SHA, SSE2, SSSE3 or SSE4.1. They are only called
//! from `#[target_feature]` functions that enable at least those (or from
//! `#[inline(always)]` helpers that only those functions call), and the dispatcher calls
//! [`scan`] only after `is_x86_feature_detected!` confirmed all four features, and
//! [`scan_vl`] only after it also confirmed AVX2, AVX-512F and AVX-512VL.

use core::arch::x86_64::*;

use crate::pow::sha::{Midstate, BLOCK2_PAD, HASH2_PAD, IV, K};

/// `K[4i..4i+4]` as a vector (lane j = `K[4i + j]`).
#[inline(always)]
fn k4(i: usize) -> __m128i {
    words(&K[4 * i..4 * i + 4])
}

/// Four words as a vector, lane j = `w[j]`.
#[inline(always)]
fn words(w: &[u32]) -> __m128i {
    // SAFETY: `_mm_setr_epi32` needs only SSE2, which every x86_64 CPU has.
    unsafe { _mm_setr_epi32(w[0] as i32, w[1] as i32, w[2] as i32, w[3] as i32) }
}

/// A state `[a, b, c, d, e, f, g, h]` in the `(ABEF, CDGH)` register layout.
#[inline(always)]
fn abef_cdgh(s: &[u32; 8]) -> (__m128i, __m128i) {
    (
        words(&[s[5], s[4], s[1], s[0]]),
        words(&[s[7], s[6], s[3], s[2]]),
    )
}

/// The nonce-independent vectors of one scan.
struct Consts {
    /// State after block-2 round 3 with `W3 = 0`.
    abef3: __m128i,
    cdgh3: __m128i,
    /// The midstate, to add after block 2.
    mid_abef: __m128i,
    mid_cdgh: __m128i,
    /// Block-2 words 0..=3 with `W3 = 0`.
    x0: __m128i,
    /// Block-2 words 4..=7 and 12..=15 (words 8..=11 are zero).
    x1: __m128i,
    x3: __m128i,
    /// `K + W` for block-2 rounds 4..=15.
    wk1: __m128i,
    wk2: __m128i,
    wk3: __m128i,
    /// Schedule terms that only involve constant words.
    b_align32: __m128i, // alignr(X3, X2, 4)
    b_msg1_12: __m128i, // msg1(X1, X2)
    b_msg1_23: __m128i, // msg1(X2, X3)
    /// The second hash: IV, its constant words and their `K + W`.
    iv_abef: __m128i,
    iv_cdgh: __m128i,
    y2: __m128i,
    y3: __m128i,
    ywk2: __m128i,
    ywk3: __m128i,
    y_align32: __m128i, // alignr(Y3, Y2, 4)
    y_msg1_23: __m128i, // msg1(Y2, Y3)
    iv7: u32,
    target_top: u32,
}

impl Consts {
    #[inline(always)]
    unsafe fn new(m: &Midstate) -> Self {
        // SAFETY: called only from `scan_n`, which runs with SHA/SSE2/SSSE3/SSE4.1 enabled
        // on a CPU that has them.
        unsafe {
            let (abef3, cdgh3) = abef_cdgh(&m.s3);
            let (mid_abef, mid_cdgh) = abef_cdgh(&m.mid);
            let p = &BLOCK2_PAD;
            let x0 = words(&[m.w[0], m.w[1], m.w[2], 0]);
            let x1 = words(&p[4..8]);
            let x2 = words(&p[8..12]);
            let x3 = words(&p[12..16]);
            let q = &HASH2_PAD;
            let y2 = words(&q[8..12]);
            let y3 = words(&q[12..16]);
            let (iv_abef, iv_cdgh) = abef_cdgh(&IV);
            Consts {
                abef3,
                cdgh3,
                mid_abef,
                mid_cdgh,
                x0,
                x1,
                x3,
                wk1: _mm_add_epi32(x1, k4(1)),
                wk2: _mm_add_epi32(x2, k4(2)),
                wk3: _mm_add_epi32(x3, k4(3)),
                b_align32: _mm_alignr_epi8::<4>(x3, x2),
                b_msg1_12: _mm_sha256msg1_epu32(x1, x2),
                b_msg1_23: _mm_sha256msg1_epu32(x2, x3),
                iv_abef,
                iv_cdgh,
                y2,
                y3,
                ywk2: _mm_add_epi32(y2, k4(2)),
                ywk3: _mm_add_epi32(y3, k4(3)),
                y_align32: _mm_alignr_epi8::<4>(y3, y2),
                y_msg1_23: _mm_sha256msg1_epu32(y2, y3),
                iv7: IV[7],
                target_top: m.target_top,
            }
        }
    }
}

/// Applies `$body` to each lane index `$i` in `0..$n` (a constant: fully unrolled).
macro_rules! lanes {
    ($i:ident < $n:expr => $body:expr) => {
        for $i in 0..$n {
            $body;
        }
    };
}

/// Keeps the lanes in step: an empty `asm!` per lane that the compiler must keep in program
/// order (it is not `pure`), placed after every four rounds, so no lane's next rounds can
/// be scheduled before every lane's current ones. Without it, LLVM emits one lane's whole
/// hash after the other, the out-of-order window is too small to overlap them, and two
/// lanes run no faster than one (18 M nonces/s instead of 29 on Zen 4).
#[inline(always)]
fn in_step<const N: usize>(v: &mut [__m128i; N]) {
    for x in v.iter_mut() {
        // SAFETY: an empty instruction sequence; it only pins `x` to a register here.
        unsafe {
            core::arch::asm!(
                "/* {0} */",
                inout(xmm_reg) * x,
                options(nomem, nostack, preserves_flags)
            )
        };
    }
}

/// Four rounds on every lane: `s0` = ABEF, `s1` = CDGH, `wk` = `K + W` of the four rounds.
macro_rules! quad {
    ($n:expr, $s0:ident, $s1:ident, $wk:expr) => {
        let mut wk = [_mm_setzero_si128(); $n];
        lanes!(i < $n => {
            wk[i] = $wk(i);
            $s1[i] = _mm_sha256rnds2_epu32($s1[i], $s0[i], wk[i]);
        });
        lanes!(i < $n => {
            $s0[i] = _mm_sha256rnds2_epu32($s0[i], $s1[i], _mm_shuffle_epi32::<0x0E>(wk[i]));
        });
        in_step(&mut $s0);
    };
}

/// Message-schedule step: `W[4t..4t+4]` from the four previous groups.
#[inline(always)]
unsafe fn sched(x4: __m128i, x3: __m128i, x2: __m128i, x1: __m128i) -> __m128i {
    // SAFETY: only called from `scan_n` (SHA and SSSE3 enabled and detected).
    unsafe {
        _mm_sha256msg2_epu32(
            _mm_add_epi32(_mm_sha256msg1_epu32(x4, x3), _mm_alignr_epi8::<4>(x1, x2)),
            x1,
        )
    }
}

/// `H7` of SHA-256d for the nonces `base..base + N` (wrapping).
#[inline(always)]
unsafe fn h7s<const N: usize>(c: &Consts, base: u32) -> [u32; N] {
    // SAFETY: only called from `scan_n` (SHA, SSE2, SSSE3 and SSE4.1 enabled and detected).
    unsafe {
        let z = _mm_setzero_si128();
        let mut s0 = [z; N];
        let mut s1 = [z; N];
        // Rolling window of the last four message groups, per lane.
        let mut w = [[z; N]; 4];

        // First hash, block 2: state after round 3 = constant + nonce word in a and e.
        lanes!(i < N => {
            let w3 = _mm_cvtsi32_si128(base.wrapping_add(i as u32).swap_bytes() as i32);
            s0[i] = _mm_add_epi32(c.abef3, _mm_shuffle_epi32::<0x11>(w3));
            s1[i] = c.cdgh3;
            w[0][i] = _mm_add_epi32(c.x0, _mm_shuffle_epi32::<0x15>(w3));
        });
        quad!(N, s0, s1, |_| c.wk1);
        quad!(N, s0, s1, |_| c.wk2);
        quad!(N, s0, s1, |_| c.wk3);
        // Group 4 = msg2(msg1(X0, X1) + alignr(X3, X2, 4), X3)
        lanes!(i < N => {
            w[1][i] = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32(w[0][i], c.x1), c.b_align32),
                c.x3,
            );
        });
        quad!(N, s0, s1, |i: usize| _mm_add_epi32(w[1][i], k4(4)));
        // Group 5 = msg2(msg1(X1, X2) + alignr(X4, X3, 4), X4)
        lanes!(i < N => {
            w[2][i] = _mm_sha256msg2_epu32(
                _mm_add_epi32(c.b_msg1_12, _mm_alignr_epi8::<4>(w[1][i], c.x3)),
                w[1][i],
            );
        });
        quad!(N, s0, s1, |i: usize| _mm_add_epi32(w[2][i], k4(5)));
        // Group 6 = msg2(msg1(X2, X3) + alignr(X5, X4, 4), X5)
        lanes!(i < N => {
            w[3][i] = _mm_sha256msg2_epu32(
                _mm_add_epi32(c.b_msg1_23, _mm_alignr_epi8::<4>(w[2][i], w[1][i])),
                w[2][i],
            );
        });
        quad!(N, s0, s1, |i: usize| _mm_add_epi32(w[3][i], k4(6)));
        // Group 7 = msg2(msg1(X3, X4) + alignr(X6, X5, 4), X6)
        lanes!(i < N => {
            w[0][i] = _mm_sha256msg2_epu32(
                _mm_add_epi32(
                    _mm_sha256msg1_epu32(c.x3, w[1][i]),
                    _mm_alignr_epi8::<4>(w[3][i], w[2][i]),
                ),
                w[3][i],
            );
        });
        quad!(N, s0, s1, |i: usize| _mm_add_epi32(w[0][i], k4(7)));
        // Groups 8..=15: the generic schedule. Group g lives in w[(g + 1) % 4].
        macro_rules! generic {
            ($n:expr, $g:literal, $x4:literal, $x3:literal, $x2:literal, $x1:literal) => {
                lanes!(i < $n => {
                    w[$x4][i] = sched(w[$x4][i], w[$x3][i], w[$x2][i], w[$x1][i]);
                });
                quad!($n, s0, s1, |i: usize| _mm_add_epi32(w[$x4][i], k4($g)));
            };
        }
        generic!(N, 8, 1, 2, 3, 0);
        generic!(N, 9, 2, 3, 0, 1);
        generic!(N, 10, 3, 0, 1, 2);
        generic!(N, 11, 0, 1, 2, 3);
        generic!(N, 12, 1, 2, 3, 0);
        generic!(N, 13, 2, 3, 0, 1);
        generic!(N, 14, 3, 0, 1, 2);
        generic!(N, 15, 0, 1, 2, 3);

        // The second hash's words 0..=7 are the first hash's state plus the midstate, turned
        // from (ABEF, CDGH) into (a, b, c, d) and (e, f, g, h).
        lanes!(i < N => {
            let abef = _mm_add_epi32(s0[i], c.mid_abef);
            let cdgh = _mm_add_epi32(s1[i], c.mid_cdgh);
            let feba = _mm_shuffle_epi32::<0x1B>(abef); // lanes: a, b, e, f
            let dchg = _mm_shuffle_epi32::<0xB1>(cdgh); // lanes: g, h, c, d
            w[0][i] = _mm_blend_epi16::<0xF0>(feba, dchg); // a, b, c, d
            w[1][i] = _mm_alignr_epi8::<8>(dchg, feba); // e, f, g, h
            s0[i] = c.iv_abef;
            s1[i] = c.iv_cdgh;
        });
        quad!(N, s0, s1, |i: usize| _mm_add_epi32(w[0][i], k4(0)));
        quad!(N, s0, s1, |i: usize| _mm_add_epi32(w[1][i], k4(1)));
        quad!(N, s0, s1, |_| c.ywk2);
        quad!(N, s0, s1, |_| c.ywk3);
        // Group 4 = msg2(msg1(Y0, Y1) + alignr(Y3, Y2, 4), Y3)
        lanes!(i < N => {
            w[2][i] = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32(w[0][i], w[1][i]), c.y_align32),
                c.y3,
            );
        });
        quad!(N, s0, s1, |i: usize| _mm_add_epi32(w[2][i], k4(4)));
        // Group 5 = msg2(msg1(Y1, Y2) + alignr(Y4, Y3, 4), Y4)
        lanes!(i < N => {
            w[3][i] = _mm_sha256msg2_epu32(
                _mm_add_epi32(
                    _mm_sha256msg1_epu32(w[1][i], c.y2),
                    _mm_alignr_epi8::<4>(w[2][i], c.y3),
                ),
                w[2][i],
            );
        });
        quad!(N, s0, s1, |i: usize| _mm_add_epi32(w[3][i], k4(5)));
        // Group 6 = msg2(msg1(Y2, Y3) + alignr(Y5, Y4, 4), Y5)
        lanes!(i < N => {
            w[0][i] = _mm_sha256msg2_epu32(
                _mm_add_epi32(c.y_msg1_23, _mm_alignr_epi8::<4>(w[3][i], w[2][i])),
                w[3][i],
            );
        });
        quad!(N, s0, s1, |i: usize| _mm_add_epi32(w[0][i], k4(6)));
        // Group 7 = msg2(msg1(Y3, Y4) + alignr(Y6, Y5, 4), Y6)
        lanes!(i < N => {
            w[1][i] = _mm_sha256msg2_epu32(
                _mm_add_epi32(
                    _mm_sha256msg1_epu32(c.y3, w[2][i]),
                    _mm_alignr_epi8::<4>(w[0][i], w[3][i]),
                ),
                w[0][i],
            );
        });
        quad!(N, s0, s1, |i: usize| _mm_add_epi32(w[1][i], k4(7)));
        // Group g lives in w[(g + 2) % 4].
        generic!(N, 8, 2, 3, 0, 1);
        generic!(N, 9, 3, 0, 1, 2);
        generic!(N, 10, 0, 1, 2, 3);
        generic!(N, 11, 1, 2, 3, 0);
        generic!(N, 12, 2, 3, 0, 1);
        generic!(N, 13, 3, 0, 1, 2);
        generic!(N, 14, 0, 1, 2, 3);
        // Group 15: only rounds 60 and 61, after which ABEF's `f` lane is `e60`.
        let mut out = [0u32; N];
        lanes!(i < N => {
            let x = sched(w[1][i], w[2][i], w[3][i], w[0][i]);
            let abef = _mm_sha256rnds2_epu32(s1[i], s0[i], _mm_add_epi32(x, k4(15)));
            out[i] = c.iv7.wrapping_add(_mm_cvtsi128_si32(abef) as u32);
        });
        out
    }
}

#[inline(always)]
unsafe fn scan_n<const N: usize>(m: &Midstate, start: u64, end: u64) -> Option<u32> {
    // SAFETY: only called from the `#[target_feature]` functions below, which the
    // dispatcher enters only after detecting SHA, SSE2, SSSE3 and SSE4.1.
    unsafe {
        let c = Consts::new(m);
        let mut base = start;
        while base < end {
            let h7 = h7s::<N>(&c, base as u32);
            for (i, h) in h7.iter().enumerate() {
                // Lanes past `end` (or past 2^32, where nonces wrap) are ignored.
                if h.swap_bytes() <= c.target_top && base + (i as u64) < end {
                    return Some((base + i as u64) as u32);
                }
            }
            base += N as u64;
        }
        None
    }
}

/// Scans nonces `start..end` with `N` nonces interleaved; see [`crate::pow::sha::scan`].
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub(crate) fn scan<const N: usize>(m: &Midstate, start: u64, end: u64) -> Option<u32> {
    // SAFETY: this function's target features are exactly what `scan_n` needs.
    unsafe { scan_n::<N>(m, start, end) }
}

/// The same compiled for CPUs that also have AVX-512VL: the compiler may then keep values
/// in `xmm16..xmm31` (EVEX encoding) instead of spilling them (the SHA instructions
/// themselves only reach `xmm0..xmm15`).
#[target_feature(enable = "sha,sse2,ssse3,sse4.1,avx,avx2,avx512f,avx512vl")]
pub(crate) fn scan_vl<const N: usize>(m: &Midstate, start: u64, end: u64) -> Option<u32> {
    // SAFETY: this function's target features include everything `scan_n` needs.
    unsafe { scan_n::<N>(m, start, end) }
}

/// `H7` of the nonces `base..base + N` (wrapping), for the tests.
#[cfg(test)]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub(crate) fn h7_batch<const N: usize>(m: &Midstate, base: u32) -> [u32; N] {
    // SAFETY: this function's target features are exactly what `h7s` needs.
    unsafe { h7s::<N>(&Consts::new(m), base) }
}

/// [`h7_batch`] from the AVX-512VL build, for the tests.
#[cfg(test)]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1,avx,avx2,avx512f,avx512vl")]
pub(crate) fn h7_batch_vl<const N: usize>(m: &Midstate, base: u32) -> [u32; N] {
    // SAFETY: this function's target features include everything `h7s` needs.
    unsafe { h7s::<N>(&Consts::new(m), base) }
}
