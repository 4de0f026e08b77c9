//! The hybrid backend: SHA-NI and the scalar integer units working in the same thread.
//!
//! The SHA-NI kernel keeps the SHA unit (a vector pipe) busy but leaves the integer ALUs
//! idle, while the scalar kernel is limited by those ALUs alone. This kernel hashes `G`
//! groups of `N` nonces with SHA-NI and one more nonce with the scalar code at the same
//! time: the scalar SHA-256d ([`sha::sha256d_h7_with`]) calls a hook after each of its
//! 120 rounds, and the hook performs the SHA-NI steps ([`Lanes::step`]) due by then, spread
//! evenly, so the out-of-order core always has both kinds of work in its window. An empty
//! `asm!` pins the scalar `a` and `e` after every round (as the SHA-NI lanes are pinned
//! after every step), which keeps the compiler from regrouping the two streams.
//!
//! Each step of the loop covers `G * N + 1` consecutive nonces: the SHA-NI groups take the
//! first `G * N`, the scalar code the last.
//!
//! Soundness: as for the SHA-NI kernel (every intrinsic needs SHA, SSE2, SSSE3 or SSE4.1);
//! the `#[target_feature]` entry points below are called by the dispatcher only after
//! `is_x86_feature_detected!` confirmed every feature they enable.

use crate::pow::sha::{self, Midstate, HOOKED_ROUNDS};

use super::shani::{Consts, Lanes, STEPS};

/// Keeps a scalar round in its place among the SHA-NI steps (see the module docs).
#[inline(always)]
fn pin(s: &mut [u32; 8]) {
    // SAFETY: an empty instruction sequence; it only pins the two words to registers here.
    unsafe {
        core::arch::asm!(
            "/* {0:e} {1:e} */",
            inout(reg) s[0],
            inout(reg) s[4],
            options(nomem, nostack, preserves_flags)
        )
    };
}

#[inline(always)]
unsafe fn scan_gn<const G: usize, const N: usize>(
    m: &Midstate,
    start: u64,
    end: u64,
) -> Option<u32> {
    // SAFETY: only called from the `#[target_feature]` functions below, which the
    // dispatcher enters only after detecting SHA, SSE2, SSSE3 and SSE4.1.
    unsafe {
        let c = Consts::new(m);
        let vector = (G * N) as u64;
        let total = G * STEPS;
        let mut base = start;
        while base < end {
            let b = base as u32;
            let mut groups = [Lanes::<N>::new(); G];
            let mut done = 0usize;
            let mut r = 0usize;
            // The SHA-NI steps due after scalar round `r` (1-based): `total * r / 120`,
            // at most one per round since `total <= HOOKED_ROUNDS`.
            let mut advance = |r: usize, done: &mut usize| {
                if *done * HOOKED_ROUNDS < total * r {
                    let g = *done / STEPS;
                    groups[g].step(&c, b.wrapping_add((g * N) as u32), *done % STEPS);
                    *done += 1;
                }
            };
            let scalar_w3 = b.wrapping_add(vector as u32).swap_bytes();
            let h7_scalar = sha::sha256d_h7_with::<u32, _>(m, scalar_w3, |s| {
                r += 1;
                advance(r, &mut done);
                pin(s);
            });
            // Nothing is left when `total <= HOOKED_ROUNDS` (checked at compile time below).
            while done < total {
                advance(HOOKED_ROUNDS, &mut done);
            }
            for (g, group) in groups.iter().enumerate() {
                for (i, h) in group.out.iter().enumerate() {
                    let n = base + (g * N + i) as u64;
                    // Lanes past `end` (or past 2^32, where nonces wrap) are ignored.
                    if h.swap_bytes() <= c.target_top_word() && n < end {
                        return Some(n as u32);
                    }
                }
            }
            if h7_scalar.swap_bytes() <= m.target_top && base + vector < end {
                return Some((base + vector) as u32);
            }
            base += vector + 1;
        }
        None
    }
}

/// SHA-NI groups per scalar nonce, and nonces per group; see [`crate::pow::HYBRID_GROUPS`].
pub(crate) const G: usize = crate::pow::HYBRID_GROUPS;
pub(crate) const N: usize = crate::pow::SHANI_INTERLEAVE;
const _: () = assert!(G * STEPS <= HOOKED_ROUNDS);

/// Scans nonces `start..end`; see [`crate::pow::sha::scan`].
#[target_feature(enable = "sha,sse2,ssse3,sse4.1,bmi2")]
pub(crate) fn scan(m: &Midstate, start: u64, end: u64) -> Option<u32> {
    // SAFETY: this function's target features include everything `scan_gn` needs.
    unsafe { scan_gn::<G, N>(m, start, end) }
}

/// The same compiled for CPUs that also have AVX-512VL (more vector registers).
#[target_feature(enable = "sha,sse2,ssse3,sse4.1,bmi2,avx,avx2,avx512f,avx512vl")]
pub(crate) fn scan_vl(m: &Midstate, start: u64, end: u64) -> Option<u32> {
    // SAFETY: this function's target features include everything `scan_gn` needs.
    unsafe { scan_gn::<G, N>(m, start, end) }
}

/// Any `G` and `N`, for the throughput test.
#[cfg(test)]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1,bmi2,avx,avx2,avx512f,avx512vl")]
pub(crate) fn scan_vl_gn<const G2: usize, const N2: usize>(
    m: &Midstate,
    start: u64,
    end: u64,
) -> Option<u32> {
    // SAFETY: this function's target features include everything `scan_gn` needs.
    unsafe { scan_gn::<G2, N2>(m, start, end) }
}
