//! Proof-of-work nonce search, Bitcoin style.
//!
//! A block header is 80 bytes; its nonce is bytes 76..80, a little-endian `u32`. The proof
//! of work is `SHA-256d(header)`, read as a 256-bit **little-endian** integer, being at most
//! the target (also 32 bytes, little-endian). [`search`] (or [`Search::run`]) looks for such
//! a nonce in a range, on several threads, with the fastest SHA-256d the CPU allows:
//!
//! | [`Backend`] | how | nonces per step |
//! |---|---|---|
//! | [`Backend::ShaNi`] | x86 SHA extensions, [`SHANI_INTERLEAVE`] nonces interleaved | 4 |
//! | [`Backend::Avx512`] | AVX-512F, one nonce per 32-bit lane | 16 |
//! | [`Backend::Avx2`] | AVX2, one nonce per 32-bit lane | 8 |
//! | [`Backend::Scalar`] | plain Rust, any CPU | 1 |
//!
//! The CPU features are detected at run time (the build is portable; nothing needs
//! `target-cpu=native`), and only the scalar backend exists off x86_64.
//!
//! Every kernel starts from the midstate of the first 64 header bytes, skips the rounds and
//! message words that do not depend on the nonce (see `sha.rs`), and computes only the last
//! state word of the second hash: the top 32 bits of the hash value. A nonce is rejected
//! only when those bits alone exceed the target's (so no valid nonce is ever missed), and
//! every nonce that survives is re-hashed with the plain [`crate::hashing::sha256d`] and
//! compared on all 256 bits before it is reported.
//!
//! Threads take fixed-size chunks of the range in order and check the cancel flag, the
//! deadline and the best solution so far between chunks (a chunk takes about a
//! millisecond), so a search stops within milliseconds of being cancelled. The solution
//! reported is the smallest valid nonce of the range: a thread keeps going only while it
//! works below the best nonce found so far.

mod sha;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::hashing;

/// Length of a block header.
pub const HEADER_LEN: usize = 80;
/// Offset of the little-endian `u32` nonce in the header.
pub const NONCE_OFFSET: usize = 76;
/// Size of the nonce space: nonces are `0..NONCE_SPACE`.
pub const NONCE_SPACE: u64 = 1 << 32;
/// Most threads one search may use.
pub const MAX_THREADS: usize = 1024;
/// Nonces the SHA-NI backend interleaves per thread. `sha256rnds2` has a latency of 4
/// cycles and a throughput of one per cycle on AMD Zen 4, so four independent nonces keep
/// it busy; measured there (M nonces/s per core, AVX-512VL build): 1: 18, 2: 29, 3: 35,
/// 4: 37, 5: 37, 6: 35, 8: 33 (more lanes spill registers).
pub const SHANI_INTERLEAVE: usize = 4;

/// A SHA-256d implementation for the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// x86 SHA extensions (SHA-NI) with SSE4.1 and SSSE3.
    ShaNi,
    /// AVX-512F, 16 nonces per step.
    Avx512,
    /// AVX2, 8 nonces per step.
    Avx2,
    /// Portable Rust, one nonce at a time.
    Scalar,
}

impl Backend {
    /// Every backend, fastest first: the order [`Backend::best`] prefers. Measured on an
    /// AMD Zen 4 core (M nonces/s): SHA-NI 37, AVX-512 30, AVX2 16, scalar 4.5.
    pub const ALL: [Backend; 4] = [
        Backend::ShaNi,
        Backend::Avx512,
        Backend::Avx2,
        Backend::Scalar,
    ];

    /// The backend's name: `"sha-ni"`, `"avx512"`, `"avx2"` or `"scalar"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::ShaNi => "sha-ni",
            Backend::Avx512 => "avx512",
            Backend::Avx2 => "avx2",
            Backend::Scalar => "scalar",
        }
    }

    /// The backend called `name` (see [`Backend::name`]), available or not.
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Whether this CPU can run the backend.
    pub fn is_available(self) -> bool {
        match self {
            Backend::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Backend::ShaNi => {
                std::arch::is_x86_feature_detected!("sha")
                    && std::arch::is_x86_feature_detected!("sse4.1")
                    && std::arch::is_x86_feature_detected!("ssse3")
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The backends this CPU can run, fastest first (always ends with [`Backend::Scalar`]).
    pub fn available() -> Vec<Backend> {
        Backend::ALL
            .into_iter()
            .filter(|b| b.is_available())
            .collect()
    }

    /// The fastest backend this CPU can run.
    pub fn best() -> Backend {
        Backend::ALL
            .into_iter()
            .find(|b| b.is_available())
            .unwrap_or(Backend::Scalar)
    }

    /// Nonces the backend hashes per step (per thread).
    pub fn lanes(self) -> usize {
        match self {
            Backend::ShaNi => SHANI_INTERLEAVE,
            Backend::Avx512 => 16,
            Backend::Avx2 => 8,
            Backend::Scalar => 1,
        }
    }

    /// Nonces per work unit: about a millisecond of one thread's work, so that cancellation,
    /// the deadline and a solution found elsewhere are noticed quickly.
    fn chunk(self) -> u64 {
        match self {
            Backend::ShaNi | Backend::Avx512 => 1 << 15,
            Backend::Avx2 => 1 << 14,
            Backend::Scalar => 1 << 12,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = Error;

    fn from_str(s: &str) -> Result<Backend> {
        Backend::from_name(s).ok_or_else(|| {
            Error::malformed(format!(
                "unknown proof-of-work backend {s:?} (expected one of: sha-ni, avx512, avx2, scalar)"
            ))
        })
    }
}

/// A valid nonce and the header's hash with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Solution {
    pub nonce: u32,
    /// `SHA-256d(header)` with the nonce in place (`<= target` as a little-endian integer).
    pub hash: [u8; 32],
}

/// What a search did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The smallest valid nonce of the range, if the search got to it.
    pub found: Option<Solution>,
    /// Nonces hashed.
    pub hashes: u64,
    /// The cancel flag stopped the search before it covered the range.
    pub cancelled: bool,
    /// The deadline stopped the search before it covered the range.
    pub timed_out: bool,
    /// Worker threads used.
    pub threads: usize,
    /// Wall-clock time of the search.
    pub elapsed: Duration,
}

/// A search's parameters; [`Search::run`] runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search {
    /// First nonce to try.
    pub start_nonce: u32,
    /// Nonces to try, at most `2^32 - start_nonce`; `None` means up to nonce `0xFFFF_FFFF`.
    pub count: Option<u64>,
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    pub backend: Backend,
    /// Stop (with [`Outcome::timed_out`]) once this instant has passed.
    pub deadline: Option<Instant>,
}

impl Default for Search {
    /// The whole nonce space, all cores, the best backend, no deadline.
    fn default() -> Self {
        Search {
            start_nonce: 0,
            count: None,
            threads: 0,
            backend: Backend::best(),
            deadline: None,
        }
    }
}

/// Searches nonces `start_nonce..start_nonce + count` for one whose header hash meets
/// `target` (see the module docs); shorthand for [`Search::run`] without a deadline.
pub fn search(
    header: &[u8; HEADER_LEN],
    target: &[u8; 32],
    start_nonce: u32,
    count: u64,
    threads: usize,
    backend: Backend,
    cancel: &AtomicBool,
) -> Result<Outcome> {
    Search {
        start_nonce,
        count: Some(count),
        threads,
        backend,
        deadline: None,
    }
    .run(header, target, cancel)
}

/// Whether `hash` meets `target`, both read as 256-bit little-endian integers.
pub fn hash_meets_target(hash: &[u8; 32], target: &[u8; 32]) -> bool {
    hash.iter().rev().cmp(target.iter().rev()) != std::cmp::Ordering::Greater
}

/// `header` with `nonce` written into bytes 76..80.
pub fn with_nonce(header: &[u8; HEADER_LEN], nonce: u32) -> [u8; HEADER_LEN] {
    let mut h = *header;
    h[NONCE_OFFSET..].copy_from_slice(&nonce.to_le_bytes());
    h
}

/// `SHA-256d(header)` with `nonce` in place, by the plain hasher.
pub fn pow_hash(header: &[u8; HEADER_LEN], nonce: u32) -> [u8; 32] {
    hashing::sha256d(&with_nonce(header, nonce))
}

/// A kernel that this CPU is known to support: the only way to reach the `unsafe` backends.
#[derive(Clone, Copy)]
enum Kernel {
    #[cfg(target_arch = "x86_64")]
    ShaNi,
    /// SHA-NI compiled for AVX-512VL (more registers).
    #[cfg(target_arch = "x86_64")]
    ShaNiVl,
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Scalar,
}

impl Kernel {
    /// The kernel for `backend`, if this CPU has the features it needs. Every `Kernel`
    /// value comes from here.
    fn new(backend: Backend) -> Option<Kernel> {
        if !backend.is_available() {
            return None;
        }
        Some(match backend {
            #[cfg(target_arch = "x86_64")]
            Backend::ShaNi => {
                if std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx2")
                {
                    Kernel::ShaNiVl
                } else {
                    Kernel::ShaNi
                }
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => Kernel::Avx512,
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => Kernel::Avx2,
            _ => Kernel::Scalar,
        })
    }

    /// Every kernel this CPU supports (both SHA-NI builds), for the tests.
    #[cfg(test)]
    fn all_available() -> Vec<Kernel> {
        #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
        let mut out: Vec<Kernel> = Backend::available()
            .into_iter()
            .filter_map(Kernel::new)
            .collect();
        #[cfg(target_arch = "x86_64")]
        if Backend::ShaNi.is_available() && !out.iter().any(|k| matches!(k, Kernel::ShaNi)) {
            out.push(Kernel::ShaNi);
        }
        out
    }

    /// The first nonce of `start..end` (`end <= 2^32`) that passes the early check.
    fn scan(self, m: &sha::Midstate, start: u64, end: u64) -> Option<u32> {
        match self {
            // SAFETY: `Kernel::new` made this value after `Backend::is_available` detected
            // SHA, SSE4.1 and SSSE3 (SSE2 is part of x86_64), the features of `scan`.
            #[cfg(target_arch = "x86_64")]
            Kernel::ShaNi => unsafe { x86::shani::scan::<SHANI_INTERLEAVE>(m, start, end) },
            // SAFETY: as above, and `Kernel::new` also detected AVX2, AVX-512F and
            // AVX-512VL before choosing this variant.
            #[cfg(target_arch = "x86_64")]
            Kernel::ShaNiVl => unsafe { x86::shani::scan_vl::<SHANI_INTERLEAVE>(m, start, end) },
            // SAFETY: `Kernel::new` made this value after detecting AVX-512F.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { x86::avx512::scan(m, start, end) },
            // SAFETY: `Kernel::new` made this value after detecting AVX2.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { x86::avx2::scan(m, start, end) },
            Kernel::Scalar => sha::scan_scalar(m, start, end),
        }
    }
}

/// The CPU features the search can use that this CPU has (for reports and benchmarks).
pub fn cpu_features() -> Vec<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        let mut out = Vec::new();
        macro_rules! probe {
            ($($f:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($f) {
                    out.push($f);
                }
            )*};
        }
        probe!("sse2", "ssse3", "sse4.1", "sha", "avx", "avx2", "avx512f", "avx512vl");
        out
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        Vec::new()
    }
}

/// State shared by the workers of one search.
struct Shared<'a> {
    header: &'a [u8; HEADER_LEN],
    target: &'a [u8; 32],
    midstate: sha::Midstate,
    kernel: Kernel,
    chunk: u64,
    end: u64,
    deadline: Option<Instant>,
    cancel: &'a AtomicBool,
    /// Start of the next chunk to hand out.
    next: AtomicU64,
    /// Smallest valid nonce found so far, or `u64::MAX`.
    best: AtomicU64,
    solution: Mutex<Option<Solution>>,
    timed_out: AtomicBool,
}

impl Shared<'_> {
    /// One worker: takes chunks until the range is done, a better solution is known, or the
    /// search is cancelled or out of time. Returns the nonces it hashed.
    fn work(&self) -> u64 {
        let mut hashes = 0u64;
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return hashes;
            }
            if let Some(deadline) = self.deadline {
                if Instant::now() >= deadline {
                    self.timed_out.store(true, Ordering::Relaxed);
                    return hashes;
                }
            }
            let start = self.next.fetch_add(self.chunk, Ordering::Relaxed);
            if start >= self.end || start >= self.best.load(Ordering::Relaxed) {
                return hashes;
            }
            let end = (start + self.chunk).min(self.end);
            let mut pos = start;
            while pos < end {
                let Some(nonce) = self.kernel.scan(&self.midstate, pos, end) else {
                    hashes += end - pos;
                    break;
                };
                hashes += u64::from(nonce) + 1 - pos;
                pos = u64::from(nonce) + 1;
                let hash = pow_hash(self.header, nonce);
                if hash_meets_target(&hash, self.target) {
                    self.record(Solution { nonce, hash });
                    break;
                }
            }
        }
    }

    fn record(&self, found: Solution) {
        let mut slot = self
            .solution
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none_or(|s| found.nonce < s.nonce) {
            *slot = Some(found);
        }
        self.best
            .fetch_min(u64::from(found.nonce), Ordering::Relaxed);
    }
}

impl Search {
    /// Runs the search. Errors ([`Error::Malformed`]) on a `count` beyond the nonce space,
    /// too many threads, or a backend this CPU lacks; a cancelled or timed-out search is not
    /// an error (see [`Outcome::cancelled`] and [`Outcome::timed_out`]).
    pub fn run(
        &self,
        header: &[u8; HEADER_LEN],
        target: &[u8; 32],
        cancel: &AtomicBool,
    ) -> Result<Outcome> {
        let began = Instant::now();
        let start = u64::from(self.start_nonce);
        let room = NONCE_SPACE - start;
        let count = self.count.unwrap_or(room);
        if count > room {
            return Err(Error::malformed(format!(
                "count {count} goes past the last nonce: at most {room} nonces follow start nonce {start}"
            )));
        }
        if self.threads > MAX_THREADS {
            return Err(Error::malformed(format!(
                "threads must be at most {MAX_THREADS}, got {}",
                self.threads
            )));
        }
        let kernel = Kernel::new(self.backend).ok_or_else(|| {
            Error::malformed(format!(
                "proof-of-work backend {} is not available on this CPU",
                self.backend
            ))
        })?;
        let chunk = self.backend.chunk();
        let threads = if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        };
        let threads = threads.min(count.div_ceil(chunk).max(1) as usize);
        let shared = Shared {
            header,
            target,
            midstate: sha::Midstate::new(header, target),
            kernel,
            chunk,
            end: start + count,
            deadline: self.deadline,
            cancel,
            next: AtomicU64::new(start),
            best: AtomicU64::new(u64::MAX),
            solution: Mutex::new(None),
            timed_out: AtomicBool::new(false),
        };
        let hashes = if threads == 1 {
            shared.work()
        } else {
            std::thread::scope(|scope| {
                let workers: Vec<_> = (1..threads)
                    .map(|_| scope.spawn(|| shared.work()))
                    .collect();
                let mine = shared.work();
                // A worker cannot panic (no input reaches a panicking path); count it as
                // having hashed nothing if it somehow did.
                mine + workers
                    .into_iter()
                    .map(|w| w.join().unwrap_or(0))
                    .sum::<u64>()
            })
        };
        let found = shared
            .solution
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // The range is finished when a solution is found or the chunks ran out; otherwise
        // whatever stopped the workers says why.
        let finished = found.is_some() || shared.next.load(Ordering::Relaxed) >= shared.end;
        let cancelled = !finished && cancel.load(Ordering::Relaxed);
        let timed_out = !finished && !cancelled && shared.timed_out.load(Ordering::Relaxed);
        Ok(Outcome {
            found,
            hashes,
            cancelled,
            timed_out,
            threads,
            elapsed: began.elapsed(),
        })
    }
}
