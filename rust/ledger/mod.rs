//! Ledger-layer consensus checks that run hot: batch validation of a chain of 80-byte
//! headers (proof of work, compact targets and Bitcoin's retarget, median-time-past and
//! future-time limits, minimum versions, linkage), and HASH160 for pay-to-key-hash outputs.
//!
//! The pure-Python reference of the same rules is `funai/ledger/headerchain.py`; both are
//! tested against the same real Bitcoin headers and tampered copies. All arithmetic is exact
//! integer arithmetic: targets are 256-bit numbers held in [`Uint`] (five 64-bit limbs, so
//! the retarget product `target * timespan` never overflows).

use std::cmp::Ordering;

use ripemd::Ripemd160;
use sha2::{Digest, Sha256};

use crate::hashing::sha256d;

/// Size of a block header in bytes.
pub const HEADER_SIZE: usize = 80;

/// HASH160 = RIPEMD-160(SHA-256(data)), the hash a pay-to-key-hash output carries.
pub fn hash160(data: &[u8]) -> [u8; 20] {
    Ripemd160::digest(Sha256::digest(data)).into()
}

/// An unsigned integer of 320 bits, little-endian 64-bit limbs. Targets use the low 256.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Uint(pub [u64; 5]);

impl Uint {
    /// Zero.
    pub const ZERO: Uint = Uint([0; 5]);

    /// From a 32-byte little-endian number (a block hash or a serialized target).
    pub fn from_le_bytes(bytes: &[u8; 32]) -> Uint {
        let mut limbs = [0u64; 5];
        for (i, limb) in limbs.iter_mut().take(4).enumerate() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            *limb = u64::from_le_bytes(word);
        }
        Uint(limbs)
    }

    /// The low 256 bits as 32 little-endian bytes.
    pub fn to_le_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for i in 0..4 {
            out[i * 8..i * 8 + 8].copy_from_slice(&self.0[i].to_le_bytes());
        }
        out
    }

    /// From a small number.
    pub fn from_u64(v: u64) -> Uint {
        Uint([v, 0, 0, 0, 0])
    }

    /// Number of significant bits.
    pub fn bits(&self) -> u32 {
        for i in (0..5).rev() {
            if self.0[i] != 0 {
                return 64 * i as u32 + (64 - self.0[i].leading_zeros());
            }
        }
        0
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|&l| l == 0)
    }

    /// Left shift, truncated to 256 bits (as `arith_uint256 <<`).
    pub fn shl256(self, shift: u32) -> Uint {
        let mut out = [0u64; 5];
        if shift >= 256 {
            return Uint(out);
        }
        let (limbs, bits) = ((shift / 64) as usize, shift % 64);
        for i in (limbs..4).rev() {
            let src = i - limbs;
            let mut v = self.0[src] << bits;
            if bits > 0 && src > 0 {
                v |= self.0[src - 1] >> (64 - bits);
            }
            out[i] = v;
        }
        Uint(out)
    }

    /// Right shift.
    pub fn shr_bits(self, shift: u32) -> Uint {
        let mut out = [0u64; 5];
        if shift >= 320 {
            return Uint(out);
        }
        let (limbs, bits) = ((shift / 64) as usize, shift % 64);
        for (i, slot) in out.iter_mut().enumerate().take(5 - limbs) {
            let src = i + limbs;
            let mut v = self.0[src] >> bits;
            if bits > 0 && src + 1 < 5 {
                v |= self.0[src + 1] << (64 - bits);
            }
            *slot = v;
        }
        Uint(out)
    }

    /// The low 64 bits.
    pub fn low_u64(&self) -> u64 {
        self.0[0]
    }

    /// Multiplication by a small number; `None` if the product needs more than 320 bits.
    pub fn checked_mul_u64(self, m: u64) -> Option<Uint> {
        let mut out = [0u64; 5];
        let mut carry: u128 = 0;
        for (i, slot) in out.iter_mut().enumerate() {
            let v = u128::from(self.0[i]) * u128::from(m) + carry;
            *slot = v as u64;
            carry = v >> 64;
        }
        (carry == 0).then_some(Uint(out))
    }

    /// Division by a non-zero small number (floor).
    pub fn div_u64(self, d: u64) -> Uint {
        let mut out = [0u64; 5];
        let mut rem: u128 = 0;
        for i in (0..5).rev() {
            let cur = (rem << 64) | u128::from(self.0[i]);
            out[i] = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        Uint(out)
    }
}

impl PartialOrd for Uint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Uint {
    fn cmp(&self, other: &Self) -> Ordering {
        for i in (0..5).rev() {
            match self.0[i].cmp(&other.0[i]) {
                Ordering::Equal => continue,
                ord => return ord,
            }
        }
        Ordering::Equal
    }
}

/// A decoded compact target with Bitcoin's flags (`arith_uint256::SetCompact`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compact {
    /// The target, truncated to 256 bits.
    pub target: Uint,
    /// The sign bit was set on a non-zero mantissa.
    pub negative: bool,
    /// The encoded value does not fit in 256 bits.
    pub overflow: bool,
}

/// Decodes `bits` exactly as Bitcoin Core's `SetCompact`.
pub fn decode_compact(bits: u32) -> Compact {
    let size = bits >> 24;
    let mut word = bits & 0x007f_ffff;
    let target = if size <= 3 {
        word >>= 8 * (3 - size);
        Uint::from_u64(u64::from(word))
    } else {
        Uint::from_u64(u64::from(word)).shl256(8 * (size - 3))
    };
    Compact {
        target,
        negative: word != 0 && (bits & 0x0080_0000) != 0,
        overflow: word != 0
            && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)),
    }
}

/// Encodes a target (< 2^256) exactly as Bitcoin Core's `GetCompact`.
pub fn encode_compact(target: &Uint) -> u32 {
    let mut size = target.bits().div_ceil(8);
    let mut compact: u32 = if size <= 3 {
        (target.low_u64() << (8 * (3 - size))) as u32
    } else {
        target.shr_bits(8 * (size - 3)).low_u64() as u32
    };
    if compact & 0x0080_0000 != 0 {
        compact >>= 8;
        size += 1;
    }
    compact | (size << 24)
}

/// Bitcoin's `CalculateNextWorkRequired`: the new `bits` after a period whose first block has
/// time `first_time` and last block `last_bits` / `last_time`. Exact (no 256-bit wrap).
pub fn retarget(
    last_bits: u32,
    first_time: i64,
    last_time: i64,
    target_timespan: i64,
    pow_limit: &Uint,
) -> u32 {
    let actual = (last_time - first_time).clamp(target_timespan / 4, target_timespan * 4);
    let target = decode_compact(last_bits).target;
    // actual >= timespan / 4 > 0 and target < 2^256, actual < 2^63: the product fits in 320 bits.
    let new = target
        .checked_mul_u64(actual as u64)
        .map(|p| p.div_u64(target_timespan as u64))
        .unwrap_or(*pow_limit);
    encode_compact(if new > *pow_limit { pow_limit } else { &new })
}

/// The header rules of a network (the Rust twin of `funai.ledger.params.HeaderRules`).
#[derive(Clone, Debug)]
pub struct HeaderRules {
    /// Easiest allowed target.
    pub pow_limit: Uint,
    /// Blocks per retarget period.
    pub retarget_interval: u64,
    /// Seconds a period should take.
    pub target_timespan: i64,
    /// Whether difficulty retargets (false on regtest).
    pub retarget: bool,
    /// `(height, minimum version)` pairs, ascending.
    pub min_versions: Vec<(u64, i32)>,
    /// Largest allowed `time - now`.
    pub max_future_seconds: i64,
    /// Number of previous blocks in the median time past.
    pub mtp_span: usize,
    /// Time-warp fix: the first block of a period may be at most this much older than its parent.
    pub timewarp_grace: Option<i64>,
}

impl HeaderRules {
    fn min_version(&self, height: u64) -> i64 {
        let mut minimum = i64::from(i32::MIN);
        for &(start, version) in &self.min_versions {
            if height >= start {
                minimum = i64::from(version);
            }
        }
        minimum
    }
}

/// The first rule a header chain breaks: the height and the rule's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderFailure {
    /// Height of the offending header.
    pub height: u64,
    /// Machine-readable rule name (Bitcoin Core's reject reason where there is one).
    pub rule: &'static str,
    /// Human-readable detail.
    pub detail: String,
}

#[derive(Clone, Copy)]
struct Fields {
    version: i32,
    time: u32,
    bits: u32,
}

fn fields(h: &[u8]) -> Fields {
    let word = |at: usize| [h[at], h[at + 1], h[at + 2], h[at + 3]];
    Fields {
        version: i32::from_le_bytes(word(0)),
        time: u32::from_le_bytes(word(68)),
        bits: u32::from_le_bytes(word(72)),
    }
}

fn fail(height: u64, rule: &'static str, detail: String) -> Result<(), HeaderFailure> {
    Err(HeaderFailure {
        height,
        rule,
        detail,
    })
}

/// Validates headers `first..last` of `data` (consecutive raw 80-byte headers, the first at
/// `start_height`), using the headers before `first` as context.
///
/// * The first header of `data` links to `prev_hash` when given, and its `bits` are taken as
///   given (its ancestors are not in `data`); so is a retarget whose period starts before
///   `data`.
/// * `now`: when given, a header more than `max_future_seconds` ahead of it is rejected.
pub fn verify_headers(
    data: &[u8],
    start_height: u64,
    rules: &HeaderRules,
    prev_hash: Option<&[u8; 32]>,
    now: Option<i64>,
    first: usize,
    last: usize,
) -> Result<(), HeaderFailure> {
    let count = data.len() / HEADER_SIZE;
    if !data.len().is_multiple_of(HEADER_SIZE) || first > last || last > count {
        return Err(HeaderFailure {
            height: start_height,
            rule: "bad-input",
            detail: format!(
                "{} bytes of header data, range {first}..{last} of {count} headers",
                data.len()
            ),
        });
    }
    let header = |i: usize| &data[i * HEADER_SIZE..(i + 1) * HEADER_SIZE];
    let mut prev: Option<[u8; 32]> = if first == 0 {
        prev_hash.copied()
    } else {
        Some(sha256d(header(first - 1)))
    };
    let interval = rules.retarget_interval as usize;
    let mut times: Vec<i64> = Vec::with_capacity(rules.mtp_span);
    for i in first..last {
        let h = header(i);
        let f = fields(h);
        let height = start_height + i as u64;
        // Version.
        let min_version = rules.min_version(height);
        if i64::from(f.version) < min_version {
            return fail(
                height,
                "bad-version",
                format!("version {} below {min_version}", f.version),
            );
        }
        // Linkage.
        if let Some(p) = prev {
            if h[4..36] != p {
                return fail(
                    height,
                    "bad-prevblk",
                    "previous-block hash does not match".into(),
                );
            }
        }
        // Difficulty bits.
        if i > 0 {
            let pf = fields(header(i - 1));
            let boundary = rules.retarget && height.is_multiple_of(rules.retarget_interval);
            let expected = if !boundary {
                Some(pf.bits)
            } else if i >= interval {
                let first_time = i64::from(fields(header(i - interval)).time);
                Some(retarget(
                    pf.bits,
                    first_time,
                    i64::from(pf.time),
                    rules.target_timespan,
                    &rules.pow_limit,
                ))
            } else {
                None
            };
            if let Some(expected) = expected {
                if f.bits != expected {
                    return fail(
                        height,
                        "bad-diffbits",
                        format!("bits {:08x}, expected {expected:08x}", f.bits),
                    );
                }
            }
        }
        // Target and proof of work.
        let c = decode_compact(f.bits);
        if c.negative || c.overflow || c.target.is_zero() || c.target > rules.pow_limit {
            return fail(
                height,
                "bad-target",
                format!("bits {:08x} is not a valid target", f.bits),
            );
        }
        let hash = sha256d(h);
        if Uint::from_le_bytes(&hash) > c.target {
            return fail(height, "high-hash", "proof of work above target".into());
        }
        // Median time past over the previous headers in `data`.
        if i > 0 {
            times.clear();
            let lo = i.saturating_sub(rules.mtp_span);
            times.extend((lo..i).map(|j| i64::from(fields(header(j)).time)));
            times.sort_unstable();
            let mtp = times[times.len() / 2];
            if i64::from(f.time) <= mtp {
                return fail(
                    height,
                    "time-too-old",
                    format!("time {} not after median time past {mtp}", f.time),
                );
            }
            if let Some(grace) = rules.timewarp_grace {
                let prev_time = i64::from(fields(header(i - 1)).time);
                if rules.retarget
                    && height.is_multiple_of(rules.retarget_interval)
                    && i64::from(f.time) < prev_time - grace
                {
                    return fail(
                        height,
                        "time-timewarp-attack",
                        format!("time {} more than {grace} s before its parent", f.time),
                    );
                }
            }
        }
        if let Some(now) = now {
            if i64::from(f.time) > now + rules.max_future_seconds {
                return fail(
                    height,
                    "time-too-new",
                    format!("time {} too far ahead of {now}", f.time),
                );
            }
        }
        prev = Some(hash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitcoin_rules() -> HeaderRules {
        HeaderRules {
            pow_limit: decode_compact(0x1d00ffff).target,
            retarget_interval: 2016,
            target_timespan: 2016 * 600,
            retarget: true,
            min_versions: vec![(0, 1), (227_931, 2), (363_725, 3), (388_381, 4)],
            max_future_seconds: 7200,
            mtp_span: 11,
            timewarp_grace: None,
        }
    }

    #[test]
    fn compact_round_trips_and_edge_cases() {
        // Bitcoin Core's arith_uint256 tests (SetCompact / GetCompact).
        let cases: &[(u32, u32, bool, bool)] = &[
            (0, 0, false, false),
            (0x0012_3456, 0, false, false),
            (0x0100_3456, 0, false, false),
            (0x0200_0056, 0, false, false),
            (0x0300_0000, 0, false, false),
            (0x0400_0000, 0, false, false),
            (0x0092_3456, 0, false, false),
            (0x0180_3456, 0, false, false),
            (0x0280_0056, 0, false, false),
            (0x0380_0000, 0, false, false),
            (0x0480_0000, 0, false, false),
            (0x0112_3456, 0x0112_0000, false, false),
            (0x0212_3456, 0x0212_3400, false, false),
            (0x0312_3456, 0x0312_3456, false, false),
            (0x0412_3456, 0x0412_3456, false, false),
            (0x0500_9234, 0x0500_9234, false, false),
            (0x2012_3456, 0x2012_3456, false, false),
            (0x0492_3456, 0x0412_3456, true, false),
        ];
        for &(bits, back, negative, overflow) in cases {
            let c = decode_compact(bits);
            assert_eq!((c.negative, c.overflow), (negative, overflow), "{bits:08x}");
            assert_eq!(encode_compact(&c.target), back, "{bits:08x}");
        }
        assert!(decode_compact(0xff12_3456).overflow);
        assert_eq!(decode_compact(0x0112_3456).target, Uint::from_u64(0x12));
        assert_eq!(
            decode_compact(0x0500_9234).target,
            Uint::from_u64(0x9234_0000)
        );
        assert_eq!(encode_compact(&Uint::from_u64(0x80)), 0x0200_8000);
    }

    #[test]
    fn retarget_clamps() {
        let rules = bitcoin_rules();
        let ts = rules.target_timespan;
        let bits = 0x1d00_ffff;
        // Exactly on time: unchanged.
        assert_eq!(retarget(bits, 0, ts, ts, &rules.pow_limit), bits);
        // Much too slow: capped at the limit (and 4x clamp).
        assert_eq!(retarget(bits, 0, ts * 10, ts, &rules.pow_limit), bits);
        // Much too fast: clamped to a quarter of the target.
        let quarter = retarget(bits, 0, 1, ts, &rules.pow_limit);
        let expected = decode_compact(bits).target.div_u64(4);
        assert_eq!(quarter, encode_compact(&expected));
        // Bitcoin block 32256: 0x1d00ffff -> 0x1d00d86a.
        // Bitcoin Core's pow_tests.
        let limit = &rules.pow_limit;
        assert_eq!(
            retarget(0x1d00_ffff, 1_261_130_161, 1_262_152_739, ts, limit),
            0x1d00_d86a
        );
        assert_eq!(
            retarget(0x1d00_ffff, 1_231_006_505, 1_233_061_996, ts, limit),
            0x1d00_ffff
        );
        assert_eq!(
            retarget(0x1c05_a3f4, 1_279_008_237, 1_279_297_671, ts, limit),
            0x1c01_68fd
        );
        assert_eq!(
            retarget(0x1c38_7f6f, 1_263_163_443, 1_269_211_443, ts, limit),
            0x1d00_e1fd
        );
    }

    #[test]
    fn shifts() {
        let one = Uint::from_u64(1);
        assert_eq!(one.shl256(255).bits(), 256);
        assert!(one.shl256(256).is_zero());
        assert_eq!(one.shl256(200).shr_bits(200), one);
        assert_eq!(
            Uint::from_u64(u64::MAX).shl256(70).shr_bits(70),
            Uint::from_u64(u64::MAX)
        );
    }

    #[test]
    fn hash160_known_answer() {
        assert_eq!(
            hex::encode(hash160(b"")),
            "b472a266d0bd89c13706a4132ccfb16f7c3b9fcb"
        );
    }
}
