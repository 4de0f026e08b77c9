//! SHA-256 pieces shared by every backend: the constants, a plain compression function, the
//! per-header precomputation ([`Midstate`]) and the lane-generic SHA-256d kernel that the
//! scalar, AVX2 and AVX-512 backends instantiate.
//!
//! The kernel evaluates SHA-256d of the 80-byte header for one nonce per lane and returns
//! only the last state word `H7` of the second hash (the most significant 32 bits of the
//! little-endian hash value, byte-swapped); the search rejects a nonce on that word alone
//! and re-checks every survivor with the plain [`crate::hashing::sha256d`].
//!
//! Work saved per nonce, compared with hashing the two blocks plus the second hash:
//!
//! * block 1 (bytes 0..64) does not contain the nonce: its state (the midstate) is computed
//!   once per header;
//! * in block 2, rounds 0..=2 use only the constant words 0..=2 (merkle tail, time, bits),
//!   and round 3, the first to see the nonce word, adds it linearly to `a` and `e`: the
//!   state after round 3 is a constant plus the nonce word in two places;
//! * block-2 words 4..=15 (padding and length) are constants, so their `K + W` sums are
//!   constants and the message schedule drops every term that is known to be zero;
//! * the second hash starts from the constant IV, its words 8..=15 are constant padding, and
//!   its round 0 is again "constant plus `W0`";
//! * `H7 = IV7 + e60` (the `e` produced by round 60): rounds 61..=63 and the schedule words
//!   61..=63 of the second hash are never computed, and the `a` side of rounds 57..=60 is
//!   dead code that the compiler removes.

/// The SHA-256 round constants.
pub(crate) const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The SHA-256 initial state.
pub(crate) const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Words 4..=15 of the header's second block (index = word number): the `0x80` padding
/// byte, zeros, and the message length (640 bits).
pub(crate) const BLOCK2_PAD: [u32; 16] = pad_words(4, 0x80000000, 640);
/// Words 8..=15 of the second hash's only block: padding after the 32-byte digest and the
/// length (256 bits).
pub(crate) const HASH2_PAD: [u32; 16] = pad_words(8, 0x80000000, 256);

const fn pad_words(first: usize, marker: u32, bits: u32) -> [u32; 16] {
    let mut w = [0u32; 16];
    w[first] = marker;
    w[15] = bits;
    w
}

#[inline(always)]
pub(crate) const fn big_sigma0(x: u32) -> u32 {
    x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
}

#[inline(always)]
pub(crate) const fn big_sigma1(x: u32) -> u32 {
    x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
}

#[inline(always)]
pub(crate) const fn small_sigma0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
}

#[inline(always)]
pub(crate) const fn small_sigma1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
}

/// One SHA-256 round on a scalar state; `kw` is `K[t] + W[t]`.
#[inline(always)]
pub(crate) const fn round_scalar(s: [u32; 8], kw: u32) -> [u32; 8] {
    let [a, b, c, d, e, f, g, h] = s;
    let t1 = h
        .wrapping_add(big_sigma1(e))
        .wrapping_add((e & f) ^ (!e & g))
        .wrapping_add(kw);
    let t2 = big_sigma0(a).wrapping_add((a & b) ^ (a & c) ^ (b & c));
    [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g]
}

/// The SHA-256 compression function (FIPS 180-4 §6.2.2) on one 64-byte block.
pub(crate) fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = [0u32; 64];
    for (t, word) in block.chunks_exact(4).enumerate() {
        w[t] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
    }
    for t in 16..64 {
        w[t] = small_sigma1(w[t - 2])
            .wrapping_add(w[t - 7])
            .wrapping_add(small_sigma0(w[t - 15]))
            .wrapping_add(w[t - 16]);
    }
    let mut s = *state;
    for t in 0..64 {
        s = round_scalar(s, K[t].wrapping_add(w[t]));
    }
    for (h, x) in state.iter_mut().zip(s) {
        *h = h.wrapping_add(x);
    }
}

/// State of the second hash after its round 0, computed with `W0 = 0`; the real state adds
/// `W0` to `a` and `e` (round 0 is linear in its word).
pub(crate) const HASH2_ROUND0: [u32; 8] = round_scalar(IV, K[0]);

/// Everything about a header (and target) that does not depend on the nonce.
#[derive(Clone, Debug)]
pub(crate) struct Midstate {
    /// SHA-256 state after the first 64 header bytes.
    pub(crate) mid: [u32; 8],
    /// Block-2 words 0..=2 (big-endian reads of header bytes 64..76; the SHA-NI kernel's).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) w: [u32; 3],
    /// State after block-2 rounds 0..=3 computed with nonce word `W3 = 0`; the real state
    /// adds `W3` to `a` (index 0) and `e` (index 4).
    pub(crate) s3: [u32; 8],
    /// Block-2 schedule words 16 and 17 (constant).
    pub(crate) w16: u32,
    pub(crate) w17: u32,
    /// Constant parts of block-2 schedule words 18, 19, 31 and 32.
    pub(crate) c18: u32,
    pub(crate) c19: u32,
    pub(crate) c31: u32,
    pub(crate) c32: u32,
    /// Most significant 32 bits of the target (target bytes 28..32, little-endian).
    pub(crate) target_top: u32,
}

impl Midstate {
    pub(crate) fn new(header: &[u8; 80], target: &[u8; 32]) -> Self {
        let mut mid = IV;
        let block1: &[u8; 64] = header[..64].try_into().expect("64 of 80 bytes");
        compress(&mut mid, block1);
        let word = |i: usize| u32::from_be_bytes(header[i..i + 4].try_into().expect("4 bytes"));
        let w = [word(64), word(68), word(72)];
        let mut s3 = mid;
        for t in 0..4 {
            let wt = if t < 3 { w[t] } else { 0 };
            s3 = round_scalar(s3, K[t].wrapping_add(wt));
        }
        // W16 = σ1(W14) + W9 + σ0(W1) + W0 and so on, with W3 the only variable and
        // W4..=W15 the padding constants (see BLOCK2_PAD).
        let p = &BLOCK2_PAD;
        let w16 = small_sigma1(p[14])
            .wrapping_add(p[9])
            .wrapping_add(small_sigma0(w[1]))
            .wrapping_add(w[0]);
        let w17 = small_sigma1(p[15])
            .wrapping_add(p[10])
            .wrapping_add(small_sigma0(w[2]))
            .wrapping_add(w[1]);
        let c18 = small_sigma1(w16).wrapping_add(p[11]).wrapping_add(w[2]); // + σ0(W3)
        let c19 = small_sigma1(w17)
            .wrapping_add(p[12])
            .wrapping_add(small_sigma0(p[4])); // + W3
        let c31 = small_sigma0(w16).wrapping_add(p[15]); // + σ1(W29) + W24
        let c32 = small_sigma0(w17).wrapping_add(w16); // + σ1(W30) + W25
        let target_top = u32::from_le_bytes(target[28..32].try_into().expect("4 bytes"));
        Midstate {
            mid,
            w,
            s3,
            w16,
            w17,
            c18,
            c19,
            c31,
            c32,
            target_top,
        }
    }
}

/// A vector of independent 32-bit lanes, one nonce per lane.
///
/// Implementations must be `#[inline(always)]` throughout: the kernel is written once here
/// and instantiated inside each backend's `#[target_feature]` function.
pub(crate) trait Lane: Copy {
    /// Number of nonces processed at once (at most 32).
    const LANES: usize;
    fn splat(x: u32) -> Self;
    fn add(self, other: Self) -> Self;
    fn big_sigma0(self) -> Self;
    fn big_sigma1(self) -> Self;
    fn small_sigma0(self) -> Self;
    fn small_sigma1(self) -> Self;
    /// `(e & f) ^ (!e & g)`.
    fn ch(e: Self, f: Self, g: Self) -> Self;
    /// `(a & b) ^ (a & c) ^ (b & c)`.
    fn maj(a: Self, b: Self, c: Self) -> Self;
    /// Block-2 word 3 for nonces `base, base + 1, ...` (wrapping): each nonce is stored
    /// little-endian in the header and read big-endian by SHA-256, so byte-swapped.
    fn nonce_words(base: u32) -> Self;
    /// Bit `i` set when lane `i`'s `H7`, byte-swapped (the top 32 bits of the hash as a
    /// little-endian number), is `<= target_top`.
    fn candidates(h7: Self, target_top: u32) -> u32;
}

/// Calls `$body` with `$t` bound to each listed constant (a guaranteed full unroll).
macro_rules! unroll {
    ($t:ident in [$($n:literal),* $(,)?] $body:block) => {
        $( { let $t: usize = $n; $body } )*
    };
}

#[inline(always)]
fn round<L: Lane>(s: &mut [L; 8], kw: L) {
    let [a, b, c, d, e, f, g, h] = *s;
    let t1 = h.add(kw).add(L::ch(e, f, g)).add(e.big_sigma1());
    let t2 = a.big_sigma0().add(L::maj(a, b, c));
    *s = [t1.add(t2), a, b, c, d.add(t1), e, f, g];
}

/// `σ1(w[t-2]) + w[t-7] + σ0(w[t-15]) + w[t-16]`.
#[inline(always)]
fn expand<L: Lane>(w: &[L; 64], t: usize) -> L {
    w[t - 2]
        .small_sigma1()
        .add(w[t - 7])
        .add(w[t - 15].small_sigma0())
        .add(w[t - 16])
}

/// `H7` of SHA-256d(header) for the nonce words `w3` (one per lane).
#[inline(always)]
pub(crate) fn sha256d_h7<L: Lane>(m: &Midstate, w3: L) -> L {
    let c = L::splat;
    let p = &BLOCK2_PAD;

    // First hash, block 2, from the state after round 3.
    let s3 = &m.s3;
    let mut s = [
        c(s3[0]).add(w3),
        c(s3[1]),
        c(s3[2]),
        c(s3[3]),
        c(s3[4]).add(w3),
        c(s3[5]),
        c(s3[6]),
        c(s3[7]),
    ];
    unroll!(t in [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] {
        round(&mut s, c(K[t].wrapping_add(p[t])));
    });
    let mut w = [c(0); 64];
    w[3] = w3;
    w[16] = c(m.w16);
    w[17] = c(m.w17);
    w[18] = c(m.c18).add(w3.small_sigma0());
    w[19] = c(m.c19).add(w3);
    w[20] = w[18].small_sigma1().add(c(p[4]));
    w[21] = w[19].small_sigma1();
    w[22] = w[20].small_sigma1().add(c(p[15]));
    w[23] = w[21].small_sigma1().add(w[16]);
    w[24] = w[22].small_sigma1().add(w[17]);
    unroll!(t in [25, 26, 27, 28, 29] {
        w[t] = w[t - 2].small_sigma1().add(w[t - 7]);
    });
    w[30] = w[28].small_sigma1().add(w[23]).add(c(small_sigma0(p[15])));
    w[31] = w[29].small_sigma1().add(w[24]).add(c(m.c31));
    w[32] = w[30].small_sigma1().add(w[25]).add(c(m.c32));
    w[33] = w[31]
        .small_sigma1()
        .add(w[26])
        .add(w[18].small_sigma0())
        .add(w[17]);
    unroll!(t in [34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
                  53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63] {
        w[t] = expand(&w, t);
    });
    round(&mut s, c(K[16].wrapping_add(m.w16)));
    round(&mut s, c(K[17].wrapping_add(m.w17)));
    unroll!(t in [18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
                  37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55,
                  56, 57, 58, 59, 60, 61, 62, 63] {
        round(&mut s, c(K[t]).add(w[t]));
    });

    // Second hash: its message is the first hash's state plus the midstate.
    let mut w = [c(0); 64];
    for i in 0..8 {
        w[i] = s[i].add(c(m.mid[i]));
    }
    let q = &HASH2_PAD;
    let r0 = &HASH2_ROUND0;
    let mut s = [
        c(r0[0]).add(w[0]),
        c(r0[1]),
        c(r0[2]),
        c(r0[3]),
        c(r0[4]).add(w[0]),
        c(r0[5]),
        c(r0[6]),
        c(r0[7]),
    ];
    unroll!(t in [1, 2, 3, 4, 5, 6, 7] {
        round(&mut s, c(K[t]).add(w[t]));
    });
    unroll!(t in [8, 9, 10, 11, 12, 13, 14, 15] {
        round(&mut s, c(K[t].wrapping_add(q[t])));
    });
    w[16] = w[1].small_sigma0().add(w[0]);
    w[17] = w[2].small_sigma0().add(w[1]).add(c(small_sigma1(q[15])));
    unroll!(t in [18, 19, 20, 21] {
        w[t] = w[t - 2].small_sigma1().add(w[t - 15].small_sigma0()).add(w[t - 16]);
    });
    w[22] = w[20]
        .small_sigma1()
        .add(c(q[15]))
        .add(w[7].small_sigma0())
        .add(w[6]);
    w[23] = w[21]
        .small_sigma1()
        .add(w[16])
        .add(c(small_sigma0(q[8])))
        .add(w[7]);
    w[24] = w[22].small_sigma1().add(w[17]).add(c(q[8]));
    unroll!(t in [25, 26, 27, 28, 29] {
        w[t] = w[t - 2].small_sigma1().add(w[t - 7]);
    });
    w[30] = w[28].small_sigma1().add(w[23]).add(c(small_sigma0(q[15])));
    w[31] = w[29]
        .small_sigma1()
        .add(w[24])
        .add(w[16].small_sigma0())
        .add(c(q[15]));
    unroll!(t in [32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
                  51, 52, 53, 54, 55, 56, 57, 58, 59, 60] {
        w[t] = expand(&w, t);
    });
    unroll!(t in [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
                  35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                  54, 55, 56, 57, 58, 59, 60] {
        round(&mut s, c(K[t]).add(w[t]));
    });
    // After round 60, `e` is the `h` that rounds 61..=63 would carry to the end.
    c(IV[7]).add(s[4])
}

/// Scans nonces `start..end` (`end <= 2^32`) `L::LANES` at a time and returns the first
/// whose `H7` passes the early check against `m.target_top`.
#[inline(always)]
pub(crate) fn scan<L: Lane>(m: &Midstate, start: u64, end: u64) -> Option<u32> {
    let lanes = L::LANES as u64;
    let mut base = start;
    while base < end {
        // Lanes past `end` (or past 2^32, where the nonce words wrap) are masked off below.
        let h7 = sha256d_h7(m, L::nonce_words(base as u32));
        let mut mask = L::candidates(h7, m.target_top);
        if mask != 0 {
            let valid = (end - base).min(lanes);
            if valid < 32 {
                mask &= (1u32 << valid) - 1;
            }
            if mask != 0 {
                return Some((base + u64::from(mask.trailing_zeros())) as u32);
            }
        }
        base += lanes;
    }
    None
}

impl Lane for u32 {
    const LANES: usize = 1;

    #[inline(always)]
    fn splat(x: u32) -> Self {
        x
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    #[inline(always)]
    fn big_sigma0(self) -> Self {
        big_sigma0(self)
    }
    #[inline(always)]
    fn big_sigma1(self) -> Self {
        big_sigma1(self)
    }
    #[inline(always)]
    fn small_sigma0(self) -> Self {
        small_sigma0(self)
    }
    #[inline(always)]
    fn small_sigma1(self) -> Self {
        small_sigma1(self)
    }
    #[inline(always)]
    fn ch(e: Self, f: Self, g: Self) -> Self {
        ((f ^ g) & e) ^ g
    }
    #[inline(always)]
    fn maj(a: Self, b: Self, c: Self) -> Self {
        ((a ^ b) & (b ^ c)) ^ b
    }
    #[inline(always)]
    fn nonce_words(base: u32) -> Self {
        base.swap_bytes()
    }
    #[inline(always)]
    fn candidates(h7: Self, target_top: u32) -> u32 {
        u32::from(h7.swap_bytes() <= target_top)
    }
}

/// The portable backend: one nonce at a time with the kernel above on plain `u32`s.
pub(crate) fn scan_scalar(m: &Midstate, start: u64, end: u64) -> Option<u32> {
    scan::<u32>(m, start, end)
}
